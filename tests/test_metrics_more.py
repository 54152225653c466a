"""Confusion-count, constrained-rate, F-score, R2, correlation and IoU metrics, and the per-sample functions of
``gated.metrics``, against real Keras (torch backend): several weighted batches, then reset_state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated import metrics

B, C = 8, 3


def _batches(kind: str, seed: int = 0):
    """Three (y_true, y_pred, sample_weight) batches for one kind of metric."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(3):
        w = rng.random(B).astype(np.float32)
        if kind in ("binary", "binary_int_weights"):
            y, p = (rng.random((B, 1)) > 0.5).astype(np.float32), rng.random((B, 1)).astype(np.float32)
        elif kind == "multilabel":
            y, p = (rng.random((B, C)) > 0.5).astype(np.float32), rng.random((B, C)).astype(np.float32)
        elif kind == "onehot":
            y = np.eye(C, dtype=np.float32)[rng.integers(0, C, B)]
            p = rng.random((B, C)).astype(np.float32)
        elif kind == "regression":
            y = rng.normal(size=(B, C)).astype(np.float32)
            p = (y + 0.5 * rng.normal(size=(B, C))).astype(np.float32)
        elif kind == "sparse_ids":
            y, p = rng.integers(0, C, (B, 2)), rng.integers(0, C, (B, 2))
            w = rng.integers(0, 3, (B, 2))  # IoU's confusion matrix is integer in Keras
        elif kind == "onehot_scores":
            y = np.eye(C, dtype=np.float32)[rng.integers(0, C, B)]
            p = rng.random((B, C)).astype(np.float32)
            w = rng.integers(0, 3, B)
        else:
            raise KeyError(kind)
        if kind == "binary_int_weights":
            w = rng.integers(0, 3, B)
        out.append((y, p, w))
    return out


CASES = {
    "tp": ("TruePositives", {}, "binary"),
    "fp": ("FalsePositives", {"thresholds": [0.2, 0.5, 0.7]}, "binary"),
    "tn": ("TrueNegatives", {"thresholds": 0.3}, "multilabel"),
    "fn": ("FalseNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "multilabel"),
    "p_at_r": ("PrecisionAtRecall", {"recall": 0.6}, "binary"),
    "p_at_r_class": ("PrecisionAtRecall", {"recall": 0.5, "num_thresholds": 7, "class_id": 1}, "multilabel"),
    "r_at_p": ("RecallAtPrecision", {"precision": 0.4, "num_thresholds": 50}, "binary"),
    "sens_at_spec": ("SensitivityAtSpecificity", {"specificity": 0.5}, "multilabel"),
    "spec_at_sens": ("SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 1}, "binary"),
    "spec_at_sens_class": ("SpecificityAtSensitivity", {"sensitivity": 0.3, "class_id": 2}, "multilabel"),
    "f1_none": ("F1Score", {}, "onehot"),
    "f1_micro": ("F1Score", {"average": "micro", "threshold": 0.5}, "multilabel"),
    "f1_macro": ("F1Score", {"average": "macro"}, "onehot"),
    "f1_weighted": ("F1Score", {"average": "weighted", "threshold": 0.4}, "multilabel"),
    "fbeta": ("FBetaScore", {"beta": 2.0, "average": "macro", "threshold": 0.5}, "multilabel"),
    "fbeta_none": ("FBetaScore", {"beta": 0.5}, "onehot"),
    "r2": ("R2Score", {}, "regression"),
    "r2_none": ("R2Score", {"class_aggregation": None}, "regression"),
    "r2_variance": ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 2}, "regression"),
    "pearson": ("PearsonCorrelation", {}, "regression"),
    "concordance": ("ConcordanceCorrelation", {}, "regression"),
    "iou": ("IoU", {"num_classes": C, "target_class_ids": [0, 2]}, "sparse_ids"),
    "iou_ignore": ("IoU", {"num_classes": C, "target_class_ids": [1], "ignore_class": 0}, "sparse_ids"),
    "mean_iou": ("MeanIoU", {"num_classes": C}, "sparse_ids"),
    "binary_iou": ("BinaryIoU", {"threshold": 0.4}, "binary_int_weights"),
    "binary_iou_one": ("BinaryIoU", {"target_class_ids": [1]}, "binary_int_weights"),
    "one_hot_iou": ("OneHotIoU", {"num_classes": C, "target_class_ids": [0, 1]}, "onehot_scores"),
    "one_hot_mean_iou": ("OneHotMeanIoU", {"num_classes": C}, "onehot_scores"),
}


