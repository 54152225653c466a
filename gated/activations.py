"""Activation functions by their Keras names.

Every function takes and returns a tensor and computes what ``keras.activations``
computes with the same name. ``get`` resolves a name, ``None`` or a callable;
``serialize`` gives the name back for configs.
"""

from __future__ import annotations

import difflib
from typing import Any, Callable, Mapping

import torch
import torch.nn.functional as F

from .ops._activation_ops import (celu, glu, hard_shrink, soft_shrink, sparse_plus, sparse_sigmoid, sparsemax,
                                  squareplus, tanh_shrink, threshold)

Activation = Callable[[torch.Tensor], torch.Tensor]


def linear(x: torch.Tensor) -> torch.Tensor:
    return x


def tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x)


def relu(x: torch.Tensor) -> torch.Tensor:
    return torch.relu(x)


def relu6(x: torch.Tensor) -> torch.Tensor:
    return F.relu6(x)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, negative_slope=0.2)  # Keras's default slope


def elu(x: torch.Tensor) -> torch.Tensor:
    return F.elu(x)


def selu(x: torch.Tensor) -> torch.Tensor:
    return F.selu(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    return F.softplus(x)


def softsign(x: torch.Tensor) -> torch.Tensor:
    return F.softsign(x)


def silu(x: torch.Tensor) -> torch.Tensor:
    return F.silu(x)


def gelu(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x)  # Keras's default is the exact (erf) form


def exponential(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return F.relu6(x + 3.0) / 6.0


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    return x * hard_sigmoid(x)


def hard_tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, -1.0, 1.0)


def mish(x: torch.Tensor) -> torch.Tensor:
    return F.mish(x)


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return F.logsigmoid(x)


def softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(x, dim=-1)


_REGISTRY: dict[str, Activation] = {
    fn.__name__: fn
    for fn in (
        linear, tanh, sigmoid, relu, relu6, leaky_relu, elu, selu, softplus, softsign,
        silu, gelu, exponential, hard_sigmoid, hard_silu, hard_tanh, mish, log_sigmoid,
        softmax, log_softmax, celu, glu, hard_shrink, soft_shrink, sparse_plus, sparse_sigmoid, sparsemax,
        squareplus, tanh_shrink, threshold,
    )
}
swish = silu  # Keras's aliases: the same functions, serialized by their first name
hard_swish = hard_silu
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


def get(identifier: str | Activation | None) -> Activation:
    """Resolve an activation given as a Keras name, ``None`` (linear) or a callable."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        name = _ALIASES.get(identifier, identifier)
        if name in _REGISTRY:
            return _REGISTRY[name]
        known = sorted(set(_REGISTRY) | set(_ALIASES))
        close = difflib.get_close_matches(identifier, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(
            f"Unknown activation '{identifier}'.{hint} Known activations: {', '.join(known)}; "
            "or pass any callable that maps a tensor to a tensor."
        )
    raise TypeError(
        f"An activation must be a name, None or a callable; received {type(identifier).__name__} "
        f"{identifier!r}."
    )


def deserialize(config: str | dict[str, Any], custom_objects: Mapping[str, Any] | None = None) -> Activation:
    """The activation a config names: ``'relu'``, or the dict Keras writes for a function
    (``{'class_name': 'function', 'config': 'relu', ...}``); ``custom_objects`` maps further names to callables."""
    name = config
    if isinstance(config, dict):
        name = config.get("config")  # Keras writes registered_name 'function' for its own functions
        if config.get("class_name") != "function" or not isinstance(name, str):
            raise ValueError(
                f"An activation config names a function, as {{'class_name': 'function', 'config': 'relu'}}; "
                f"received {config!r}. Pass an activation layer's config to gated.layers.deserialize instead."
            )
    if not isinstance(name, str):
        raise TypeError(f"deserialize takes an activation name or config dict; received {type(config).__name__} "
                        f"{config!r}.")
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return get(name)


def serialize(fn: Activation) -> str | Activation:
    """The Keras name of a built-in activation; a custom callable is returned as it is."""
    name = getattr(fn, "__name__", None)
    if name in _REGISTRY and _REGISTRY[name] is fn:
        return name
    return fn


def is_builtin(fn: Activation, name: str) -> bool:
    """Whether ``fn`` is the built-in activation called ``name`` (used by kernel dispatch)."""
    return _REGISTRY.get(name) is fn
