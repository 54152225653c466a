"""Sequence layers: ``RNN(cell)`` and the ``GRU``, ``LSTM`` and ``SimpleRNN`` layers built on it.

A layer owns a cell (the numerical reference, ``_cells.py``) and runs it over the time axis with the kernel that
``gated.kernels._dispatch.decide`` chooses; ``layer.last_path`` is the ``Choice`` of the last call (its ``kernel``,
an enum, and the reason), and ``layer.dispatch(...)`` answers the same question without running anything.

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from ..kernels import _dispatch
from ..saving import _convert
from ..saving import _registry
from ._base import Layer, describe_array
from ._cells import GRUCell, LSTMCell, RecurrentCell, SimpleRNNCell, StackedRNNCells, _flat_sizes


class RNN(Layer):
    """Runs any cell over a sequence: ``(B, T, F) -> (B, H)`` or ``(B, T, H)`` with ``return_sequences``.

    Call as ``layer(x, initial_state=None, mask=None, training=None)``. With ``return_state`` the call returns
    ``(output, *final_states)``. Masked steps carry the state unchanged; their output repeats the previous
    output (or is zero with ``zero_output_for_mask``). ``go_backwards`` processes the reversed sequence and returns
    outputs in processing order, as Keras does. ``stateful`` keeps the final states for the next call (detached
    from the graph); ``reset_state()`` clears them. ``unroll`` is accepted for compatibility and changes nothing.
    """

    supports_masking = True
    # The wrapper ``from_torch`` puts around the two directions of a bidirectional torch module: Bidirectional,
    # which is built on this module and so sets itself here when it is defined (``_bidirectional.py``).
    bidirectional_class: type[Layer] | None = None

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        if not hasattr(cell, "state_size"):
            raise ValueError(
                f"RNN needs a cell with a state_size attribute (e.g. gated.layers.GRUCell(32)); received {cell!r}."
            )
        use_cudnn = kwargs.pop("use_cudnn", "auto")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"use_cudnn must be 'auto', True or False; received {use_cudnn!r}.")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.use_cudnn = use_cudnn
        self.last_path: _dispatch.Choice | None = None
        self._states: list[torch.Tensor] | None = None
        self._maybe_build_from_input_shape()

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Any) -> None:
        if self.stateful and input_shape[0] is None and self._batch_input_shape is not None:
            raise ValueError(
                f"{self._describe()} is stateful, so its batch size must be fixed. Pass batch_size= along with "
                "input_shape= (or batch_input_shape=), or call the layer on real data first."
            )
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._build_now((input_shape[0], input_shape[-1]))
        self.built = True

    @property
    def state_size(self) -> list[int]:
        return _flat_sizes(self.cell.state_size)

    def _output_size(self) -> int:
        return getattr(self.cell, "output_size", None) or self.state_size[0]

    def compute_output_shape(self, input_shape: Any, initial_state_shape: Any = None) -> Any:
        batch, steps = input_shape[0], input_shape[1]
        units = self._output_size()
        output = (batch, steps, units) if self.return_sequences else (batch, units)
        if self.return_state:
            return (output,) + tuple((batch, s) for s in self.state_size)
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    # ------------------------------------------------------------------ input checks
    def _input_features(self) -> int | None:
        return getattr(self.cell, "input_dim", None) or getattr(
            getattr(self.cell, "cells", [None])[0], "input_dim", None)

    def validate_input(self, inputs: Any) -> None:
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"{self._describe()} expects a single tensor or array, received {type(inputs).__name__}.")
        features = self._input_features()
        expected = f"(batch, timesteps, features) with features={features}"
        if inputs.ndim == 3 and (features is None or inputs.shape[-1] == features):
            if inputs.shape[1] == 0:
                raise ValueError(f"{self._describe()} received a sequence with 0 timesteps: "
                                 f"shape {tuple(inputs.shape)}. Every sample needs at least one timestep.")
            if inputs.shape[2] == 0:
                raise ValueError(f"{self._describe()} received inputs with 0 features: shape {tuple(inputs.shape)}. "
                                 "Every timestep needs at least one feature (the last axis).")
            return
        if inputs.ndim == 2:
            fix = (f" If these are {inputs.shape[0]} single-step samples, add a time axis: x[:, None, :]."
                   if features is None or inputs.shape[1] == features else
                   f" If these are univariate series of length {inputs.shape[1]}, add a feature axis: x[..., None].")
        elif inputs.ndim == 3:
            fix = (f" The layer was built for {features} features; pass inputs with {features} features "
                   "or create a new layer.")
        elif inputs.ndim == 1:
            fix = " A single series needs both a batch and a feature axis: x[None, :, None]."
        else:
            fix = " Reshape the input to (batch, timesteps, features), or use TimeDistributed for extra axes."
        raise ValueError(f"{self._describe()} expects input of shape {expected}, but received "
                         f"{describe_array(inputs)}.{fix}")

    def _summary_args(self) -> str:
        units = getattr(self.cell, "units", None)
        return f"units={units}" if units is not None else ""

    # ------------------------------------------------------------------ states
    def get_initial_state(self, batch_size: int) -> list[torch.Tensor]:
        own = None if isinstance(self.cell, RecurrentCell) else getattr(self.cell, "get_initial_state", None)
        if own is not None:  # a cell that makes its own states (Keras's cell.get_initial_state(batch_size))
            return [torch.as_tensor(s) for s in _flat_states(own(batch_size=batch_size))]
        like = self._first_parameter()
        like = torch.empty(0, dtype=self._dtype) if like is None else like
        return [like.new_zeros(batch_size, s) for s in self.state_size]

    def reset_state(self, states: Any = None) -> None:
        """Clear the states of a stateful layer (or set them to ``states``)."""
        if not self.stateful:
            raise ValueError(f"{self._describe()} is not stateful; reset_state() applies to stateful=True layers.")
        if states is None:
            self._states = None if self._states is None else [torch.zeros_like(s) for s in self._states]
            return
        states = [torch.as_tensor(s) for s in (states if isinstance(states, (list, tuple)) else [states])]
        batch = states[0].shape[0]
        self._states = self._check_states(states, batch, "reset_state")

    reset_states = reset_state

    @property
    def states(self) -> list[torch.Tensor] | None:
        return self._states

    def _check_states(self, states: Sequence[Any], batch: int, where: str) -> list[torch.Tensor]:
        like = next(self.parameters())
        states = [torch.as_tensor(s, dtype=like.dtype, device=like.device) for s in states]
        expected = [(batch, s) for s in self.state_size]
        received = [tuple(s.shape) for s in states]
        if received != expected:
            raise ValueError(
                f"{self._describe()}: {where} expects {len(expected)} state tensor(s) of shape(s) {expected}, "
                f"received {len(received)} of shape(s) {received}."
                + (" An LSTM takes [h, c]." if len(expected) == 2 else "")
            )
        return states

    def _initial_states(self, initial_state: Any, batch: int) -> list[torch.Tensor]:
        if initial_state is not None:
            given = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            return self._check_states(given, batch, "initial_state")
        if self.stateful and self._states is not None:
            if self._states[0].shape[0] != batch:
                raise ValueError(
                    f"{self._describe()} is stateful and holds states for batch size {self._states[0].shape[0]}, "
                    f"but received a batch of {batch}. Keep every batch the same size (drop the last partial "
                    "batch, or pick a batch size that divides the data), or pass initial_state= explicitly."
                )
            return self._states
        return self.get_initial_state(batch)

    # ------------------------------------------------------------------ running
    def dispatch(self, mask: Any = None, training: bool = False, inputs: Any = None) -> _dispatch.Choice:
        """The kernel a call with this mask and training flag would run, and why (nothing runs).

        ``inputs``: the (B, T, F) input of that call. On a GPU the kernel is chosen by measurement per input shape;
        with ``inputs`` the answer says whether that shape was measured. A built-in cell's kernel depends on its
        weights' device and dtype, so a layer that is not built yet needs ``inputs`` (the answer is for weights
        built on their device, as the call would build them) and raises ``ValueError`` without them.
        """
        device = dtype = None
        if inputs is not None and not self.built:  # the weights will be made on the input's device
            inputs = torch.as_tensor(inputs)
            device, dtype = inputs.device, getattr(self.cell, "compute_dtype", self.compute_dtype)
        elif inputs is not None:
            inputs = self._convert_inputs(inputs)
        if mask is not None:
            mask = torch.as_tensor(mask).bool()
            mask = mask.flip(1) if self.go_backwards else mask
        x = None if inputs is None else (inputs.flip(1) if self.go_backwards else inputs)
        return _dispatch.decide(self, _dispatch.analyse_mask(mask), training, x, device=device, dtype=dtype,
                                measure=False)

    def forward(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None,
                training: bool | None = None) -> Any:
        training = self.training if training is None else bool(training)
        batch, steps = inputs.shape[0], inputs.shape[1]
        states = self._initial_states(initial_state, batch)
        mask = self._standardize_mask(mask, batch, steps, inputs.device)
        x = inputs
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        layout = _dispatch.analyse_mask(mask)
        choice = _dispatch.decide(self, layout, training, x, states[0])
        self.last_path = choice
        outputs, last, finals = choice.run(self, x, states, mask, layout, training)

        if self.stateful:
            self._states = [s.detach() for s in finals]
        output = outputs if self.return_sequences else last
        if self.return_state:
            return (output, *finals)
        return output

    def _standardize_mask(self, mask: Any, batch: int, steps: int, device: torch.device) -> torch.Tensor | None:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        mask = torch.as_tensor(mask, device=device)
        if mask.ndim == 3 and mask.shape[-1] == 1:
            mask = mask[..., 0]
        if tuple(mask.shape) != (batch, steps):
            raise ValueError(
                f"{self._describe()} received a mask of shape {tuple(mask.shape)} for inputs with batch={batch} "
                f"and timesteps={steps}; the mask must be (batch, timesteps) = {(batch, steps)}, True where a "
                "step is real data."
            )
        return mask.bool()

    def step_cell(self, x_t: torch.Tensor, states: list[torch.Tensor],
                  training: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One timestep of the cell on flat states (``state_size`` order): ``x_t`` (B, F) -> (output, new states).

        The cell loop (``gated.kernels._loop``) and streaming's reference step run this.
        """
        cell = self.cell
        nested = not isinstance(cell.state_size, int)
        structured = _unflatten(states, cell.state_size) if nested else states[0]
        output, new_states = _call_cell(cell, x_t, structured, training)
        return output, _flatten(new_states)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        })
        if getattr(type(self), "cell_class", None) is None:  # the cell was an argument (RNN and its subclasses)
            config["cell"] = _registry.serialize(self.cell)
            config["use_cudnn"] = self.use_cudnn
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "RNN":
        config = dict(config)
        if "cell" in config:  # RNN(cell) and its subclasses that take a cell; GRU, LSTM, ... build their own
            return cls(_registry.deserialize(config.pop("cell"), custom_objects, base=Layer), **config)
        return cls(**config)

    def capture_blocker(self) -> str | None:
        """Stateful: the states carried to the next batch are kept and reset on the host. The layer also answers
        for the cells it runs: a cell with a ``seed`` draws its dropout masks from its own generator."""
        reasons = []
        if self.stateful:
            reasons.append(f"layer '{self.name}' ({type(self).__name__}) is stateful (its states change between "
                           "batches on the host)")
        for cell in getattr(self.cell, "cells", [self.cell]):
            if isinstance(cell, RecurrentCell) and cell.seed is not None:
                reasons.append(f"layer '{cell.name}' ({type(cell).__name__}) draws dropout masks from its own seeded "
                               "generator")
        return "; ".join(reasons) or None


