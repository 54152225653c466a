"""Losses with Keras's names, formulas and reductions.

Each loss exists twice, as in Keras: a function (``mean_squared_error(y_true, y_pred)``) that returns one value per
sample and timestep, with the last axis reduced, and a class (``MeanSquaredError()``) whose ``__call__`` weights those
values and reduces them to the scalar that training minimises::

    loss = losses.get("mse")                   # MeanSquaredError-like, name 'mse'
    value = loss(y_true, y_pred, sample_weight=w, mask=m)   # () tensor, differentiable w.r.t. y_pred

Shapes: B batch, T timesteps, C classes or features. For sequence outputs (B, T, C) the functions return (B, T);
``sample_weight`` may be (B,) or (B, T); ``mask`` is (B, T) bool and merges into the weights exactly as Keras merges
an output's ``_keras_mask``. The default ``'sum_over_batch_size'`` reduction divides the weighted sum by the number
of values (by the number of unmasked values when a mask is given), not by the sum of the weights.

Computations run in the dtype of ``y_pred`` (float16 and bfloat16 are raised to float32); probabilities are
clipped to ``[eps, 1 - eps]`` where Keras clips them, ``eps`` being ``gated.backend.epsilon()`` (1e-7 unless
``set_epsilon`` changed it).
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any, Callable

import torch
import torch.nn.functional as F

from .ops import nn as _nn
from .saving import _registry
from .utils._config import epsilon
from .utils._naming import to_snake_case, unknown_name_error
from .utils._tensors import as_tensor, broadcast_multiply, pair, prediction, squeeze_or_expand_to_same_rank

EPSILON = 1e-7  # Keras's default fuzz factor; the losses read the current one from epsilon()
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)

Tensor = torch.Tensor


# ---------------------------------------------------------------------------------------------------------------
# Loss functions: (y_true, y_pred) -> per-sample values with the last axis reduced
# ---------------------------------------------------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=epsilon()))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    first_log = torch.log(torch.clamp(y_pred, min=epsilon()) + 1.0)
    second_log = torch.log(torch.clamp(y_true, min=epsilon()) + 1.0)
    return torch.mean(torch.square(first_log - second_log), dim=-1)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / epsilon())


def cosine_similarity(y_true, y_pred, axis: int = -1):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


def huber(y_true, y_pred, delta: float = 1.0):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    error = y_pred - y_true
    abs_error = torch.abs(error)
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * delta**2
    return torch.mean(torch.where(abs_error <= delta, quadratic, linear), dim=-1)


def log_cosh(y_true, y_pred):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    x = y_pred - y_true
    return torch.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)  # log(cosh(x)) without overflow


def kl_divergence(y_true, y_pred):
    y_true, y_pred = pair(y_true, y_pred)
    y_true = torch.clamp(y_true, epsilon(), 1.0)
    y_pred = torch.clamp(y_pred, epsilon(), 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred):
    y_true, y_pred = pair(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + epsilon()), dim=-1)


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Keras maps {0, 1} labels to {-1, 1} when every label is 0 or 1 (decided on device, without a host sync)."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    y_true, y_pred = pair(y_true, y_pred)
    return torch.mean(torch.clamp(1.0 - _hinge_labels(y_true) * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true, y_pred):
    y_true, y_pred = pair(y_true, y_pred)
    return torch.mean(torch.square(torch.clamp(1.0 - _hinge_labels(y_true) * y_pred, min=0.0)), dim=-1)


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = pair(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
    y_true, y_pred = pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(_crossentropy_shape_message("binary_crossentropy", y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        # torch raises a RuntimeError on a NaN; a NaN prediction or target gives a NaN loss instead (fit then stops
        # cleanly, with the last good weights), with no host sync.
        nan = torch.isnan(y_pred) | torch.isnan(y_true)
        with torch.autocast(y_pred.device.type, enabled=False):  # CUDA autocast refuses F.binary_cross_entropy
            eps = epsilon()
            values = F.binary_cross_entropy(torch.clamp(torch.nan_to_num(y_pred, nan=0.5), eps, 1.0 - eps),
                                            torch.nan_to_num(y_true, nan=0.5), reduction="none")
        values = torch.where(nan, torch.full_like(values, float("nan")), values)
    return torch.mean(values, dim=axis)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
    y_true, y_pred = pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(_crossentropy_shape_message("categorical_crossentropy", y_true, y_pred))
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"categorical_crossentropy received predictions of shape {tuple(y_pred.shape)} with a single class, so "
            "the loss is always 0. With 2 classes and 1 output unit use loss='binary_crossentropy'.",
            stacklevel=2,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=axis)
    else:
        y_pred = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(y_pred, epsilon(), 1.0 - epsilon()))
    return -torch.sum(y_true * log_prob, dim=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                              axis: int = -1):
    """Binary crossentropy times the focal factor ``(1 - p_t)**gamma``; with class balancing also ``alpha`` for 1s
    and ``1 - alpha`` for 0s."""
    y_true, y_pred = pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(_crossentropy_shape_message("binary_crossentropy", y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    eps = epsilon()
    with torch.autocast(y_pred.device.type, enabled=False):
        bce = F.binary_cross_entropy(torch.clamp(y_pred, eps, 1.0 - eps), y_true, reduction="none")
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    values = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        values = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * values
    return torch.mean(values, dim=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
    """``sum(alpha * (1 - p)**gamma * -y_true * log(p), axis)`` with ``p`` the renormalised, clipped probabilities."""
    if isinstance(axis, bool):
        raise TypeError(f"categorical_focal_crossentropy takes an integer axis; received axis={axis!r}.")
    y_true, y_pred = pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(_crossentropy_shape_message("categorical_crossentropy", y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    output = torch.clamp(output, epsilon(), 1.0 - epsilon())
    alpha = torch.as_tensor(alpha, dtype=output.dtype, device=output.device)
    return torch.sum(alpha * torch.pow(1.0 - output, gamma) * (-y_true * torch.log(output)), dim=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q: float):
    """``(1 - p**q) / q`` with ``p`` the predicted probability of the integer label ``y_true`` (B,) or (B, 1)."""
    y_pred = prediction(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    labels = y_true.long()
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    one_hot = F.one_hot(labels, y_pred.shape[-1]).to(y_pred.dtype)
    if one_hot.ndim < y_pred.ndim:  # Keras broadcasts a (B,) label tensor one-hot encoded to (B, C)
        one_hot = one_hot.reshape(one_hot.shape[:1] + (1,) * (y_pred.ndim - one_hot.ndim) + one_hot.shape[1:])
    p = torch.sum(y_pred * one_hot, dim=-1)
    return (1.0 - torch.pow(p, q)) / q


def dice(y_true, y_pred, axis=None):
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`` over ``axis`` (all axes by default)."""
    y_true, y_pred = pair(y_true, y_pred)
    dims = _dims(axis, y_pred)
    intersection = _sum(y_true * y_pred, dims)
    return 1.0 - 2.0 * intersection / (_sum(y_true, dims) + _sum(y_pred, dims) + epsilon())


