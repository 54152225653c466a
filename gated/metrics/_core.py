"""The Metric base, the reductions (Sum, Mean, wrappers of per-sample functions), accuracies, Precision,
Recall and AUC."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from .. import losses as _losses
from ..utils._confusion import NEG_INF, STATE_DTYPE, confusion_counts, evenly_distributed, parse_thresholds
from ..utils._naming import to_snake_case
from ..utils._tensors import as_tensor, broadcast_multiply, prediction, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor


def _merge_mask(sample_weight: Any, mask: Any, like: Tensor) -> Tensor | None:
    """Keras's ``apply_mask(..., reduction='sum')``: the 0/1 mask times the weights, batch axes aligned."""
    if mask is None:
        return None if sample_weight is None else as_tensor(sample_weight, STATE_DTYPE, like.device)
    mask = as_tensor(mask, STATE_DTYPE, like.device)
    if sample_weight is None:
        return mask
    sample_weight = as_tensor(sample_weight, STATE_DTYPE, like.device)
    return broadcast_multiply(*squeeze_or_expand_to_same_rank(mask, sample_weight))


class Metric:
    """Base class: subclasses accumulate into ``self._state`` (through ``_add``) and implement ``update_state`` and
    ``result``. Every accumulator is a float64 tensor created on the device of the first batch."""

    direction: str | None = None  # 'up' or 'down': which way is better (for callbacks' mode='auto')

    def __init__(self, name: str | None = None):
        self.name = name or to_snake_case(type(self).__name__)
        self._state: dict[str, Tensor] = {}

    def _variable(self, key: str, device: torch.device, shape: tuple[int, ...] = ()) -> Tensor:
        """The accumulator ``key``, created (zero) on first use on ``device``."""
        if key not in self._state:
            self._state[key] = torch.zeros(shape, dtype=STATE_DTYPE, device=device)
        elif self._state[key].device != device:
            self._state[key] = self._state[key].to(device)
        return self._state[key]

    def _add(self, key: str, value: Tensor, shape: tuple[int, ...] = ()) -> None:
        variable = self._variable(key, value.device, shape)
        variable += value.to(STATE_DTYPE)

    def _get(self, key: str, shape: tuple[int, ...] = ()) -> Tensor:
        return self._state[key] if key in self._state else torch.zeros(shape, dtype=STATE_DTYPE)

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self) -> Tensor:
        raise NotImplementedError

    def reset_state(self) -> None:
        for value in self._state.values():
            value.zero_()

    def __call__(self, *args, **kwargs) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


# ---------------------------------------------------------------------------------------------------------------
# Reductions: Sum, Mean and metrics that average a per-sample function
# ---------------------------------------------------------------------------------------------------------------

