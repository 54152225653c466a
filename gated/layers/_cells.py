"""Recurrent cells: one timestep in plain torch. These are THE numerical reference of gated.

Each cell splits a step into the part that does not depend on the state and the part that does:

* ``project(x, input_masks)``: the input projection ``x W_ih^T + b_ih`` for any number of leading axes, so the
  sequence layers can compute it for all timesteps in one matrix product;
* ``step(projected, states, recurrent_masks)``: the recurrence of one timestep.

``cell(x, states)`` composes the two, as Keras's cells do. Weights are stored in torch's layout and gate order
(``weight_ih`` (G*H, F), gates r, z, n for the GRU); ``get_weights``/``set_weights`` and the ``kernel`` /
``recurrent_kernel`` / ``bias`` properties speak Keras's layout (see ``gated.saving._convert``).

Each built-in cell class carries its ``spec`` (``gated.saving._convert.CellSpec``): gate names and orders, torch
mode, state count. Whatever runs or converts a cell (kernels, torch modules, ONNX, int8, streaming) reads the spec
and asks the cell ``torch_blockers()``; a new cell declares its spec here and nowhere else.

Shape legend: B batch, T timesteps, F features, H units, G gates.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .. import activations, constraints, initializers, regularizers
from ..saving import _convert
from ..saving import _registry
from ..saving._convert import CellKind, CellSpec
from ._base import Layer, WeightSpec

Masks = torch.Tensor | list[torch.Tensor] | None


class RecurrentCell(Layer):
    """Shared machinery of GRUCell, LSTMCell and SimpleRNNCell; each sets its ``spec``."""

    spec: CellSpec | None = None
    supports_masking = False

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"{type(self).__name__}: units must be a positive integer, received {units!r}."
            )
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._generator: torch.Generator | None = None
        self.weight_ih: nn.Parameter | None = None
        self.weight_hh: nn.Parameter | None = None
        self.bias_ih: nn.Parameter | None = None
        self.bias_hh: nn.Parameter | None = None

    # ------------------------------------------------------------------ sizes
    @property
    def gates(self) -> int:
        return self.spec.gate_count

    @property
    def state_size(self) -> int | list[int]:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def num_states(self) -> int:
        return self.spec.states

    @property
    def input_dim(self) -> int | None:
        return None if self.weight_ih is None else self.weight_ih.shape[1]

    def _has_recurrent_bias(self) -> bool:
        return False

    def _keras_bias_init(self, shape: tuple[int, ...]) -> torch.Tensor:
        return self.bias_initializer(shape)

    # ------------------------------------------------------------------ build and weights
    def build(self, input_shape: Any) -> None:
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"{self._describe()} needs a known number of features to build, got {input_shape}.")
        gh = self.gates * self.units
        kernel = self.kernel_initializer((features, gh))
        recurrent = self.recurrent_initializer((self.units, gh))
        self.weight_ih = nn.Parameter(_convert.kernel_to_torch(kernel, self.spec).to(self._dtype))
        self.weight_hh = nn.Parameter(_convert.kernel_to_torch(recurrent, self.spec).to(self._dtype))
        if self.use_bias:
            shape = (2, gh) if self._has_recurrent_bias() else (gh,)
            bias_ih, bias_hh = _convert.bias_to_torch(self._keras_bias_init(shape), self.spec)
            self.bias_ih = nn.Parameter(bias_ih.to(self._dtype))
            if bias_hh is not None:
                self.bias_hh = nn.Parameter(bias_hh.to(self._dtype))
            else:
                # torch's fused kernels take two biases; Keras's LSTM/SimpleRNN have one. The second is zero.
                self.register_buffer("fused_bias_hh", torch.zeros(gh, dtype=self._dtype), persistent=False)
        self.built = True

    def fused_weights(self) -> list[torch.Tensor]:
        """The weights in the order torch's fused kernels take them."""
        if self.bias_ih is None:
            return [self.weight_ih, self.weight_hh]
        bias_hh = self.bias_hh if self.bias_hh is not None else self.fused_bias_hh
        return [self.weight_ih, self.weight_hh, self.bias_ih, bias_hh]

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        self._flatten_for_cudnn()
        return result

    def _flatten_for_cudnn(self) -> None:
        """Lay the weights out in one buffer, as cuDNN needs to run without copying them on every call."""
        if self.weight_ih is None or not self.weight_ih.is_cuda:
            return
        weights = self.fused_weights()
        if len({w.dtype for w in weights}) != 1 or not torch.backends.cudnn.is_acceptable(weights[0]):
            return
        if not torch._use_cudnn_rnn_flatten_weight():
            return
        from torch.backends.cudnn import rnn as cudnn_rnn

        mode = self.torch_mode or self.spec.torch_modes[0][1]  # the layout is the mode's, whatever the activation
        with torch.cuda.device_of(weights[0]), torch.no_grad():
            torch._cudnn_rnn_flatten_weight(weights, len(weights), self.weight_ih.shape[1],
                                            cudnn_rnn.get_cudnn_mode(mode), self.units, 0, 1, True, False)

    @property
    def torch_mode(self) -> str | None:
        """The torch mode of the fused kernels for this cell's activation ('GRU', 'LSTM', 'RNN_TANH', 'RNN_RELU'),
        or None when no torch kernel has it; ``torch_blockers()`` says whether the kernel computes the cell."""
        return self.spec.torch_mode(_builtin_name(self.activation))

    def torch_blockers(self) -> list[str]:
        """Why torch's fused kernel of the cell's mode (``torch.nn.GRU`` / ``LSTM`` / ``RNN``, cuDNN) does not
        compute this cell; empty when it does."""
        spec, found = self.spec, []
        if self.torch_mode is None:
            found.append(f"activation={activations.serialize(self.activation)!r} "
                         f"({' or '.join(spec.activations)} needed)")
        gate = spec.recurrent_activation
        if gate is not None and not activations.is_builtin(self.recurrent_activation, gate):
            found.append(f"recurrent_activation={activations.serialize(self.recurrent_activation)!r} ({gate} needed)")
        return found

    @property
    def kernel(self) -> torch.Tensor:
        return _convert.kernel_to_keras(self.weight_ih, self.spec)

    @property
    def recurrent_kernel(self) -> torch.Tensor:
        return _convert.kernel_to_keras(self.weight_hh, self.spec)

    @property
    def bias(self) -> torch.Tensor | None:
        if self.bias_ih is None:
            return None
        return _convert.bias_to_keras(self.bias_ih, self.bias_hh, self.spec)

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return

        def set_kernel(value: torch.Tensor) -> None:
            self.weight_ih.copy_(_convert.kernel_to_torch(value, self.spec))

        def set_recurrent(value: torch.Tensor) -> None:
            self.weight_hh.copy_(_convert.kernel_to_torch(value, self.spec))

        def set_bias(value: torch.Tensor) -> None:
            bias_ih, bias_hh = _convert.bias_to_torch(value, self.spec)
            self.bias_ih.copy_(bias_ih)
            if bias_hh is not None:
                self.bias_hh.copy_(bias_hh)

        yield WeightSpec("kernel", lambda: self.kernel, set_kernel, self.kernel_regularizer, self.kernel_constraint)
        yield WeightSpec("recurrent_kernel", lambda: self.recurrent_kernel, set_recurrent,
                         self.recurrent_regularizer, self.recurrent_constraint)
        if self.use_bias:
            yield WeightSpec("bias", lambda: self.bias, set_bias, self.bias_regularizer, self.bias_constraint)

    # ------------------------------------------------------------------ dropout masks
    def _mask_count(self) -> int | None:
        """Keras draws one input mask per gate when recurrent dropout is on (its 'implementation 1')."""
        return self.gates if self.recurrent_dropout > 0 else None

    def _draw(self, shape: tuple[int, ...], rate: float, like: torch.Tensor) -> torch.Tensor:
        if self.seed is not None and self._generator is None:
            self._generator = torch.Generator(device=like.device).manual_seed(self.seed)
        keep = torch.rand(shape, generator=self._generator, device=like.device, dtype=like.dtype) >= rate
        return keep.to(like.dtype) / (1.0 - rate)

    def dropout_masks(self, batch: int, like: torch.Tensor, training: bool) -> tuple[Masks, Masks]:
        """Per-sequence (input, recurrent) dropout masks, reused at every timestep as Keras does.

        Each is None, a (B, F) / (B, H) tensor, or, with recurrent dropout, a list of one mask per gate in
        Keras's gate order.
        """
        if not training:
            return None, None
        count = self._mask_count()
        features = self.input_dim

        def masks(size: int, rate: float) -> Masks:
            if not 0.0 < rate < 1.0:
                return None
            if count is None:
                return self._draw((batch, size), rate, like)
            return [self._draw((batch, size), rate, like) for _ in range(count)]

        return masks(features, self.dropout), masks(self.units, self.recurrent_dropout)

    # ------------------------------------------------------------------ computation
    def project(self, x: torch.Tensor, input_masks: Masks = None) -> torch.Tensor:
        """Input projection for all gates, ``(..., F) -> (..., G*H)``, in torch gate order.

        ``input_masks`` are (B, F) and broadcast over any time axis between batch and features.
        """
        if input_masks is None:
            return F.linear(x, self.weight_ih, self.bias_ih)
        if isinstance(input_masks, torch.Tensor):
            return F.linear(x * _broadcastable(input_masks, x), self.weight_ih, self.bias_ih)
        h = self.units
        blocks = []
        for torch_gate, keras_gate in enumerate(self.spec.torch_order):
            rows = slice(torch_gate * h, (torch_gate + 1) * h)
            bias = None if self.bias_ih is None else self.bias_ih[rows]
            blocks.append(F.linear(x * _broadcastable(input_masks[keras_gate], x), self.weight_ih[rows], bias))
        return torch.cat(blocks, dim=-1)

    def step(self, projected: torch.Tensor, states: list[torch.Tensor],
             recurrent_masks: Masks = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        raise NotImplementedError

    def _recurrent(self, h: torch.Tensor, masks: Masks, keras_gate: int, torch_gate: int,
                   with_bias: bool) -> torch.Tensor:
        """``(h * mask) W_hh[gate]^T (+ b_hh[gate])`` for one gate (used when recurrent dropout is on)."""
        u = self.units
        rows = slice(torch_gate * u, (torch_gate + 1) * u)
        bias = self.bias_hh[rows] if with_bias and self.bias_hh is not None else None
        if masks is not None:
            h = h * (masks[keras_gate] if isinstance(masks, list) else masks)
        return F.linear(h, self.weight_hh[rows], bias)

    def forward(self, inputs: torch.Tensor, states: Any, training: bool | None = None) -> tuple[torch.Tensor, Any]:
        """One timestep: ``(B, F), states -> (output (B, H), new states)`` with Keras's cell semantics."""
        training = self.training if training is None else bool(training)
        nested = isinstance(states, (list, tuple))
        state_list = list(states) if nested else [states]
        input_masks, recurrent_masks = self.dropout_masks(inputs.shape[0], inputs, training)
        output, new_states = self.step(self.project(inputs, input_masks), state_list, recurrent_masks)
        return output, (new_states if nested or len(new_states) > 1 else new_states[0])

    def get_initial_state(self, batch_size: int) -> list[torch.Tensor]:
        like = self.weight_hh if self.weight_hh is not None else torch.empty(0, dtype=self._dtype)
        return [like.new_zeros(batch_size, self.units) for _ in range(self.num_states)]

    def validate_input(self, inputs: Any) -> None:
        if not isinstance(inputs, torch.Tensor):
            return
        if inputs.ndim != 2 or (self.input_dim is not None and inputs.shape[-1] != self.input_dim):
            raise ValueError(
                f"{self._describe()} processes one timestep: it expects input of shape (batch, features) with "
                f"features={self.input_dim}, but received {inputs.ndim}-D input of shape {tuple(inputs.shape)}. "
                f"To run a whole sequence (batch, timesteps, features), wrap the cell: gated.layers.RNN(cell)."
            )

    def _summary_args(self) -> str:
        return f"units={self.units}"

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        })
        return config


