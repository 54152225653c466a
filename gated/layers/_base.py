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

from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..saving import _registry
from ..utils._naming import to_snake_case, unique_name
from ..utils._tree import flatten_structure, map_structure
from ._symbolic import Node, SymbolicTensor, is_symbolic, shape_of
from ._variable import Variable, WeightView

_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
}


# Settings newer Keras versions write into layer configs that carry no meaning for gated at these values (gated
# layers are never quantized or LoRA-adapted); a config with any other value is refused in ``Layer.__init__``.
KERAS_ONLY_DEFAULTS: dict[str, Any] = {"quantization_config": None, "lora_rank": None, "lora_alpha": None}


def resolve_dtype(dtype: str | torch.dtype | dict | None) -> torch.dtype:
    if isinstance(dtype, dict) and dtype.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
        dtype = (dtype.get("config") or {}).get("name")  # Keras's serialized dtype policy, e.g. in a layer config
        if dtype is None:
            return torch.get_default_dtype()
    if dtype is None:
        return torch.get_default_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    raise ValueError(f"Unsupported dtype {dtype!r}; expected one of {', '.join(_DTYPES)} or a torch.dtype.")


def _drop_keras_only_settings(class_name: str, kwargs: dict[str, Any]) -> None:
    """Remove from ``kwargs`` the ``KERAS_ONLY_DEFAULTS`` keys at their default value (a real Keras config carries
    ``quantization_config=None``); any other value of them is a clear error."""
    refused = {}
    for key, default in KERAS_ONLY_DEFAULTS.items():
        if key in kwargs:
            value = kwargs.pop(key)
            if value != default:
                refused[key] = value
    if refused:
        settings = ", ".join(f"{k}={v!r}" for k, v in refused.items())
        raise ValueError(f"{class_name} received {settings}, but gated layers are never quantized or LoRA-adapted: "
                         f"these settings are only accepted at their defaults {KERAS_ONLY_DEFAULTS}. Load the float "
                         "model's config (before quantize() or enable_lora() in Keras), or drop these keys.")


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


class _CallContext:
    """The outermost layer call in progress (Keras's call context): the ``training`` value inner calls inherit."""

    __slots__ = ("entry", "training")

    def __init__(self, entry: "Layer"):
        self.entry, self.training = entry, None


class _Calls:
    context: _CallContext | None = None
    losses_added = False  # some layer called add_loss since the last outermost call began


