"""Tensor plumbing shared by losses and metrics: conversion and Keras's rank alignment."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor


def as_tensor(x: Any, dtype: torch.dtype | None = None, device: torch.device | None = None) -> Tensor:
    """``x`` (tensor, numpy array, list or number) as a tensor; numpy keeps its dtype, lists get torch's default."""
    if isinstance(x, Tensor):
        return x.to(dtype=dtype or x.dtype, device=device or x.device)
    if isinstance(x, (np.ndarray, np.generic)):
        x = np.ascontiguousarray(x)
    return torch.as_tensor(x, dtype=dtype, device=device)


def prediction(y_pred: Any) -> Tensor:
    """``y_pred`` as a floating tensor of at least float32 precision."""
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point() or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()
    return y_pred


def pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    """Targets in the dtype and on the device of the predictions."""
    y_pred = prediction(y_pred)
    return as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred


def squeeze_or_expand_to_same_rank(x1: Tensor, x2: Tensor, expand_rank_1: bool = True) -> tuple[Tensor, Tensor]:
    """Keras's rank alignment: drop a trailing 1 (or add one to a rank-1 tensor) when the ranks differ by one."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def expand_trailing(x: Tensor, ndim: int) -> Tensor:
    """Add trailing axes so that a (B,) weight broadcasts against (B, T) values along the batch axis."""
    return x.reshape(tuple(x.shape) + (1,) * (ndim - x.ndim)) if x.ndim < ndim else x


def broadcast_multiply(a: Tensor, b: Tensor) -> Tensor:
    ndim = max(a.ndim, b.ndim)
    return expand_trailing(a, ndim) * expand_trailing(b, ndim)
