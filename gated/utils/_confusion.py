"""Weighted confusion counts per threshold, as Keras's ``metrics_utils.update_confusion_matrix_variables``."""

from __future__ import annotations

import numpy as np
import torch

from ._tensors import as_tensor, expand_trailing, prediction, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor
STATE_DTYPE = torch.float64
EPSILON = 1e-7
NEG_INF = -1e10


def parse_thresholds(thresholds, default: float) -> list[float]:
    """A float or a list of floats in [0, 1] as a list; ``default`` when None."""
    if thresholds is None:
        return [default]
    values = [thresholds] if np.isscalar(thresholds) else list(thresholds)
    invalid = [t for t in values if t is None or not 0 <= t <= 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def evenly_distributed(thresholds) -> bool:
    """Whether the thresholds are i / (n - 1) for i = 0..n-1 (within 1e-7), as Keras decides."""
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON)


def confusion_counts(y_true, y_pred, thresholds: list[float], evenly: bool, sample_weight=None, top_k=None,
                     class_id=None, multi_label=False, label_weights: Tensor | None = None) -> dict[str, Tensor]:
    """Weighted tp, fp, tn, fn per threshold (per label too with ``multi_label``) for one batch.

    A prediction counts as positive at a threshold when it is strictly above it; ``evenly`` spaced thresholds
    take Keras's bucketed path, which gives the same counts in one pass over the batch.
    """
    y_pred = prediction(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    weights = None
    if sample_weight is not None:
        weights = as_tensor(sample_weight, STATE_DTYPE, y_pred.device).unsqueeze(-1)
        _, weights = squeeze_or_expand_to_same_rank(y_true, weights, expand_rank_1=False)
    if top_k is not None:
        top = torch.topk(y_pred, min(top_k, y_pred.shape[-1]), dim=-1).indices
        keep = torch.zeros_like(y_pred, dtype=torch.bool).scatter_(-1, top, True)
        y_pred = torch.where(keep, y_pred, torch.full_like(y_pred, NEG_INF))
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"With class_id, y_pred must be (batch, num_classes); received {tuple(y_pred.shape)}.")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    if weights is not None:
        weights = torch.broadcast_to(expand_trailing(weights, y_pred.ndim), y_pred.shape)
    if label_weights is not None:
        lw = torch.broadcast_to(label_weights.to(y_pred.device, STATE_DTYPE), y_pred.shape)
        weights = lw if weights is None else weights * lw
    if weights is None:
        weights = torch.ones(y_pred.shape, dtype=STATE_DTYPE, device=y_pred.device)
    is_true = (y_true != 0).to(STATE_DTYPE)
    if not multi_label:
        y_pred, is_true, weights = y_pred.reshape(-1), is_true.reshape(-1), weights.reshape(-1)
    true_w, false_w = is_true * weights, (1.0 - is_true) * weights  # (B*...) or, with multi_label, (B, L)
    total_true, total_false = true_w.sum(0), false_w.sum(0)
    n = len(thresholds)
    if evenly:  # bucket each prediction once: O(batch) instead of O(batch * thresholds)
        bucket = torch.ceil(torch.clamp(y_pred, 0.0, 1.0) * (n - 1)) - 1
        if thresholds[0] < 0.0 or thresholds[-1] > 1.0:
            bucket = torch.relu(bucket)
        counted = (bucket >= 0).to(STATE_DTYPE)  # -1: a 0.0 prediction, above no threshold when the first is 0.0
        index = torch.clamp(bucket, min=0).long()
        shape = (n,) + tuple(y_pred.shape[1:])  # (n,) or (n, L)
        if multi_label:  # one set of buckets per label
            labels = y_pred.shape[-1]
            index = index * labels + torch.arange(labels, device=index.device)
        tp = y_pred.new_zeros(shape, dtype=STATE_DTYPE).reshape(-1)
        fp = torch.zeros_like(tp)
        tp.index_add_(0, index.reshape(-1), (true_w * counted).reshape(-1))
        fp.index_add_(0, index.reshape(-1), (false_w * counted).reshape(-1))
        tp = tp.reshape(shape).flip(0).cumsum(0).flip(0)  # a prediction counts at every threshold below its bucket
        fp = fp.reshape(shape).flip(0).cumsum(0).flip(0)
    else:
        thresholds_t = torch.tensor(thresholds, dtype=y_pred.dtype).to(y_pred.device, non_blocking=True)
        above = (y_pred.unsqueeze(0) > thresholds_t.reshape((n,) + (1,) * y_pred.ndim)).to(STATE_DTYPE)
        tp, fp = torch.sum(above * true_w, dim=1), torch.sum(above * false_w, dim=1)
    return {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}
