"""``keras.ops.nn`` on torch: activations, one-hot encodings, cross-entropies, moments and normalizations,
convolutions and pooling, CTC, and dot-product attention.

Shape legend: B batch, T (query) timesteps, S key timesteps, N heads, H head size, C classes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..utils._config import epsilon as _epsilon
from ._activation_ops import (celu, elu, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_swish, hard_tanh,
                              leaky_relu, log_sigmoid, log_softmax, relu, relu6, selu, sigmoid, silu, soft_shrink,
                              softmax, softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax, squareplus, swish,
                              tanh_shrink, threshold)
from ._conv import (adaptive_average_pool, adaptive_max_pool, average_pool, conv, conv_transpose, depth_to_space,
                    depthwise_conv, fold, max_pool, separable_conv, space_to_depth, unfold)
from ._convert import Tensor, convert_to_tensor, tensors
from ._ctc import ctc_decode, ctc_loss
from ._dtypes import result_type, to_torch

__all__ = [
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization", "binary_crossentropy",
    "categorical_crossentropy", "celu", "conv", "conv_transpose", "ctc_decode", "ctc_loss", "depth_to_space",
    "depthwise_conv", "dot_product_attention", "elu", "fold", "gelu", "glu", "hard_shrink", "hard_sigmoid",
    "hard_silu", "hard_swish", "hard_tanh", "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax",
    "max_pool", "moments", "multi_hot", "normalize", "one_hot", "polar", "psnr", "relu", "relu6",
    "rms_normalization", "selu", "separable_conv", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "swish", "tanh_shrink", "threshold", "unfold",
]


# ------------------------------------------------------------------------------------------------ encodings
def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False) -> Tensor:
    """Integer labels as one-hot vectors along a new ``axis`` (negative labels give all zeros); floatx default."""
    if sparse:
        raise ValueError("one_hot(sparse=True): torch has no sparse Keras tensors; pass sparse=False.")
    x = convert_to_tensor(x)
    if x.is_floating_point() and not torch.equal(x, torch.round(x)):
        raise ValueError("one_hot takes integer class ids; received non-integer floats. Round or cast them first.")
    labels = x.long()
    encoded = F.one_hot(labels.clamp(min=0, max=num_classes), num_classes + 1)[..., :num_classes]
    encoded = encoded * (labels >= 0).unsqueeze(-1)
    encoded = encoded.to(to_torch(dtype))
    return encoded if axis in (-1, encoded.ndim - 1) else torch.movedim(encoded, -1, axis)


def multi_hot(inputs: Any = None, num_classes: int | None = None, axis: int = -1, dtype: Any = None,
              sparse: bool = False, **kwargs: Any) -> Tensor:
    """Each row of integer ids as one vector with 1 at every id it holds (a 1-D input is one row)."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise TypeError(f"multi_hot got unexpected arguments {sorted(kwargs)}.")
    if num_classes is None:
        raise ValueError("multi_hot needs num_classes (the size of the encoding); received none.")
    x = convert_to_tensor(inputs)
    encoded = one_hot(x.int(), num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return torch.amax(encoded, dim=1 if x.ndim > 1 else 0)


# ------------------------------------------------------------------------------------------------ cross-entropies
def _same_shape(name: str, target: Tensor, output: Tensor) -> None:
    if target.shape != output.shape:
        raise ValueError(f"{name} needs target and output of one shape; received target {tuple(target.shape)} and "
                         f"output {tuple(output.shape)}.")


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Elementwise ``-(t log p + (1 - t) log(1 - p))``; ``output`` probabilities (clipped to [eps, 1 - eps]) or
    logits when ``from_logits``."""
    target, output = tensors(target, output)
    _same_shape("binary_crossentropy", target, output)
    target = target.to(output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = _epsilon()
    output = torch.clamp(output, eps, 1.0 - eps)
    return -(target * torch.log(output) + (1 - target) * torch.log(1 - output))


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> Tensor:
    """``-sum(t * log p)`` over ``axis``; ``output`` is renormalised and clipped unless ``from_logits``."""
    target, output = tensors(target, output)
    _same_shape("categorical_crossentropy", target, output)
    if output.ndim < 1:
        raise ValueError("categorical_crossentropy needs target and output of rank >= 1; received scalars.")
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        eps = _epsilon()
        log_prob = torch.log(torch.clamp(output / output.sum(dim=axis, keepdim=True), eps, 1.0 - eps))
    return -(target.to(log_prob.dtype) * log_prob).sum(dim=axis)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> Tensor:
    """``-log p[target]`` with integer ``target`` (the class axis removed, or of length 1)."""
    target, output = tensors(target, output)
    if output.ndim < 1:
        raise ValueError("sparse_categorical_crossentropy needs output of rank >= 1; received a scalar.")
    axis = axis % output.ndim
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    expected = tuple(s for d, s in enumerate(output.shape) if d != axis)
    if tuple(target.shape) != expected:
        raise ValueError(f"sparse_categorical_crossentropy needs target of shape {expected} (output "
                         f"{tuple(output.shape)} without its class axis); received {tuple(target.shape)}.")
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        eps = _epsilon()
        log_prob = torch.log(torch.clamp(output / output.sum(dim=axis, keepdim=True), eps, 1.0 - eps))
    picked = torch.gather(log_prob, axis, target.long().unsqueeze(axis))
    return -picked.squeeze(axis)


# ------------------------------------------------------------------------------------------------ normalization
def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple[Tensor, Tensor]:
    """The mean and (population) variance over ``axes``."""
    if synchronized:
        raise NotImplementedError("moments(synchronized=True) is not supported on torch (as in Keras); reduce "
                                  "across processes with torch.distributed instead.")
    x = convert_to_tensor(x)
    dims = tuple(axes) if isinstance(axes, (list, tuple)) else (int(axes),)
    original = x.dtype
    if x.dtype in (torch.float16, torch.bfloat16) or not x.is_floating_point():
        x = x.float()
    mean = x.mean(dim=dims, keepdim=True)
    variance = (x * x).mean(dim=dims, keepdim=True) - mean * mean
    if not keepdims:
        mean, variance = mean.squeeze(dims), variance.squeeze(dims)
    if original in (torch.float16, torch.bfloat16):
        limit = torch.finfo(original).max
        mean, variance = mean.clamp(-limit, limit).to(original), variance.clamp(-limit, limit).to(original)
    return mean, variance


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None, scale: Any = None,
                        epsilon: float = 1e-3) -> Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with the 1-D statistics along ``axis``."""
    x = convert_to_tensor(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def along(v: Any) -> Tensor | None:
        if v is None:
            return None
        v = convert_to_tensor(v, device=x.device)
        if v.numel() != x.shape[axis]:
            raise ValueError(f"batch_normalization needs statistics of length {x.shape[axis]} (axis {axis} of x "
                             f"{tuple(x.shape)}); received shape {tuple(v.shape)}.")
        return v.reshape(shape)

    mean, variance, offset, scale = along(mean), along(variance), along(offset), along(scale)
    inv = torch.rsqrt(variance + epsilon)
    if scale is not None:
        inv = inv * scale
    out = (x - mean) * inv
    return out + offset if offset is not None else out


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``)."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize takes an integer order >= 1; received order={order!r}.")
    x = convert_to_tensor(x)
    if x.ndim == 0:
        x = x.reshape(1)
    eps = _epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = torch.rsqrt((x * x).sum(dim=axis, keepdim=True))
        return x * torch.minimum(inv, torch.tensor(1.0 / eps, dtype=inv.dtype, device=x.device))
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=eps)


