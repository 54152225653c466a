"""Core layers with Keras's names, arguments and defaults.

``Dense``, ``Dropout``, ``Embedding``, ``Masking``, ``RepeatVector``, ``InputLayer`` / ``Input``, the small
shape layers ``Flatten``, ``Activation``, ``Reshape``, ``Lambda``, the pass-through layers ``Identity`` and
``ActivityRegularization``, and Keras's ``layers.serialize`` / ``layers.deserialize``. The merge layers live in ``_merge.py``
(``Add`` and ``Concatenate`` are re-exported here for the modules that import them from this one).
Weights are stored in Keras's layout (a ``Dense`` kernel is ``(in, out)``), so ``get_weights``/``set_weights``
need no translation. Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .. import activations as _activations
from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..saving import _registry
from ..utils._arrays import string_array
from ._base import Layer, WeightSpec, describe_array
from ._merge import Add, Concatenate  # noqa: F401 - re-exported: their home is _merge.py
from ._symbolic import Node, SymbolicTensor

def _new_weight(initializer: Callable, shape: tuple[int, ...], dtype: torch.dtype) -> nn.Parameter:
    """A parameter initialized like Keras: the initializer sees the Keras-layout shape."""
    value = torch.as_tensor(initializer(shape, dtype=dtype), dtype=dtype)
    if tuple(value.shape) != shape:
        raise ValueError(f"The initializer {initializer!r} returned shape {tuple(value.shape)}, expected {shape}.")
    return nn.Parameter(value.clone())


def _param_spec(layer: Layer, attr: str, regularizer: Any = None, constraint: Any = None) -> WeightSpec:
    """A ``WeightSpec`` for a parameter stored in Keras's layout under ``layer.<attr>``."""
    return WeightSpec(
        name=attr,
        get=lambda: getattr(layer, attr),
        set=lambda value: getattr(layer, attr).copy_(value),
        regularizer=regularizer,
        constraint=constraint,
    )


