"""Metrics read from confusion counts at thresholds: the four counts, and the best of one rate under a constraint
on another (SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision)."""

from __future__ import annotations

import torch

from ..utils._confusion import STATE_DTYPE, confusion_counts, evenly_distributed, parse_thresholds
from ..utils._tensors import prediction
from ._core import Metric, _divide_no_nan, _merge_mask

Tensor = torch.Tensor


class _ConditionCount(Metric):
    """The weighted count of one cell of the confusion matrix at each of ``thresholds`` (default 0.5)."""

    _count: str

    def __init__(self, thresholds=None, name: str | None = None):
        super().__init__(name=name)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5)
        self._evenly = evenly_distributed(self.thresholds)

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = prediction(y_pred)
        counts = confusion_counts(y_true, y_pred, self.thresholds, self._evenly,
                                  _merge_mask(sample_weight, mask, y_pred))
        self._add("count", counts[self._count], (len(self.thresholds),))

    def result(self):
        count = self._get("count", (len(self.thresholds),)).clone()
        return count[0] if len(self.thresholds) == 1 else count

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The weighted number of positive targets predicted above the threshold."""
    _count = "tp"


class FalsePositives(_ConditionCount):
    """The weighted number of negative targets predicted above the threshold."""
    _count = "fp"


class TrueNegatives(_ConditionCount):
    """The weighted number of negative targets predicted at or below the threshold."""
    _count = "tn"


class FalseNegatives(_ConditionCount):
    """The weighted number of positive targets predicted at or below the threshold."""
    _count = "fn"


class _AtConstraint(Metric):
    """The best ``dependent`` rate over the ``num_thresholds`` thresholds where the ``constrained`` rate reaches
    ``value``; thresholds are ``[0, 1/(n-1), ..., 1]`` (0.5 alone when n is 1)."""

    direction = "up"
    _value_name: str

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None):
        if not 0 <= value <= 1:
            raise ValueError(f"{type(self).__name__} needs {self._value_name} in the range [0, 1]; received "
                             f"{self._value_name}={value!r}.")
        if num_thresholds <= 0:
            raise ValueError(f"{type(self).__name__} needs num_thresholds > 0; received "
                             f"num_thresholds={num_thresholds!r}.")
        super().__init__(name=name)
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        setattr(self, self._value_name, value)
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = prediction(y_pred)
        counts = confusion_counts(y_true, y_pred, self.thresholds, self._evenly,
                                  _merge_mask(sample_weight, mask, y_pred), class_id=self.class_id)
        for key in ("tp", "fp", "tn", "fn"):
            self._add(key, counts[key], (len(self.thresholds),))

    def _rates(self) -> dict[str, Tensor]:
        tp, fp, tn, fn = (self._get(k, (len(self.thresholds),)) for k in ("tp", "fp", "tn", "fn"))
        return {"sensitivity": _divide_no_nan(tp, tp + fn), "specificity": _divide_no_nan(tn, tn + fp),
                "precision": _divide_no_nan(tp, tp + fp)}

    def _best(self, constrained: Tensor, dependent: Tensor) -> Tensor:
        feasible = torch.where(constrained >= self.value, dependent, torch.zeros_like(dependent))
        return torch.clamp(torch.max(feasible), min=0.0)

    def get_config(self):
        return {"name": self.name, "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self._value_name: self.value}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) where the specificity is at least ``specificity``."""
    _value_name = "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id: int | None = None, name=None):
        super().__init__(specificity, num_thresholds, class_id, name)

    def result(self):
        rates = self._rates()
        return self._best(rates["specificity"], rates["sensitivity"])


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity where the sensitivity (recall) is at least ``sensitivity``."""
    _value_name = "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None, name=None):
        super().__init__(sensitivity, num_thresholds, class_id, name)

    def result(self):
        rates = self._rates()
        return self._best(rates["sensitivity"], rates["specificity"])


class PrecisionAtRecall(_AtConstraint):
    """The best precision where the recall is at least ``recall``."""
    _value_name = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None, name=None):
        super().__init__(recall, num_thresholds, class_id, name)

    def result(self):
        rates = self._rates()
        return self._best(rates["sensitivity"], rates["precision"])


class RecallAtPrecision(_AtConstraint):
    """The best recall where the precision is at least ``precision``."""
    _value_name = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None, name=None):
        super().__init__(precision, num_thresholds, class_id, name)

    def result(self):
        rates = self._rates()
        return self._best(rates["precision"], rates["sensitivity"])