def _call_cell(cell, x_t, states, training):
    if isinstance(cell, StackedRNNCells):
        new_states = []
        for sub, sub_states in zip(cell.cells, states):
            x_t, sub_new = _call_cell(sub, x_t, sub_states, training)
            new_states.append(sub_new)
        return x_t, new_states
    if isinstance(cell, Layer) and cell._runs_call() and isinstance(states, torch.Tensor):
        states = [states]  # Keras hands a cell's call its states as a list, one state included
    if isinstance(cell, Layer) and "training" in cell._forward_params():
        return cell(x_t, states, training=training)
    return cell(x_t, states)


def _flatten(states: Any) -> list[torch.Tensor]:
    if isinstance(states, torch.Tensor):
        return [states]
    out = []
    for s in states:
        out.extend(_flatten(s))
    return out


def _unflatten(flat: list[torch.Tensor], sizes: Any) -> Any:
    it = iter(flat)

    def build(size):
        if isinstance(size, int):
            return next(it)
        return [build(s) for s in size]

    return build(sizes)


_CELL_ARGS = ("units", "activation", "recurrent_activation", "use_bias", "dropout", "recurrent_dropout", "seed",
              "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
              "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
              "bias_constraint")
_LAYER_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "use_cudnn",
               "zero_output_for_mask")