def _call_context() -> _CallContext | None:
    return _Calls.context


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
    # The class that wraps a plain torch module assigned to a Keras-style layer (TorchModuleWrapper, which sets
    # itself here when it is defined: ``_torch_module.py``).
    torch_module_wrapper: type["Layer"] | None = None

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
        _drop_keras_only_settings(type(self).__name__, kwargs)
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
        self._added_losses: list[torch.Tensor] = []  # add_loss() during the last outermost call
        self._variables: list[Variable] = []  # add_weight(), in creation order
        self._inbound_nodes: list[Node] = []  # this layer's symbolic calls, first first (layer.input / output)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape: tuple | None = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        self.train(False)

    def __new__(cls, *args: Any, **kwargs: Any) -> "Layer":
        instance = super().__new__(cls)
        # The constructor's arguments, for the config of a Keras-style layer that writes no get_config (Keras's
        # automatic config).
        instance.__dict__["_init_arguments"] = (args, kwargs)
        return instance

    def __setattr__(self, name: str, value: Any) -> None:
        """Keras's attribute tracking on top of torch's: a weight from ``add_weight`` takes the attribute's name,
        lists and dicts of layers become ``nn.ModuleList`` / ``nn.ModuleDict`` (so their weights count), and a plain
        torch module assigned to a Keras-style layer (one that defines ``call``) is wrapped in
        ``TorchModuleWrapper``, as Keras does on the torch backend."""
        if isinstance(value, Variable):
            keys = self.__dict__.get("_variable_keys")
            key = keys.pop(id(value), None) if keys else None
            if key is not None and key != name:
                del self._parameters[key]
        elif type(value) in (list, tuple) and value and all(isinstance(v, Layer) for v in value):
            value = nn.ModuleList(value)
        elif type(value) is dict and value and all(isinstance(k, str) and isinstance(v, Layer)
                                                   for k, v in value.items()):
            value = nn.ModuleDict(value)
        elif (isinstance(value, nn.Module) and not isinstance(value, (Layer,) + _CONTAINERS)
              and self.torch_module_wrapper is not None and self._runs_call()
              and not isinstance(self, self.torch_module_wrapper)):
            value = self.torch_module_wrapper(value)
        super().__setattr__(name, value)

    # ------------------------------------------------------------------ life cycle
    def build(self, input_shape: Any) -> None:
        """Create weights for inputs of ``input_shape`` (batch first, ``None`` where unknown)."""
        self.built = True

    def _build_now(self, input_shape: Any, device: torch.device | None = None) -> None:
        self.build(input_shape)
        self.built = True
        self._build_shape = input_shape
        if device is not None:
            self.to(device)
        if not self._trainable:
            self.trainable = False

    def _maybe_build_from_input_shape(self) -> None:
        """Build at construction when ``input_shape=`` gave every feature size (like Keras's Sequential)."""
        if self._batch_input_shape is not None and not self.built:
            self._build_now(self._batch_input_shape)

    def get_build_config(self) -> dict[str, Any] | None:
        """What ``build_from_config`` needs to create a Keras-style layer's weights before its saved weights are
        set (Keras's ``build_config``): the input shape of its first build. None for gated's own layers, whose
        configs build them."""
        shape = self.__dict__.get("_build_shape")
        if not self._runs_call() or not self.built or shape is None:
            return None
        return {"input_shape": _json_shape(shape)}

    def build_from_config(self, config: dict[str, Any]) -> None:
        """Build from ``get_build_config()``'s dict: ``build(input_shape)`` when the class writes one, else a call
        on zeros of that shape (which builds the sublayers the call uses), as Keras builds such a layer."""
        shape = (config or {}).get("input_shape")
        if shape is None or self.built:
            return
        shape = _python_shape(shape)
        if type(self).build is not Layer.build:
            self._build_now(shape)
            return
        zeros = map_structure(lambda leaf: _zeros_like_placeholder(leaf, 1, self._param_device()),
                              _placeholders_of(shape, self._dtype))
        with torch.no_grad():
            self(zeros)
        self._clear_losses()

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape``: the same shape (gated's layers override it); a Keras-style layer
        without its own answer runs its ``call`` on zeros of that shape, as Keras runs it on a symbolic input."""
        if self._runs_call():
            inputs = _placeholders_of(input_shape, self.compute_dtype)
            return shape_of(self._probe_outputs((inputs,), {}, None))
        return input_shape

    compute_output_shape.by_running_call = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask if self.supports_masking else None

    def validate_input(self, inputs: Any) -> None:
        """Raise a ValueError that explains a wrong input; called before every forward."""

    # ------------------------------------------------------------------ Keras-style weights and losses
    def add_weight(self, shape: Sequence[int] | None = None, initializer: Any = None,
                   dtype: str | torch.dtype | None = None, trainable: bool = True, autocast: bool = True,
                   regularizer: Any = None, constraint: Any = None, aggregation: str = "none",
                   overwrite_with_gradient: bool = False, name: str | None = None) -> Variable:
        """A new weight of this layer, as Keras's ``add_weight``: ``initializer`` defaults to 'glorot_uniform' for
        floating dtypes and 'zeros' otherwise, ``dtype`` to the layer's. Weights are listed by ``weights`` and
        ``get_weights`` in Keras's order: the trainable ones as created, then the non-trainable ones, then the
        sublayers'. Assign the result to an attribute (``self.kernel = self.add_weight(...)``) to use it in
        ``call``; ``regularizer`` adds to ``losses``, ``constraint`` projects it after each optimizer step."""
        if isinstance(shape, str):
            raise ValueError(f"{self._describe()}: add_weight() takes the name as a keyword argument; received "
                             f"add_weight({shape!r}, ...). Use add_weight(shape=..., name={shape!r}).")
        shape = () if shape is None else (shape,) if isinstance(shape, int) else tuple(shape)
        if any(d is None or not isinstance(d, (int, np.integer)) or d < 0 for d in shape):
            raise ValueError(f"{self._describe()}: add_weight(shape=...) takes a fully known shape of non-negative "
                             f"integers; received {shape}. In build(input_shape), take sizes from input_shape's "
                             "known axes (e.g. input_shape[-1]).")
        shape = tuple(int(d) for d in shape)
        torch_dtype = _INTEGER_DTYPES.get(dtype) if isinstance(dtype, str) else None
        torch_dtype = torch_dtype or (self._dtype if dtype is None else resolve_dtype(dtype))
        if initializer is None:
            initializer = "glorot_uniform" if torch_dtype.is_floating_point else "zeros"
        init = _initializers.get(initializer)
        value = torch.as_tensor(init(shape, dtype=torch_dtype if torch_dtype.is_floating_point else torch.float32))
        value = value.to(torch_dtype).clone()
        if tuple(value.shape) != shape:
            raise ValueError(f"{self._describe()}: the initializer {initializer!r} returned shape "
                             f"{tuple(value.shape)} for add_weight(shape={shape}).")
        name = name or unique_name("variable")
        if not isinstance(name, str):
            raise TypeError(f"{self._describe()}: add_weight(name=...) takes a string; received {name!r}.")
        device = self._param_device()
        variable = Variable(value if device is None else value.to(device), trainable and self._trainable,
                            name, f"{self.name}/{name}")
        variable._trainable = bool(trainable)
        variable._listed_trainable = bool(trainable)  # Keras lists weights by their trainability at creation
        variable.regularizer = _regularizers.get(regularizer)
        variable.constraint = _constraints.get(constraint)
        key = name if name.isidentifier() and not hasattr(self, name) else None
        index = len(self._variables)
        while key is None or key in self._parameters:
            key, index = f"variable_{index}", index + 1
        self.register_parameter(key, variable)
        self.__dict__.setdefault("_variable_keys", {})[id(variable)] = key
        self._variables.append(variable)
        return variable

    add_variable = add_weight

    def add_loss(self, loss: Any) -> None:
        """Add a scalar loss during ``call`` (Keras's ``add_loss``): it is in ``losses`` until the next outermost
        call begins, and ``fit`` adds it to the training loss."""
        for value in flatten_structure(loss):
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{self._describe()}: add_loss() takes tensors computed in call() (e.g. "
                                 f"ops.sum(x) or torch.sum(x)); received {type(value).__name__} {value!r}.")
            self._added_losses.append(value)
        _Calls.losses_added = True

    def _clear_losses(self) -> None:
        for module in self.modules():
            if isinstance(module, Layer) and module._added_losses:
                module._added_losses = []

    # ------------------------------------------------------------------ calling
    @classmethod
    def _runs_call(cls) -> bool:
        """Whether this class is written the Keras way: its ``forward`` is the one that runs ``call``."""
        cache = cls.__dict__.get("_runs_call_cache")
        if cache is None:
            cache = bool(getattr(cls.forward, "runs_call", False)) and callable(getattr(cls, "call", None))
            cls._runs_call_cache = cache
        return cache

    @classmethod
    def _forward_params(cls) -> set[str]:
        cache = cls.__dict__.get("_forward_params_cache")
        if cache is None:
            cache = set(inspect.signature(cls.call if cls._runs_call() else cls.forward).parameters)
            cls._forward_params_cache = cache
        return cache

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A Keras-style layer's computation is its ``call``; gated's own layers override ``forward``."""
        call = getattr(self, "call", None)
        if call is None:
            raise NotImplementedError(f"{self._describe()} defines neither call() nor forward(): write "
                                      "call(self, inputs) (Keras's way) or forward(self, inputs) (torch's way).")
        return call(*args, **kwargs)

    forward.runs_call = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{self._describe()} must be called with its inputs as the first argument.")
        if is_symbolic(args) or is_symbolic(kwargs):
            return self._call_symbolic(args, kwargs)
        context = _Calls.context
        entry = context is None
        if entry:
            context = _Calls.context = _CallContext(self)
            if _Calls.losses_added:
                self._clear_losses()
        try:
            return self._call_eager(args, kwargs, context)
        finally:
            if entry:
                _Calls.context = None

    def _call_eager(self, args: tuple, kwargs: dict, context: _CallContext) -> Any:
        params = self._forward_params()
        # Keras's training value: the one passed, else the outer call's; passed on to inner calls
        training = kwargs.get("training")
        if training is None:
            training = context.training
            if training is not None and "training" in params:
                kwargs["training"] = training
        context.training = training
        # The incoming mask is read before conversion (a dtype cast makes a new tensor without it), and is
        # propagated by compute_mask even when forward takes no ``mask`` (Dense, Dropout pass it through).
        mask = kwargs.get("mask")
        if mask is None:
            mask = _mask_of(args[0])
            if mask is not None and "mask" in params:
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
        if self._runs_call() and all(getattr(o, "_keras_mask", None) is not None
                                     for o in flatten_structure(outputs)):
            return outputs  # Keras keeps the masks a call's outputs already carry
        _attach_mask(outputs, self.compute_mask(inputs, mask))
        return outputs

    def _call_symbolic(self, args: tuple, kwargs: dict) -> Any:
        inputs = args[0]
        input_shape = shape_of(inputs)
        if not self.built:
            self._build_now(input_shape)
        node = Node(self, args, kwargs)
        if self._runs_call() and getattr(type(self).compute_output_shape, "by_running_call", False):
            result = self._probe_outputs(args, kwargs, node)
        else:
            out_shape = self.compute_output_shape(input_shape)
            dtype = self._output_dtype(inputs)
            if _is_shape(out_shape):
                result = SymbolicTensor(tuple(out_shape), dtype, node, 0)
                node.outputs = [result]
            else:
                outs = [SymbolicTensor(tuple(s), dtype, node, i) for i, s in enumerate(out_shape)]
                node.outputs = outs
                result = outs if isinstance(out_shape, list) else tuple(outs)
            self._symbolic_masks(inputs, kwargs.get("mask"), node)
        self._inbound_nodes.append(node)
        return result

    def _probe_outputs(self, args: tuple, kwargs: dict, node: Node | None) -> Any:
        """Symbolic outputs found by running the call on zeros twice, with each unknown size 2 and then 3: an
        output size that changes follows an unknown input size and stays unknown (None); masks the outputs carry
        become symbolic masks. What the runs added with add_loss is dropped."""
        device = self._param_device()
        runs = []
        for size in (2, 3):
            real = map_structure(lambda leaf: _zeros_like_placeholder(leaf, size, device), (args, kwargs))
            try:
                with torch.no_grad():
                    runs.append(self(*real[0], **real[1]))
            except Exception as err:
                raise ValueError(
                    f"{self._describe()} has no compute_output_shape(), so its output shape is found by running "
                    f"call() on zeros of the input's shape ({_shape_text(args)}, unknown sizes as {size}), and "
                    f"that call failed: {type(err).__name__}: {err}. Define compute_output_shape(self, "
                    "input_shape), or fix call() for such inputs.") from err
        self._clear_losses()
        first, second = flatten_structure(runs[0]), flatten_structure(runs[1])
        outputs, counter = [], iter(range(len(first)))

        def symbolic(leaf: Any) -> Any:
            index = next(counter)
            if not isinstance(leaf, torch.Tensor):
                return leaf
            shape = _merged_shape(leaf.shape, second[index].shape)
            tensor = SymbolicTensor(shape, leaf.dtype, node, len(outputs))
            mask, other = getattr(leaf, "_keras_mask", None), getattr(second[index], "_keras_mask", None)
            if isinstance(mask, torch.Tensor) and isinstance(other, torch.Tensor):
                tensor._keras_mask = SymbolicTensor(_merged_shape(mask.shape, other.shape), torch.bool, node,
                                                    len(outputs), mask_of=tensor)
            outputs.append(tensor)
            return tensor

        result = map_structure(symbolic, runs[0])
        if node is not None:
            node.outputs = outputs
        return result

    def _symbolic_masks(self, inputs: Any, mask: Any, node: Node) -> None:
        """The masks of a symbolic call's outputs, as placeholders (``x._keras_mask``): ``compute_mask`` run on
        zeros of the input's shape (and ones for the incoming mask), twice, as ``_probe_outputs`` runs a call."""
        mask = _symbolic_mask_of(inputs) if mask is None else mask
        if mask is None and type(self).compute_mask is Layer.compute_mask:
            return
        device = self._param_device()
        runs = []
        with torch.no_grad():
            for size in (2, 3):
                real_inputs = map_structure(lambda leaf: _zeros_like_placeholder(leaf, size, device), inputs)
                real_mask = map_structure(lambda leaf: _zeros_like_placeholder(leaf, size, device, fill=True), mask)
                runs.append(self.compute_mask(real_inputs, real_mask))
        first = runs[0] if isinstance(runs[0], (list, tuple)) else [runs[0]]
        second = runs[1] if isinstance(runs[1], (list, tuple)) else [runs[1]]
        for tensor, a, b in zip(node.outputs, first, second):
            if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
                tensor._keras_mask = SymbolicTensor(_merged_shape(a.shape, b.shape), torch.bool, node, tensor.index,
                                                    mask_of=tensor)

    # ------------------------------------------------------------------ the functional API
    def _first_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise ValueError(f"{self._describe()} has never been called on a symbolic input (a placeholder from "
                             f"Input(...)), so it has no {what}. Call it in a functional model first: "
                             "y = layer(Input(shape=...)).")
        return self._inbound_nodes[0]

    @property
    def input(self) -> Any:
        """The symbolic input of this layer's first call (Keras 3: a list when the call took several)."""
        node = self._first_node("input")
        tensors = [t for t in flatten_structure((node.args, node.kwargs)) if isinstance(t, SymbolicTensor)]
        if not tensors:  # an InputLayer: its placeholder is its input and its output
            return self.output
        return tensors[0] if len(tensors) == 1 else tensors

    @property
    def output(self) -> Any:
        """The symbolic output of this layer's first call (Keras 3: a list when it returned several)."""
        outputs = self._first_node("output").outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

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
        """The weights made by ``add_weight``, in Keras's order: trainable ones as created, then the others
        (gated's own layers override this with their stored parameters)."""
        listed = sorted(self._variables, key=lambda v: not v._listed_trainable)
        for variable in listed:
            yield WeightSpec(variable.name, get=lambda v=variable: v, set=lambda value, v=variable: v.copy_(value),
                             regularizer=variable.regularizer, constraint=variable.constraint,
                             trainable=variable._trainable)

    def _weight_paths(self) -> list[str]:
        """Each weight's name, prefixed by the sublayers that hold it ('gru/gru_cell/kernel'), in weight_specs()
        order."""
        paths = [spec.name for spec in self._own_weight_specs()]
        for layer in self.sublayers():
            paths.extend(f"{layer.name}/{path}" for path in layer._weight_paths())
        return paths

    def _weight_entries(self, trainable: bool = True, prefix: str = "") -> list[tuple[WeightSpec, str, bool]]:
        """(spec, path, trainable) for every weight in ``weight_specs()`` order; a weight is trainable when it
        is and so are the layers that hold it; its path names the layers that hold it, as Keras 3's
        ('model/gru/gru_cell/kernel')."""
        trainable = trainable and self._trainable
        prefix = f"{prefix}{self.name}/"
        entries = [(spec, f"{prefix}{spec.name}", trainable and spec.trainable) for spec in self._own_weight_specs()]
        for layer in self.sublayers():
            entries.extend(layer._weight_entries(trainable, prefix))
        if len(entries) != len(self.weight_specs()):  # a layer that overrides weight_specs
            entries = [(spec, f"{self.name}/{spec.name}", self._spec_trainable(spec)) for spec in self.weight_specs()]
        return entries

    @staticmethod
    def _weight_object(spec: WeightSpec, path: str, trainable: bool) -> torch.Tensor:
        current = spec.get()
        return current if isinstance(current, Variable) else WeightView(current, spec, path, trainable)

    @property
    def weights(self) -> list[torch.Tensor]:
        """Every weight in Keras's layout and order: an ``add_weight`` Variable itself, or a ``WeightView`` (a tensor
        with Keras's Variable surface: ``value``, ``numpy()``, ``assign``, ``path``, ``trainable``)."""
        return [self._weight_object(*entry) for entry in self._weight_entries()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [self._weight_object(*entry) for entry in self._weight_entries() if entry[2]]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [self._weight_object(*entry) for entry in self._weight_entries() if not entry[2]]

    @property
    def variables(self) -> list[torch.Tensor]:
        return self.weights

    @property
    def trainable_variables(self) -> list[torch.Tensor]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[torch.Tensor]:
        return self.non_trainable_weights

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
            if isinstance(p, Variable):  # a weight made non-trainable stays so
                p.requires_grad_(self._trainable and p._trainable and p.is_floating_point())
            else:
                p.requires_grad_(self._trainable)
        for layer in self.sublayers():
            layer.trainable = value

    @property
    def losses(self) -> list[torch.Tensor]:
        """The losses ``add_loss`` added during the last call, and the regularization penalties of this layer and
        its sublayers (weights now, activity of the last call)."""
        out = list(self._added_losses)
        out.extend(spec.regularizer(spec.get()) for spec in self._own_weight_specs() if spec.regularizer is not None)
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
        if type(self).get_config is Layer.get_config and self._runs_call():
            values = _automatic_config(self)
            for key in values.pop("_drop_base_keys", []):
                config.pop(key, None)
            return {**config, **values}
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


_INTEGER_DTYPES = {"int8": torch.int8, "uint8": torch.uint8, "int16": torch.int16, "int32": torch.int32,
                   "int64": torch.int64, "bool": torch.bool}


def _json_shape(shape: Any) -> Any:
    if _is_shape(shape):
        return list(shape)
    return [_json_shape(s) for s in shape]


def _python_shape(shape: Any) -> Any:
    """A shape read back from JSON: lists of sizes become tuples; a list of shapes stays a list."""
    if isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, int) for d in shape):
        return tuple(shape)
    return [_python_shape(s) for s in shape]


def _placeholders_of(shape: Any, dtype: torch.dtype) -> Any:
    if isinstance(shape, (list, tuple)) and _is_shape(tuple(shape)):
        return SymbolicTensor(tuple(shape), dtype)
    return [_placeholders_of(s, dtype) for s in shape]


def _zeros_like_placeholder(leaf: Any, size: int, device: torch.device | None, fill: bool = False) -> Any:
    """Zeros (ones for a mask, ``fill``) in the place of a placeholder, each unknown size set to ``size``; the
    placeholder's symbolic mask becomes a mask of ones on the zeros."""
    if not isinstance(leaf, SymbolicTensor):
        return leaf
    shape = tuple(size if d is None else d for d in leaf.shape)
    if leaf.dtype == "string" and not fill:
        return np.full(shape, "", dtype=str)  # an array of empty strings in the place of Input(dtype='string')
    dtype = torch.bool if fill else leaf.dtype
    tensor = (torch.ones if fill else torch.zeros)(shape, dtype=dtype, device=device)
    mask = leaf._keras_mask
    if isinstance(mask, SymbolicTensor) and not fill:
        tensor._keras_mask = torch.ones(tuple(size if d is None else d for d in mask.shape), dtype=torch.bool,
                                        device=device)
    return tensor


def _merged_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int | None, ...]:
    if len(a) != len(b):
        raise ValueError(f"A call returned outputs of rank {len(a)} and {len(b)} for inputs that differ only in "
                         "their unknown sizes; define compute_output_shape(input_shape) for this layer.")
    return tuple(int(x) if x == y else None for x, y in zip(a, b))


