"""Intersection over union from a confusion matrix accumulated over batches (keras/src/metrics/iou_metrics.py)."""

from __future__ import annotations

import torch

from ..utils._config import epsilon
from ..utils._confusion import STATE_DTYPE
from ..utils._tensors import as_tensor, prediction
from ._core import Metric, _merge_mask

Tensor = torch.Tensor


class IoU(Metric):
    """``tp / (tp + fp + fn)`` per class of ``target_class_ids``, averaged over the classes that occurred.

    Labels (and, with ``sparse_y_pred``, predictions) are class ids of any shape; with ``sparse_y_true=False`` or
    ``sparse_y_pred=False`` they are one-hot or scores along ``axis`` and their argmax counts. Labels equal to
    ``ignore_class`` and ids outside ``[0, num_classes)`` are left out. As in Keras, whose matrix is integer,
    sample weights are truncated to integers.
    """

    direction = "up"

    def __init__(self, num_classes: int, target_class_ids, name: str | None = None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True, axis: int = -1):
        target_class_ids = list(target_class_ids)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"{type(self).__name__}: target class id {max(target_class_ids)} is out of the range "
                             f"[0, {num_classes}) of num_classes={num_classes}.")
        super().__init__(name=name)
        self.num_classes, self.target_class_ids, self.ignore_class = num_classes, target_class_ids, ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = prediction(y_pred)
        y_true = as_tensor(y_true, device=y_pred.device)
        if not self.sparse_y_true:
            y_true = torch.argmax(y_true, dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = torch.argmax(y_pred, dim=self.axis)
        y_true, y_pred = y_true.to(torch.int64).reshape(-1), y_pred.to(torch.int64).reshape(-1)
        weights = _merge_mask(sample_weight, mask, y_pred)
        if weights is None:
            weights = torch.ones(y_true.shape, dtype=STATE_DTYPE, device=y_true.device)
        weights = torch.broadcast_to(torch.trunc(weights.reshape(-1) if weights.ndim else weights), y_true.shape)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        weights = torch.where(valid, weights, torch.zeros_like(weights))
        index = torch.where(valid, y_true, 0) * n + torch.where(valid, y_pred, 0)
        matrix = torch.zeros(n * n, dtype=STATE_DTYPE, device=y_true.device)
        matrix.index_add_(0, index, weights.to(STATE_DTYPE))
        self._add("matrix", matrix.reshape(n, n), (n, n))  # rows: labels, columns: predictions

    def result(self):
        n = self.num_classes
        matrix = self._get("matrix", (n, n))
        tp = torch.diagonal(matrix)
        denominator = matrix.sum(0) + matrix.sum(1) - tp
        ids = torch.tensor(self.target_class_ids, device=matrix.device)
        tp, denominator = tp[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = torch.where(valid, tp / (denominator + epsilon()), torch.zeros_like(tp))
        return torch.sum(iou) / (torch.sum(valid.to(STATE_DTYPE)) + epsilon())

    def get_config(self):
        return {"name": self.name, "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of binary targets and predictions thresholded at ``threshold`` (``>=`` counts as class 1)."""

    def __init__(self, target_class_ids=(0, 1), threshold: float = 0.5, name: str | None = None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        y_pred = prediction(y_pred)
        super().update_state(y_true, (y_pred >= self.threshold).to(torch.int64), sample_weight, mask)

    def get_config(self):
        return {"name": self.name, "target_class_ids": self.target_class_ids, "threshold": self.threshold}


class MeanIoU(IoU):
    """IoU averaged over every one of the ``num_classes`` classes that occurred."""

    def __init__(self, num_classes: int, name: str | None = None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(num_classes, list(range(num_classes)), name=name, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """IoU of one-hot targets and scores (argmax along ``axis``) or, with ``sparse_y_pred``, class ids."""

    def __init__(self, num_classes: int, target_class_ids, name: str | None = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, target_class_ids, name=name, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU of one-hot targets and scores (argmax along ``axis``) or, with ``sparse_y_pred``, class ids."""

    def __init__(self, num_classes: int, name: str | None = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, name=name, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
