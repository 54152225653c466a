"""Metrics against real Keras (torch backend) over several ``update_state`` calls, with weights and masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gated import metrics

B, T, C = 6, 4, 5


def make_batch(kind: str, shape: tuple[int, ...], rng: np.random.Generator):
    """(y_true, y_pred) float32 numpy arrays; ``shape`` is the shape of the predictions."""
    pred = rng.normal(size=shape)
    if kind == "regression":
        y_true = rng.normal(size=shape)
        y_true.flat[0] = 0.0
        return y_true.astype(np.float32), pred.astype(np.float32)
    if kind == "positive":
        return rng.random(shape).astype(np.float32), (rng.random(shape) + 0.01).astype(np.float32)
    if kind == "binary_probs":
        probs = np.round(rng.random(shape), 2)  # repeated values and exact thresholds, as real models produce
        probs.flat[:3] = [0.0, 1.0, 0.5]
        return (rng.random(shape) > 0.5).astype(np.float32), probs.astype(np.float32)
    if kind == "binary_logits":
        return (rng.random(shape) > 0.5).astype(np.float32), pred.astype(np.float32)
    if kind == "equal":
        y_true = rng.integers(0, 3, size=shape)
        return y_true.astype(np.float32), np.where(rng.random(shape) > 0.3, y_true, 0).astype(np.float32)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    probs = np.exp(pred) / np.exp(pred).sum(-1, keepdims=True)
    if kind == "sparse":
        return labels.astype(np.float32), probs.astype(np.float32)
    if kind == "sparse_1":
        return labels[..., None].astype(np.float32), probs.astype(np.float32)
    return np.eye(shape[-1])[labels].astype(np.float32), probs.astype(np.float32)  # one-hot


# name -> (gated factory, keras factory (given the keras module), kind, prediction shapes)
SEQ = [(B, C), (B, T, C)]
BIN = [(B, 1), (B, T, 1), (B, 3)]
CASES = {
    "accuracy": (metrics.Accuracy, lambda k: k.metrics.Accuracy(), "equal", [(B,), (B, T)]),
    "binary_accuracy": (metrics.BinaryAccuracy, lambda k: k.metrics.BinaryAccuracy(), "binary_probs", BIN),
    "binary_accuracy_0.3": (lambda: metrics.BinaryAccuracy(threshold=0.3),
                            lambda k: k.metrics.BinaryAccuracy(threshold=0.3), "binary_probs", BIN),
    "categorical_accuracy": (metrics.CategoricalAccuracy, lambda k: k.metrics.CategoricalAccuracy(), "onehot", SEQ),
    "sparse_categorical_accuracy": (metrics.SparseCategoricalAccuracy,
                                    lambda k: k.metrics.SparseCategoricalAccuracy(), "sparse", SEQ),
    "sparse_categorical_accuracy_1": (metrics.SparseCategoricalAccuracy,
                                      lambda k: k.metrics.SparseCategoricalAccuracy(), "sparse_1", SEQ),
    "top_k": (lambda: metrics.TopKCategoricalAccuracy(k=2), lambda k: k.metrics.TopKCategoricalAccuracy(k=2),
              "onehot", SEQ),
    "sparse_top_k": (lambda: metrics.SparseTopKCategoricalAccuracy(k=2),
                     lambda k: k.metrics.SparseTopKCategoricalAccuracy(k=2), "sparse", SEQ),
    "mse": (metrics.MeanSquaredError, lambda k: k.metrics.MeanSquaredError(), "regression", SEQ),
    "mae": (metrics.MeanAbsoluteError, lambda k: k.metrics.MeanAbsoluteError(), "regression", SEQ),
    "rmse": (metrics.RootMeanSquaredError, lambda k: k.metrics.RootMeanSquaredError(), "regression", SEQ),
    "mape": (metrics.MeanAbsolutePercentageError, lambda k: k.metrics.MeanAbsolutePercentageError(), "regression",
             SEQ),
    "msle": (metrics.MeanSquaredLogarithmicError, lambda k: k.metrics.MeanSquaredLogarithmicError(), "positive",
             SEQ),
    "logcosh": (metrics.LogCoshError, lambda k: k.metrics.LogCoshError(), "regression", SEQ),
    "cosine_similarity": (metrics.CosineSimilarity, lambda k: k.metrics.CosineSimilarity(), "regression", SEQ),
    "hinge": (metrics.Hinge, lambda k: k.metrics.Hinge(), "binary_logits", SEQ),
    "squared_hinge": (metrics.SquaredHinge, lambda k: k.metrics.SquaredHinge(), "binary_logits", SEQ),
    "categorical_hinge": (metrics.CategoricalHinge, lambda k: k.metrics.CategoricalHinge(), "onehot", SEQ),
    "kl_divergence": (metrics.KLDivergence, lambda k: k.metrics.KLDivergence(), "onehot", SEQ),
    "poisson": (metrics.Poisson, lambda k: k.metrics.Poisson(), "positive", SEQ),
    "binary_crossentropy": (lambda: metrics.BinaryCrossentropy(from_logits=True),
                            lambda k: k.metrics.BinaryCrossentropy(from_logits=True), "binary_logits", BIN),
    "categorical_crossentropy": (lambda: metrics.CategoricalCrossentropy(label_smoothing=0.1),
                                 lambda k: k.metrics.CategoricalCrossentropy(label_smoothing=0.1), "onehot", SEQ),
    "sparse_categorical_crossentropy": (metrics.SparseCategoricalCrossentropy,
                                        lambda k: k.metrics.SparseCategoricalCrossentropy(), "sparse", SEQ),
    "precision": (metrics.Precision, lambda k: k.metrics.Precision(), "binary_probs", BIN),
    "recall": (metrics.Recall, lambda k: k.metrics.Recall(), "binary_probs", BIN),
    "precision_thresholds": (lambda: metrics.Precision(thresholds=[0.2, 0.5, 0.8]),
                             lambda k: k.metrics.Precision(thresholds=[0.2, 0.5, 0.8]), "binary_probs", BIN),
    "recall_even_thresholds": (lambda: metrics.Recall(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]),
                               lambda k: k.metrics.Recall(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]), "binary_probs",
                               BIN),
    "precision_top_k": (lambda: metrics.Precision(top_k=2), lambda k: k.metrics.Precision(top_k=2), "binary_probs",
                        [(B, 4)]),
    "recall_class_id": (lambda: metrics.Recall(class_id=1), lambda k: k.metrics.Recall(class_id=1), "binary_probs",
                        [(B, 3)]),
    "auc_roc": (metrics.AUC, lambda k: k.metrics.AUC(), "binary_probs", BIN),
    "auc_pr": (lambda: metrics.AUC(curve="PR"), lambda k: k.metrics.AUC(curve="PR"), "binary_probs", BIN),
    "auc_prgain": (lambda: metrics.AUC(curve="PRGAIN", num_thresholds=50),
                   lambda k: k.metrics.AUC(curve="PRGAIN", num_thresholds=50), "binary_probs", BIN),
    "auc_majoring": (lambda: metrics.AUC(summation_method="majoring", num_thresholds=20),
                     lambda k: k.metrics.AUC(summation_method="majoring", num_thresholds=20), "binary_probs", BIN),
    "auc_pr_minoring": (lambda: metrics.AUC(curve="PR", summation_method="minoring"),
                        lambda k: k.metrics.AUC(curve="PR", summation_method="minoring"), "binary_probs", BIN),
    "auc_thresholds": (lambda: metrics.AUC(thresholds=[0.3, 0.5, 0.9]),
                       lambda k: k.metrics.AUC(thresholds=[0.3, 0.5, 0.9]), "binary_probs", BIN),
    "auc_logits": (lambda: metrics.AUC(from_logits=True), lambda k: k.metrics.AUC(from_logits=True),
                   "binary_logits", BIN),
    "auc_multi_label": (lambda: metrics.AUC(multi_label=True, label_weights=[0.2, 0.5, 0.3]),
                        lambda k: k.metrics.AUC(multi_label=True, label_weights=[0.2, 0.5, 0.3]), "binary_probs",
                        [(B, 3)]),
    "auc_multi_label_pr": (lambda: metrics.AUC(multi_label=True, curve="PR", num_thresholds=30),
                           lambda k: k.metrics.AUC(multi_label=True, curve="PR", num_thresholds=30),
                           "binary_probs", [(B, 3)]),
}


def run_both(keras, case, shape, weights_for, mask_for=None, seed=0):
    """Three batches through our metric and Keras's; returns both results as numpy."""
    ours_factory, keras_factory, kind, _ = CASES[case]
    ours, theirs = ours_factory(), keras_factory(keras)
    rng = np.random.default_rng(seed)
    for step in range(3):
        y_true, y_pred = make_batch(kind, shape, rng)
        sw = weights_for(step, rng)
        mask = mask_for(rng) if mask_for else None
        ours.update_state(y_true, torch.tensor(y_pred), sample_weight=sw, mask=mask)
        keras_sw = sw
        if sw is not None and sw.ndim == 1 and len(shape) == 3:
            keras_sw = sw[:, None]  # Keras's confusion metrics cannot broadcast (B,) over (B, T, 1); (B, 1) is the same
        if mask is not None:
            keras_sw = mask.astype(np.float32) if sw is None else sw * mask
        theirs.update_state(y_true, y_pred, sample_weight=keras_sw)
    return ours.result().numpy(), np.asarray(theirs.result())