def tversky(y_true, y_pred, alpha: float = 0.5, beta: float = 0.5, axis=None):
    """``1 - TP / (TP + alpha * FP + beta * FN + eps)`` with soft counts over ``axis`` (all axes by default).

    As in Keras, ``FP`` sums ``(1 - y_pred) * y_true`` and ``FN`` sums ``y_pred * (1 - y_true)``.
    """
    y_true, y_pred = pair(y_true, y_pred)
    dims = _dims(axis, y_pred)
    intersection = _sum(y_true * y_pred, dims)
    fp = _sum((1.0 - y_pred) * y_true, dims)
    fn = _sum(y_pred * (1.0 - y_true), dims)
    return 1.0 - intersection / (intersection + fp * alpha + fn * beta + epsilon())


def _dims(axis, x: Tensor):
    if axis is None:
        return None
    return tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)


def _sum(x: Tensor, dims) -> Tensor:
    return torch.sum(x) if dims is None else torch.sum(x, dim=dims)


def _circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal: bool = True, gamma: float = 80,
            margin: float = 0.4) -> tuple[Tensor, Tensor]:
    """Circle loss values (B,) and the mask of the positive ones, which Keras's reduction counts."""
    y_pred = prediction(y_pred)
    labels = as_tensor(y_true, device=y_pred.device).long()
    ref_embeddings = y_pred if ref_embeddings is None else as_tensor(ref_embeddings, y_pred.dtype, y_pred.device)
    ref_labels = labels if ref_labels is None else as_tensor(ref_labels, device=y_pred.device).long()
    distances = torch.clamp(1.0 - y_pred @ ref_embeddings.T, min=0.0)  # (B, R) cosine distances
    positive = labels.reshape(-1, 1) == ref_labels.reshape(-1, 1).T
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(*positive.shape, dtype=torch.bool, device=positive.device)
    pos_weights = torch.clamp((margin + distances) * positive.to(distances.dtype), min=0.0)
    neg_weights = torch.clamp((1.0 + margin - distances) * negative.to(distances.dtype), min=0.0)
    pos_terms = -gamma * pos_weights * (margin - distances)
    neg_terms = gamma * neg_weights * ((1.0 - margin) - distances)
    minus_inf = torch.full_like(distances, float("-inf"))
    p_loss = torch.logsumexp(torch.where(positive, pos_terms, minus_inf), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_terms, minus_inf), dim=1)
    values = F.softplus(p_loss + n_loss)
    return values, values > 0


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal: bool = True, gamma: float = 80,
           margin: float = 0.4):
    """Circle loss (Sun et al., 2020) between integer labels (B,) and L2-normalised embeddings (B, E)."""
    return _circle(y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal, gamma, margin)[0]


