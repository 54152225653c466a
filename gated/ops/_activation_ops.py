"""Activation ops with Keras's names and defaults (``gelu`` approximate=True, ``leaky_relu`` slope 0.2) and the
softmax family over an int or a tuple of axes."""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from ._convert import Tensor, convert_to_tensor


def _unary(name: str, fn: Callable[[Tensor], Tensor], doc: str) -> Callable[[Any], Tensor]:
    def op(x: Any) -> Tensor:
        return fn(convert_to_tensor(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


relu = _unary("relu", F.relu, "``max(x, 0)``.")
relu6 = _unary("relu6", F.relu6, "``min(max(x, 0), 6)``.")
sigmoid = _unary("sigmoid", torch.sigmoid, "``1 / (1 + exp(-x))``.")
softplus = _unary("softplus", F.softplus, "``log(1 + exp(x))``.")
softsign = _unary("softsign", F.softsign, "``x / (1 + |x|)``.")
silu = _unary("silu", F.silu, "``x * sigmoid(x)``.")
swish = silu
log_sigmoid = _unary("log_sigmoid", F.logsigmoid, "``log(sigmoid(x))``, computed stably.")
hard_sigmoid = _unary("hard_sigmoid", F.hardsigmoid, "``relu6(x + 3) / 6``.")
hard_silu = _unary("hard_silu", F.hardswish, "``x * hard_sigmoid(x)``.")
hard_swish = hard_silu
selu = _unary("selu", F.selu, "The scaled exponential linear unit.")
tanh_shrink = _unary("tanh_shrink", F.tanhshrink, "``x - tanh(x)``.")


def hard_tanh(x: Any) -> Tensor:
    """``x`` clipped to [-1, 1]."""
    return F.hardtanh(convert_to_tensor(x), -1.0, 1.0)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return F.leaky_relu(convert_to_tensor(x), negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return F.elu(convert_to_tensor(x), alpha)


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return F.celu(convert_to_tensor(x), alpha)


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """The Gaussian error linear unit; the tanh approximation unless ``approximate=False`` (Keras's default)."""
    return F.gelu(convert_to_tensor(x), approximate="tanh" if approximate else "none")


def glu(x: Any, axis: int = -1) -> Tensor:
    """The gated linear unit: the first half of ``axis`` times the sigmoid of the second half."""
    x = convert_to_tensor(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu splits axis {axis} in two halves; it has odd length {x.shape[axis]} in shape "
                         f"{tuple(x.shape)}.")
    return F.glu(x, dim=axis)


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    return F.softshrink(convert_to_tensor(x), threshold)


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    return F.hardshrink(convert_to_tensor(x), threshold)


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(convert_to_tensor(x), threshold, default_value)


def sparse_sigmoid(x: Any) -> Tensor:
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    x = convert_to_tensor(x)
    return torch.clamp(0.5 * (x + 1), 0.0, 1.0)


def sparse_plus(x: Any) -> Tensor:
    """0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` between."""
    x = convert_to_tensor(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def squareplus(x: Any, b: float = 4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2``."""
    x = convert_to_tensor(x)
    return (x + torch.sqrt(x * x + b)) / 2


def _over_axes(fn: Callable[[Tensor, int], Tensor], x: Tensor, axis: Any) -> Tensor:
    """``fn`` applied along one axis, all axes (None) or a tuple of axes (flattened into one)."""
    if axis is None:
        return fn(x.reshape(-1), 0).reshape(x.shape)
    if isinstance(axis, (tuple, list)):
        axes = [a % x.ndim for a in axis]
        keep = [d for d in range(x.ndim) if d not in axes]
        moved = x.permute(keep + axes)
        out = fn(moved.reshape([x.shape[d] for d in keep] + [-1]), -1).reshape(moved.shape)
        return out.permute(torch.argsort(torch.tensor(keep + axes)).tolist())
    return fn(x, axis)


def _float(x: Any) -> Tensor:
    x = convert_to_tensor(x)
    return x if x.is_floating_point() else x.float()


def softmax(x: Any, axis: Any = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` over ``axis`` (an int, a tuple of axes, or None for all)."""
    return _over_axes(lambda t, a: F.softmax(t, dim=a), _float(x), axis)


def log_softmax(x: Any, axis: Any = -1) -> Tensor:
    """``log(softmax(x))`` over ``axis``, computed stably."""
    return _over_axes(lambda t, a: F.log_softmax(t, dim=a), _float(x), axis)


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis`` (sparse probabilities)."""
    x = _float(x)
    z = torch.sort(x, dim=axis, descending=True).values
    cumulative = torch.cumsum(z, dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    rank = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device).reshape(shape)
    support = (1 + rank * z) > cumulative
    k = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, z, torch.zeros_like(z)).sum(dim=axis, keepdim=True) - 1) / k
    return torch.clamp(x - tau, min=0.0)