def _close(actual, expected, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol)


def _keras_value(value):
    return np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)


@pytest.mark.parametrize("case", sorted(CASES))
def test_metric_matches_keras_over_weighted_batches_and_reset(keras, case):
    name, kwargs, kind = CASES[case]
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for y, p, w in _batches(kind):
        ours.update_state(torch.tensor(y), torch.tensor(p), sample_weight=torch.tensor(w))
        theirs.update_state(y, p, sample_weight=w)
        _close(ours.result(), _keras_value(theirs.result()), rtol=1e-5, atol=1e-6)
    ours.reset_state()
    theirs.reset_state()
    y, p, _ = _batches(kind, seed=1)[0]
    ours.update_state(torch.tensor(y), torch.tensor(p))
    theirs.update_state(y, p)
    _close(ours.result(), _keras_value(theirs.result()), rtol=1e-5)
    expected = {k: v for k, v in theirs.get_config().items() if k != "dtype"}
    expected["name"] = ours.name  # Keras numbers the names of later instances ('io_u_1')
    assert ours.get_config() == expected
    assert type(ours).from_config(ours.get_config()).get_config() == expected


FUNCTIONS = {
    "binary_crossentropy": ("binary", {}), "categorical_crossentropy": ("onehot_norm", {}),
    "sparse_categorical_crossentropy": ("sparse", {}), "mean_squared_error": ("regression", {}),
    "mean_absolute_error": ("regression", {}), "mean_absolute_percentage_error": ("regression", {}),
    "mean_squared_logarithmic_error": ("regression", {}), "hinge": ("binary", {}), "squared_hinge": ("binary", {}),
    "categorical_hinge": ("onehot_norm", {}), "huber": ("regression", {"delta": 0.5}),
    "kl_divergence": ("onehot_norm", {}), "log_cosh": ("regression", {}), "poisson": ("onehot_norm", {}),
    "binary_focal_crossentropy": ("binary", {"gamma": 1.5}), "categorical_focal_crossentropy": ("onehot_norm", {}),
    "pearson_correlation": ("regression", {}), "concordance_correlation": ("regression", {}),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_metric_function_matches_keras(keras, name):
    kind, kwargs = FUNCTIONS[name]
    rng = np.random.default_rng(3)
    if kind == "onehot_norm":
        y = np.eye(C, dtype=np.float32)[rng.integers(0, C, B)]
        p = rng.random((B, C)).astype(np.float32) + 0.1
        p /= p.sum(-1, keepdims=True)
    elif kind == "sparse":
        y, p = rng.integers(0, C, B), rng.dirichlet(np.ones(C), B).astype(np.float32)
    else:
        y, p, _ = _batches("multilabel" if kind == "binary" else kind)[0]
    ours = getattr(metrics, name)(torch.tensor(y), torch.tensor(p), **kwargs)
    theirs = getattr(keras.metrics, name)(torch.tensor(y), torch.tensor(p), **kwargs)
    _close(ours, _keras_value(theirs), rtol=1e-6, atol=1e-6)


def test_metric_functions_are_the_loss_functions():
    assert metrics.binary_focal_crossentropy is gated.losses.binary_focal_crossentropy
    assert metrics.huber is gated.losses.huber


@pytest.mark.parametrize("name", ["f1_score", "F1Score", "r2_score", "true_positives", "FalseNegatives",
                                  "pearson_correlation", "concordance_correlation"])
def test_metric_resolves_by_name_like_keras(keras, name):
    from keras.src.metrics import ALL_OBJECTS_DICT

    assert name in ALL_OBJECTS_DICT
    assert metrics.get(name).name == name


def test_f1_score_rejects_an_unknown_average():
    with pytest.raises(ValueError, match=r"average None, 'micro', 'macro' or 'weighted'; received average='max'"):
        metrics.F1Score(average="max")


def test_precision_at_recall_rejects_a_recall_outside_the_unit_interval():
    with pytest.raises(ValueError, match=r"needs recall in the range \[0, 1\]; received recall=1.5"):
        metrics.PrecisionAtRecall(1.5)


def test_iou_rejects_a_target_class_outside_num_classes():
    with pytest.raises(ValueError, match=r"target class id 3 is out of the range \[0, 3\)"):
        metrics.IoU(num_classes=3, target_class_ids=[3])


def test_r2_score_needs_two_dimensional_inputs():
    with pytest.raises(ValueError, match=r"expects 2-D inputs of shape \(batch_size, output_dim\)"):
        metrics.R2Score().update_state(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4))


