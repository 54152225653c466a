"""Boolean, integer and float targets give Keras's values with every loss and metric Keras accepts them for: the
matrix losses x metrics x target dtypes through ``compile`` + ``evaluate`` (one call per loss and dtype with all
the task's metrics), one training step through ``train_on_batch``, and ``class_weight`` on one-hot targets."""

from __future__ import annotations

import numpy as np
import pytest

import gated

RNG = np.random.default_rng(0)
N, F, C = 24, 4, 6  # six classes: the top-k metrics' default k=5 needs at least five
X = RNG.normal(size=(N, F)).astype("float32")
LABELS = RNG.integers(0, C, N)
BINARY = (RNG.uniform(size=(N, 1)) > 0.5)

TASKS = {
    # task: (target values, output units and activation, losses, metrics)
    "binary": (BINARY, (1, "sigmoid"),
               ["binary_crossentropy", "mse", "mae", "hinge", "squared_hinge", "poisson", "huber", "log_cosh",
                "kl_divergence", "mean_squared_logarithmic_error"],
               ["accuracy", "binary_accuracy", "auc", "precision", "recall", "mae", "mse", "binary_crossentropy",
                "hinge"]),
    "one_hot": (np.eye(C)[LABELS].astype(bool), (C, "softmax"),
                ["categorical_crossentropy", "mse", "categorical_hinge", "kl_divergence", "cosine_similarity"],
                ["accuracy", "categorical_accuracy", "top_k_categorical_accuracy", "auc", "precision", "recall",
                 "categorical_crossentropy", "mae"]),
    "sparse": (LABELS, (C, "softmax"), ["sparse_categorical_crossentropy"],
               ["accuracy", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
                "sparse_categorical_crossentropy"]),
    "sparse_column": (LABELS[:, None], (C, "softmax"), ["sparse_categorical_crossentropy"],
                      ["accuracy", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"]),
}
DTYPES = {"bool": np.bool_, "uint8": np.uint8, "int32": np.int32, "int64": np.int64, "float32": np.float32,
          "float64": np.float64}
CASES = [(task, loss, dtype) for task, (_, _, losses, _) in TASKS.items() for loss in losses for dtype in DTYPES
         if not (task.startswith("sparse") and dtype == "bool")]  # labels 0..5 are not booleans


def _models(keras, task, loss):
    units, activation = TASKS[task][1]
    metrics = TASKS[task][3]
    ours = gated.Sequential([gated.layers.Dense(units, activation=activation, input_shape=(F,))])
    ours.compile(optimizer=gated.optimizers.SGD(0.1), loss=loss, metrics=list(metrics), device="cpu")
    theirs = keras.Sequential([keras.Input((F,)), keras.layers.Dense(units, activation=activation)])
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, metrics=list(metrics))
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize("task, loss, dtype", CASES, ids=[f"{t}-{loss}-{d}" for t, loss, d in CASES])
def test_every_loss_and_metric_matches_keras_for_every_target_dtype(keras, task, loss, dtype):
    y = TASKS[task][0].astype(DTYPES[dtype])
    ours, theirs = _models(keras, task, loss)
    got = ours.evaluate(X, y, batch_size=8, verbose=0, return_dict=True)
    expected = theirs.evaluate(X, y, batch_size=8, verbose=0, return_dict=True)
    assert set(got) == set(expected)
    for name in expected:
        assert got[name] == pytest.approx(float(expected[name]), rel=2e-5, abs=2e-6), name


STEP_CASES = [(task, loss, dtype) for task, loss in [("binary", "binary_crossentropy"),
                                                     ("one_hot", "categorical_crossentropy"),
                                                     ("sparse", "sparse_categorical_crossentropy"), ("binary", "hinge")]
              for dtype in ("bool", "int64", "float32") if not (task == "sparse" and dtype == "bool")]


@pytest.mark.parametrize("task, loss, dtype", STEP_CASES, ids=[f"{t}-{loss}-{d}" for t, loss, d in STEP_CASES])
def test_a_training_step_matches_keras_for_every_target_dtype(keras, task, loss, dtype):
    y = TASKS[task][0].astype(DTYPES[dtype])
    ours, theirs = _models(keras, task, loss)
    got = ours.train_on_batch(X, y, return_dict=True)
    expected = theirs.train_on_batch(X, y, return_dict=True)
    for name in expected:
        assert got[name] == pytest.approx(float(expected[name]), rel=2e-5, abs=2e-6), name
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["bool", "int32", "float32"])
def test_class_weight_reads_one_hot_targets_of_every_dtype(keras, dtype):
    y = TASKS["one_hot"][0].astype(DTYPES[dtype])
    ours, theirs = _models(keras, "one_hot", "categorical_crossentropy")
    weights = {0: 1.0, 1: 2.0, 2: 0.5, 3: 1.5, 4: 0.25, 5: 1.0}
    ours.fit(X, y, batch_size=8, epochs=1, shuffle=False, verbose=0, class_weight=weights)
    theirs.fit(X, y, batch_size=8, epochs=1, shuffle=False, verbose=0, class_weight=weights)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
