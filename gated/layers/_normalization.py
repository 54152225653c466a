"""Normalization layers with Keras's names, arguments, defaults and weights: ``BatchNormalization``,
``LayerNormalization``, ``GroupNormalization``, ``UnitNormalization``, ``RMSNormalization``.

Weights are stored in Keras's layout and order (``gamma``, ``beta``, then BatchNormalization's non-trainable
``moving_mean`` and ``moving_variance``), so ``get_weights``/``set_weights`` need no translation. The moving statistics
are torch buffers (no gradient, never seen by the optimizer) updated in place by a training call, so a captured CUDA
graph of a training step keeps updating the same storage on every replay.
Shape legend: B batch, T timesteps, F features (the normalized axis), G groups.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import torch
from torch import nn

from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ._base import Layer, WeightSpec, describe_array
from ._core import _new_weight, _param_spec

_MASK_EPSILON = 1e-7  # Keras's backend.epsilon(), added to the count of unmasked entries


def _check_flag(layer: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{layer}: `{name}` must be True or False, received {name}={value!r}.")
    return value


def _check_epsilon(layer: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{layer}: `epsilon` must be a number >= 0, received epsilon={value!r}.")
    return float(value)


def _positive_axis(layer: Layer, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"{layer._describe()} normalizes axis {axis}, which does not exist in inputs of rank {ndim}. "
                         f"Pass an axis between {-ndim} and {ndim - 1}.")
    return axis % ndim


_STATE = ("moving_mean", "moving_variance")
_RENORM_STATE = ("moving_stddev", "renorm_mean", "renorm_stddev")
_CLIPPING_KEYS = ("rmax", "rmin", "dmax")


def _check_clipping(clipping: Any) -> dict[str, float]:
    clipping = {} if clipping is None else clipping
    if not isinstance(clipping, dict) or set(clipping) - set(_CLIPPING_KEYS):
        raise ValueError(f"BatchNormalization: `renorm_clipping` takes a dict with the keys {list(_CLIPPING_KEYS)}, "
                         f"received renorm_clipping={clipping!r}.")
    rmax, rmin, dmax = (clipping.get(k) for k in _CLIPPING_KEYS)
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError(f"BatchNormalization: renorm_clipping needs rmax >= rmin, received rmax={rmax}, rmin={rmin}.")
    if dmax is not None and dmax < 0:
        raise ValueError(f"BatchNormalization: renorm_clipping needs dmax >= 0, received dmax={dmax}.")
    return dict(clipping)


def _upcast(x: torch.Tensor) -> torch.Tensor:
    """Half-precision inputs are normalized in float32, as Keras does (statistics overflow in float16)."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


class _AffineWeights:
    """``gamma`` / ``beta`` arguments and weights, shared by the three normalizations."""

    def _init_affine(self, center: bool, scale: bool, beta_initializer: Any, gamma_initializer: Any,
                     beta_regularizer: Any, gamma_regularizer: Any, beta_constraint: Any,
                     gamma_constraint: Any) -> None:
        name = type(self).__name__
        self.center = _check_flag(name, "center", center)
        self.scale = _check_flag(name, "scale", scale)
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        self.beta_constraint = _constraints.get(beta_constraint)
        self.gamma_constraint = _constraints.get(gamma_constraint)
        self.gamma: nn.Parameter | None = None
        self.beta: nn.Parameter | None = None

    def _build_affine(self, shape: tuple[int, ...], with_gamma: bool, with_beta: bool) -> None:
        self.gamma = _new_weight(self.gamma_initializer, shape, self._dtype) if with_gamma else None
        self.beta = _new_weight(self.beta_initializer, shape, self._dtype) if with_beta else None

    def _affine_specs(self) -> Iterator[WeightSpec]:
        if self.gamma is not None:
            yield _param_spec(self, "gamma", self.gamma_regularizer, self.gamma_constraint)
        if self.beta is not None:
            yield _param_spec(self, "beta", self.beta_regularizer, self.beta_constraint)

    def _affine_config(self) -> dict[str, Any]:
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _initializers.serialize(self.beta_initializer),
            "gamma_initializer": _initializers.serialize(self.gamma_initializer),
            "beta_regularizer": _regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": _regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": _constraints.serialize(self.beta_constraint),
            "gamma_constraint": _constraints.serialize(self.gamma_constraint),
        }