def _builtin_name(fn: Any) -> str | None:
    """The Keras name of a built-in activation, None for a custom callable."""
    name = activations.serialize(fn)
    return name if isinstance(name, str) else None


def _broadcastable(mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (B, F) mask shaped to multiply x of shape (B, ..., F)."""
    return mask.reshape(mask.shape[0], *([1] * (x.ndim - 2)), mask.shape[-1])


class GRUCell(RecurrentCell):
    """One GRU step, Keras's equations for both ``reset_after`` variants.

    reset_after=True:  h~ = tanh(x W_h + b_h + r * (h U_h + b'_h))   (torch.nn.GRU, cuDNN)
    reset_after=False: h~ = tanh(x W_h + b_h + (r * h) U_h)          (the original 2014 formulation)
    and in both, h' = z * h + (1 - z) * h~.
    """

    spec = CellSpec(CellKind.GRU, keras_gates=("update", "reset", "candidate"),
                    torch_gates=("reset", "update", "candidate"), onnx_gates=("update", "reset", "candidate"),
                    torch_modes=(("tanh", "GRU"),), recurrent_activation="sigmoid", separate_recurrent_bias=True)

    def __init__(self, units: int, *args: Any, reset_after: bool = True, **kwargs: Any):
        kwargs.pop("implementation", None)  # Keras 2 argument; both implementations compute the same function
        super().__init__(units, *args, **kwargs)
        self.reset_after = bool(reset_after)

    def _has_recurrent_bias(self) -> bool:
        return self.reset_after

    def torch_blockers(self) -> list[str]:
        found = [] if self.reset_after else ["reset_after=False (fused kernels implement the reset-after GRU only)"]
        return found + super().torch_blockers()

    def step(self, projected, states, recurrent_masks=None):
        h = states[0]
        u = self.units
        x_r, x_z, x_n = projected.split(u, dim=-1)
        if recurrent_masks is None:
            if self.reset_after:
                h_r, h_z, h_n = F.linear(h, self.weight_hh, self.bias_hh).split(u, dim=-1)
            else:
                h_r, h_z = F.linear(h, self.weight_hh[: 2 * u]).split(u, dim=-1)
        else:  # Keras order of the masks: z, r, h
            h_r = self._recurrent(h, recurrent_masks, 1, 0, self.reset_after)
            h_z = self._recurrent(h, recurrent_masks, 0, 1, self.reset_after)
            if self.reset_after:
                h_n = self._recurrent(h, recurrent_masks, 2, 2, True)
        reset = self.recurrent_activation(x_r + h_r)
        update = self.recurrent_activation(x_z + h_z)
        if self.reset_after:
            candidate = self.activation(x_n + reset * h_n)
        else:
            h_for_candidate = h if recurrent_masks is None else h * recurrent_masks[2]
            candidate = self.activation(x_n + F.linear(reset * h_for_candidate, self.weight_hh[2 * u:]))
        h_new = update * h + (1 - update) * candidate
        return h_new, [h_new]

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config


class LSTMCell(RecurrentCell):
    """One LSTM step: gates i, f, c, o; ``unit_forget_bias`` starts the forget bias at 1, as in Keras."""

    spec = CellSpec(CellKind.LSTM, keras_gates=("input_gate", "forget_gate", "cell", "output_gate"),
                    torch_gates=("input_gate", "forget_gate", "cell", "output_gate"),
                    onnx_gates=("input_gate", "output_gate", "forget_gate", "cell"),
                    torch_modes=(("tanh", "LSTM"),), recurrent_activation="sigmoid", states=2)

    def __init__(self, units: int, *args: Any, unit_forget_bias: bool = True, **kwargs: Any):
        kwargs.pop("implementation", None)
        super().__init__(units, *args, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def _keras_bias_init(self, shape):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape)
        u = self.units
        return torch.cat([self.bias_initializer((u,)), torch.ones(u), self.bias_initializer((2 * u,))])

    def step(self, projected, states, recurrent_masks=None):
        h, c = states
        u = self.units
        if recurrent_masks is None:
            z = projected + F.linear(h, self.weight_hh)
        else:
            z = projected + torch.cat([self._recurrent(h, recurrent_masks, g, g, False) for g in range(4)], dim=-1)
        i, f, g, o = z.split(u, dim=-1)
        input_gate = self.recurrent_activation(i)
        forget_gate = self.recurrent_activation(f)
        cell = forget_gate * c + input_gate * self.activation(g)
        output_gate = self.recurrent_activation(o)
        h_new = output_gate * self.activation(cell)
        return h_new, [h_new, cell]

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class SimpleRNNCell(RecurrentCell):
    """One fully-connected recurrent step: h' = activation(x W + b + h U)."""

    spec = CellSpec(CellKind.SIMPLE_RNN, keras_gates=("candidate",), torch_gates=("candidate",),
                    onnx_gates=("candidate",), torch_modes=(("tanh", "RNN_TANH"), ("relu", "RNN_RELU")))

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True, **kwargs: Any):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNNCell has no recurrent_activation (it has no gates); use activation=.")
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def _mask_count(self) -> int | None:
        return None  # one block: one dropout mask, with or without recurrent dropout

    def step(self, projected, states, recurrent_masks=None):
        h = states[0]
        if recurrent_masks is not None:
            h = h * recurrent_masks
        h_new = self.activation(projected + F.linear(h, self.weight_hh))
        return h_new, [h_new]

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation")
        return config


class StackedRNNCells(Layer):
    """Several cells run one after another within each timestep (``RNN([cell1, cell2])``)."""

    def __init__(self, cells: Sequence[Layer], **kwargs: Any):
        super().__init__(**kwargs)
        if not cells:
            raise ValueError("StackedRNNCells needs at least one cell.")
        for cell in cells:
            if not hasattr(cell, "state_size"):
                raise ValueError(f"Every cell needs a state_size attribute; {cell!r} has none.")
        self.cells = nn.ModuleList(cells)

    def sublayers(self) -> list[Layer]:
        return [c for c in self.cells if isinstance(c, Layer)]

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        return getattr(last, "output_size", None) or _flat_sizes(last.state_size)[0]

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._build_now(shape)
            shape = shape[:-1] + (getattr(cell, "output_size", None) or _flat_sizes(cell.state_size)[0],)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config["cells"] = [_registry.serialize(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "StackedRNNCells":
        config = dict(config)
        cells = [_registry.deserialize(c, custom_objects, base=Layer) for c in config.pop("cells")]
        return cls(cells, **config)


def _flat_sizes(state_size: Any) -> list[int]:
    if isinstance(state_size, int):
        return [state_size]
    out: list[int] = []
    for s in state_size:
        out.extend(_flat_sizes(s))
    return out