@pytest.mark.parametrize("case", sorted(CASES))
def test_metric_matches_keras_over_batches(keras, case):
    for shape in CASES[case][3]:
        batch_weights = np.linspace(0.1, 2.0, shape[0]).astype(np.float32)
        ours, theirs = run_both(keras, case, shape, lambda step, rng: [None, batch_weights, None][step])
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6, err_msg=f"{case} {shape}")
        assert ours.dtype == np.float64


@pytest.mark.parametrize("case", sorted(c for c in CASES if (B, T, C) in CASES[c][3] or (B, T, 1) in CASES[c][3]))
def test_metric_with_timestep_weights_and_mask_matches_keras(keras, case):
    """(B, T) weights; a (B, T) mask equals Keras given the mask folded into the weights."""
    shape = (B, T, C) if (B, T, C) in CASES[case][3] else (B, T, 1)
    ours, theirs = run_both(keras, case, shape, lambda step, rng: rng.random((B, T)).astype(np.float32),
                            mask_for=lambda rng: rng.random((B, T)) > 0.3)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ["mae", "categorical_accuracy", "binary_accuracy"])
def test_mask_with_per_sample_weights_matches_keras_masking(keras, case):
    """Keras applies an output's ``_keras_mask`` inside MeanMetricWrapper; gated's ``mask=`` argument does the same."""
    from keras.src import backend

    ours_factory, keras_factory, kind, shapes = CASES[case]
    shape = next(s for s in shapes if len(s) == 3)
    ours, theirs = ours_factory(), keras_factory(keras)
    rng = np.random.default_rng(7)
    for _ in range(2):
        y_true, y_pred = make_batch(kind, shape, rng)
        mask = rng.random((B, T)) > 0.4
        ours.update_state(y_true, torch.tensor(y_pred), mask=mask)
        pred = torch.tensor(y_pred)
        backend.set_keras_mask(pred, torch.tensor(mask))
        theirs.update_state(torch.tensor(y_true), pred)
    np.testing.assert_allclose(ours.result().numpy(), theirs.result().numpy(), rtol=1e-6)