def ctc(y_true, y_pred):
    """CTC loss (B,) between integer labels (B, L), 0 being the blank and padding, and logits (B, T, C)."""
    y_pred = prediction(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.ndim != 2:
        raise ValueError(f"ctc needs integer targets of shape (batch_size, max_length); received y_true of shape "
                         f"{tuple(y_true.shape)}.")
    if y_pred.ndim != 3:
        raise ValueError(f"ctc needs logits of shape (batch_size, max_length, num_classes); received y_pred of shape "
                         f"{tuple(y_pred.shape)}.")
    batch, steps = y_pred.shape[:2]
    input_length = torch.full((batch,), steps, dtype=torch.int32, device=y_pred.device)
    label_length = torch.sum(y_true != 0, dim=-1).to(torch.int32)
    return _nn.ctc_loss(y_true, y_pred, label_length, input_length, mask_index=0)


def _sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class, axis) -> tuple[Tensor, Tensor | None]:
    """Values and, with ``ignore_class``, the (B, ...) mask of the labels that count."""
    y_pred = prediction(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    axis = axis % y_pred.ndim
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    expected = tuple(d for i, d in enumerate(y_pred.shape) if i != axis)
    if tuple(y_true.shape) != expected:
        raise ValueError(_crossentropy_shape_message("sparse_categorical_crossentropy", y_true, y_pred))
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        y_true = torch.where(valid, y_true, torch.zeros_like(y_true))
    labels = y_true.long()
    if labels.device.type == "cpu" and labels.numel():  # on an accelerator, reporting would sync the host
        _check_labels(labels, y_pred.shape[axis], valid)
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=axis)
    else:
        y_pred = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(y_pred, epsilon(), 1.0 - epsilon()))
    values = -torch.gather(log_prob, axis, labels.unsqueeze(axis)).squeeze(axis)
    if valid is not None:
        values = torch.where(valid, values, torch.zeros_like(values))
    return values, valid


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None,
                                    axis: int = -1):
    return _sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class, axis)[0]


def _check_labels(labels: Tensor, num_classes: int, valid: Tensor | None) -> None:
    bad = (labels < 0) | (labels >= num_classes)
    if valid is not None:
        bad &= valid
    if bool(bad.any()):
        position = tuple(int(i) for i in bad.nonzero()[0].tolist())
        value = int(labels[position])
        raise ValueError(
            f"sparse_categorical_crossentropy received the integer label {value}, but the predictions have "
            f"{num_classes} classes, so labels must lie in [0, {num_classes - 1}] (the first label outside is at "
            f"index {position} of the targets). Check that the last layer has one unit per class, or pass "
            "ignore_class= for a padding label."
        )


