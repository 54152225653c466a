"""Weight initializers with Keras's names, arguments and formulas.

An initializer is called with a shape in **Keras's layout** (a kernel is ``(fan_in, fan_out)``) and returns a
float32 tensor; layers convert to their internal layout afterwards, so fans and distributions match Keras.
A seeded initializer gives the same values on every call, as in Keras; an unseeded one draws from torch's
global generator (see ``gated.utils.set_random_seed``).
"""

from __future__ import annotations

import difflib
import math
from typing import Any, Callable, Sequence

import torch

from .utils._deserialize import deserialize_with


def _fans(shape: tuple[int, ...], input_axes: Sequence[int] | None = None,
          output_axes: Sequence[int] | None = None) -> tuple[float, float]:
    if input_axes is not None and output_axes is not None:  # Keras 3.15: fans over named axes (einsum kernels)
        return float(math.prod(shape[a] for a in input_axes)), float(math.prod(shape[a] for a in output_axes))
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Initializer:
    """Base class: ``init(shape) -> torch.Tensor`` in Keras layout."""

    def __call__(self, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Initializer":
        return cls(**config)


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, int):
            raise TypeError(f"{type(self).__name__}: seed must be an int or None, received {seed!r}.")
        self.seed = seed

    def _generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        return torch.Generator().manual_seed(self.seed)


class Zeros(Initializer):
    def __call__(self, shape, dtype=torch.float32):
        return torch.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype=torch.float32):
        return torch.ones(shape, dtype=dtype)


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=torch.float32):
        return torch.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_Seeded):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=torch.float32):
        out = torch.empty(shape, dtype=torch.float32)
        return out.normal_(self.mean, self.stddev, generator=self._generator()).to(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=torch.float32):
        out = torch.empty(shape, dtype=torch.float32)
        return out.uniform_(self.minval, self.maxval, generator=self._generator()).to(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(_Seeded):
    """Normal values redrawn outside two standard deviations, as in Keras."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=torch.float32):
        out = torch.empty(shape, dtype=torch.float32)
        torch.nn.init.trunc_normal_(
            out, self.mean, self.stddev, self.mean - 2 * self.stddev, self.mean + 2 * self.stddev,
            generator=self._generator(),
        )
        return out.to(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Seeded):
    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        super().__init__(seed)
        self.input_axes = None if input_axes is None else list(input_axes)
        self.output_axes = None if output_axes is None else list(output_axes)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, received {scale}.")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {self._MODES}, received {mode!r}.")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: distribution must be one of {self._DISTRIBUTIONS}, received {distribution!r}."
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=torch.float32):
        fan_in, fan_out = _fans(tuple(shape), self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        out = torch.empty(shape, dtype=torch.float32)
        gen = self._generator()
        if self.distribution == "truncated_normal":
            std = math.sqrt(variance) / 0.87962566103423978  # std of a unit normal truncated at +-2
            torch.nn.init.trunc_normal_(out, 0.0, std, -2 * std, 2 * std, generator=gen)
        elif self.distribution == "untruncated_normal":
            out.normal_(0.0, math.sqrt(variance), generator=gen)
        else:
            limit = math.sqrt(3.0 * variance)
            out.uniform_(-limit, limit, generator=gen)
        return out.to(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed,
                "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(VarianceScaling):
    def __init__(self, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        super().__init__(1.0, "fan_avg", "uniform", seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotNormal(VarianceScaling):
    def __init__(self, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class HeUniform(VarianceScaling):
    def __init__(self, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        super().__init__(2.0, "fan_in", "uniform", seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class HeNormal(VarianceScaling):
    def __init__(self, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class LecunUniform(VarianceScaling):
    def __init__(self, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        super().__init__(1.0, "fan_in", "uniform", seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class LecunNormal(VarianceScaling):
    def __init__(self, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class Orthogonal(_Seeded):
    """An orthogonal matrix over the last axis (rows = product of the other axes), times ``gain``."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=torch.float32):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank 2 or more, received {tuple(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = torch.empty((rows, cols), dtype=torch.float32)
        torch.nn.init.orthogonal_(flat, gain=self.gain, generator=self._generator())
        return flat.reshape(shape).to(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=torch.float32):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape, received {tuple(shape)}.")
        return (self.gain * torch.eye(*shape, dtype=torch.float32)).to(dtype)

    def get_config(self):
        return {"gain": self.gain}


IdentityInitializer = Identity  # Keras's other names for the same classes
OrthogonalInitializer = Orthogonal

_REGISTRY: dict[str, type[Initializer]] = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "identity": Identity,
}
_REGISTRY.update({"uniform": RandomUniform, "normal": RandomNormal, "zero": Zeros, "one": Ones})  # Keras aliases
_BY_CLASS = {cls.__name__: cls for cls in _REGISTRY.values()}


# Keras's lowercase names are the classes themselves: ``keras.initializers.glorot_uniform(seed=1)``.
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def get(identifier: str | dict | Initializer | Callable | None) -> Initializer | Callable:
    """Resolve an initializer from a Keras name ('glorot_uniform'), a class name ('GlorotUniform'),
    a serialized dict, an instance or a callable ``f(shape, dtype) -> tensor``."""
    if identifier is None:
        return Zeros()
    if isinstance(identifier, Initializer) or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, dict):
        cls = _lookup(identifier.get("class_name", ""))
        return cls.from_config(dict(identifier.get("config", {})))
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise TypeError(
        f"An initializer must be a name, a dict, an Initializer or a callable; received "
        f"{type(identifier).__name__} {identifier!r}."
    )


def _lookup(name: str) -> type[Initializer]:
    cls = _REGISTRY.get(name) or _BY_CLASS.get(name)
    if cls is not None:
        return cls
    close = difflib.get_close_matches(name, list(_REGISTRY) + list(_BY_CLASS), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise ValueError(f"Unknown initializer '{name}'.{hint} Known initializers: {', '.join(sorted(_REGISTRY))}.")


def deserialize(config: str | dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Initializer:
    """The initializer a config describes: a Keras name or the dict Keras writes
    (``{'module': 'keras.initializers', 'class_name': 'GlorotUniform', 'config': {...}}``); ``custom_objects`` maps
    further class names to classes."""
    if isinstance(config, str) and custom_objects and config in custom_objects:
        return custom_objects[config]()
    return deserialize_with(get, config, custom_objects, "an initializer")


def serialize(init: Initializer | Callable) -> str | dict | Callable:
    if isinstance(init, Initializer) and type(init).__name__ in _BY_CLASS:
        name = next(k for k, v in _REGISTRY.items() if v is type(init))  # the canonical (first) name
        config = init.get_config()
        if not config or all(v is None for v in config.values()):
            return name
        return {"class_name": type(init).__name__, "config": config}
    return init
