"""Numeric preprocessing layers with Keras's names and arguments: ``Rescaling`` and ``Normalization``.

``Normalization`` learns a mean and variance per position of its ``axis`` with ``adapt(data)`` (arrays, tensors or
an iterable of batches, combined exactly as Keras combines them) or takes them as ``mean=`` / ``variance=``. Adapted
statistics are the layer's non-trainable weights ``mean``, ``variance`` and ``count`` (Keras's three), so they are
saved and loaded with the model; given ones are constants in the config, as in Keras. Masks pass through.
Shape legend: B batch, T timesteps, F features.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch

from ._base import Layer, WeightSpec, describe_array

_EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


def _plain(value: Any) -> Any:
    """A number stays a number; an array or tensor becomes (nested) lists, which a config can hold."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class Rescaling(Layer):
    """``inputs * scale + offset``, e.g. ``Rescaling(1 / 255)``; ``scale`` and ``offset`` are numbers or arrays
    that broadcast against the inputs (one value per feature on the last axis). Integer inputs become floats."""

    supports_masking = True

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            try:
                array = np.asarray(_plain(value), dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"Rescaling: `{name}` must be a number or an array of numbers, received "
                                f"{name}={value!r}.") from None
            if not np.all(np.isfinite(array)):
                raise ValueError(f"Rescaling: `{name}` must be finite, received {name}={value!r}.")
        self.scale = _plain(scale)
        self.offset = _plain(offset)
        # constants on the layer's device, made once (a call copies nothing from the host, so it can be captured)
        self.register_buffer("_scale", torch.as_tensor(np.asarray(self.scale, dtype=np.float64), dtype=self._dtype),
                             persistent=False)
        self.register_buffer("_offset", torch.as_tensor(np.asarray(self.offset, dtype=np.float64),
                                                        dtype=self._dtype), persistent=False)
        self._maybe_build_from_input_shape()

    def _param_device(self) -> torch.device | None:
        return self._scale.device

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self._scale.to(inputs.dtype) + self._offset.to(inputs.dtype)

    def validate_input(self, inputs: torch.Tensor) -> None:
        for name in ("scale", "offset"):
            shape = np.shape(getattr(self, name))
            try:
                torch.broadcast_shapes(tuple(inputs.shape), shape)
            except RuntimeError:
                raise ValueError(f"{self._describe()} has a `{name}` of shape {shape}, which does not broadcast "
                                 f"against {describe_array(inputs)}. Give one value, or one per feature of the last "
                                 "axis.") from None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}

    def _summary_args(self) -> str:
        return f"scale={self.scale}, offset={self.offset}"


# ---------------------------------------------------------------------------------------------- Normalization
def _first_of(batch: Any) -> Any:
    """The inputs of a batch that may be (x, y) or (x, y, sample_weight), as Keras's adapt reads it."""
    return batch[0] if isinstance(batch, tuple) else batch