def test_mean_and_sum_match_keras(keras):
    rng = np.random.default_rng(8)
    for ours, theirs in [(metrics.Mean(), keras.metrics.Mean()), (metrics.Sum(), keras.metrics.Sum())]:
        for sw in (None, rng.random(B).astype(np.float32), rng.random((B, T)).astype(np.float32)):
            values = rng.normal(size=(B, T)).astype(np.float32)
            ours.update_state(torch.tensor(values), sample_weight=sw)
            theirs.update_state(values, sample_weight=sw)
        ours.update_state(3.0)
        theirs.update_state(3.0)
        np.testing.assert_allclose(ours.result().numpy(), theirs.result().numpy(), rtol=1e-6)


def test_reset_state_starts_over():
    m = metrics.MeanAbsoluteError()
    m.update_state(np.zeros((2, 3)), torch.ones(2, 3))
    assert m.result().item() == 1.0
    m.reset_state()
    assert m.result().item() == 0.0
    m.update_state(np.zeros((2, 3)), torch.full((2, 3), 2.0))
    assert m.result().item() == 2.0
    auc = metrics.AUC()
    assert auc.result().item() == 0.0
    auc.update_state([0, 1], torch.tensor([0.2, 0.8]))
    assert auc.result().item() == pytest.approx(1.0)
    auc.reset_state()
    assert auc.result().item() == 0.0


def test_state_is_float64_on_the_device_of_the_batch():
    m = metrics.Precision()
    m.update_state(torch.tensor([1.0, 0.0]), torch.tensor([0.7, 0.2], dtype=torch.float32))
    assert all(v.dtype == torch.float64 for v in m._state.values())
    assert m.result().dtype == torch.float64


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore:Synchronization debug mode is a prototype:UserWarning")
def test_updates_do_not_synchronise_with_the_host():
    device = torch.device("cuda")
    ms = [metrics.get(n) for n in ("mae", "root_mean_squared_error", "precision", "recall", "auc", "binary_accuracy",
                                   "binary_crossentropy")]
    ms.append(metrics.AUC(thresholds=[0.2, 0.7], multi_label=False, curve="PR"))
    y_true = torch.randint(0, 2, (64, 10, 1), device=device).float()
    y_pred = torch.rand(64, 10, 1, device=device)
    mask = torch.rand(64, 10, device=device) > 0.2
    weights = torch.rand(64, device=device)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for m in ms:
            m.update_state(y_true, y_pred, sample_weight=weights, mask=mask)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for m in ms:  # the same numbers as on the CPU
        cpu = type(m)(**{k: v for k, v in m.get_config().items() if k != "name"})
        cpu.update_state(y_true.cpu(), y_pred.cpu(), sample_weight=weights.cpu(), mask=mask.cpu())
        np.testing.assert_allclose(m.result().cpu().numpy(), cpu.result().numpy(), rtol=1e-6, err_msg=m.name)