def _check_positive_int(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{layer}: `{name}` must be a positive integer, received {name}={value!r}.")
    return value


# ---------------------------------------------------------------------------------------------------- Dense
class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis of inputs of any rank >= 2.

    Weights (Keras layout): ``kernel`` (F, H), ``bias`` (H,). Input (B, ..., F) -> output (B, ..., H).
    """

    supports_masking = True

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _check_positive_int("Dense", "units", units)
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self.kernel_constraint = _constraints.get(kernel_constraint)
        self.bias_constraint = _constraints.get(bias_constraint)
        self._maybe_build_from_input_shape()

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"{self._describe()} needs inputs of shape (batch, ..., features) with a known number of features, "
                f"but was built for shape {tuple(input_shape)}. Pass input_shape=(features,)."
            )
        self.kernel = _new_weight(self.kernel_initializer, (input_shape[-1], self.units), self._dtype)
        self.bias = _new_weight(self.bias_initializer, (self.units,), self._dtype) if self.use_bias else None
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return
        yield _param_spec(self, "kernel", self.kernel_regularizer, self.kernel_constraint)
        if self.use_bias:
            yield _param_spec(self, "bias", self.bias_regularizer, self.bias_constraint)

    def validate_input(self, inputs: torch.Tensor) -> None:
        features = self.kernel.shape[0]
        if inputs.ndim < 2:
            raise ValueError(
                f"{self._describe()} expects input of shape (batch, ..., features) with features={features}, "
                f"but received {describe_array(inputs)}. If this is one sample, add a batch axis: x[None, :]."
            )
        if inputs.shape[-1] != features:
            raise ValueError(
                f"{self._describe()} expects input of shape (batch, ..., features) with features={features}, "
                f"but received {describe_array(inputs)} with features={inputs.shape[-1]}. A Dense layer keeps the "
                f"feature size it was built with: pass inputs with {features} features, or use a new Dense layer "
                f"for {inputs.shape[-1]}."
            )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # (B, ..., F) -> (B, ..., H)
        return self.activation(F.linear(inputs, self.kernel.t(), self.bias))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "bias_initializer": _initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": _constraints.serialize(self.kernel_constraint),
            "bias_constraint": _constraints.serialize(self.bias_constraint),
        }

    def _summary_args(self) -> str:
        activation = _activations.serialize(self.activation)
        shown = "" if activation == "linear" else f", activation={activation!r}"
        return f"units={self.units}{shown}"


# ---------------------------------------------------------------------------------------------------- Dropout
class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs and scales the rest by ``1 / (1 - rate)``, only when training.

    ``training=None`` follows ``layer.training`` (False until ``layer.train()`` or ``fit``).
    ``noise_shape`` broadcasts one keep/drop decision, e.g. ``(B, 1, F)`` for the same mask at every timestep.
    With ``seed``, the sequence of masks is reproducible (a private ``torch.Generator``).
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None, seed: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Dropout: `rate` must be a number between 0 and 1, received rate={rate!r}.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"Dropout: `seed` must be an int or None, received seed={seed!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        if self.noise_shape is not None and any(d is not None and (not isinstance(d, int) or d <= 0)
                                                for d in self.noise_shape):
            raise ValueError(
                f"Dropout: `noise_shape` must hold positive integers or None, received {self.noise_shape}."
            )
        self.seed = seed
        self._generators: dict[torch.device, torch.Generator] = {}
        self._maybe_build_from_input_shape()

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[device]

    def validate_input(self, inputs: torch.Tensor) -> None:
        if self.noise_shape is not None and len(self.noise_shape) != inputs.ndim:
            raise ValueError(
                f"{self._describe()} has noise_shape={self.noise_shape} of rank {len(self.noise_shape)}, "
                f"but received {describe_array(inputs)}. Give noise_shape one entry per input axis "
                "(None copies the input's size)."
            )

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if training is None:
            training = self.training
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        if self.seed is None and self.noise_shape is None:
            return F.dropout(inputs, p=self.rate, training=True)
        shape = inputs.shape if self.noise_shape is None else tuple(
            n if d is None else d for d, n in zip(self.noise_shape, inputs.shape))
        keep_prob = 1.0 - self.rate
        keep = torch.empty(shape, device=inputs.device).bernoulli_(keep_prob, generator=self._generator(inputs.device))
        return torch.where(keep.bool(), inputs / keep_prob, torch.zeros((), dtype=inputs.dtype, device=inputs.device))

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}

    def capture_blocker(self) -> str | None:
        if self.seed is None:
            return None  # torch's own generator, which a captured graph advances itself
        return f"layer '{self.name}' ({type(self).__name__}) draws dropout masks from its own seeded generator"

    def _summary_args(self) -> str:
        return f"rate={self.rate}"


# ---------------------------------------------------------------------------------------------------- Embedding
class Embedding(Layer):
    """Looks up rows of ``embeddings`` (input_dim, output_dim): integer ids (B, T) -> vectors (B, T, output_dim).

    With ``mask_zero=True`` id 0 is padding: the output carries the mask ``inputs != 0`` for later layers.
    ``input_length`` (Keras 2) is accepted and read as ``input_shape=(input_length,)``.
    """

    _integer_inputs = True

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None, mask_zero: bool = False,
                 weights: Any = None, input_length: int | None = None, **kwargs: Any):
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim = _check_positive_int("Embedding", "input_dim", input_dim)
        self.output_dim = _check_positive_int("Embedding", "output_dim", output_dim)
        self.embeddings_initializer = _initializers.get(embeddings_initializer)
        self.embeddings_regularizer = _regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = _constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self._maybe_build_from_input_shape()
        if weights is not None:
            if not self.built:
                self._build_now(None)
            self.set_weights(weights if isinstance(weights, list) else [weights])

    def build(self, input_shape: Any) -> None:
        self.embeddings = _new_weight(self.embeddings_initializer, (self.input_dim, self.output_dim), self._dtype)
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if self.built:
            yield _param_spec(self, "embeddings", self.embeddings_regularizer, self.embeddings_constraint)

    def validate_input(self, inputs: torch.Tensor) -> None:
        ids = inputs if not inputs.is_floating_point() else inputs.long()
        bad = (ids < 0) | (ids >= self.input_dim)
        if not bool(bad.any()):
            return
        positions = bad.nonzero()
        first = tuple(int(i) for i in positions[0])
        index = int(ids[first])
        largest = int(ids.max())
        fix = (f"Increase input_dim to at least {largest + 1} (the largest index + 1)" if index >= 0
               else "Indices must be >= 0")
        raise ValueError(
            f"{self._describe()} received index {index} at position {first} of {describe_array(inputs)} "
            f"({len(positions)} out-of-range entr{'y' if len(positions) == 1 else 'ies'} in all), but "
            f"input_dim={self.input_dim} allows indices 0 to {self.input_dim - 1}. {fix}, "
            "or map unknown tokens to a reserved id."
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, output_dim)
        return F.embedding(inputs.long(), self.embeddings)

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor | None:
        return inputs != 0 if self.mask_zero else None

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": _regularizers.serialize(self.embeddings_regularizer),
            "embeddings_constraint": _constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }

    def capture_blocker(self) -> str | None:
        if self.mask_zero:
            return f"layer '{self.name}' ({type(self).__name__}) makes a mask (mask layouts are analysed on the host)"
        return f"layer '{self.name}' ({type(self).__name__}) checks its indices on the host every batch"

    def _summary_args(self) -> str:
        return f"input_dim={self.input_dim}, output_dim={self.output_dim}" + (", mask_zero=True" if self.mask_zero
                                                                              else "")


# ---------------------------------------------------------------------------------------------------- Masking
class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value`` and sets those timesteps to 0.

    Input (B, T, F) -> output (B, T, F) with mask (B, T) = any(inputs != mask_value, axis=-1).
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self._maybe_build_from_input_shape()

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        return torch.any(inputs != self.mask_value, dim=-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        keep = self.compute_mask(inputs)[..., None]  # (B, T, 1)
        return torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}

    def capture_blocker(self) -> str | None:
        return f"layer '{self.name}' ({type(self).__name__}) makes a mask (mask layouts are analysed on the host)"

    def _summary_args(self) -> str:
        return f"mask_value={self.mask_value}"


# ---------------------------------------------------------------------------------------------------- RepeatVector
class RepeatVector(Layer):
    """Repeats a vector ``n`` times along a new time axis: (B, F) -> (B, n, F)."""

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.n = _check_positive_int("RepeatVector", "n", n)
        self._maybe_build_from_input_shape()

    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != 2:
            hint = (" To repeat the last step of a sequence, select it first: x[:, -1, :]." if inputs.ndim == 3
                    else "")
            raise ValueError(
                f"{self._describe()} expects input of shape (batch, features), but received "
                f"{describe_array(inputs)}.{hint}"
            )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, n, F)
        return inputs[:, None, :].repeat(1, self.n, 1)

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}

    def _summary_args(self) -> str:
        return f"n={self.n}"


# ---------------------------------------------------------------------------------------------------- Input
_INPUT_DTYPES = {
    "int8": torch.int8, "uint8": torch.uint8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "bool": torch.bool, "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64,
}


class InputLayer(Layer):
    """The entry point of a functional graph: ``layer.output`` is a placeholder of shape ``batch_shape``.

    Called on real arrays it passes them through, after checking them against ``batch_shape``.
    """

    _integer_inputs = True

    def __init__(self, shape: Sequence[int | None] | None = None, batch_size: int | None = None,
                 dtype: str | torch.dtype | None = None, sparse: bool | None = None, ragged: bool | None = None,
                 batch_shape: Sequence[int | None] | None = None, name: str | None = None,
                 input_shape: Sequence[int | None] | None = None,
                 batch_input_shape: Sequence[int | None] | None = None):
        shape = input_shape if shape is None else shape  # Keras 2 spellings
        batch_shape = batch_input_shape if batch_shape is None else batch_shape
        if sparse or ragged:
            raise ValueError("InputLayer: sparse and ragged inputs are not supported; pad sequences to one length "
                             "and use a mask (Masking or Embedding(mask_zero=True)).")
        if shape is not None and batch_shape is not None:
            raise ValueError("InputLayer: pass either `shape` or `batch_shape`, not both.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError("InputLayer: pass either `batch_size` or `batch_shape`, not both.")
        if shape is None and batch_shape is None:
            raise ValueError("InputLayer: pass `shape`, the shape of one sample, e.g. shape=(timesteps, features).")
        if shape is not None:
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        input_dtype = _INPUT_DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype
        is_float = input_dtype is None or (isinstance(input_dtype, torch.dtype) and input_dtype.is_floating_point)
        super().__init__(name=name, dtype=input_dtype if is_float else None)
        # "string": numpy arrays of str, for a TextVectorization or StringLookup that comes next (torch has no
        # string tensors, so the placeholder's dtype is the name).
        self._input_dtype = self._dtype if is_float else input_dtype
        if not isinstance(self._input_dtype, torch.dtype) and self._input_dtype != "string":
            raise ValueError(f"InputLayer: unsupported dtype {dtype!r}; expected 'string' or one of "
                             f"{', '.join(_INPUT_DTYPES)}.")
        self._batch_input_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.built = True
        node = Node(self, (), {})
        node.outputs = [SymbolicTensor(self._batch_input_shape, self._input_dtype, node, 0, name=self.name)]
        self._inbound_nodes = [node]  # ``layer.output`` (and ``layer.input``) is this placeholder

    @property
    def batch_shape(self) -> tuple:
        return self._batch_input_shape

    @property
    def dtype(self) -> str:
        return str(self._input_dtype).replace("torch.", "")

    def validate_input(self, inputs: torch.Tensor) -> None:
        expected = self._batch_input_shape
        received = tuple(inputs.shape)
        if len(received) != len(expected) or any(e is not None and e != r for e, r in zip(expected, received)):
            raise ValueError(
                f"{self._describe()} expects input of shape {expected} (None: any size), but received "
                f"{describe_array(inputs)}. Reshape the data, or declare Input(shape={received[1:]})."
            )

    def _convert_inputs(self, x: Any) -> Any:
        text = string_array(x)
        return text if text is not None else super()._convert_inputs(x)  # strings go on to the text layers

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self._batch_input_shape

    def get_config(self) -> dict[str, Any]:
        return {"batch_shape": list(self._batch_input_shape), "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name}

    def _summary_args(self) -> str:
        return f"batch_shape={self._batch_input_shape}"


def Input(shape: Sequence[int | None] | None = None, batch_size: int | None = None,
          dtype: str | torch.dtype | None = None, sparse: bool | None = None, batch_shape: Sequence | None = None,
          name: str | None = None) -> SymbolicTensor:
    """A placeholder for the functional API: ``Input(shape=(timesteps, features))`` -> (None, T, F)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       name=name)
    return layer.output


