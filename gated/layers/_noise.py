"""Noise layers with Keras's names and arguments: ``GaussianNoise``, ``GaussianDropout``, ``AlphaDropout``,
``SpatialDropout1D``, ``SpatialDropout2D``, ``SpatialDropout3D``.

Each one is the identity at inference and draws noise only in a training call (``training=True``, inside ``fit``, or
``layer.train()`` when ``training`` is not given). With ``seed`` the noise comes from the layer's own
``torch.Generator`` (one per device), so a seeded layer repeats the same sequence of draws; seeded layers run outside
captured CUDA graphs (``capture_blocker``), as seeded ``Dropout`` does. Masks pass through.
Shape legend: B batch, T timesteps, F features (channels), C channels, S spatial sizes.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..utils._config import image_data_format
from ._base import Layer, describe_array
from ._core import Dropout

# SELU's constants, which AlphaDropout keeps the mean and variance of.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_seed(layer: str, seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"{layer}: `seed` must be an int or None, received seed={seed!r}.")
    return seed


class _SeededNoise(Layer):
    """The shared part: the seed, the per-device generators, the training switch."""

    supports_masking = True

    def __init__(self, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = _check_seed(type(self).__name__, seed)
        self._generators: dict[torch.device, torch.Generator] = {}
        self._maybe_build_from_input_shape()

    def _normal(self, like: torch.Tensor, mean: float, stddev: float) -> torch.Tensor:
        generator = None
        if self.seed is not None:
            generator = self._generators.get(like.device)
            if generator is None:
                generator = self._generators[like.device] = torch.Generator(device=like.device).manual_seed(self.seed)
        noise = torch.randn(like.shape, dtype=like.dtype, device=like.device, generator=generator)
        return noise * stddev + mean

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def capture_blocker(self) -> str | None:
        if self.seed is None:
            return None  # torch's own generator, which a captured graph advances itself
        return f"layer '{self.name}' ({type(self).__name__}) draws its noise from its own seeded generator"


class GaussianNoise(_SeededNoise):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` (between 0 and 1, as Keras) when training."""

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or not 0 <= stddev <= 1:
            raise ValueError(f"GaussianNoise: `stddev` must be a number between 0 and 1, received stddev={stddev!r}.")
        super().__init__(seed=seed, **kwargs)
        self.stddev = stddev

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if training is None:
            training = self.training
        if not training or self.stddev == 0:
            return inputs
        return inputs + self._normal(inputs, 0.0, self.stddev)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}

    def _summary_args(self) -> str:
        return f"stddev={self.stddev}"


class GaussianDropout(_SeededNoise):
    """Multiplies by Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))`` when training."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"GaussianDropout: `rate` must be a number in [0, 1), received rate={rate!r}. The noise's "
                             "standard deviation sqrt(rate / (1 - rate)) is infinite at rate=1.")
        super().__init__(seed=seed, **kwargs)
        self.rate = rate

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if training is None:
            training = self.training
        if not training or self.rate == 0:
            return inputs
        return inputs * self._normal(inputs, 1.0, math.sqrt(self.rate / (1.0 - self.rate)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}

    def _summary_args(self) -> str:
        return f"rate={self.rate}"


class SpatialDropout1D(Dropout):
    """Dropout of whole channels: one keep/drop decision per (sample, channel), shared by every timestep, the kept
    channels scaled by ``1 / (1 - rate)``. Input (B, T, F) -> (B, T, F)."""

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, dtype: Any = None,
                 **kwargs: Any):
        super().__init__(rate, noise_shape=(None, 1, None), seed=seed, name=name, dtype=dtype, **kwargs)

    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != 3:
            raise ValueError(f"{self._describe()} expects input of shape (batch, timesteps, channels), but received "
                             f"{describe_array(inputs)}. For other ranks use Dropout with a noise_shape.")

    def get_config(self) -> dict[str, Any]:
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}  # Keras's keys
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config


class _SpatialDropoutND(Dropout):
    """Dropout of whole feature maps: one keep/drop decision per (sample, channel), shared by every spatial
    position, the kept channels scaled by ``1 / (1 - rate)``. A subclass sets ``rank`` (2 or 3)."""

    rank = 2

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None, name: str | None = None,
                 dtype: Any = None, **kwargs: Any):
        fmt = image_data_format() if data_format is None else str(data_format).lower()
        if fmt not in ("channels_last", "channels_first"):
            raise ValueError(f"{type(self).__name__}: `data_format` must be 'channels_last' or 'channels_first', "
                             f"received data_format={data_format!r}.")
        ones = (1,) * self.rank
        noise_shape = (None, None) + ones if fmt == "channels_first" else (None,) + ones + (None,)
        super().__init__(rate, noise_shape=noise_shape, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = fmt

    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != self.rank + 2:
            spatial = "height, width" if self.rank == 2 else "depth, height, width"
            layout = (f"(batch, channels, {spatial})" if self.data_format == "channels_first"
                      else f"(batch, {spatial}, channels)")
            raise ValueError(f"{self._describe()} expects input of shape {layout}, but received "
                             f"{describe_array(inputs)}. For other ranks use Dropout with a noise_shape.")

    def get_config(self) -> dict[str, Any]:
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype,
                  "data_format": self.data_format}  # Keras's keys
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config


class SpatialDropout2D(_SpatialDropoutND):
    """Dropout of whole 2-D feature maps: input (B, H, W, C) (channels_first: (B, C, H, W)), one decision per
    (sample, channel)."""

    rank = 2


class SpatialDropout3D(_SpatialDropoutND):
    """Dropout of whole 3-D feature maps: input (B, D, H, W, C) (channels_first: (B, C, D, H, W)), one decision per
    (sample, channel)."""

    rank = 3


class AlphaDropout(Dropout):
    """Dropout that keeps SELU's self-normalizing mean and variance: when training, a dropped entry is set to
    ``-scale * alpha`` (SELU's negative saturation) and every entry goes through ``a * x + b`` with
    ``a = ((1 - rate) * (1 + rate * (scale * alpha)²)) ** -0.5`` and ``b = a * scale * alpha * rate``.
    ``noise_shape`` broadcasts one keep/drop decision, as in ``Dropout``."""

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any):
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"AlphaDropout: `rate` must be a number in [0, 1), received rate={rate!r}. At rate=1 "
                             "its scale ((1 - rate) * ...) ** -0.5 is infinite.")
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if training is None:
            training = self.training
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            n if d is None else d for d, n in zip(self.noise_shape, inputs.shape))
        uniform = torch.rand(shape, dtype=inputs.dtype, device=inputs.device,
                             generator=self._generator(inputs.device))
        keep = uniform >= self.rate
        saturation = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * saturation ** 2)) ** -0.5
        b = -a * saturation * self.rate
        x = torch.where(keep, inputs, torch.full((), saturation, dtype=inputs.dtype, device=inputs.device))
        return a * x + b