def _shape_text(args: Any) -> str:
    shapes = [tuple(t.shape) for t in flatten_structure(args) if isinstance(t, SymbolicTensor)]
    return ", ".join(str(s) for s in shapes)


def _symbolic_mask_of(structure: Any) -> Any:
    if isinstance(structure, SymbolicTensor):
        return structure._keras_mask
    if isinstance(structure, (list, tuple)):
        masks = [_symbolic_mask_of(s) for s in structure]
        return None if all(m is None for m in masks) else masks
    return None


def _automatic_config(layer: Layer) -> dict[str, Any]:
    """Keras's automatic config of a layer class that writes no ``get_config``: the arguments its constructor
    received, when they are plain values (numbers, strings, lists, dicts of them)."""
    args, kwargs = layer.__dict__.get("_init_arguments", ((), {}))
    signature = inspect.signature(type(layer).__init__)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        bound = None
    plain = bound is not None and all(p.kind not in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY)
                                      for p in list(signature.parameters.values())[1:])
    values: dict[str, Any] = {}
    if plain:
        bound.apply_defaults()
        for key, value in list(bound.arguments.items())[1:]:
            if signature.parameters[key].kind == inspect.Parameter.VAR_KEYWORD:
                values.update(value)
            else:
                values[key] = value
        values.pop("name", None)  # the base config has it
        plain = _is_plain(values)
    if plain and not any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
        values["_drop_base_keys"] = [k for k in ("name", "trainable", "dtype") if k not in signature.parameters]
    if not plain:
        raise NotImplementedError(
            f"{layer._describe()} has no get_config(), and its constructor received arguments that are not plain "
            "values (numbers, strings, lists or dicts of them), so its config cannot be written automatically. "
            "Write get_config(self) returning {**super().get_config(), 'units': self.units, ...} with the "
            "constructor's arguments.")
    return values


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False
