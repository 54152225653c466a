"""Weight regularizers with Keras's names and formulas (``l1``, ``l2``, ``l1_l2``,
``orthogonal_regularizer``).

A regularizer maps a weight in Keras's layout to a scalar penalty; layers add the penalties to ``layer.losses``
and the training loop adds those to the loss.
"""

from __future__ import annotations

import difflib
from typing import Any, Callable

import torch

from .utils._deserialize import deserialize_with

_EPS = 1e-12  # keras.ops.normalize's default epsilon


class Regularizer:
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Regularizer":
        return cls(**config)


def _check_factor(name: str, value: float) -> float:
    value = float(value)
    if value < 0:
        raise ValueError(f"Regularizer factor {name} must be >= 0, received {value}.")
    return value


class L1(Regularizer):
    def __init__(self, l1: float = 0.01):
        self.l1 = _check_factor("l1", l1)

    def __call__(self, x):
        return self.l1 * torch.sum(torch.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2: float = 0.01):
        self.l2 = _check_factor("l2", l2)

    def __call__(self, x):
        return self.l2 * torch.sum(torch.square(x))

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, x):
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * torch.sum(torch.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * torch.sum(torch.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Keras's penalty on the overlap of a 2-D weight's rows (``mode='rows'``) or columns (``mode='columns'``):
    ``factor * 0.5 * sum(|off-diagonal of the Gram matrix of the L2-normalized vectors|) / number of pairs``."""

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _check_factor("factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', received {mode!r}.")
        self.mode = mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer applies to 2-D weights; received shape {tuple(x.shape)}.")
        vectors = x if self.mode == "rows" else x.T  # (N, D): the vectors that should be orthogonal
        inv_norm = torch.clamp(torch.rsqrt(torch.sum(torch.square(vectors), dim=1, keepdim=True)), max=1.0 / _EPS)
        unit = vectors * inv_norm
        product = unit @ unit.T  # (N, N)
        size = product.shape[0]
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras's lowercase names are the classes themselves: ``keras.regularizers.l2(1e-4)``.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_REGISTRY: dict[str, Callable[[], Regularizer]] = {
    "l1": L1, "l2": L2, "orthogonal_regularizer": OrthogonalRegularizer,
    "l1l2": L1L2,  # Keras 3's name: both factors 0 by default
    "l1_l2": lambda: L1L2(l1=0.01, l2=0.01),  # Keras 2's keras.regularizers.l1_l2() defaults
}
_BY_CLASS = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer}


def deserialize(config: str | dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Regularizer:
    """The regularizer a config describes: a name or the dict Keras writes
    (``{'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 0.01}}``); ``custom_objects`` maps
    further class names to classes."""
    return deserialize_with(get, config, custom_objects, "a regularizer")


def get(identifier: str | dict | Regularizer | Callable | None) -> Regularizer | Callable | None:
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        name = identifier.get("class_name", "")
        if name not in _BY_CLASS:
            raise ValueError(f"Unknown regularizer class '{name}'. Known: {', '.join(_BY_CLASS)}.")
        return _BY_CLASS[name].from_config(dict(identifier.get("config", {})))
    if isinstance(identifier, str):
        if identifier in _REGISTRY:
            return _REGISTRY[identifier]()
        if identifier in _BY_CLASS:
            return _BY_CLASS[identifier]()
        close = difflib.get_close_matches(identifier, list(_REGISTRY), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(
            f"Unknown regularizer '{identifier}'.{hint} Known regularizers: l1, l2, l1l2, l1_l2, orthogonal_regularizer; "
            "or pass gated.regularizers.L1L2(l1=..., l2=...) or a callable."
        )
    raise TypeError(f"A regularizer must be a name, dict, Regularizer, callable or None; received {identifier!r}.")


def serialize(reg: Regularizer | Callable | None) -> dict | Callable | None:
    if isinstance(reg, Regularizer) and type(reg).__name__ in _BY_CLASS:
        return {"class_name": type(reg).__name__, "config": reg.get_config()}
    return reg
