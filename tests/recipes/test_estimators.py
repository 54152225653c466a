"""gated.recipes.GRUClassifier under scikit-learn's contract: labels, layouts, clone, search."""

from __future__ import annotations

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from gated.recipes import GRUClassifier  # noqa: E402

FAST = dict(epochs=8, ensemble=1, units=4, batch_size=8, random_state=0)


def _data(seed=0, n=24, steps=12, channels=2):
    rng = np.random.default_rng(seed)
    y = np.array(["left", "right"] * (n // 2))
    x = rng.normal(size=(n, steps, channels)).astype(np.float32)
    x[y == "right", :6] += 2.0
    return x, y


def test_string_labels_round_trip_and_score_is_accuracy():
    x, y = _data()
    model = GRUClassifier(**FAST).fit(x, y)
    assert list(model.classes_) == ["left", "right"]
    predicted = model.predict(x)
    assert set(predicted) <= {"left", "right"}
    assert model.score(x, y) == pytest.approx(np.mean(predicted == y))
    proba = model.predict_proba(x)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(model.classes_[proba.argmax(1)], predicted)


def test_channels_first_input_gives_the_same_model_as_channels_last():
    x, y = _data(steps=12, channels=3)
    last = GRUClassifier(input_layout="channels_last", **FAST).fit(x, y)
    first = GRUClassifier(input_layout="channels_first", **FAST).fit(x.transpose(0, 2, 1), y)
    np.testing.assert_allclose(first.predict_proba(x.transpose(0, 2, 1)), last.predict_proba(x), rtol=1e-5,
                               atol=1e-6)


def test_clone_is_unfitted_with_equal_params_and_grid_search_picks_one():
    x, y = _data()
    model = GRUClassifier(**FAST)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "classes_")
    search = GridSearchCV(GRUClassifier(**FAST), {"units": [2, 4]}, cv=2).fit(x[:, :, 0], y)
    assert search.best_params_["units"] in (2, 4)
    assert 0.0 <= search.best_score_ <= 1.0
