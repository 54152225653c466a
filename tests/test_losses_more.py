"""Focal, generalized, Dice, Tversky, Circle and CTC losses against real Keras (torch backend), and epsilon."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated import losses

RNG = np.random.default_rng(7)
B, C = 6, 4


def _binary():
    y = (RNG.random((B, C)) > 0.5).astype(np.float32)
    return y, RNG.random((B, C)).astype(np.float32)


def _onehot():
    y = np.eye(C, dtype=np.float32)[RNG.integers(0, C, B)]
    p = RNG.random((B, C)).astype(np.float32) + 0.05
    return y, p / p.sum(-1, keepdims=True)


def _logits_binary():
    y = (RNG.random((B, C)) > 0.5).astype(np.float32)
    return y, RNG.normal(size=(B, C)).astype(np.float32)


def _logits_onehot():
    return np.eye(C, dtype=np.float32)[RNG.integers(0, C, B)], RNG.normal(size=(B, C)).astype(np.float32)


def _sparse():
    p = RNG.random((B, C)).astype(np.float32) + 0.05
    return RNG.integers(0, C, B).astype(np.int64), p / p.sum(-1, keepdims=True)


def _embeddings():
    e = RNG.normal(size=(B, 5)).astype(np.float32)
    return np.array([0, 1, 0, 2, 1, 0]), e / np.linalg.norm(e, axis=-1, keepdims=True)


def _ctc():
    y = np.array([[1, 2, 0], [3, 3, 1], [2, 0, 0], [1, 3, 2], [2, 1, 0], [3, 0, 0]])
    return y, RNG.normal(size=(B, 7, C)).astype(np.float32)


CASES = {
    "bfce": ("BinaryFocalCrossentropy", {}, _binary),
    "bfce_balanced": ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5,
                                                  "label_smoothing": 0.1}, _binary),
    "bfce_logits": ("BinaryFocalCrossentropy", {"from_logits": True}, _logits_binary),
    "cfce": ("CategoricalFocalCrossentropy", {}, _onehot),
    "cfce_logits": ("CategoricalFocalCrossentropy", {"from_logits": True, "gamma": 3.0, "label_smoothing": 0.2,
                                                     "alpha": 0.5}, _logits_onehot),
    "cgce": ("CategoricalGeneralizedCrossEntropy", {"q": 0.3}, _sparse),
    "dice": ("Dice", {}, _binary),
    "dice_axis": ("Dice", {"axis": (1,)}, _binary),
    "tversky": ("Tversky", {"alpha": 0.3, "beta": 0.7}, _binary),
    "tversky_axis": ("Tversky", {"axis": (1,)}, _binary),
    "circle": ("Circle", {}, _embeddings),
    "circle_margin": ("Circle", {"gamma": 10.0, "margin": 0.2, "remove_diagonal": False}, _embeddings),
    "ctc": ("CTC", {}, _ctc),
}


def _close(actual, expected, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_new_loss_class_matches_keras(keras, case, reduction):
    name, kwargs, make = CASES[case]
    y_true, y_pred = make()
    weights = RNG.random(B).astype(np.float32) if name not in ("Dice", "Tversky") or "axis" in kwargs else None
    ours = getattr(losses, name)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    pred = torch.tensor(y_pred, requires_grad=True)
    value = ours(torch.tensor(y_true), pred, sample_weight=weights)
    expected = theirs(y_true, y_pred, sample_weight=weights)
    _close(value.detach(), expected.detach().cpu(), rtol=1e-5 if name == "CTC" else 1e-6)
    kpred = torch.tensor(y_pred, requires_grad=True)
    kweights = None if weights is None else torch.tensor(weights)
    theirs(torch.tensor(y_true), kpred, sample_weight=kweights).sum().backward()
    value.sum().backward()
    _close(pred.grad, kpred.grad.cpu(), rtol=1e-5, atol=1e-5)
    assert ours.get_config() == {k: v for k, v in theirs.get_config().items() if k != "dtype"}
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


FUNCTIONS = {
    "binary_focal_crossentropy": ({"gamma": 1.0}, _binary),
    "categorical_focal_crossentropy": ({}, _onehot),
    "categorical_generalized_cross_entropy": ({"q": 0.5}, _sparse),
    "dice": ({}, _binary),
    "tversky": ({"alpha": 0.2, "beta": 0.8}, _binary),
    "circle": ({"gamma": 20}, _embeddings),
    "ctc": ({}, _ctc),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_new_loss_function_matches_keras(keras, name):
    kwargs, make = FUNCTIONS[name]
    y_true, y_pred = make()
    ours = getattr(losses, name)(torch.tensor(y_true), torch.tensor(y_pred), **kwargs)
    theirs = getattr(keras.losses, name)(torch.tensor(y_true), torch.tensor(y_pred), **kwargs)
    _close(ours, theirs.cpu(), rtol=1e-5)


@pytest.mark.parametrize("name", ["binary_focal_crossentropy", "categorical_focal_crossentropy", "dice", "tversky",
                                  "ctc", "circle", "Dice", "Tversky"])
def test_new_loss_resolves_by_name(keras, name):
    ours = losses.get(name)
    theirs = keras.losses.get(name)
    assert callable(theirs)
    assert type(ours).__name__ == (theirs.__name__ if isinstance(theirs, type) else type(theirs).__name__) or \
        ours.name == theirs.__name__


def test_losses_read_epsilon_from_backend(keras):
    y_true = np.array([[1.0, 0.0, 1.0]], np.float32)
    y_pred = np.array([[0.0, 1.0, 0.5]], np.float32)
    previous, kprevious = gated.backend.epsilon(), keras.config.epsilon()
    try:
        gated.backend.set_epsilon(1e-3)
        keras.config.set_epsilon(1e-3)
        for name in ("binary_crossentropy", "categorical_crossentropy", "binary_focal_crossentropy",
                     "kl_divergence", "poisson", "mean_absolute_percentage_error", "dice"):
            ours = getattr(losses, name)(torch.tensor(y_true), torch.tensor(y_pred))
            theirs = getattr(keras.losses, name)(y_true, y_pred)
            _close(ours, theirs.cpu(), rtol=1e-6)
        assert float(losses.binary_crossentropy(torch.tensor(y_true), torch.tensor(y_pred))) < 5.0
    finally:
        gated.backend.set_epsilon(previous)
        keras.config.set_epsilon(kprevious)


def test_ctc_rejects_targets_of_the_wrong_rank():
    with pytest.raises(ValueError, match=r"ctc needs integer targets of shape \(batch_size, max_length\); received"):
        losses.ctc(torch.zeros(2, 3, 1), torch.zeros(2, 4, 3))


def test_generalized_cross_entropy_rejects_q_outside_the_unit_interval():
    with pytest.raises(ValueError, match=r"needs q in \(0, 1\); received q=1.5"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)


@pytest.mark.parametrize("loss", ["binary_focal_crossentropy", "BinaryFocalCrossentropy"])
def test_focal_loss_trains_a_gru_model_like_keras(keras, loss):
    x = RNG.normal(size=(8, 5, 3)).astype(np.float32)
    y = (RNG.random((8, 1)) > 0.5).astype(np.float32)

    def build(lib):
        model = lib.Sequential([lib.Input((5, 3)), lib.layers.GRU(4), lib.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss=loss)
        return model

    ours, theirs = build(gated), build(keras)
    ours.set_weights(theirs.get_weights())
    h1 = ours.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    h2 = theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    _close(h1.history["loss"], h2.history["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        _close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["ctc", "dice", "tversky"])
def test_sequence_losses_by_name_train_a_gru_model_like_keras(keras, loss):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(8, 6, 3)).astype(np.float32)
    if loss == "ctc":
        y = np.array([[1, 2, 0], [3, 1, 2], [2, 0, 0], [1, 1, 3]] * 2)
    else:
        y = (rng.random((8, 6, 4)) > 0.5).astype(np.float32)
    activation = None if loss == "ctc" else "sigmoid"

    def build(lib):
        model = lib.Sequential([lib.Input((6, 3)), lib.layers.GRU(5, return_sequences=True),
                                lib.layers.Dense(4, activation=activation)])
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss=loss)
        return model

    ours, theirs = build(gated), build(keras)
    ours.set_weights(theirs.get_weights())
    h1 = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    h2 = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    _close(h1["loss"], h2["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        _close(a, b, rtol=1e-5, atol=1e-6)