class Normalization(Layer):
    """``(inputs - mean) / max(sqrt(variance), 1e-7)``, or with ``invert=True`` ``mean + inputs * max(sqrt(variance),
    1e-7)``, with one mean and variance per position of ``axis`` (an int, a tuple, or None for one scalar pair).

    ``adapt(data)`` computes them from an array or tensor (its biased variance over every other axis) or from an
    iterable of batches (each batch's statistics merged into the running ones, weighted by counts, as Keras does).
    Before ``adapt`` and without ``mean=``, the layer uses mean 0 and variance 1.
    """

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] | None = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        elif isinstance(axis, (list, tuple)) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axis = tuple(axis)
        else:
            raise TypeError(f"Normalization: `axis` must be an int, a tuple of ints or None, received axis={axis!r}.")
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: pass both `mean` and `variance`, or neither (then call adapt(data)); "
                             f"received mean={mean!r} and variance={variance!r}.")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"Normalization: `mean` and `variance` must have one shape, received shapes "
                                 f"{np.shape(mean)} and {np.shape(variance)}.")
            if len(np.shape(mean)) > len(axis):
                raise ValueError(f"Normalization: `mean` of shape {np.shape(mean)} has more axes than `axis`={axis} "
                                 f"keeps ({len(axis)}). Give one value per position of the kept axes.")
            if np.any(np.asarray(variance, dtype=np.float64) < 0):
                raise ValueError(f"Normalization: `variance` must be >= 0, received variance={variance!r}.")
        if not isinstance(invert, bool):
            raise TypeError(f"Normalization: `invert` must be True or False, received invert={invert!r}.")
        self.axis = axis
        self.input_mean = _plain(mean)
        self.input_variance = _plain(variance)
        self.invert = invert
        self._maybe_build_from_input_shape()

    # ------------------------------------------------------------------ build
    def build(self, input_shape: tuple) -> None:
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f"{self._describe()} keeps axis={self.axis}, but its inputs have rank {ndim} (shape "
                             f"{tuple(input_shape)}). Pass axes between {-ndim} and {ndim - 1}.")
        self._keep = tuple(sorted(a % ndim for a in self.axis))
        unknown = [a for a in self._keep if input_shape[a] is None]
        if unknown:
            raise ValueError(f"{self._describe()} keeps axes {self._keep}, which need known sizes, but axis "
                             f"{unknown[0]} of shape {tuple(input_shape)} is unknown. Declare it in Input(shape=...).")
        self._ndim = ndim
        self._reduce = tuple(d for d in range(ndim) if d not in self._keep)
        self._sizes = tuple(input_shape[a] for a in self._keep)  # the shape of mean and variance
        self._broadcast = [input_shape[d] if d in self._keep else 1 for d in range(ndim)]
        if self.input_mean is None:
            self.register_buffer("mean", torch.zeros(self._sizes, dtype=self._dtype))
            self.register_buffer("variance", torch.ones(self._sizes, dtype=self._dtype))
            self.register_buffer("count", torch.zeros((), dtype=torch.int32))
        else:
            self.register_buffer("mean", self._given(self.input_mean), persistent=False)
            self.register_buffer("variance", self._given(self.input_variance), persistent=False)
        self.built = True

    def _given(self, value: Any) -> torch.Tensor:
        """A given mean or variance aligned with the kept axes from the right, as Keras aligns it."""
        array = torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=self._dtype)
        if array.ndim:
            expanded = [1] * len(self._keep)
            for i in range(1, array.ndim + 1):
                expanded[-i] = array.shape[-i]
            try:
                return array.reshape(expanded).expand(self._sizes).clone()
            except RuntimeError:
                pass
        else:
            return array.expand(self._sizes).clone()
        raise ValueError(f"{self._describe()} received mean/variance of shape {tuple(array.shape)}, which does not "
                         f"broadcast to the sizes {self._sizes} of the kept axes {self._keep}.")

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built or self.input_mean is not None:
            return
        for name in ("mean", "variance", "count"):
            yield WeightSpec(name=name, get=lambda name=name: getattr(self, name),
                             set=lambda value, name=name: getattr(self, name).copy_(value), trainable=False)

    def _param_device(self) -> torch.device | None:
        return self.mean.device if self.built else None

    # ------------------------------------------------------------------ adapt
    def adapt(self, data: Any) -> None:
        """Learn the mean and variance from ``data``: a numpy array, a tensor, or an iterable of batches (a list of
        arrays, a generator, a ``torch.utils.data.DataLoader``; ``(x, y)`` batches use x)."""
        if self.input_mean is not None:
            raise ValueError(f"{self._describe()} was given mean= and variance=, so there is nothing to adapt. Create "
                             "it without them to learn them from data.")
        batches: Iterable | None = None
        if isinstance(data, (np.ndarray, torch.Tensor)):
            first = data
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            iterator = iter(data)
            first = next(iterator, None)
            if first is None:
                raise ValueError(f"{self._describe()}.adapt() received an empty iterable. Pass at least one batch, "
                                 "e.g. layer.adapt([x]) or layer.adapt(x).")
            first = _first_of(first)
            if not hasattr(first, "shape"):
                raise TypeError(f"{self._describe()}.adapt() expects batches of arrays or tensors, but the first "
                                f"element is a {type(first).__name__}. Yield numpy arrays or tensors.")
            batches = itertools.chain([first], (_first_of(b) for b in iterator))
        else:
            raise TypeError(f"{self._describe()}.adapt() takes a numpy array, a tensor or an iterable of batches, "
                            f"received a {type(data).__name__}.")
        shape = tuple(first.shape)
        if not self.built:
            self._build_now(shape)
        self._check_adapt_shape(shape)
        if batches is None:
            mean, variance = self._moments_of_all(data)
        else:
            mean, variance = self._merged_moments(batches)
        with torch.no_grad():
            self.mean.copy_(mean.reshape(self._sizes))
            self.variance.copy_(variance.reshape(self._sizes))

    def _check_adapt_shape(self, shape: tuple) -> None:
        if len(shape) != self._ndim or any(shape[a] != self._broadcast[a] for a in self._keep):
            expected = {a: self._broadcast[a] for a in self._keep}
            raise ValueError(f"{self._describe()} was built for inputs of rank {self._ndim} with sizes {expected} on "
                             f"the kept axes, but adapt() received data of shape {shape}.")

    def _moments_of_all(self, data: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(data, np.ndarray):  # numpy's mean and var in the data's precision, as Keras
            return (torch.as_tensor(np.asarray(np.mean(data, axis=self._reduce))),
                    torch.as_tensor(np.asarray(np.var(data, axis=self._reduce))))
        x = data.detach()
        x = x if x.is_floating_point() else x.to(self.compute_dtype)
        variance, mean = torch.var_mean(x, dim=self._reduce, correction=0)
        return mean, variance

    def _merged_moments(self, batches: Iterable) -> tuple[torch.Tensor, torch.Tensor]:
        """Keras's running merge: each batch's mean and variance joined to the totals by the lack-of-fit sum of
        squares, weighted by the entries counted so far."""
        total_mean = torch.zeros(self._sizes, dtype=self.compute_dtype)
        total_var = torch.zeros(self._sizes, dtype=self.compute_dtype)
        total_count = 0
        for batch in batches:
            x = torch.as_tensor(batch.detach().cpu() if isinstance(batch, torch.Tensor) else np.asarray(batch),
                                dtype=self.compute_dtype)
            self._check_adapt_shape(tuple(x.shape))
            batch_var, batch_mean = torch.var_mean(x, dim=self._reduce, correction=0)
            count = math.prod(x.shape[d] for d in self._reduce) if self._reduce else 1
            total_count += count
            batch_weight = float(count) / total_count
            existing_weight = 1.0 - batch_weight
            new_mean = total_mean * existing_weight + batch_mean * batch_weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * existing_weight
                         + (batch_var + (batch_mean - new_mean) ** 2) * batch_weight)
            total_mean = new_mean
        return total_mean, total_var

    # ------------------------------------------------------------------ call
    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != self._ndim or any(inputs.shape[a] != self._broadcast[a] for a in self._keep):
            expected = {a: self._broadcast[a] for a in self._keep}
            raise ValueError(f"{self._describe()} was built for inputs of rank {self._ndim} with sizes {expected} on "
                             f"the kept axes, but received {describe_array(inputs)}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        mean = self.mean.to(inputs.dtype).reshape(self._broadcast)
        std = torch.clamp(torch.sqrt(self.variance.to(inputs.dtype)), min=_EPSILON).reshape(self._broadcast)
        return mean + inputs * std if self.invert else (inputs - mean) / std

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert, "mean": self.input_mean,
                "variance": self.input_variance}

    def _summary_args(self) -> str:
        return f"axis={self.axis}" + (", invert=True" if self.invert else "")