# ---------------------------------------------------------------------------------------------- BatchNormalization
class BatchNormalization(_AffineWeights, Layer):
    """Normalizes each feature on ``axis`` with batch statistics when training, moving statistics otherwise.

    Training call (``training=True``, or inside ``fit``, and ``layer.trainable``): the biased mean and variance over
    every axis but ``axis`` normalize the batch, and
    ``moving = moving * momentum + batch_statistic * (1 - momentum)`` updates ``moving_mean`` / ``moving_variance``.
    With a mask (B, T) the masked steps are left out of the batch statistics (sums over unmasked entries divided by
    their count + 1e-7, as Keras). Inference (and ``trainable=False``, as in Keras): the moving statistics.
    Output ``gamma * (x - mean) / sqrt(variance + epsilon) + beta``; the mask passes through.
    Weights (Keras order): ``gamma`` (F,), ``beta`` (F,), ``moving_mean`` (F,), ``moving_variance`` (F,), the last two
    non-trainable; with ``renorm=True`` (batch renormalization, as Keras) also the non-trainable ``moving_stddev``,
    ``renorm_mean`` and ``renorm_stddev``.
    """

    supports_masking = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, renorm: bool = False, renorm_clipping: dict | None = None,
                 renorm_momentum: float = 0.99, synchronized: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"BatchNormalization: `axis` must be one integer (the features axis), received "
                            f"axis={axis!r}. To normalize over several axes per sample use LayerNormalization.")
        if synchronized:
            raise ValueError("BatchNormalization: synchronized=True is only supported by Keras's TensorFlow backend. "
                             "Use synchronized=False.")
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization: `momentum` must be a number between 0 and 1, received "
                             f"momentum={momentum!r}.")
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = _check_epsilon("BatchNormalization", epsilon)
        self._init_affine(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                          beta_constraint, gamma_constraint)
        self.moving_mean_initializer = _initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = _initializers.get(moving_variance_initializer)
        self.renorm = _check_flag("BatchNormalization", "renorm", renorm)
        self.renorm_clipping = _check_clipping(renorm_clipping) if renorm else renorm_clipping
        self.renorm_momentum = float(renorm_momentum)
        self.synchronized = False
        self._maybe_build_from_input_shape()

    def build(self, input_shape: tuple) -> None:
        ndim = len(input_shape)
        axis = _positive_axis(self, self.axis, ndim)
        features = input_shape[axis]
        if features is None:
            raise ValueError(f"{self._describe()} needs a known size on axis {self.axis}, but was built for shape "
                             f"{tuple(input_shape)}. Declare it in Input(shape=...).")
        self._ndim, self._features = ndim, features
        self._reduction_axes = [d for d in range(ndim) if d != axis]
        self._broadcast = [features if d == axis else 1 for d in range(ndim)]
        self._build_affine((features,), self.scale, self.center)
        for name, init in (("moving_mean", self.moving_mean_initializer),
                           ("moving_variance", self.moving_variance_initializer)):
            self.register_buffer(name, _new_weight(init, (features,), self._dtype).detach())
        if self.renorm:  # Keras's extra state: the inference stddev and the renorm moving mean and stddev
            stddev = torch.sqrt(_new_weight(self.moving_variance_initializer, (features,), self._dtype).detach())
            self.register_buffer("moving_stddev", stddev)
            self.register_buffer("renorm_mean", _new_weight(self.moving_mean_initializer, (features,),
                                                            self._dtype).detach())
            self.register_buffer("renorm_stddev", stddev.clone())
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return
        yield from self._affine_specs()
        for name in _STATE + (_RENORM_STATE if self.renorm else ()):
            yield WeightSpec(name=name, get=lambda name=name: getattr(self, name),
                             set=lambda value, name=name: getattr(self, name).copy_(value), trainable=False)

    @property
    def compute_dtype(self) -> torch.dtype:
        return self.moving_mean.dtype if self.built else self._dtype

    def _param_device(self) -> torch.device | None:
        return self.moving_mean.device if self.built else None

    def validate_input(self, inputs: torch.Tensor) -> None:
        axis = self.axis % self._ndim
        if inputs.ndim != self._ndim or inputs.shape[axis] != self._features:
            raise ValueError(
                f"{self._describe()} was built for inputs of rank {self._ndim} with {self._features} features on axis "
                f"{self.axis}, but received {describe_array(inputs)}. Pass inputs of that layout, or use a new "
                "BatchNormalization layer."
            )

    def forward(self, inputs: torch.Tensor, training: bool | None = None, mask: Any = None) -> torch.Tensor:
        if training is None:
            training = self.training
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError(f"{self._describe()} takes a mask with one axis fewer than its inputs (e.g. (B, T) for "
                             f"(B, T, F)), but received a mask of shape {tuple(mask.shape)} for "
                             f"{describe_array(inputs)}.")
        x = _upcast(inputs)
        gamma = None if self.gamma is None else self.gamma.to(x.dtype)
        beta = None if self.beta is None else self.beta.to(x.dtype)
        if training and self.trainable and self.renorm:
            mean, variance = self._moments(x, mask)
            gamma, beta = self._renormalize(mean, variance, gamma, beta)
        elif training and self.trainable:
            mean, variance = self._moments(x, mask)  # (F,)
            with torch.no_grad():  # in place: the same storage every call (and every replay of a captured step)
                self.moving_mean.copy_(self.moving_mean * self.momentum + mean.detach() * (1.0 - self.momentum))
                self.moving_variance.copy_(self.moving_variance * self.momentum
                                           + variance.detach() * (1.0 - self.momentum))
        else:
            mean, variance = self.moving_mean.to(x.dtype), self.moving_variance.to(x.dtype)
        inv = torch.rsqrt(variance + self.epsilon)
        if gamma is not None:
            inv = inv * gamma
        out = (x - mean.reshape(self._broadcast)) * inv.reshape(self._broadcast)
        if beta is not None:
            out = out + beta.reshape(self._broadcast)
        return out.to(inputs.dtype)

    def _renormalize(self, mean: torch.Tensor, variance: torch.Tensor, gamma: torch.Tensor | None,
                     beta: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch renormalization (Ioffe, 2017) as Keras: the corrections r = stddev / renorm_stddev and
        d = (mean - renorm_mean) / renorm_stddev (clipped, no gradient) fold into gamma and beta; then the renorm
        and moving statistics move towards the batch's, ``moving_variance = relu(moving_stddev ** 2 - epsilon)``."""
        stddev = torch.sqrt(variance + self.epsilon)
        with torch.no_grad():
            renorm_stddev = torch.clamp(self.renorm_stddev.to(mean.dtype), min=math.sqrt(self.epsilon))
            r = stddev.detach() / renorm_stddev
            d = (mean.detach() - self.renorm_mean.to(mean.dtype)) / renorm_stddev
            clip = self.renorm_clipping
            if clip.get("rmin") is not None:
                r = torch.clamp(r, min=clip["rmin"])
            if clip.get("rmax") is not None:
                r = torch.clamp(r, max=clip["rmax"])
            if clip.get("dmax") is not None:
                d = torch.clamp(d, -clip["dmax"], clip["dmax"])
            new_stddev = self.moving_stddev * self.momentum + stddev.detach() * (1.0 - self.momentum)
            self.renorm_mean.copy_(self.renorm_mean * self.renorm_momentum
                                   + mean.detach() * (1.0 - self.renorm_momentum))
            self.renorm_stddev.copy_(self.renorm_stddev * self.renorm_momentum
                                     + stddev.detach() * (1.0 - self.renorm_momentum))
            self.moving_mean.copy_(self.moving_mean * self.momentum + mean.detach() * (1.0 - self.momentum))
            self.moving_stddev.copy_(new_stddev)
            self.moving_variance.copy_(torch.relu(new_stddev * new_stddev - self.epsilon))
        effective_gamma = r if gamma is None else r * gamma
        effective_beta = d if gamma is None else d * gamma
        return effective_gamma, effective_beta if beta is None else effective_beta + beta

    def _moments(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The biased batch mean and variance per feature, (F,), over the unmasked entries when a mask is given."""
        if mask is None:
            variance, mean = torch.var_mean(x, dim=self._reduction_axes, correction=0)
            return mean, variance
        keep = mask.bool()[..., None].expand(x.shape)  # (B, T, F)
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        count = keep.to(x.dtype).sum(self._reduction_axes, keepdim=True) + _MASK_EPSILON
        mean = torch.where(keep, x, zero).sum(self._reduction_axes, keepdim=True) / count
        variance = torch.where(keep, x - mean, zero).square().sum(self._reduction_axes, keepdim=True) / count
        return mean.reshape(-1), variance.reshape(-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _positive_axis(self, self.axis, len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            **self._affine_config(),
            "moving_mean_initializer": _initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": _initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }

    def _summary_args(self) -> str:
        return f"axis={self.axis}, momentum={self.momentum}"


# ---------------------------------------------------------------------------------------------- LayerNormalization
class LayerNormalization(_AffineWeights, Layer):
    """Normalizes each sample over ``axis`` (an int or a list):
    ``gamma * (x - mean) / sqrt(variance + epsilon) + beta``.

    Weights ``gamma`` and ``beta`` have the sizes of the normalized axes, in the order of ``sorted(axis)`` (Keras
    stores the sorted list as ``axis`` once built). ``rms_scaling=True`` is Keras's: ``x / sqrt(variance + epsilon) *
    gamma`` without centering or ``beta``. The mask passes through.
    """

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                 rms_scaling: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and axis and all(isinstance(a, int) and not isinstance(a, bool)
                                                            for a in axis):
            self.axis: int | list[int] = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"LayerNormalization: `axis` must be an int or a non-empty list of ints, received "
                            f"axis={axis!r}.")
        self.epsilon = _check_epsilon("LayerNormalization", epsilon)
        self.rms_scaling = _check_flag("LayerNormalization", "rms_scaling", rms_scaling)
        self._init_affine(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                          beta_constraint, gamma_constraint)
        self._maybe_build_from_input_shape()

    def build(self, input_shape: tuple) -> None:
        ndim = len(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        positive = [_positive_axis(self, a, ndim) for a in axes]
        if len(set(positive)) != len(positive):
            raise ValueError(f"{self._describe()} received axis={self.axis}, which names one axis twice for inputs "
                             f"of rank {ndim}.")
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"{self._describe()} needs known sizes on the normalized axes {axes}, but was built for "
                             f"shape {tuple(input_shape)}. Declare them in Input(shape=...).")
        self.axis = axes
        self._ndim, self._axes, self._sizes = ndim, positive, shape
        self._broadcast = [input_shape[d] if d in positive else 1 for d in range(ndim)]
        self._build_affine(shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling)
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        return self._affine_specs() if self.built else iter(())

    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != self._ndim or tuple(inputs.shape[a] for a in self._axes) != tuple(
                self._broadcast[a] for a in self._axes):
            sizes = {a: self._broadcast[a] for a in self._axes}
            raise ValueError(f"{self._describe()} was built for inputs of rank {self._ndim} with sizes {sizes} on the "
                             f"normalized axes, but received {describe_array(inputs)}. Pass inputs of that layout, or "
                             "use a new LayerNormalization layer.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = _upcast(inputs)
        variance, mean = torch.var_mean(x, dim=self._axes, keepdim=True, correction=0)
        inv = torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma.to(x.dtype).reshape(self._broadcast)
        if self.rms_scaling:
            return (x * inv).to(inputs.dtype)
        out = (x - mean) * inv
        if self.beta is not None:
            out = out + self.beta.to(x.dtype).reshape(self._broadcast)
        return out.to(inputs.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            _positive_axis(self, a, len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, **self._affine_config(),
                "rms_scaling": self.rms_scaling}

    def _summary_args(self) -> str:
        return f"axis={self.axis}"


# ---------------------------------------------------------------------------------------------- GroupNormalization
class GroupNormalization(_AffineWeights, Layer):
    """Splits the channels on ``axis`` into ``groups`` and normalizes each group of each sample over the group's
    channels and every other non-batch axis; then ``gamma`` and ``beta`` per channel.

    ``groups=-1`` is instance normalization (one group per channel; the config then holds the channel count, as
    Keras's). (B, T, F) -> (B, T, F); the mask passes through.
    """

    supports_masking = True

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any):
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(f"GroupNormalization: `groups` must be a positive integer (or -1 for instance "
                             f"normalization), received groups={groups!r}.")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"GroupNormalization: `axis` must be one integer (the channels axis), received "
                            f"axis={axis!r}.")
        super().__init__(**kwargs)
        self.groups = groups
        self.axis = axis
        self.epsilon = _check_epsilon("GroupNormalization", epsilon)
        self._init_affine(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                          beta_constraint, gamma_constraint)
        self._maybe_build_from_input_shape()

    def build(self, input_shape: tuple) -> None:
        ndim = len(input_shape)
        axis = _positive_axis(self, self.axis, ndim)
        if axis == 0:
            raise ValueError(f"{self._describe()} cannot group the batch axis (axis={self.axis}); pass the channels "
                             "axis, e.g. axis=-1.")
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"{self._describe()} needs a known number of channels on axis {self.axis}, but was built "
                             f"for shape {tuple(input_shape)}. Declare it in Input(shape=...).")
        groups = channels if self.groups == -1 else self.groups
        if channels < groups or channels % groups:
            raise ValueError(f"{self._describe()} splits {channels} channels (axis {self.axis} of shape "
                             f"{tuple(input_shape)}) into groups={groups}, but the channel count must be a multiple of "
                             f"the number of groups. Pick groups among the divisors of {channels}.")
        self.groups = groups
        self._ndim, self._axis, self._channels = ndim, axis, channels
        # (B, ..., G, F / G, ...): the statistics reduce every axis but the batch and the group axis
        self._reduction_axes = [d for d in range(1, ndim + 1) if d != axis]
        self._broadcast = [1] * axis + [groups, channels // groups] + [1] * (ndim - axis - 1)
        self._build_affine((channels,), self.scale, self.center)
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        return self._affine_specs() if self.built else iter(())

    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != self._ndim or inputs.shape[self._axis] != self._channels:
            raise ValueError(f"{self._describe()} was built for inputs of rank {self._ndim} with {self._channels} "
                             f"channels on axis {self.axis}, but received {describe_array(inputs)}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = _upcast(inputs)
        shape = x.shape
        grouped = x.reshape(shape[:self._axis] + (self.groups, self._channels // self.groups) + shape[self._axis + 1:])
        variance, mean = torch.var_mean(grouped, dim=self._reduction_axes, keepdim=True, correction=0)
        inv = torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma.to(x.dtype).reshape(self._broadcast)
        out = (grouped - mean) * inv
        if self.beta is not None:
            out = out + self.beta.to(x.dtype).reshape(self._broadcast)
        return out.reshape(shape).to(inputs.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _positive_axis(self, self.axis, len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                **self._affine_config()}

    def _summary_args(self) -> str:
        return f"groups={self.groups}, axis={self.axis}"


# ---------------------------------------------------------------------------------------------- Unit / RMS
def _axes_of(layer: str, axis: Any) -> int | list[int]:
    if isinstance(axis, (list, tuple)) and axis and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
        return list(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise TypeError(f"{layer}: `axis` must be an int or a list of ints, received axis={axis!r}.")


def _positive_axes(layer: Layer, axis: int | list[int], ndim: int) -> list[int]:
    return sorted(_positive_axis(layer, a, ndim) for a in (axis if isinstance(axis, list) else [axis]))


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm along ``axis`` (an int or a list of axes taken together):
    ``x * min(1 / sqrt(sum(x²)), 1e12)``. No weights; masks pass through."""

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = _axes_of("UnitNormalization", axis)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        axes = _positive_axes(self, self.axis, inputs.ndim)
        inv_norm = torch.rsqrt(inputs.square().sum(dim=axes, keepdim=True)).clamp(max=1e12)  # Keras's epsilon 1e-12
        return inputs * inv_norm

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _positive_axes(self, self.axis, len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}

    def _summary_args(self) -> str:
        return f"axis={self.axis}"


class RMSNormalization(Layer):
    """Root-mean-square normalization along ``axis``: ``x * rsqrt(mean(x², axis) + epsilon) * scale``.

    Weights: ``scale`` (the sizes of the normalized axes, initialized to ones). Masks are not supported (as in
    Keras: the output carries none).
    """

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-6, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = _axes_of("RMSNormalization", axis)
        self.epsilon = _check_epsilon("RMSNormalization", epsilon)
        self.scale = None
        self._maybe_build_from_input_shape()

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        self._axes = _positive_axes(self, self.axis, len(input_shape))
        sizes = tuple(input_shape[a] for a in self._axes)
        if any(size is None for size in sizes):
            raise ValueError(f"{self._describe()} learns a scale per entry of axis {self.axis}, so those sizes must "
                             f"be known, but received input shape {input_shape}. Declare them in the Input's shape.")
        self._ndim = len(input_shape)
        self.scale = _new_weight(_initializers.get("ones"), sizes, self._dtype)
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if self.built:
            yield _param_spec(self, "scale")

    def validate_input(self, inputs: torch.Tensor) -> None:
        sizes = tuple(self.scale.shape)
        if inputs.ndim != self._ndim or tuple(inputs.shape[a] for a in self._axes) != sizes:
            raise ValueError(f"{self._describe()} was built for inputs of rank {self._ndim} with sizes {sizes} on "
                             f"axes {self._axes}, but received {describe_array(inputs)}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = _upcast(inputs)
        broadcast = [1] * x.ndim
        for axis, size in zip(self._axes, self.scale.shape):
            broadcast[axis] = size
        inv_rms = torch.rsqrt(x.square().mean(dim=self._axes, keepdim=True) + self.epsilon)
        return (x * inv_rms * self.scale.to(x.dtype).reshape(broadcast)).to(inputs.dtype)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _positive_axes(self, self.axis, len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}

    def _summary_args(self) -> str:
        return f"axis={self.axis}"
