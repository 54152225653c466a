"""Noise layers with Keras's names and arguments: ``GaussianNoise``, ``GaussianDropout``, ``SpatialDropout1D``.

Each one is the identity at inference and draws noise only in a training call (``training=True``, inside ``fit``, or
``layer.train()`` when ``training`` is not given). With ``seed`` the noise comes from the layer's own
``torch.Generator`` (one per device), so a seeded layer repeats the same sequence of draws; seeded layers run outside
captured CUDA graphs (``capture_blocker``), as seeded ``Dropout`` does. Masks pass through.
Shape legend: B batch, T timesteps, F features (channels).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import Layer, describe_array
from ._core import Dropout


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