def _samplewise(values: Tensor, sample_weight: Tensor | None, reduce: Callable) -> tuple[Tensor, Tensor | None]:
    """Keras's ``reduce_to_samplewise_values``: weight, then reduce every axis but the batch axis."""
    values = values.to(STATE_DTYPE)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, STATE_DTYPE, values.device)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce(values, dim=tuple(range(sample_weight.ndim, values.ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce(sample_weight, dim=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce(values, dim=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The weighted sum of all values seen."""

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = _samplewise(as_tensor(values), sample_weight, torch.sum)
        self._add("total", torch.sum(values))

    def result(self):
        return self._get("total").clone()


class Mean(Metric):
    """The weighted mean of all values seen: per sample the mean over the non-batch axes, then over samples."""

    def update_state(self, values, sample_weight=None) -> None:
        values = as_tensor(values)
        values, sample_weight = _samplewise(values, sample_weight, torch.mean)
        self._add("total", torch.sum(values))
        if sample_weight is not None:
            self._add("count", torch.sum(sample_weight))
        else:
            count = float(values.shape[0]) if values.ndim >= 1 else 1.0
            self._variable("count", values.device).add_(count)

    def result(self):
        total, count = self._get("total"), self._get("count")
        return torch.where(count != 0, total / count, torch.zeros_like(total))


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over samples (and timesteps), weighted and masked."""

    def __init__(self, fn: Callable, name: str | None = None, **kwargs):
        super().__init__(name=name or to_snake_case(getattr(fn, "__name__", type(fn).__name__)))
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, _merge_mask(sample_weight, mask, values))

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}


class _Builtin(MeanMetricWrapper):
    """A built-in wrapper metric: ``fn`` is fixed by the class and the config is the keyword arguments."""

    fn: Callable
    default_name: str

    def __init__(self, name=None):
        self._setup(name)

    def _setup(self, name, **kwargs):
        MeanMetricWrapper.__init__(self, type(self).fn, name=name or self.default_name, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)


# ---------------------------------------------------------------------------------------------------------------
# Accuracy functions: (y_true, y_pred) -> 1.0 where right, 0.0 where wrong
# ---------------------------------------------------------------------------------------------------------------

def accuracy(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred)
    return (y_true == y_pred).float()


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == (y_pred > threshold).to(y_true.dtype)).float()


def _one_hot_classes(y_true, y_pred: Tensor) -> Tensor:
    """The class of each one-hot (or soft) target row: its arg-max, for boolean and integer targets too."""
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.dtype == torch.bool:  # argmax has no boolean kernel
        y_true = y_true.to(torch.uint8)
    return torch.argmax(y_true, dim=-1)


def categorical_accuracy(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    return (_one_hot_classes(y_true, y_pred) == torch.argmax(y_pred, dim=-1)).float()


def _sparse_labels(y_true, y_pred: Tensor) -> Tensor:
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    y_true = _sparse_labels(y_true, y_pred)
    matches = (y_true.to(y_pred.dtype) == torch.argmax(y_pred, dim=-1).to(y_pred.dtype)).float()
    return matches.squeeze(-1) if matches.ndim > 1 and matches.shape[-1] == 1 else matches


def _in_top_k(labels: Tensor, y_pred: Tensor, k: int) -> Tensor:
    """Keras's ``in_top_k``: the label's score is at least the k-th largest (ties count as in)."""
    k = min(k, y_pred.shape[-1])
    kth = torch.topk(y_pred, k, dim=-1).values[..., -1]
    return torch.gather(y_pred, -1, labels.long().unsqueeze(-1)).squeeze(-1) >= kth


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    y_pred = as_tensor(y_pred)
    return _in_top_k(_one_hot_classes(y_true, y_pred), y_pred, k).float()


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5, from_sorted_ids: bool = False):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.ndim == y_pred.ndim:  # Keras flattens (B, 1) labels with the batch
        y_true = y_true.reshape(y_pred.shape[:-1]) if y_true.shape[-1] == 1 else y_true
    if from_sorted_ids:  # y_pred holds class ids, best first
        return torch.any(y_pred[..., :k] == y_true.to(y_pred.dtype).unsqueeze(-1), dim=-1).float()
    return _in_top_k(y_true, y_pred, k).float()


def _metric_cosine_similarity(y_true, y_pred, axis: int = -1):
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


_metric_cosine_similarity.__name__ = "cosine_similarity"


class Accuracy(_Builtin):
    """How often predictions equal the targets exactly."""
    fn, default_name, direction = staticmethod(accuracy), "accuracy", "up"


class BinaryAccuracy(_Builtin):
    """How often ``y_pred > threshold`` equals the 0/1 target."""
    fn, default_name, direction = staticmethod(binary_accuracy), "binary_accuracy", "up"

    def __init__(self, name=None, threshold: float = 0.5):
        self._setup(name, threshold=threshold)


class CategoricalAccuracy(_Builtin):
    """How often the arg-max of the prediction equals the arg-max of the one-hot target."""
    fn, default_name, direction = staticmethod(categorical_accuracy), "categorical_accuracy", "up"


class SparseCategoricalAccuracy(_Builtin):
    """How often the arg-max of the prediction equals the integer label."""
    fn, default_name, direction = staticmethod(sparse_categorical_accuracy), "sparse_categorical_accuracy", "up"


class TopKCategoricalAccuracy(_Builtin):
    """How often the one-hot target's class is among the ``k`` highest predictions."""
    fn, default_name, direction = staticmethod(top_k_categorical_accuracy), "top_k_categorical_accuracy", "up"

    def __init__(self, k: int = 5, name=None):
        self._setup(name, k=k)


class SparseTopKCategoricalAccuracy(_Builtin):
    """How often the integer label is among the ``k`` highest predictions."""
    fn, default_name, direction = (staticmethod(sparse_top_k_categorical_accuracy),
                                   "sparse_top_k_categorical_accuracy", "up")

    def __init__(self, k: int = 5, name=None, from_sorted_ids: bool = False):
        self._setup(name, k=k, from_sorted_ids=from_sorted_ids)


class MeanSquaredError(_Builtin):
    fn, default_name, direction = staticmethod(_losses.mean_squared_error), "mean_squared_error", "down"


class MeanAbsoluteError(_Builtin):
    fn, default_name, direction = staticmethod(_losses.mean_absolute_error), "mean_absolute_error", "down"


class MeanAbsolutePercentageError(_Builtin):
    fn, default_name, direction = (staticmethod(_losses.mean_absolute_percentage_error),
                                   "mean_absolute_percentage_error", "down")


class MeanSquaredLogarithmicError(_Builtin):
    fn, default_name, direction = (staticmethod(_losses.mean_squared_logarithmic_error),
                                   "mean_squared_logarithmic_error", "down")


class LogCoshError(_Builtin):
    fn, default_name, direction = staticmethod(_losses.log_cosh), "logcosh", "down"


class CosineSimilarity(_Builtin):
    """The mean cosine similarity (1 for identical directions; the loss of the same name is its negative)."""
    fn, default_name, direction = staticmethod(_metric_cosine_similarity), "cosine_similarity", "up"

    def __init__(self, name=None, axis: int = -1):
        self._setup(name, axis=axis)


class Hinge(_Builtin):
    fn, default_name, direction = staticmethod(_losses.hinge), "hinge", "down"


class SquaredHinge(_Builtin):
    fn, default_name, direction = staticmethod(_losses.squared_hinge), "squared_hinge", "down"


class CategoricalHinge(_Builtin):
    fn, default_name, direction = staticmethod(_losses.categorical_hinge), "categorical_hinge", "down"


class KLDivergence(_Builtin):
    fn, default_name, direction = staticmethod(_losses.kl_divergence), "kl_divergence", "down"


class Poisson(_Builtin):
    fn, default_name, direction = staticmethod(_losses.poisson), "poisson", "down"


class BinaryCrossentropy(_Builtin):
    fn, default_name, direction = staticmethod(_losses.binary_crossentropy), "binary_crossentropy", "down"

    def __init__(self, name=None, from_logits: bool = False, label_smoothing: float = 0.0):
        self._setup(name, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(_Builtin):
    fn, default_name, direction = staticmethod(_losses.categorical_crossentropy), "categorical_crossentropy", "down"

    def __init__(self, name=None, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
        self._setup(name, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_Builtin):
    """Labels equal to ``ignore_class`` are left out of the mean."""
    fn, default_name, direction = (staticmethod(_losses.sparse_categorical_crossentropy),
                                   "sparse_categorical_crossentropy", "down")

    def __init__(self, name=None, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1):
        self._setup(name, from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        values, valid = _losses._sparse_categorical_crossentropy(y_true, y_pred, self.from_logits,
                                                                 self.ignore_class, self.axis)
        if valid is not None:
            mask = valid if mask is None else as_tensor(mask, torch.bool, valid.device) & valid
        Mean.update_state(self, values, _merge_mask(sample_weight, mask, values))


class RootMeanSquaredError(Mean):
    """``sqrt`` of the weighted mean squared error over all elements."""
    direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = as_tensor(y_pred).to(STATE_DTYPE)
        y_true, y_pred = squeeze_or_expand_to_same_rank(as_tensor(y_true, STATE_DTYPE, y_pred.device), y_pred)
        super().update_state(torch.square(y_pred - y_true), _merge_mask(sample_weight, mask, y_pred))

    def result(self):
        return torch.sqrt(super().result())


# ---------------------------------------------------------------------------------------------------------------
# Confusion-matrix metrics: Precision, Recall, AUC (keras/src/metrics/metrics_utils.py)
# ---------------------------------------------------------------------------------------------------------------

class _ConfusionMetric(Metric):
    direction = "up"
    _counts: tuple[str, ...]

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None):
        super().__init__(name=name)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = evenly_distributed(self.thresholds)

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = prediction(y_pred)
        counts = confusion_counts(y_true, y_pred, self.thresholds, self._evenly,
                                  _merge_mask(sample_weight, mask, y_pred), self.top_k, self.class_id)
        for key in self._counts:
            self._add(key, counts[key], (len(self.thresholds),))

    def _ratio(self, a: str, b: str) -> Tensor:
        shape = (len(self.thresholds),)
        num, den = self._get(a, shape), self._get(a, shape) + self._get(b, shape)
        value = torch.where(den != 0, num / den, torch.zeros_like(num))
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """``tp / (tp + fp)`` at ``thresholds`` (default 0.5; with ``top_k``, only the k highest count as positive)."""
    _counts = ("tp", "fp")

    def result(self):
        return self._ratio("tp", "fp")


class Recall(_ConfusionMetric):
    """``tp / (tp + fn)`` at ``thresholds`` (default 0.5; with ``top_k``, only the k highest count as positive)."""
    _counts = ("tp", "fn")

    def result(self):
        return self._ratio("tp", "fn")


def _divide_no_nan(a: Tensor, b: Tensor) -> Tensor:
    return torch.where(b != 0, a / torch.where(b != 0, b, torch.ones_like(b)), torch.zeros_like(a))


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at ``num_thresholds`` evenly spaced thresholds.

    Keras's estimator: trapezoids for ROC (``summation_method='interpolation'``), and for PR the interpolation of
    Davis & Goadrich (2006). ``multi_label`` keeps one curve per label of (B, L) predictions and averages the areas
    (weighted by ``label_weights``); otherwise every element counts as one prediction.
    """

    direction = "up"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, thresholds=None, multi_label: bool = False, num_labels: int | None = None,
                 label_weights=None, from_logits: bool = False):
        super().__init__(name=name)
        curves = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
        if str(curve).lower() not in curves:
            raise ValueError(f"Invalid AUC curve {curve!r}. Expected one of 'ROC', 'PR', 'PRGAIN'.")
        if str(summation_method).lower() not in ("interpolation", "majoring", "minoring"):
            raise ValueError(f"Invalid AUC summation_method {summation_method!r}. Expected one of 'interpolation', "
                             "'majoring', 'minoring'.")
        if num_labels and not multi_label:
            raise ValueError("AUC's num_labels is needed only when multi_label=True.")
        self.curve, self.summation_method = curves[str(curve).lower()], str(summation_method).lower()
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_distributed(np.array([0.0] + inner + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC's num_thresholds must be an integer > 1; received {num_thresholds}.")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._init_thresholds = thresholds
        self.thresholds = [0.0 - _losses.EPSILON] + inner + [1.0 + _losses.EPSILON]
        self.multi_label, self.num_labels, self.from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else torch.as_tensor(label_weights, dtype=STATE_DTYPE)

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = prediction(y_pred)
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError(f"AUC(multi_label=True) needs y_pred of rank 2 (batch, labels); received shape "
                             f"{tuple(y_pred.shape)}.")
        if self.from_logits:
            y_pred = torch.sigmoid(y_pred)
        counts = confusion_counts(y_true, y_pred, self.thresholds, self._evenly,
                                  _merge_mask(sample_weight, mask, y_pred), multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights)
        for key in ("tp", "fp", "tn", "fn"):
            self._add(key, counts[key], tuple(counts[key].shape))

    def _average(self, by_threshold: Tensor) -> Tensor:
        if not self.multi_label:
            return torch.sum(by_threshold)
        by_label = torch.sum(by_threshold, dim=0)
        if self.label_weights is None:
            return torch.mean(by_label)
        weights = self.label_weights.to(by_label.device)
        return _divide_no_nan(torch.sum(by_label * weights), torch.sum(weights))

    def _interpolate_pr_auc(self, tp, fp, fn) -> Tensor:
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = torch.where(both_positive, _divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)),
                                   torch.ones_like(p[1:]))
        increment = _divide_no_nan(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                                   torch.clamp(tp[1:] + fn[1:], min=0))
        return self._average(increment)

    def result(self):
        if "tp" not in self._state:
            return torch.zeros((), dtype=STATE_DTYPE)
        tp, fp, tn, fn = (self._state[k] for k in ("tp", "fp", "tn", "fn"))
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc(tp, fp, fn)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scale = _divide_no_nan(tp + fn, tn + fp)
            recall_gain = torch.where(tp == 0, torch.zeros_like(tp), 1.0 - scale * _divide_no_nan(fn, tp))
            precision_gain = torch.where(tp == 0, torch.ones_like(tp), 1.0 - scale * _divide_no_nan(fp, tp))
            x, y = torch.clamp(recall_gain, min=0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def get_config(self):
        config = {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "from_logits": self.from_logits,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist()}
        if self._init_thresholds is not None:
            config["thresholds"] = self.thresholds[1:-1]
        return config