def check_sparse_labels(y_true: Tensor, num_classes: int, ignore_class: int | None = None) -> None:
    """Raise ValueError naming the first label of ``y_true`` (B, ...) or (B, ..., 1) outside [0, num_classes)."""
    labels = y_true.squeeze(-1) if y_true.ndim > 1 and y_true.shape[-1] == 1 else y_true
    if not labels.numel():
        return
    valid = None if ignore_class is None else labels != ignore_class
    _check_labels(labels.long(), num_classes, valid)


def check_binary_targets(y_true: Tensor) -> None:
    """Raise ValueError naming the first target of a binary crossentropy outside [0, 1]."""
    bad = (y_true < 0) | (y_true > 1)
    if bool(bad.any()):
        position = tuple(int(i) for i in bad.nonzero()[0].tolist())
        raise ValueError(
            f"binary_crossentropy received the target {float(y_true[position]):g} (at index {position} of the "
            "targets), but it needs targets in [0, 1]: 0/1 labels or probabilities. For more than two classes use "
            "Dense(n_classes, activation='softmax') with loss='sparse_categorical_crossentropy' and labels 0 to "
            "n_classes - 1; for numeric targets use loss='mse'."
        )


def _crossentropy_shape_message(name: str, y_true: Tensor, y_pred: Tensor) -> str:
    t, p = tuple(y_true.shape), tuple(y_pred.shape)
    msg = f"Targets of shape {t} do not match the predictions {p} for loss '{name}'."
    if name == "binary_crossentropy" and t[:-1] == p[:-1] and p[-1:] == (1,) and t[-1:] == (2,):
        msg += (" The targets look one-hot encoded (2 classes), while the predictions have 1 unit. Either pass the "
                "0/1 labels without to_categorical, or end the model with Dense(2, activation='softmax') and use "
                "loss='categorical_crossentropy'.")
    elif name == "binary_crossentropy":
        msg += " Binary crossentropy needs one target per prediction, of the same shape."
    elif name == "categorical_crossentropy" and (t == p[:-1] or t == p[:-1] + (1,)):
        msg += (" The targets look like integer class labels; use loss='sparse_categorical_crossentropy', or one-hot "
                f"encode them with to_categorical(y, num_classes={p[-1]}).")
    elif name == "categorical_crossentropy":
        msg += " Categorical crossentropy needs one-hot targets of the same shape as the predictions."
    elif name == "sparse_categorical_crossentropy" and t == p:
        msg += (" The targets look one-hot encoded; use loss='categorical_crossentropy', or pass the integer labels "
                "(y.argmax(-1)).")
    else:
        msg += f" Sparse categorical crossentropy needs integer labels of shape {p[:-1]} (or {p[:-1] + (1,)})."
    return msg


# ---------------------------------------------------------------------------------------------------------------
# Weighting and reduction (keras/src/losses/loss.py)
# ---------------------------------------------------------------------------------------------------------------

def _standardize_reduction(reduction: str | None) -> str | None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid loss reduction {reduction!r}. Expected one of 'sum_over_batch_size', 'sum', 'mean', "
            "'mean_with_sample_weight', 'none' or None."
        )
    return reduction


def _merge_mask(sample_weight: Tensor | None, mask: Tensor, reduction: str | None, dtype: torch.dtype) -> Tensor:
    """Fold a bool mask into the weights so that a mean over all entries becomes a mean over the unmasked ones."""
    if reduction in ("mean", "sum_over_batch_size"):
        valid = torch.sum(mask, dtype=dtype)
        scale = torch.where(valid > 0, mask.numel() / valid, torch.zeros_like(valid))  # total / valid, 0 if none
        float_mask = torch.where(mask, scale, torch.zeros_like(scale))
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return broadcast_multiply(sample_weight, float_mask)