# ---------------------------------------------------------------------------------------------------- shape layers
class Flatten(Layer):
    """(B, d1, d2, ...) -> (B, d1 * d2 * ...). ``data_format='channels_first'`` moves axis 1 last first."""

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"Flatten: data_format must be 'channels_last' or 'channels_first', "
                             f"received {data_format!r}.")
        self.data_format = data_format or "channels_last"
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Activation(Layer):
    """Applies an activation given by Keras name or callable; masks pass through."""

    supports_masking = True

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": _activations.serialize(self.activation)}

    def _summary_args(self) -> str:
        return f"activation={_activations.serialize(self.activation)!r}"


class Reshape(Layer):
    """(B, ...) -> (B, *target_shape); one entry of ``target_shape`` may be -1."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d == 0 or d < -1 for d in self.target_shape):
            raise ValueError(f"Reshape: target_shape holds positive sizes and at most one -1, received "
                             f"{self.target_shape}.")
        self._maybe_build_from_input_shape()

    def validate_input(self, inputs: torch.Tensor) -> None:
        size = math.prod(inputs.shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        ok = size % known == 0 if -1 in self.target_shape else size == known
        if not ok:
            raise ValueError(f"{self._describe()} cannot reshape {describe_array(inputs)} ({size} values per "
                             f"sample) to {self.target_shape}. The number of values per sample must not change.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            return (input_shape[0],) + self.target_shape
        if any(d is None for d in rest):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        return (input_shape[0],) + tuple(math.prod(rest) // known if d == -1 else d for d in self.target_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}

    def _summary_args(self) -> str:
        return f"target_shape={self.target_shape}"


class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` as a layer.

    ``output_shape`` (without the batch axis, or a callable on the full input shape) is used for symbolic
    calls; without it the function is traced once on zeros, with unknown sizes taken as 1.
    A function registered with ``gated.saving.register_serializable()`` is saved by name, so the layer loads from a
    file; any other function stays in ``get_config`` as the object itself, which round-trips in one process only.
    """

    def __init__(self, function: Callable, output_shape: Any = None, mask: Any = None,
                 arguments: dict | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, received {function!r}.")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        self.arguments = dict(arguments or {})

    def forward(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = input_shape[0] if isinstance(input_shape, tuple) else input_shape[0][0]
        if self._output_shape is not None:
            return (batch,) + tuple(self._output_shape)
        with torch.no_grad():
            probe = torch.zeros(tuple(1 if d is None else d for d in input_shape), dtype=self.compute_dtype)
            out = self.function(probe, **self.arguments)
        return (batch,) + tuple(out.shape[1:])

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "function": _by_name(self.function), "arguments": dict(self.arguments)}
        if self._output_shape is not None:
            config["output_shape"] = _by_name(self._output_shape)
        if self.mask is not None:
            config["mask"] = _by_name(self.mask)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Lambda":
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            if _registry.is_serialized(config.get(key)):
                config[key] = _registry.deserialize(config[key])
        return cls(**config)

    def _summary_args(self) -> str:
        return f"function={getattr(self.function, '__name__', type(self.function).__name__)}"


# ---------------------------------------------------------------------------------------------------- pass-through
class Identity(Layer):
    """Returns its input unchanged (a placeholder in a model); masks pass through."""

    supports_masking = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: Any) -> Any:
        return inputs

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype


