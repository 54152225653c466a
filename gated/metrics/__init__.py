"""Stateful metrics with Keras's names, formulas and weighting.

A metric accumulates over batches and reports on demand::

    m = metrics.get("mae")
    for y_true, y_pred in batches:
        m.update_state(y_true, y_pred, sample_weight=w, mask=m_bt)   # no host sync
    m.result()                                                      # () float64 tensor
    m.reset_state()

State lives in float64 tensors on the device of the first batch; ``update_state`` never reads a value back to the
host, only ``result()`` does when its caller converts it. ``mask`` (B, T) bool is the hook for masked sequence
outputs: it multiplies into the sample weights, as Keras does for an output's ``_keras_mask`` (Keras skips that step
for Precision, Recall, AUC and RootMeanSquaredError; gated applies it to every metric).

Shapes: B batch, T timesteps, C classes or features.
The package's modules: ``_core`` (the base, the reductions, accuracies, Precision, Recall, AUC), ``_thresholds``
(confusion counts and the rate-under-a-constraint metrics), ``_scores`` (F-scores, R2, correlations), ``_iou``
(intersection over union); ``get`` resolves ``compile(metrics=[...])``. The per-sample loss functions Keras also
exposes here (``binary_crossentropy``, ``huber``, ...) are the functions of ``gated.losses``.
"""

from __future__ import annotations

import inspect
from typing import Any

from .. import losses as _losses
from ..losses import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                      categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
                      mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                      mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)
from ..saving import _registry
from ..utils._naming import to_snake_case, unknown_name_error
from ._core import (
    Metric, Sum, Mean, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, RootMeanSquaredError, LogCoshError, CosineSimilarity,
    Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Precision, Recall, AUC, accuracy, binary_accuracy, categorical_accuracy,
    sparse_categorical_accuracy, top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
)
from ._iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from ._scores import (ConcordanceCorrelation, F1Score, FBetaScore, PearsonCorrelation, R2Score,
                      concordance_correlation, pearson_correlation)
from ._thresholds import (FalseNegatives, FalsePositives, PrecisionAtRecall, RecallAtPrecision,
                          SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives)

# ---------------------------------------------------------------------------------------------------------------
# Resolution of compile(metrics=[...])
# ---------------------------------------------------------------------------------------------------------------

_CLASSES = {cls.__name__: cls for cls in (
    Sum, Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, LogCoshError, CosineSimilarity, Hinge, SquaredHinge,
    CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Precision, Recall, AUC, TruePositives, TrueNegatives, FalsePositives,
    FalseNegatives, PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
    F1Score, FBetaScore, R2Score, PearsonCorrelation, ConcordanceCorrelation, IoU, MeanIoU, BinaryIoU, OneHotIoU,
    OneHotMeanIoU,
)}
_BY_NAME: dict[str, type] = {**_CLASSES, **{to_snake_case(name): cls for name, cls in _CLASSES.items()}}
_BY_NAME.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})
_ACCURACY_FOR_LOSS = {
    _losses.BinaryCrossentropy: BinaryAccuracy, _losses.CategoricalCrossentropy: CategoricalAccuracy,
    _losses.SparseCategoricalCrossentropy: SparseCategoricalAccuracy,
}


def get(identifier: Any, *, y_true_shape: tuple[int, ...] | None = None, y_pred_shape: tuple[int, ...] | None = None,
        loss: Any = None) -> Metric | None:
    """Resolve one entry of ``compile(metrics=[...])`` into a fresh metric named as Keras names it in the history.

    A string keeps its spelling as the name (``'mae'`` reports as ``'mae'``, ``'acc'`` as ``'acc'``). ``'accuracy'``
    and ``'acc'`` become binary, sparse categorical or categorical accuracy: from the first batch's shapes when given
    (Keras 3's rule: a 1-unit output is binary; targets of lower rank or with a trailing 1 are sparse), otherwise
    from the compiled ``loss`` (binary, categorical or sparse categorical crossentropy).
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict) and "class_name" in identifier:  # the serialized form saved model files hold
        return get(deserialize(identifier), y_true_shape=y_true_shape, y_pred_shape=y_pred_shape, loss=loss)
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy_for(identifier, y_true_shape, y_pred_shape, loss)
        if identifier in _BY_NAME:
            metric = _BY_NAME[identifier]()
            metric.name = identifier
            return metric
        raise unknown_name_error("metric", identifier, [*_BY_NAME, "accuracy", "acc"],
                                 shown=[k for k in _BY_NAME if k.islower()] + ["accuracy"],
                                 hint=" Class names such as 'MeanAbsoluteError' work too.")
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):  # a function (y_true, y_pred) -> values, or a Loss: its mean over batches
        return MeanMetricWrapper(identifier, name=getattr(identifier, "name", None))
    raise TypeError(f"A metric must be a name, a Metric or a function (y_true, y_pred) -> values; received "
                    f"{type(identifier).__name__} {identifier!r}.")


def serialize(metric: Metric) -> dict[str, Any]:
    """Keras's serialized form of a metric: ``{'class_name': ..., 'config': ...}`` (``gated.saving.serialize``)."""
    return _registry.serialize(metric)


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """The metric ``serialize`` described: a built-in class by name, or a class or function registered with
    ``gated.saving.register_serializable`` or given in ``custom_objects`` (``gated.saving.deserialize``)."""
    return _registry.deserialize(config, custom_objects, module_objects=_CLASSES, base=Metric)


def _accuracy_for(name: str, y_true_shape, y_pred_shape, loss) -> Metric:
    if y_true_shape is not None and y_pred_shape is not None:
        is_binary, is_sparse = _losses.is_binary_or_sparse_categorical(tuple(y_true_shape), tuple(y_pred_shape))
        cls = BinaryAccuracy if is_binary else SparseCategoricalAccuracy if is_sparse else CategoricalAccuracy
        return cls(name=name)
    resolved = _losses.get(loss) if isinstance(loss, str) and loss.lower() not in ("crossentropy", "ce") else loss
    for loss_cls, cls in _ACCURACY_FOR_LOSS.items():
        if isinstance(resolved, loss_cls):
            return cls(name=name)
    raise ValueError(
        f"Metric '{name}' is resolved from the shapes of the targets and predictions (or from a crossentropy loss); "
        f"received neither (loss={loss!r}). Pass y_true_shape and y_pred_shape, or name the metric: "
        "'binary_accuracy', 'categorical_accuracy' or 'sparse_categorical_accuracy'."
    )