def reduce_weighted_values(values: Tensor, sample_weight: Any = None, mask: Any = None,
                           reduction: str | None = "sum_over_batch_size") -> Tensor:
    """Weight per-sample ``values`` by ``sample_weight`` and ``mask`` and reduce them, as Keras's ``Loss`` does.

    Unlike Keras, a (B,) ``sample_weight`` broadcasts along the batch axis of (B, T) values (Keras raises there).
    """
    reduction = _standardize_reduction(reduction)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, values.dtype, values.device)
    if mask is not None:
        mask = as_tensor(mask, torch.bool, values.device)
        sample_weight = _merge_mask(sample_weight, mask, reduction, values.dtype)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = broadcast_multiply(values, sample_weight)
    if reduction in (None, "none") or values.ndim == 0:
        return values
    total = torch.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = torch.sum(sample_weight)
        return torch.where(divisor != 0, total / divisor, torch.zeros_like(total))  # Keras's divide_no_nan
    return total / values.numel() if values.numel() else total


# ---------------------------------------------------------------------------------------------------------------
# Loss classes
# ---------------------------------------------------------------------------------------------------------------

class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample values."""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None) -> Tensor:
        """The reduced loss, a () tensor; ``mask`` (B, T) bool marks the timesteps that count."""
        values, own_mask = self.compute(y_true, y_pred)
        if own_mask is not None:
            mask = own_mask if mask is None else as_tensor(mask, torch.bool, values.device) & own_mask
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def compute(self, y_true, y_pred) -> tuple[Tensor, Tensor | None]:
        """Per-sample values and the mask the loss itself produces (only ``ignore_class`` makes one)."""
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Loss":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """A loss class around a function ``fn(y_true, y_pred, **kwargs)``; aligns ranks first, as Keras does."""

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 **kwargs):
        super().__init__(name=name or to_snake_case(getattr(fn, "__name__", type(fn).__name__)),
                         reduction=reduction)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class _Builtin(LossFunctionWrapper):
    """A built-in loss: ``fn`` is fixed by the class and the config is the keyword arguments."""

    fn: Callable
    default_name: str

    def __init__(self, reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name)

    def _setup(self, reduction, name, **kwargs):
        LossFunctionWrapper.__init__(self, type(self).fn, reduction=reduction, name=name or self.default_name,
                                     **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)


class MeanSquaredError(_Builtin):
    """``mean((y_true - y_pred)**2, axis=-1)``."""
    fn, default_name = staticmethod(mean_squared_error), "mean_squared_error"


class MeanAbsoluteError(_Builtin):
    """``mean(|y_true - y_pred|, axis=-1)``."""
    fn, default_name = staticmethod(mean_absolute_error), "mean_absolute_error"


class MeanAbsolutePercentageError(_Builtin):
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, 1e-7)|, axis=-1)``."""
    fn, default_name = staticmethod(mean_absolute_percentage_error), "mean_absolute_percentage_error"


class MeanSquaredLogarithmicError(_Builtin):
    """``mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))**2, axis=-1)``."""
    fn, default_name = staticmethod(mean_squared_logarithmic_error), "mean_squared_logarithmic_error"


class CosineSimilarity(_Builtin):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for identical directions."""
    fn, default_name = staticmethod(cosine_similarity), "cosine_similarity"

    def __init__(self, axis: int = -1, reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name, axis=axis)


class Huber(_Builtin):
    """``0.5 * e**2`` for ``|e| <= delta``, ``delta * |e| - 0.5 * delta**2`` beyond; averaged over the last axis."""
    fn, default_name = staticmethod(huber), "huber_loss"

    def __init__(self, delta: float = 1.0, reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name, delta=delta)


class LogCosh(_Builtin):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``."""
    fn, default_name = staticmethod(log_cosh), "log_cosh"


class Hinge(_Builtin):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; 0/1 labels are mapped to -1/1."""
    fn, default_name = staticmethod(hinge), "hinge"


class SquaredHinge(_Builtin):
    """``mean(max(1 - y_true * y_pred, 0)**2, axis=-1)``; 0/1 labels are mapped to -1/1."""
    fn, default_name = staticmethod(squared_hinge), "squared_hinge"


class CategoricalHinge(_Builtin):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis."""
    fn, default_name = staticmethod(categorical_hinge), "categorical_hinge"


