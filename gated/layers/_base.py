"""``Layer``: a ``torch.nn.Module`` with Keras's life cycle.

What a Keras user relies on and this class provides once for every layer:

* lazy ``build(input_shape)`` on the first call (or eagerly from ``input_shape=``);
* inputs converted from numpy (and Python lists) to the layer's dtype and device;
* masks carried on tensors (``tensor._keras_mask``) from ``Embedding(mask_zero=True)`` or ``Masking``
  to every later layer that accepts ``mask=``, exactly as Keras propagates them;
* ``get_weights`` / ``set_weights`` in **Keras's layout**, with every mismatch listed before anything changes;
* ``losses`` (weight and activity regularization), ``apply_constraints()`` after optimizer steps;
* ``get_config`` / ``from_config`` with Keras's argument names;
* symbolic calls on ``Input`` placeholders for the functional API.

Layers start in inference mode (``layer.training`` is False), as Keras layers do outside ``fit``:
``training=True`` in the call, or ``layer.train()``, turns dropout on.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .. import regularizers as _regularizers
from ..saving import _registry
from ..utils._naming import to_snake_case, unique_name
from ._symbolic import Node, SymbolicTensor, is_symbolic, shape_of

_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
}


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    if dtype is None:
        return torch.get_default_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    raise ValueError(f"Unsupported dtype {dtype!r}; expected one of {', '.join(_DTYPES)} or a torch.dtype.")


@dataclass
class WeightSpec:
    """One weight as Keras sees it: its name, and how to read and write it in Keras's layout."""

    name: str
    get: Callable[[], torch.Tensor]  # Keras layout, differentiable view of the stored parameter
    set: Callable[[torch.Tensor], None]  # takes Keras layout
    regularizer: Callable | None = None
    constraint: Callable | None = None
    trainable: bool = True


def _mask_of(structure: Any) -> Any:
    if isinstance(structure, torch.Tensor):
        return getattr(structure, "_keras_mask", None)
    if isinstance(structure, (list, tuple)):
        masks = [_mask_of(s) for s in structure]
        return None if all(m is None for m in masks) else masks
    return None


def _attach_mask(structure: Any, mask: Any) -> None:
    if mask is None:
        return
    if isinstance(structure, torch.Tensor):
        if isinstance(mask, torch.Tensor):
            structure._keras_mask = mask
    elif isinstance(structure, (list, tuple)) and isinstance(mask, (list, tuple)):
        for s, m in zip(structure, mask):
            _attach_mask(s, m)


def describe_array(x: Any) -> str:
    """'a 2-D array of shape (16, 32)' for error messages."""
    shape = tuple(x.shape)
    return f"a {len(shape)}-D array of shape {shape}"


_CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.Sequential)


def _layers_in(module: nn.Module) -> list["Layer"]:
    """The layers among ``module``'s children, looking inside plain torch containers."""
    found: list[Layer] = []
    for child in module.children():
        if isinstance(child, Layer):
            found.append(child)
        elif isinstance(child, _CONTAINERS):
            found.extend(_layers_in(child))
    return found