class _BuiltinRNN(RNN):
    """A sequence layer that creates its own cell from Keras's arguments (GRU, LSTM, SimpleRNN)."""

    cell_class: type[RecurrentCell] = RecurrentCell
    _extra_cell_args: tuple[str, ...] = ()

    def __init__(self, units: int, **kwargs: Any):
        cell_kwargs = {k: kwargs.pop(k) for k in _CELL_ARGS + self._extra_cell_args if k in kwargs}
        kwargs.pop("implementation", None)
        layer_kwargs = {k: kwargs.pop(k) for k in _LAYER_ARGS if k in kwargs}
        base_kwargs = {k: kwargs.pop(k) for k in ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                                                  "batch_size", "input_dim", "activity_regularizer") if k in kwargs}
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) {', '.join(map(repr, sorted(kwargs)))}. "
                f"Check the spelling against Keras's {type(self).__name__} signature."
            )
        cell = self.cell_class(units, dtype=base_kwargs.get("dtype"), name=None, **cell_kwargs)
        super().__init__(cell, **layer_kwargs, **base_kwargs)

    def get_config(self) -> dict[str, Any]:
        config = with_cell_arguments(super().get_config(), self.cell)
        config["use_cudnn"] = self.use_cudnn
        return config

    @classmethod
    def from_torch(cls, module: nn.RNNBase, layer: int = 0, **kwargs: Any) -> Layer:
        """A gated layer computing what one layer of ``torch.nn.GRU`` / ``LSTM`` / ``RNN`` computes.

        A bidirectional module gives ``Bidirectional(cls(...))``. Layer options (``return_sequences``, ...) pass
        through ``kwargs``. Inputs stay batch-first whatever the module's ``batch_first``.
        """
        spec = cls.cell_class.spec
        activation = next((a for a, mode in spec.torch_modes if mode == module.mode), None)
        if activation is None:
            raise ValueError(f"{cls.__name__}.from_torch received a torch {module.mode} module; "
                             f"use the gated layer of the same kind.")
        kwargs.setdefault("activation", activation)
        _convert.torch_rnn_to_keras(module, spec, layer, 0)  # checks the layer index before anything is built
        features = module.input_size if layer == 0 else module.hidden_size * (2 if module.bidirectional else 1)
        kwargs.setdefault("dtype", module.weight_ih_l0.dtype)  # a float64 module gives a float64 layer
        make = lambda: cls(module.hidden_size, use_bias=module.bias, **kwargs)  # noqa: E731
        directions = 2 if module.bidirectional else 1
        if directions == 1:
            result: Layer = make()
            parts = [result]
        else:
            result = RNN.bidirectional_class(make())
            parts = [result.forward_layer, result.backward_layer]
        result._build_now((None, None, features), module.weight_ih_l0.device)
        for direction, part in enumerate(parts):
            part.set_weights(_convert.torch_rnn_to_keras(module, spec, layer, direction))
        return result

    def to_torch(self) -> nn.RNNBase:
        """A batch-first ``torch.nn.GRU`` / ``LSTM`` / ``RNN`` computing what this layer computes (unmasked)."""
        cell = self.cell
        if not self.built:
            raise ValueError(f"{self._describe()} is not built yet; call it on an input first.")
        device, dtype = cell.weight_ih.device, cell.weight_ih.dtype
        blockers = _dispatch.fused_blockers(cell, _dispatch.NO_MASK, False, device, dtype)
        if blockers:
            raise ValueError(f"{self._describe()} has no torch.nn equivalent: {'; '.join(blockers)}.")
        module = _convert.torch_module(cell.torch_mode, cell.input_dim, cell.units, cell.use_bias)
        module = module.to(device=device, dtype=dtype)
        _convert.keras_to_torch_rnn([w for w in self.cell.weights], cell.spec, module)
        return module