def _float32_at_least(x: Tensor) -> Tensor:
    return x.to(to_torch(result_type(x.dtype, "float32")))


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1, epsilon: float | None = None,
                        **kwargs: Any) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis`` (``rms_scaling=True``: no centring of
    the output, as Keras's option does)."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization got unexpected arguments {sorted(kwargs)}.")
    x0 = convert_to_tensor(x)
    x = _float32_at_least(x0)
    eps = _epsilon() if epsilon is None else epsilon
    axes = sorted(a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else [axis]))
    shape = [x.shape[d] if d in axes else 1 for d in range(x.ndim)]

    def along(v: Any) -> Tensor | None:
        return None if v is None else convert_to_tensor(v, x.dtype, device=x.device).reshape(shape)

    gamma, beta = along(gamma), along(beta)
    variance = x.var(dim=axes, keepdim=True, correction=0)
    if rms_scaling:
        out = x * torch.rsqrt(variance + eps)
        out = out * gamma if gamma is not None else out
    else:
        out = (x - x.mean(dim=axes, keepdim=True)) * torch.rsqrt(variance + eps)
        out = out * gamma if gamma is not None else out
        out = out + beta if beta is not None else out
    return out.to(x0.dtype)


def rms_normalization(x: Any, scale: Any = None, axis: Any = -1, epsilon: float | None = None) -> Tensor:
    """``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis``."""
    x0 = convert_to_tensor(x)
    x = _float32_at_least(x0)
    if x.ndim == 0:
        x = x.reshape(1)
    eps = _epsilon() if epsilon is None else epsilon
    axes = sorted(a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else [axis]))
    out = x * torch.rsqrt((x * x).mean(dim=axes, keepdim=True) + eps)
    if scale is not None:
        out = out * convert_to_tensor(scale, x.dtype, device=x.device)
    return out.to(x0.dtype)