@pytest.mark.parametrize("metric", [["true_positives", "precision_at_recall"], ["r2_score", "pearson_correlation"],
                                    ["f1_micro"]])
def test_new_metrics_in_fit_match_keras(keras, metric):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 4, 3)).astype(np.float32)
    y = (rng.random((12, 2)) > 0.5).astype(np.float32)
    activation = "sigmoid" if "r2_score" not in metric else None

    def build(lib):
        model = lib.Sequential([lib.Input((4, 3)), lib.layers.GRU(5), lib.layers.Dense(2, activation=activation)])
        objects = {"precision_at_recall": lib.metrics.PrecisionAtRecall(0.5, name="precision_at_recall"),
                   "f1_micro": lib.metrics.F1Score(average="micro", threshold=0.5, name="f1_micro")}
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse", metrics=[objects.get(m, m) for m in metric])
        return model

    ours, theirs = build(gated), build(keras)
    ours.set_weights(theirs.get_weights())
    h1 = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    h2 = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    for key in ("loss", *metric):
        _close(np.ravel(h1[key]), np.ravel(h2[key]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("verbose", [0, 1])
def test_per_class_f1_score_by_name_in_fit_logs_a_vector_like_keras(keras, verbose):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(12, 4, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 12)]

    def build(lib):
        model = lib.Sequential([lib.Input((4, 3)), lib.layers.GRU(5), lib.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="categorical_crossentropy",
                      metrics=["f1_score", "r2_score"])
        return model

    ours, theirs = build(gated), build(keras)
    ours.set_weights(theirs.get_weights())
    h1 = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=verbose).history
    h2 = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    for key in ("loss", "f1_score", "r2_score"):
        _close(np.stack([np.ravel(v) for v in h1[key]]), np.stack([np.ravel(v) for v in h2[key]]), rtol=1e-5,
               atol=1e-6)
    assert np.shape(h1["f1_score"][0]) == (3,)


def test_new_losses_and_metrics_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(8, 4, 3)).astype(np.float32)
    y = (rng.random((8, 1)) > 0.5).astype(np.float32)
    model = gated.Sequential([gated.Input((4, 3)), gated.layers.GRU(4), gated.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss=gated.losses.BinaryFocalCrossentropy(gamma=1.0, alpha=0.4),
                  metrics=[metrics.F1Score(average="micro", threshold=0.5), "true_positives",
                           metrics.BinaryIoU(threshold=0.3), metrics.PrecisionAtRecall(0.5)])
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = gated.load_model(tmp_path / "model.keras")
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(x, y, verbose=0, return_dict=True)