class KLDivergence(_Builtin):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to [1e-7, 1]."""
    fn, default_name = staticmethod(kl_divergence), "kl_divergence"


class Poisson(_Builtin):
    """``mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)``."""
    fn, default_name = staticmethod(poisson), "poisson"


class BinaryCrossentropy(_Builtin):
    """Binary crossentropy on probabilities (clipped to [1e-7, 1 - 1e-7]) or, with ``from_logits``, on logits.

    ``label_smoothing`` s squeezes the targets towards 0.5: ``y * (1 - s) + 0.5 * s``.
    """
    fn, default_name = staticmethod(binary_crossentropy), "binary_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_Builtin):
    """Crossentropy between one-hot (B, ..., C) targets and probabilities or logits over the classes.

    Probabilities are renormalised to sum to 1 and clipped to [1e-7, 1 - 1e-7]; ``label_smoothing`` s turns the
    targets into ``y * (1 - s) + s / C``.
    """
    fn, default_name = staticmethod(categorical_crossentropy), "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_Builtin):
    """Crossentropy between integer labels (B, ...) or (B, ..., 1) and (B, ..., C) probabilities or logits.

    Labels equal to ``ignore_class`` contribute nothing and, as in Keras, leave the ``'sum_over_batch_size'``
    denominator too.
    """
    fn, default_name = staticmethod(sparse_categorical_crossentropy), "sparse_categorical_crossentropy"

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1,
                 reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name, from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def compute(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
        return _sparse_categorical_crossentropy(y_true, y_pred, self.from_logits, self.ignore_class, self.axis)


class BinaryFocalCrossentropy(_Builtin):
    """Binary crossentropy weighted by the focal factor ``(1 - p_t)**gamma`` (Lin et al., 2018).

    With ``apply_class_balancing`` the values of 1s are also weighted by ``alpha`` and those of 0s by ``1 - alpha``.
    """
    fn, default_name = staticmethod(binary_focal_crossentropy), "binary_focal_crossentropy"

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name, apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                    from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(_Builtin):
    """Categorical crossentropy on one-hot targets weighted by ``alpha * (1 - p)**gamma`` per class."""
    fn, default_name = staticmethod(categorical_focal_crossentropy), "categorical_focal_crossentropy"

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1, reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name, alpha=alpha, gamma=gamma, from_logits=from_logits,
                    label_smoothing=label_smoothing, axis=axis)


class CategoricalGeneralizedCrossEntropy(_Builtin):
    """``(1 - p**q) / q`` for integer labels, ``p`` the probability of the true class (Zhang and Sabuncu, 2018)."""
    fn, default_name = staticmethod(categorical_generalized_cross_entropy), "categorical_generalized_cross_entropy"

    def __init__(self, q: float = 0.5, reduction="sum_over_batch_size", name=None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy needs q in (0, 1); received q={q!r}.")
        self._setup(reduction, name, q=q)


class Dice(_Builtin):
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`` over ``axis`` (all axes if None)."""
    fn, default_name = staticmethod(dice), "dice"

    def __init__(self, reduction="sum_over_batch_size", name=None, axis=None):
        self._setup(reduction, name, axis=axis)


class Tversky(_Builtin):
    """``1 - TP / (TP + alpha * FP + beta * FN + eps)``; ``alpha = beta = 0.5`` is the Dice loss."""
    fn, default_name = staticmethod(tversky), "tversky"

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction="sum_over_batch_size", name=None,
                 axis=None):
        self._setup(reduction, name, alpha=alpha, beta=beta, axis=axis)


class Circle(_Builtin):
    """Circle loss between integer labels (B,) and L2-normalised embeddings (B, E); only positive values count
    in the ``'sum_over_batch_size'`` mean, as in Keras."""
    fn, default_name = staticmethod(circle), "circle"

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction="sum_over_batch_size", name=None):
        self._setup(reduction, name, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)

    def compute(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
        return _circle(y_true, y_pred, None, None, self.remove_diagonal, self.gamma, self.margin)


class CTC(_Builtin):
    """CTC loss between integer labels (B, L), 0 the blank and padding, and logits (B, T, C)."""
    fn, default_name = staticmethod(ctc), "ctc"

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)  # the (B, L) labels and (B, T, C) logits keep their ranks