def psnr(x1: Any, x2: Any, max_val: float) -> Tensor:
    """The peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)`` in dB."""
    x1, x2 = tensors(x1, x2)
    if x1.shape != x2.shape:
        raise ValueError(f"psnr needs two inputs of one shape; received {tuple(x1.shape)} and {tuple(x2.shape)}.")
    mse = torch.mean((x1 - x2) ** 2)
    peak = torch.tensor(max_val, dtype=mse.dtype, device=mse.device)
    return 20 * torch.log10(peak) - 10 * torch.log10(mse)


def polar(abs_: Any, angle: Any) -> Tensor:
    """The complex numbers ``abs_ * exp(i * angle)``."""
    magnitude, phase = tensors(abs_, angle)
    return torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase))


# ------------------------------------------------------------------------------------------------ attention
def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None,
                          scale: float | None = None, is_causal: bool = False, flash_attention: bool | None = None,
                          attn_logits_soft_cap: float | None = None) -> Tensor:
    """``softmax(q k^T * scale + bias, masked) v`` for (B, T, N, H) query and (B, S, K, H) key/value (K divides N:
    grouped-query attention); ``scale`` defaults to ``1/sqrt(H)``, ``mask`` (broadcast to (B, N, T, S)) keeps
    True positions, ``is_causal`` keeps the lower triangle."""
    q, k, v = tensors(query, key, value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(f"dot_product_attention takes 4-D (batch, time, heads, head_size) tensors; received "
                         f"query {tuple(q.shape)}, key {tuple(k.shape)}, value {tuple(v.shape)}.")
    if bias is not None and mask is not None:
        raise ValueError("dot_product_attention takes bias or mask, not both; fold the mask into the bias.")
    if flash_attention:
        raise ValueError("dot_product_attention(flash_attention=True) is not available here; pass None or False "
                         "(torch picks its fused kernel itself).")
    dtype = to_torch(result_type(q.dtype, k.dtype, v.dtype))
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    heads, kv_heads = q.shape[2], k.shape[2]
    if heads % kv_heads:
        raise ValueError(f"dot_product_attention: {heads} query heads are not a multiple of {kv_heads} key heads.")
    if kv_heads != heads:
        k = k.repeat_interleave(heads // kv_heads, dim=2)
        v = v.repeat_interleave(heads // kv_heads, dim=2)
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    logits = torch.einsum("btnh,bsnh->bnts", q, k) * scale  # (B, N, T, S)
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
    if bias is not None:
        logits = logits + convert_to_tensor(bias, dtype, device=q.device)
    keep = None if mask is None else convert_to_tensor(mask, "bool", device=q.device)
    if is_causal:
        causal = torch.ones(q.shape[1], k.shape[1], dtype=torch.bool, device=q.device).tril()
        keep = causal if keep is None else keep & causal
    if keep is not None:
        large_negative = -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)
        logits = torch.where(keep, logits, torch.tensor(large_negative, dtype=logits.dtype, device=q.device))
    weights = torch.softmax(logits.float() if dtype in (torch.float16, torch.bfloat16) else logits, dim=-1)
    return torch.einsum("bnts,bsnh->btnh", weights.to(dtype), v)