def with_cell_arguments(config: dict[str, Any], cell: Layer) -> dict[str, Any]:
    """A layer config flattened Keras-style: the cell's arguments at the top level, the cell's own name dropped."""
    cell_config = cell.get_config()
    for key in ("name", "trainable", "dtype"):
        cell_config.pop(key, None)
    return {**config, **cell_config}


def _forward_cell_attribute(name: str) -> property:
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's ``{name}``.")


for _name in _CELL_ARGS:
    setattr(_BuiltinRNN, _name, _forward_cell_attribute(_name))


class GRU(_BuiltinRNN):
    """Gated Recurrent Unit layer, Keras's ``keras.layers.GRU`` (update gate z, reset gate r, candidate h).

    ``reset_after=True`` (default) is the torch/cuDNN form and runs on the fused kernel when eligible;
    ``reset_after=False`` is the original formulation and runs the step loop. Weights exchange in Keras's layout:
    ``kernel`` (F, 3H), ``recurrent_kernel`` (H, 3H), ``bias`` (2, 3H) or (3H,), gates z, r, h.
    """

    cell_class = GRUCell
    _extra_cell_args = ("reset_after",)
    reset_after = _forward_cell_attribute("reset_after")


class LSTM(_BuiltinRNN):
    """Long Short-Term Memory layer, Keras's ``keras.layers.LSTM`` (gates i, f, c, o; states [h, c])."""

    cell_class = LSTMCell
    _extra_cell_args = ("unit_forget_bias",)
    unit_forget_bias = _forward_cell_attribute("unit_forget_bias")


class SimpleRNN(_BuiltinRNN):
    """Fully-connected recurrent layer, Keras's ``keras.layers.SimpleRNN``."""

    cell_class = SimpleRNNCell

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation", None)
        return config


def _flat_states(states: Any) -> list[Any]:
    if isinstance(states, (list, tuple)):
        return [s for state in states for s in _flat_states(state)]
    return [states]