def test_get_names_metrics_as_keras_reports_them():
    assert metrics.get("mae").name == "mae" and isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert metrics.get("mean_absolute_error").name == "mean_absolute_error"
    assert metrics.get("MeanAbsoluteError").name == "MeanAbsoluteError"  # Keras keeps the string as written
    assert isinstance(metrics.get("precision"), metrics.Precision) and metrics.get("precision").name == "precision"
    assert isinstance(metrics.get("auc"), metrics.AUC) and metrics.get("AUC").name == "AUC"
    assert metrics.get("root_mean_squared_error").name == "root_mean_squared_error"
    assert metrics.Precision().name == "precision" and metrics.AUC().name == "auc"
    assert metrics.LogCoshError().name == "logcosh"
    assert isinstance(metrics.get("binary_crossentropy"), metrics.BinaryCrossentropy)
    custom = metrics.AUC(curve="PR", name="pr_auc")
    assert metrics.get(custom) is custom
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    assert metrics.get(None) is None


def test_get_wraps_functions_and_losses_as_means():
    from gated import losses

    def my_error(y_true, y_pred):
        return torch.abs(y_true - y_pred)

    m = metrics.get(my_error)
    assert m.name == "my_error"
    m.update_state(torch.zeros(4, 2), torch.ones(4, 2))
    assert m.result().item() == 1.0
    m = metrics.get(losses.MeanSquaredError())
    assert m.name == "mean_squared_error"
    m.update_state(torch.zeros(4, 2), torch.full((4, 2), 2.0))
    assert m.result().item() == 4.0


@pytest.mark.parametrize("y_true_shape, y_pred_shape, expected", [
    ((32, 1), (32, 1), metrics.BinaryAccuracy),
    ((32,), (32, 1), metrics.BinaryAccuracy),
    ((32, 10), (32, 10, 1), metrics.BinaryAccuracy),
    ((32,), (32, 5), metrics.SparseCategoricalAccuracy),
    ((32, 1), (32, 5), metrics.SparseCategoricalAccuracy),
    ((32, 10), (32, 10, 5), metrics.SparseCategoricalAccuracy),
    ((32, 5), (32, 5), metrics.CategoricalAccuracy),
    ((32, 10, 5), (32, 10, 5), metrics.CategoricalAccuracy),
])
def test_accuracy_resolves_from_shapes_like_keras(keras, y_true_shape, y_pred_shape, expected):
    from keras.src.trainers.compile_utils import get_metric

    for name in ("accuracy", "acc"):
        m = metrics.get(name, y_true_shape=y_true_shape, y_pred_shape=y_pred_shape)
        theirs = get_metric(name, np.zeros(y_true_shape), np.zeros(y_pred_shape))
        assert type(m) is expected and type(theirs).__name__ == expected.__name__
        assert m.name == theirs.name == name


@pytest.mark.parametrize("loss, expected", [
    ("binary_crossentropy", metrics.BinaryAccuracy), ("bce", metrics.BinaryAccuracy),
    ("categorical_crossentropy", metrics.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
])
def test_accuracy_resolves_from_the_loss_without_shapes(loss, expected):
    from gated import losses

    assert type(metrics.get("accuracy", loss=loss)) is expected
    assert type(metrics.get("acc", loss=losses.get(loss))) is expected


def test_accuracy_without_shapes_or_crossentropy_says_what_to_pass():
    with pytest.raises(ValueError, match="Metric 'accuracy' is resolved from the shapes.*'binary_accuracy'"):
        metrics.get("accuracy", loss="mse")


def test_unknown_metric_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"Unknown metric 'precission'\. Did you mean 'precision'\?"):
        metrics.get("precission")
    with pytest.raises(ValueError, match=r"Unknown metric 'acuracy'\. Did you mean 'accuracy'\?"):
        metrics.get("acuracy")
    with pytest.raises(TypeError, match="A metric must be a name"):
        metrics.get(5)


def test_invalid_settings_are_reported():
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="Invalid AUC curve 'XY'"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="num_thresholds must be an integer > 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match=r"needs y_pred of rank 2 \(batch, labels\); received shape \(2, 3, 1\)"):
        metrics.AUC(multi_label=True).update_state(np.zeros((2, 3, 1)), torch.zeros(2, 3, 1))