class ActivityRegularization(Layer):
    """Returns its input unchanged and adds ``l1 * sum(|x|) + l2 * sum(x²)``, divided by the batch size, to the
    model's losses (Keras's activity regularization); masks pass through."""

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any):
        for key, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"ActivityRegularization: `{key}` must be a number >= 0, received {key}={value!r}.")
        kwargs.pop("activity_regularizer", None)  # a saved config of an older format may carry it
        super().__init__(activity_regularizer=_regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "l1": self.l1, "l2": self.l2}
        config.pop("activity_regularizer", None)
        return config

    def _summary_args(self) -> str:
        return f"l1={self.l1}, l2={self.l2}"


# ---------------------------------------------------------------------------------------------------- serialization
def serialize(layer: Layer) -> dict[str, Any]:
    """A layer's ``{"class_name": ..., "config": ...}`` (Keras's ``layers.serialize``), through gated's registry."""
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize() takes a layer, received {type(layer).__name__} {layer!r}. For losses, "
                        "optimizers and other objects use gated.saving.serialize().")
    return _registry.serialize(layer)


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Layer:
    """The layer ``serialize`` described (Keras's ``layers.deserialize``); ``custom_objects`` maps class names to
    the user's classes."""
    layer = _registry.deserialize(config, custom_objects)
    if not isinstance(layer, Layer):
        raise ValueError(f"layers.deserialize() was passed a config that does not describe a layer: it gave "
                         f"{type(layer).__name__}, from {config!r}. Use gated.saving.deserialize() for other "
                         "objects.")
    return layer


def _by_name(value: Any) -> Any:
    """A registered function in its serialized form (saved by name); anything else as it is."""
    return _registry.serialize(value) if inspect.isroutine(value) and _registry.loads_by_name(value) else value
