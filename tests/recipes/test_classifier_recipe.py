"""The default classifier's network and recipe: masks through every layer, the budget, the ensemble as one model."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import gated
from gated import layers as L
from gated import recipes
from gated.data import read_ts
from gated.models import Model
from gated.recipes._classify import Preprocessor, training_budget
from gated.recipes._network import MaskedAveragePooling1D, MaskedConv1D, average_of, build_network


def _padded(series: np.ndarray, steps: int) -> np.ndarray:
    return np.pad(series, ((0, 0), (0, steps - series.shape[1]), (0, 0)))


def test_masked_network_gives_the_same_output_whatever_the_padding():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(3, 25, 2)).astype(np.float32)
    # gru_steps=64: neither length is pooled for the GRU, so every layer, the GRU included, sees masked padding
    short = build_network(40, 2, 3, filters=(4, 6, 4), units=5, gru_steps=64, masked=True)
    long = build_network(64, 2, 3, filters=(4, 6, 4), units=5, gru_steps=64, masked=True)
    long.set_weights(short.get_weights())
    a = short.predict(_padded(series, 40), verbose=0)
    b = long.predict(_padded(series, 64), verbose=0)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    unmasked = build_network(64, 2, 3, filters=(4, 6, 4), units=5, gru_steps=64, masked=False)
    unmasked.set_weights(short.get_weights())
    assert np.abs(unmasked.predict(_padded(series, 64), verbose=0) - a).max() > 1e-4  # the mask is what does it


def test_coarse_branches_keep_the_padding_invariance_and_shape_the_output():
    rng = np.random.default_rng(3)
    series = rng.normal(size=(3, 30, 2)).astype(np.float32)
    # 40 and 48 steps both average by 4 into a 12-step branch (ceil(40 / 12) = ceil(48 / 12)); 5 is too coarse to add
    short = build_network(40, 2, 3, filters=(4, 6, 4), units=5, gru_steps=64, masked=True, coarse_lengths=(12, 30))
    long = build_network(48, 2, 3, filters=(4, 6, 4), units=5, gru_steps=64, masked=True, coarse_lengths=(12, 30))
    names = [layer.name for layer in short.layers]
    assert "coarse12_average" in names and not any(name.startswith("coarse30") for name in names)
    long.set_weights(short.get_weights())
    a = short.predict(_padded(series, 40), verbose=0)
    np.testing.assert_allclose(long.predict(_padded(series, 48), verbose=0), a, rtol=1e-5, atol=1e-6)
    plain = build_network(40, 2, 3, filters=(4, 6, 4), units=5, gru_steps=64, masked=True)
    assert len(plain.get_weights()) < len(short.get_weights())
    conv = short.get_layer("coarse12_conv1")
    conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    assert np.abs(short.predict(_padded(series, 40), verbose=0) - a).max() > 1e-4  # the branch reaches the output


def test_masked_conv_equals_conv_on_the_unpadded_series():
    rng = np.random.default_rng(1)
    series = rng.normal(size=(1, 12, 3)).astype(np.float32)
    padded = _padded(series, 20)
    padded[0, 12:] = 7.0  # garbage in masked steps must not leak into real ones
    masked = MaskedConv1D(4, 5)
    plain = L.Conv1D(4, 5, padding="same")
    masked.build((None, 20, 3))
    plain.build((None, 12, 3))
    plain.set_weights(masked.get_weights())
    mask = torch.arange(20)[None, :] < 12
    out = masked(torch.as_tensor(padded), mask=mask).detach().numpy()
    np.testing.assert_allclose(out[:, :12], plain(series).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(out[:, 12:] == 0)


def test_masked_average_pooling_counts_real_steps_only():
    x = np.arange(2 * 7 * 1, dtype=np.float32).reshape(2, 7, 1)
    mask = np.array([[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]], dtype=bool)
    layer = MaskedAveragePooling1D(3)
    out = layer(torch.as_tensor(x), mask=torch.as_tensor(mask)).numpy()
    expected = np.array([[[1.0], [3.5], [0.0]], [[8.0], [11.0], [13.0]]])  # means of the real steps per window
    np.testing.assert_allclose(out, expected)
    np.testing.assert_array_equal(layer.compute_mask(x, torch.as_tensor(mask)).numpy(),
                                  [[True, True, False], [True, True, True]])


def test_ensemble_is_one_model_whose_output_is_the_members_mean(tmp_path):
    members = [build_network(16, 1, 3, filters=(4, 4, 4), units=3, name=f"member{i}") for i in range(3)]
    ensemble = average_of(members)
    x = np.random.default_rng(2).normal(size=(5, 16, 1)).astype(np.float32)
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-7)
    ensemble.save(tmp_path / "e.gated")
    np.testing.assert_allclose(gated.load_model(tmp_path / "e.gated").predict(x, verbose=0), expected, rtol=1e-6,
                               atol=1e-7)


def test_functional_model_refuses_two_layers_of_one_name_as_keras_does():
    def sub():
        inputs = L.Input((3,))
        return Model(inputs, L.Dense(2)(inputs), name="same")

    inputs = L.Input((3,))
    with pytest.raises(ValueError, match='The name "same" is used 2 times in the model'):
        Model(inputs, L.Average()([sub()(inputs), sub()(inputs)]))


def test_budget_is_counted_in_steps_and_scaled_to_the_data():
    tiny = training_budget(28)
    assert tiny.batch_size == 8 and tiny.steps_per_epoch == 4 and tiny.steps >= 1500
    large = training_budget(2400)
    assert large.batch_size == 32 and large.epochs >= 30 and large.steps == large.epochs * 75
    assert training_budget(100, epochs=3).epochs == 3


def test_preprocessor_adds_per_series_channels_and_keeps_padding_zero():
    rng = np.random.default_rng(3)
    x = rng.normal(loc=5.0, scale=2.0, size=(4, 10, 2)).astype(np.float32)
    x[1, 6:] = 0
    out = Preprocessor(series_channels=True).fit(x).transform(x)
    assert out.shape == (4, 10, 4)
    assert np.all(out[1, 6:] == 0)
    real = x[1, :6]
    np.testing.assert_allclose(out[1, :6, 2:], (real - real.mean(0)) / real.std(0), rtol=1e-4, atol=1e-5)


def test_recipe_trains_an_ensemble_saves_it_and_reports_balanced_accuracy(tmp_path):
    rng = np.random.default_rng(4)
    y = np.array([0] * 30 + [1] * 10)
    x = rng.normal(size=(40, 30, 1)).astype(np.float32)
    x[y == 1, 5:15] += 3.0
    result = recipes.train_classifier(x, y, x, y, epochs=15, ensemble=2, filters=(8, 8, 8), units=4)
    assert len(result.members) == 2 and result.model.name == "ensemble"
    predicted = result.predict(x)
    recall = [np.mean(predicted[y == c] == c) for c in (0, 1)]
    assert result.test_balanced_accuracy == pytest.approx(np.mean(recall))
    assert result.test_accuracy > 0.75
    recipes.save_classifier(result, tmp_path / "m.gated", ["a", "b"])
    _, loaded, _ = recipes.load_recipe(tmp_path / "m.gated")
    np.testing.assert_allclose(loaded.predict_proba(x), result.predict_proba(x), rtol=1e-6, atol=1e-7)


def test_selection_gives_way_to_one_run_on_every_series_when_both_would_not_fit_the_time_budget():
    rng = np.random.default_rng(5)
    y = np.repeat([0, 1], 60)  # 24 held-out series, 12 of each class: the held-out part may choose the epochs
    x = rng.normal(size=(120, 12, 1)).astype(np.float32)
    x[y == 1, 3:6] += 2.0
    options = dict(epochs=6, ensemble=1, filters=(4, 4, 4), units=3)
    roomy = recipes.train_classifier(x, y, **options, time_budget=1e6)
    assert roomy.selected and "val_loss" in roomy.history and len(roomy.history["val_loss"]) == 6
    assert roomy.best_epoch >= 3  # at least half the budget
    rushed = recipes.train_classifier(x, y, **options, time_budget=0.0)
    assert not rushed.selected and "val_loss" not in rushed.history
    assert rushed.best_epoch == 6 and len(rushed.history["loss"]) == 6  # the whole budget, on all 120 series
    assert (roomy.budget.steps_per_epoch, rushed.budget.steps_per_epoch) == (12, 15)  # 96 or 120 series, batches of 8


def test_recipe_refuses_labels_that_are_not_class_ids():
    x = np.zeros((4, 5, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="integer class ids 0..C-1; received dtype <U1"):
        recipes.train_classifier(x, np.array(["a", "b", "a", "b"]))
    with pytest.raises(ValueError, match="ensemble must be a positive number"):
        recipes.train_classifier(x, np.array([0, 1, 0, 1]), ensemble=0)


def test_ts_reader_skips_percent_comment_lines(tmp_path):
    path = tmp_path / "p.ts"
    path.write_text("% a comment as some archive files write them\n@problemName p\n@univariate true\n"
                    "@equalLength true\n@seriesLength 3\n@classLabel true a b\n@data\n1,2,3:a\n4,5,6:b\n")
    data = read_ts(os.fspath(path))
    np.testing.assert_array_equal(np.asarray(data.x)[:, :, 0], [[1, 2, 3], [4, 5, 6]])
    assert data.class_names == ("a", "b")


def test_series_that_really_end_in_zeros_are_not_taken_for_padding_when_lengths_are_known():
    rng = np.random.default_rng(5)
    x = rng.normal(loc=3.0, size=(4, 10, 1)).astype(np.float32)
    x[1, 6:] = 0  # real zeros: e.g. a count that fell to 0
    full = np.full(4, 10)
    known = Preprocessor(series_channels=True).fit(x, full)
    assert not known.padded
    out = known.transform(x, full)
    mean, std = known.scaler.mean_[0], known.scaler.scale_[0]
    np.testing.assert_allclose(out[1, 6:, 0], (0.0 - mean) / std, rtol=1e-5)  # standardised, not masked
    guessed = Preprocessor().fit(x)  # without lengths, trailing zeros are padding (the .ts reader's convention)
    assert guessed.padded and np.all(guessed.transform(x)[1, 6:] == 0)
    with pytest.raises(ValueError, match=r"one integer length per series, shape \(4,\)"):
        Preprocessor().fit(x, [10, 10])
    with pytest.raises(ValueError, match="between 1 and the 10 timesteps"):
        Preprocessor().fit(x, [10, 11, 10, 10])


def test_estimator_masks_only_the_padding_of_ragged_lists():
    sklearn = pytest.importorskip("sklearn")  # noqa: F841
    from gated.recipes import GRUClassifier

    rng = np.random.default_rng(6)
    x = rng.normal(size=(12, 8)).astype(np.float32)
    x[::2, 5:] = 0.0
    y = np.array([0, 1] * 6)
    fast = dict(epochs=2, ensemble=1, units=4, random_state=0)
    assert not GRUClassifier(**fast).fit(x, y).result_.preprocessor.padded
    ragged = [row[:5] if i % 2 == 0 else row for i, row in enumerate(x)]
    assert GRUClassifier(**fast).fit(ragged, y).result_.preprocessor.padded