class Layer(nn.Module):
    """Base class of every gated layer."""

    supports_masking = False
    # Layers whose inputs are indices (Embedding) keep integer inputs as they are.
    _integer_inputs = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """gated's own layer and model classes enter the serialization registry when defined, so a saved config
        finds them by class name; a user's class registers with ``gated.saving.register_serializable()``."""
        super().__init_subclass__(**kwargs)
        _registry.register_builtin(cls)

    def __init__(self, *, name: str | None = None, trainable: bool = True,
                 dtype: str | torch.dtype | None = None, input_shape: Sequence[int | None] | None = None,
                 batch_input_shape: Sequence[int | None] | None = None, batch_size: int | None = None,
                 input_dim: int | None = None, activity_regularizer: Any = None, **kwargs: Any):
        super().__init__()
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) {', '.join(map(repr, sorted(kwargs)))}. "
                f"Check the spelling against Keras's {type(self).__name__} signature."
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"A layer name must be a string, received {name!r}.")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype = resolve_dtype(dtype)
        self._trainable = bool(trainable)
        self.built = False
        self.activity_regularizer = _regularizers.get(activity_regularizer)
        self._activity_losses: list[torch.Tensor] = []
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape: tuple | None = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        self.train(False)

    # ------------------------------------------------------------------ life cycle
    def build(self, input_shape: Any) -> None:
        """Create weights for inputs of ``input_shape`` (batch first, ``None`` where unknown)."""
        self.built = True

    def _build_now(self, input_shape: Any, device: torch.device | None = None) -> None:
        self.build(input_shape)
        self.built = True
        if device is not None:
            self.to(device)
        if not self._trainable:
            self.trainable = False

    def _maybe_build_from_input_shape(self) -> None:
        """Build at construction when ``input_shape=`` gave every feature size (like Keras's Sequential)."""
        if self._batch_input_shape is not None and not self.built:
            self._build_now(self._batch_input_shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask if self.supports_masking else None

    def validate_input(self, inputs: Any) -> None:
        """Raise a ValueError that explains a wrong input; called before every forward."""

    # ------------------------------------------------------------------ calling
    @classmethod
    def _forward_params(cls) -> set[str]:
        cache = cls.__dict__.get("_forward_params_cache")
        if cache is None:
            cache = set(inspect.signature(cls.forward).parameters)
            cls._forward_params_cache = cache
        return cache

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{self._describe()} must be called with its inputs as the first argument.")
        if is_symbolic(args) or is_symbolic(kwargs):
            return self._call_symbolic(args, kwargs)
        # The incoming mask is read before conversion (a dtype cast makes a new tensor without it), and is
        # propagated by compute_mask even when forward takes no ``mask`` (Dense, Dropout pass it through).
        mask = kwargs.get("mask")
        if mask is None:
            mask = _mask_of(args[0])
            if mask is not None and "mask" in self._forward_params():
                kwargs["mask"] = mask
        inputs = self._convert_inputs(args[0])
        args = (inputs,) + tuple(args[1:])
        if not self.built:
            self._build_now(shape_of(inputs), _device_of(inputs))
        self.validate_input(inputs)
        outputs = super().__call__(*args, **kwargs)
        if self.activity_regularizer is not None:
            flat = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            self._activity_losses = [self.activity_regularizer(o) / max(1, o.shape[0]) if o.ndim else
                                     self.activity_regularizer(o) for o in flat if isinstance(o, torch.Tensor)]
        _attach_mask(outputs, self.compute_mask(inputs, mask))
        return outputs

    def _call_symbolic(self, args: tuple, kwargs: dict) -> Any:
        inputs = args[0]
        input_shape = shape_of(inputs)
        if not self.built:
            self._build_now(input_shape)
        out_shape = self.compute_output_shape(input_shape)
        node = Node(self, args, kwargs)
        dtype = self._output_dtype(inputs)
        if _is_shape(out_shape):
            out = SymbolicTensor(tuple(out_shape), dtype, node, 0)
            node.outputs = [out]
            return out
        outs = [SymbolicTensor(tuple(s), dtype, node, i) for i, s in enumerate(out_shape)]
        node.outputs = outs
        return outs if isinstance(out_shape, list) else tuple(outs)

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return self.compute_dtype

    def _convert_inputs(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)) and x and all(isinstance(e, (torch.Tensor, np.ndarray)) for e in x):
            return type(x)(self._convert_one(e) for e in x)
        return self._convert_one(x)

    def _convert_one(self, x: Any) -> torch.Tensor:
        device = self._param_device()
        if isinstance(x, torch.Tensor):
            if device is not None and x.device != device:
                raise ValueError(
                    f"{self._describe()} has its weights on {device} but received an input on {x.device}. "
                    f"Move the input with x.to('{device}') or the layer with layer.to('{x.device}')."
                )
        else:
            try:
                array = np.asarray(x)
            except ValueError as err:
                raise ValueError(
                    f"{self._describe()} received a ragged nested list ({err}). Sequences of different lengths "
                    "must be padded to one length first: gated.utils.pad_sequences(sequences, padding='post') "
                    "and a mask (Masking or Embedding(mask_zero=True))."
                ) from None
            if array.dtype == object or array.dtype.kind in "USV":
                raise TypeError(
                    f"{self._describe()} expects numeric input, but received an array of dtype {array.dtype} "
                    f"and shape {array.shape}. Convert strings to numbers first (for text, map tokens to "
                    "integer ids and use an Embedding layer)."
                )
            x = torch.as_tensor(array, device=device)
        if self._integer_inputs and not x.is_floating_point():
            return x
        if x.dtype != self.compute_dtype:
            x = x.to(self.compute_dtype)
        return x

    # ------------------------------------------------------------------ dtype, device, naming
    @property
    def compute_dtype(self) -> torch.dtype:
        for p in _own_parameters(self):
            if p.is_floating_point():
                return p.dtype
        return self._dtype

    @property
    def dtype(self) -> str:
        return str(self.compute_dtype).replace("torch.", "")

    def _param_device(self) -> torch.device | None:
        return next((p.device for p in _own_parameters(self)), None)

    def _first_parameter(self) -> torch.Tensor | None:
        return next(_own_parameters(self), None)

    def _summary_args(self) -> str:
        return ""

    def _describe(self) -> str:
        args = self._summary_args()
        return f"Layer '{self.name}' ({type(self).__name__}{', ' + args if args else ''})"

    def __repr__(self) -> str:
        args = self._summary_args()
        return f"<{type(self).__name__} name='{self.name}'{', ' + args if args else ''}, built={self.built}>"

    # ------------------------------------------------------------------ weights
    def sublayers(self) -> list["Layer"]:
        """Direct child layers, in the order Keras lists their weights; layers held in torch containers
        (``nn.ModuleList``, ``nn.ModuleDict``, ``nn.Sequential``) count as direct children."""
        return _layers_in(self)

    def weight_specs(self) -> list[WeightSpec]:
        """This layer's own weights followed by its sublayers', in Keras's order."""
        specs = list(self._own_weight_specs())
        for layer in self.sublayers():
            specs.extend(layer.weight_specs())
        return specs

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        return iter(())

    def _weight_paths(self) -> list[str]:
        """Each weight's name, prefixed by the sublayers that hold it ('gru/gru_cell/kernel'), in weight_specs()
        order."""
        paths = [spec.name for spec in self._own_weight_specs()]
        for layer in self.sublayers():
            paths.extend(f"{layer.name}/{path}" for path in layer._weight_paths())
        return paths

    @property
    def weights(self) -> list[torch.Tensor]:
        return [spec.get().detach() for spec in self.weight_specs()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [spec.get().detach() for spec in self.weight_specs() if self._spec_trainable(spec)]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [spec.get().detach() for spec in self.weight_specs() if not self._spec_trainable(spec)]

    def _spec_trainable(self, spec: WeightSpec) -> bool:
        return spec.trainable and self._trainable

    def get_weights(self) -> list[np.ndarray]:
        """The weights as numpy arrays in Keras's layout and order (``keras_layer.get_weights()``)."""
        return [spec.get().detach().cpu().numpy().copy() for spec in self.weight_specs()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set weights given in Keras's layout and order. Every mismatch is listed before anything changes."""
        specs = self.weight_specs()
        paths = self._weight_paths()
        if len(paths) != len(specs):  # a layer that overrides weight_specs
            paths = [spec.name for spec in specs]
        weights = list(weights)
        problems = []
        if len(weights) != len(specs):
            expected = ", ".join(f"{path} {tuple(s.get().shape)}" for path, s in zip(paths, specs))
            problems.append(
                f"expected {len(specs)} arrays ({expected or 'the layer is not built yet'}), received {len(weights)}"
            )
        arrays = []
        for index, (path, spec, value) in enumerate(zip(paths, specs, weights)):
            where = f" (weights[{index}]" + (f", in layer '{path.rsplit('/', 1)[0]}')" if "/" in path else ")")
            try:
                array = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
            except ValueError:
                problems.append(f"'{spec.name}' expects an array of shape {tuple(spec.get().shape)}, received a "
                                f"ragged {type(value).__name__}{where}")
                continue
            expected = tuple(spec.get().shape)
            if tuple(array.shape) != expected:
                problems.append(f"'{spec.name}' expects shape {expected}, received {tuple(array.shape)}{where}")
            elif not np.issubdtype(array.dtype, np.number):
                problems.append(f"'{spec.name}' expects numbers, received dtype {array.dtype}{where}")
            arrays.append(array)
        if problems:
            raise ValueError(
                f"Cannot set the weights of {self._describe()}:\n  - " + "\n  - ".join(problems)
                + "\nNothing was changed. Pass the list from get_weights() of a layer with the same configuration."
            )
        with torch.no_grad():
            for spec, array in zip(specs, arrays):
                current = spec.get()
                spec.set(torch.as_tensor(array).to(dtype=current.dtype, device=current.device))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"{self._describe()} is not built yet, so it has no weights to count. Call it on an input, "
                "or pass input_shape=, first."
            )
        return sum(int(spec.get().numel()) for spec in self.weight_specs())

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for p in self.parameters():
            p.requires_grad_(self._trainable)
        for layer in self.sublayers():
            layer.trainable = value

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization penalties of this layer and its sublayers (weights now, activity of the last call)."""
        out = [spec.regularizer(spec.get()) for spec in self._own_weight_specs() if spec.regularizer is not None]
        out.extend(self._activity_losses)
        for layer in self.sublayers():
            out.extend(layer.losses)
        return out

    def apply_constraints(self) -> None:
        """Project constrained weights (Keras applies constraints after every optimizer step)."""
        with torch.no_grad():
            for spec in self.weight_specs():
                if spec.constraint is not None:
                    spec.set(spec.constraint(spec.get()))

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = _regularizers.serialize(self.activity_regularizer)
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        return cls(**config)

    # ------------------------------------------------------------------ capture
    def capture_blocker(self) -> str | None:
        """Why this layer's call cannot run inside a captured CUDA graph (a training or prediction step recorded
        once and replayed), or None when it can: the default, for a call that only launches device work.

        A layer whose call needs the host every batch says so here, naming itself, e.g. "layer 'gru' (GRU) is
        stateful (...)": states kept between batches, masks analysed on the host, values checked on the host,
        random numbers from its own generator. ``fit`` and ``predict`` ask every layer of the model (sublayers
        included) and run eagerly when one answers, with the answers in ``model.last_step_path``."""
        return None


def _own_parameters(module: nn.Module) -> Iterator[nn.Parameter]:
    """``module.parameters()`` in the same order, without its bookkeeping: per layer call this runs a few times, and
    ``parameters()`` costs microseconds each (the first one found is all the callers need)."""
    for p in module._parameters.values():
        if p is not None:
            yield p
    for child in module._modules.values():
        if child is not None:
            yield from _own_parameters(child)


def _is_shape(shape: Any) -> bool:
    return isinstance(shape, tuple) and all(s is None or isinstance(s, int) for s in shape)


def _device_of(structure: Any) -> torch.device | None:
    if isinstance(structure, torch.Tensor):
        return structure.device
    if isinstance(structure, (list, tuple)) and structure:
        return _device_of(structure[0])
    return None
