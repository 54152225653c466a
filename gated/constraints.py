"""Weight constraints with Keras's names and formulas, applied after each optimizer step.

A constraint maps a weight in Keras's layout to its projected value; axes refer to that layout
(``max_norm(axis=0)`` bounds the norm of each column of a kernel ``(fan_in, fan_out)``).
"""

from __future__ import annotations

import difflib
from typing import Any, Callable

import torch

from .utils._deserialize import deserialize_with

_EPSILON = 1e-7  # keras.backend.epsilon()


class Constraint:
    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Constraint":
        return cls(**config)


def _norms(w: torch.Tensor, axis) -> torch.Tensor:
    return torch.sqrt(torch.sum(torch.square(w), dim=axis, keepdim=True))


class MaxNorm(Constraint):
    def __init__(self, max_value: float = 2.0, axis: int | tuple[int, ...] = 0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | tuple[int, ...] = 0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return w * (w >= 0).to(w.dtype)


class UnitNorm(Constraint):
    def __init__(self, axis: int | tuple[int, ...] = 0):
        self.axis = axis

    def __call__(self, w):
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


# Keras's lowercase names are the classes themselves: ``keras.constraints.max_norm(3)``.
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_REGISTRY: dict[str, type[Constraint]] = {
    "max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
}
_BY_CLASS = {cls.__name__: cls for cls in _REGISTRY.values()}


def get(identifier: str | dict | Constraint | Callable | None) -> Constraint | Callable | None:
    if identifier is None or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, dict):
        name = identifier.get("class_name", "")
        cls = _REGISTRY.get(name) or _BY_CLASS.get(name)
        if cls is None:
            raise ValueError(f"Unknown constraint '{name}'. Known constraints: {', '.join(_REGISTRY)}.")
        return cls.from_config(dict(identifier.get("config", {})))
    if isinstance(identifier, str):
        cls = _REGISTRY.get(identifier) or _BY_CLASS.get(identifier)
        if cls is not None:
            return cls()
        close = difflib.get_close_matches(identifier, list(_REGISTRY), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"Unknown constraint '{identifier}'.{hint} Known constraints: {', '.join(_REGISTRY)}.")
    raise TypeError(f"A constraint must be a name, dict, Constraint, callable or None; received {identifier!r}.")


def deserialize(config: str | dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Constraint:
    """The constraint a config describes: a name or the dict Keras writes
    (``{'module': 'keras.constraints', 'class_name': 'MaxNorm', 'config': {...}}``); ``custom_objects`` maps
    further class names to classes."""
    return deserialize_with(get, config, custom_objects, "a constraint")


def serialize(constraint: Constraint | Callable | None) -> dict | Callable | None:
    if isinstance(constraint, Constraint) and type(constraint).__name__ in _BY_CLASS:
        return {"class_name": type(constraint).__name__, "config": constraint.get_config()}
    return constraint
