"""F-scores, R2 and the correlation metrics (keras/src/metrics/f_score_metrics.py, regression and correlation
metrics). Inputs are (B, C): B samples, C classes or outputs."""

from __future__ import annotations

import warnings

import torch

from ..utils._config import epsilon
from ..utils._confusion import STATE_DTYPE
from ..utils._tensors import as_tensor, pair, prediction, squeeze_or_expand_to_same_rank
from ._core import Metric, MeanMetricWrapper, _merge_mask

Tensor = torch.Tensor


def _check_2d(metric: str, y_true: Tensor, y_pred: Tensor) -> None:
    if y_true.ndim != 2 or y_pred.ndim != 2:
        raise ValueError(f"{metric} expects 2-D inputs of shape (batch_size, output_dim); received "
                         f"y_pred.shape={tuple(y_pred.shape)} and y_true.shape={tuple(y_true.shape)}.")


class FBetaScore(Metric):
    """``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)`` over (B, C) one-hot or multi-label
    targets, per class (``average=None``), over all entries (``'micro'``), or averaged over the classes (``'macro'``,
    or ``'weighted'`` by the weighted number of true entries per class).

    ``threshold=None`` counts the highest prediction of each sample as positive (several on ties; none when it is 0).
    """

    direction = "up"

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score"):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__} takes average None, 'micro', 'macro' or 'weighted'; received "
                             f"average={average!r}.")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"{type(self).__name__} needs beta, a Python float > 0; received beta={beta!r}.")
        if threshold is not None and (not isinstance(threshold, float) or not 0.0 < threshold <= 1.0):
            raise ValueError(f"{type(self).__name__} needs threshold, a Python float with 0 < threshold <= 1, or "
                             f"None; received threshold={threshold!r}.")
        super().__init__(name=name)
        self.average, self.beta, self.threshold = average, beta, threshold

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = prediction(y_pred).to(STATE_DTYPE)
        y_true = as_tensor(y_true, STATE_DTYPE, y_pred.device)
        _check_2d(type(self).__name__, y_true, y_pred)
        if self.threshold is None:
            top = torch.amax(y_pred, dim=-1, keepdim=True)
            positive = (y_pred >= top) & (torch.abs(y_pred) > 1e-9)
        else:
            positive = y_pred > self.threshold
        y_pred = positive.to(STATE_DTYPE)
        weights = _merge_mask(sample_weight, mask, y_pred)
        dim = None if self.average == "micro" else 0
        shape = () if self.average == "micro" else (y_pred.shape[-1],)

        def weighted_sum(values: Tensor) -> Tensor:
            if weights is not None:
                values = values * weights.reshape(-1, 1)
            return torch.sum(values) if dim is None else torch.sum(values, dim=dim)

        self._add("tp", weighted_sum(y_pred * y_true), shape)
        self._add("fp", weighted_sum(y_pred * (1.0 - y_true)), shape)
        self._add("fn", weighted_sum((1.0 - y_pred) * y_true), shape)
        self._add("support", weighted_sum(y_true), shape)

    def result(self):
        if "tp" not in self._state:
            return torch.zeros((), dtype=STATE_DTYPE)
        tp, fp, fn, support = (self._state[k] for k in ("tp", "fp", "fn", "support"))
        eps = epsilon()
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        score = precision * recall / (self.beta**2 * precision + recall + eps) * (1 + self.beta**2)
        if self.average == "weighted":
            return torch.sum(score * support / (torch.sum(support) + eps))
        if self.average is not None:
            return torch.mean(score)
        return score

    def get_config(self):
        return {"name": self.name, "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F-score with ``beta=1``: the harmonic mean of precision and recall."""

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score"):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """The coefficient of determination over (B, C) targets, per output (``class_aggregation=None``), averaged
    (``'uniform_average'``) or weighted by each output's variance (``'variance_weighted_average'``); with
    ``num_regressors`` p > 0 the adjusted score ``1 - (1 - R2) * (n - 1) / (n - p - 1)``, n the number of entries.
    """

    direction = "up"

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score"):
        choices = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in choices:
            raise ValueError(f"R2Score takes class_aggregation in {choices}; received "
                             f"class_aggregation={class_aggregation!r}.")
        if num_regressors < 0:
            raise ValueError(f"R2Score needs num_regressors >= 0; received num_regressors={num_regressors!r}.")
        super().__init__(name=name)
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = prediction(y_pred).to(STATE_DTYPE)
        y_true, y_pred = squeeze_or_expand_to_same_rank(as_tensor(y_true, STATE_DTYPE, y_pred.device), y_pred)
        _check_2d("R2Score", y_true, y_pred)
        weights = _merge_mask(sample_weight, mask, y_pred)
        if weights is None:
            weights = torch.ones((), dtype=STATE_DTYPE, device=y_pred.device)
        if weights.ndim == 1:
            weights = weights.unsqueeze(1)
        weights = torch.broadcast_to(weights, y_true.shape)
        shape = (y_true.shape[-1],)
        self._add("sum", torch.sum(y_true * weights, dim=0), shape)
        self._add("squared_sum", torch.sum(y_true * y_true * weights, dim=0), shape)
        self._add("residual", torch.sum(torch.square(y_true - y_pred) * weights, dim=0), shape)
        self._add("count", torch.sum(weights, dim=0), shape)
        self._variable("num_samples", y_pred.device).add_(float(y_true.numel()))

    def result(self):
        if "sum" not in self._state:
            return torch.zeros((), dtype=STATE_DTYPE)
        total_sum, count = self._state["sum"], self._state["count"]
        total = self._state["squared_sum"] - total_sum * (total_sum / count)
        raw = 1.0 - self._state["residual"] / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = torch.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = torch.sum(total * raw) / torch.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n, p = float(self._state["num_samples"]), float(self.num_regressors)
            if p > n - 1:
                warnings.warn("R2Score: more regressors than data points for the adjusted R2 score; returning the "
                              "plain R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("R2Score: the adjusted R2 score divides by zero (num_regressors = n - 1); returning "
                              "the plain R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return score

    def get_config(self):
        return {"name": self.name, "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


def pearson_correlation(y_true, y_pred, axis: int = -1):
    """Pearson's correlation of ``y_true`` and ``y_pred`` along ``axis`` (population standard deviations)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    true_centered = y_true - torch.mean(y_true, dim=axis, keepdim=True)
    pred_centered = y_pred - torch.mean(y_pred, dim=axis, keepdim=True)
    true_centered = true_centered / torch.std(true_centered, dim=axis, keepdim=True, correction=0)
    pred_centered = pred_centered / torch.std(pred_centered, dim=axis, keepdim=True, correction=0)
    return torch.mean(true_centered * pred_centered, dim=axis)


def concordance_correlation(y_true, y_pred, axis: int = -1):
    """Lin's concordance correlation along ``axis``, with Keras's covariance term
    ``(y_true - mean(y_pred)) * (y_pred - mean(y_pred))``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pair(y_true, y_pred))
    true_mean = torch.mean(y_true, dim=axis, keepdim=True)
    pred_mean = torch.mean(y_pred, dim=axis, keepdim=True)
    true_var = torch.var(y_true - true_mean, dim=axis, keepdim=True, correction=0)
    pred_var = torch.var(y_pred - pred_mean, dim=axis, keepdim=True, correction=0)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + torch.square(true_mean - pred_mean)
    return torch.mean(2.0 * covariance / (norm + epsilon()), dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean over batches of ``pearson_correlation`` along ``axis``."""

    direction = "up"

    def __init__(self, name: str = "pearson_correlation", axis: int = -1):
        super().__init__(pearson_correlation, name=name, axis=axis)
        self.axis = axis


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean over batches of ``concordance_correlation`` along ``axis``."""

    direction = "up"

    def __init__(self, name: str = "concordance_correlation", axis: int = -1):
        super().__init__(concordance_correlation, name=name, axis=axis)
        self.axis = axis