# ---------------------------------------------------------------------------------------------------------------
# Resolution of compile(loss=...)
# ---------------------------------------------------------------------------------------------------------------

_CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity,
    Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy, Dice, Tversky, Circle, CTC,
)}
_FUNCTIONS = {cls.fn.__name__: cls for cls in _CLASSES.values()}  # 'mean_squared_error' -> MeanSquaredError
_ALIASES = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error", "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error", "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "KLD": "kl_divergence", "bce": "binary_crossentropy", "BCE": "binary_crossentropy",
}
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence


def is_binary_or_sparse_categorical(y_true_shape: tuple[int, ...], y_pred_shape: tuple[int, ...]
                                    ) -> tuple[bool, bool]:
    """Keras's guess from the first batch: a 1-unit output is binary; integer-like targets are sparse."""
    is_binary = y_pred_shape[-1] == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1)
    return is_binary, is_sparse


def get(identifier: Any, y_true_shape: tuple[int, ...] | None = None,
        y_pred_shape: tuple[int, ...] | None = None) -> Loss | None:
    """Resolve ``compile(loss=...)``: a Keras name, a class, a ``Loss``, a function or a ``torch.nn`` loss module.

    Names resolve as in Keras: ``'mse'`` and ``'mean_squared_error'`` give the function's loss named as written,
    ``'MeanSquaredError'`` the class with its default name. ``'crossentropy'`` (or ``'ce'``) picks binary, sparse or
    categorical crossentropy from the shapes of the first batch, as Keras does.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):  # the serialized form: a built-in, registered or custom_objects class
        return get(deserialize(identifier), y_true_shape, y_pred_shape)
    if isinstance(identifier, str):
        return _from_name(identifier, y_true_shape, y_pred_shape)
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, torch.nn.Module):  # torch's losses take (input, target)
        module = identifier
        return LossFunctionWrapper(lambda y_true, y_pred: module(y_pred, y_true),
                                   name=to_snake_case(type(module).__name__))
    if callable(identifier):
        return LossFunctionWrapper(identifier, name=getattr(identifier, "name", None))
    raise TypeError(
        f"A loss must be a name, a Loss, a function (y_true, y_pred) -> values or a torch.nn loss module; received "
        f"{type(identifier).__name__} {identifier!r}."
    )


def _from_name(name: str, y_true_shape, y_pred_shape) -> Loss:
    if name.lower() in ("crossentropy", "ce"):
        if y_true_shape is None or y_pred_shape is None:
            raise ValueError(
                f"Loss '{name}' is resolved from the shapes of the targets and predictions; pass y_true_shape and "
                "y_pred_shape, or name the loss: 'binary_crossentropy', 'categorical_crossentropy' or "
                "'sparse_categorical_crossentropy'."
            )
        is_binary, is_sparse = is_binary_or_sparse_categorical(tuple(y_true_shape), tuple(y_pred_shape))
        cls = BinaryCrossentropy if is_binary else SparseCategoricalCrossentropy if is_sparse else \
            CategoricalCrossentropy
        return cls(name=name)
    if name in _CLASSES:
        return _CLASSES[name]()
    function_name = _ALIASES.get(name, name)
    if function_name in _FUNCTIONS:
        return _FUNCTIONS[function_name](name=name)
    known = [*_FUNCTIONS, *_ALIASES, "crossentropy"]
    raise unknown_name_error("loss", name, [*known, *_CLASSES], plural="losses",
                             shown=[k for k in known if k.islower()],
                             hint=" Class names such as 'MeanSquaredError' work too.")


def serialize(loss: Loss) -> dict[str, Any]:
    """Keras's serialized form of a loss: ``{'class_name': ..., 'config': ...}`` (``gated.saving.serialize``)."""
    return _registry.serialize(loss)


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """The loss ``serialize`` described: a built-in class by name, or a class or function registered with
    ``gated.saving.register_serializable`` or given in ``custom_objects`` (``gated.saving.deserialize``)."""
    return _registry.deserialize(config, custom_objects, module_objects=_CLASSES, base=Loss)
