"""``keras.random`` on torch: seeded draws with Keras's signatures.

``seed`` is None (torch's global generator, which ``gated.utils.set_random_seed`` seeds), an int (every call with
that int draws the same values) or a ``SeedGenerator`` (a seeded stream: each call draws new values, and a new
generator with the same seed replays the stream). Values are reproducible for a given seed; they are not
Keras's streams. Draws are made on the CPU and moved to the device of the input (for ``dropout``/``shuffle``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .ops._convert import Tensor, convert_to_tensor
from .ops._dtypes import standardize_dtype, to_torch

__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle",
           "truncated_normal", "uniform"]


class SeedGenerator:
    """A seeded random stream (a ``torch.Generator``): each draw that takes it advances it.

    ``SeedGenerator(seed=1337)``; ``seed=None`` draws a seed from python's entropy. ``next()`` gives a fresh int
    seed from the stream, for code that needs an int.
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any):
        if kwargs:
            raise TypeError(f"SeedGenerator got unexpected arguments {sorted(kwargs)}; it takes seed= and name=.")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"SeedGenerator needs an integer seed or None; received {seed!r}.")
        self.seed = int(seed)
        self.name = name or "seed_generator"
        self.generator = torch.Generator().manual_seed(self.seed)

    def next(self, ordered: bool = True) -> int:
        """A new int seed drawn from the stream."""
        return int(torch.randint(0, 2**31 - 1, (), generator=self.generator))

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "SeedGenerator":
        return cls(**config)

    def __repr__(self) -> str:
        return f"SeedGenerator(seed={self.seed})"


def _generator(seed: Any) -> torch.Generator | None:
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be None, an int or a gated.random.SeedGenerator; received {seed!r} "
                         f"({type(seed).__name__}).")
    return torch.Generator().manual_seed(int(seed))


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"A random shape needs non-negative sizes; received {shape}.")
    return shape


def _float_dtype(dtype: Any, op: str) -> torch.dtype:
    out = to_torch(dtype)
    if not out.is_floating_point:
        raise ValueError(f"{op} draws floats; received dtype={standardize_dtype(dtype)!r}. Pass a float dtype "
                         "(the default is floatx()).")
    return out


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None) -> Tensor:
    """Draws from the normal distribution with ``mean`` and ``stddev``."""
    out_dtype = _float_dtype(dtype, "normal")
    values = torch.randn(_shape(shape), generator=_generator(seed), dtype=torch.float32)
    return (values * stddev + mean).to(out_dtype)


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None) -> Tensor:
    """Draws from the uniform distribution on ``[minval, maxval)``."""
    out_dtype = _float_dtype(dtype, "uniform")
    values = torch.rand(_shape(shape), generator=_generator(seed), dtype=torch.float32)
    return (values * (maxval - minval) + minval).to(out_dtype)


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``."""
    if int(maxval) <= int(minval):
        raise ValueError(f"randint needs maxval > minval; received minval={minval}, maxval={maxval}.")
    out_dtype = to_torch(dtype)
    values = torch.randint(int(minval), int(maxval), _shape(shape), generator=_generator(seed))
    return values.to(out_dtype)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> Tensor:
    """Draws from the normal distribution conditioned on lying within two ``stddev`` of ``mean``."""
    out_dtype = _float_dtype(dtype, "truncated_normal")
    low = 0.5 * (1 + math.erf(-2 / math.sqrt(2)))  # the normal CDF at -2
    u = torch.rand(_shape(shape), generator=_generator(seed), dtype=torch.float64) * (1 - 2 * low) + low
    z = (math.sqrt(2) * torch.erfinv(2 * u - 1)).clamp(-2.0, 2.0)
    return (z * stddev + mean).to(out_dtype)


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> Tensor:
    """``num_samples`` class ids per row of (batch, classes) ``logits`` (unnormalized log-probabilities)."""
    logits = convert_to_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"categorical takes logits of shape (batch, classes); received {tuple(logits.shape)}.")
    probabilities = torch.softmax(logits.detach().double().cpu(), dim=-1)
    draws = torch.multinomial(probabilities, int(num_samples), replacement=True, generator=_generator(seed))
    return draws.to(device=logits.device, dtype=to_torch(dtype))


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Tensor:
    """``inputs`` with each element zeroed with probability ``rate`` and the rest scaled by ``1 / (1 - rate)``;
    ``noise_shape`` (broadcast against the inputs) shares one decision along its axes of length 1."""
    x = convert_to_tensor(inputs)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout needs 0 <= rate < 1; received rate={rate}.")
    shape = tuple(x.shape) if noise_shape is None else tuple(
        x.shape[i] if s is None else int(s) for i, s in enumerate(noise_shape))
    keep = torch.rand(shape, generator=_generator(seed)) >= rate
    return x * keep.to(device=x.device, dtype=x.dtype) / (1 - rate)


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Tensor:
    """``x`` with its slices along ``axis`` in a random order."""
    x = convert_to_tensor(x)
    order = torch.randperm(x.shape[axis], generator=_generator(seed)).to(x.device)
    return torch.index_select(x, axis, order)


def gamma(shape: Any, alpha: float, dtype: Any = None, seed: Any = None) -> Tensor:
    """Draws from the gamma distribution with shape ``alpha`` (scale 1)."""
    out_dtype = _float_dtype(dtype, "gamma")
    concentration = torch.broadcast_to(convert_to_tensor(alpha, torch.float64).cpu(), _shape(shape))
    return torch._standard_gamma(concentration.contiguous(), generator=_generator(seed)).to(out_dtype)


def binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None) -> Tensor:
    """Draws from the binomial distribution: successes in ``counts`` trials of probability ``probabilities``."""
    out_dtype = to_torch(dtype)
    size = _shape(shape)
    n = torch.broadcast_to(convert_to_tensor(counts, torch.float64).cpu(), size).contiguous()
    p = torch.broadcast_to(convert_to_tensor(probabilities, torch.float64).cpu(), size).contiguous()
    return torch.binomial(n, p, generator=_generator(seed)).to(out_dtype)


def beta(shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> Tensor:
    """Draws from the beta distribution, as ``X / (X + Y)`` with X ~ gamma(alpha), Y ~ gamma(beta)."""
    out_dtype = _float_dtype(dtype, "beta")
    size = _shape(shape)
    generator = _generator(seed)
    a = torch.broadcast_to(convert_to_tensor(alpha, torch.float64).cpu(), size).contiguous()
    b = torch.broadcast_to(convert_to_tensor(beta, torch.float64).cpu(), size).contiguous()
    x = torch._standard_gamma(a, generator=generator)
    y = torch._standard_gamma(b, generator=generator)
    return (x / (x + y)).to(out_dtype)
