"""compile / fit / evaluate / predict against real Keras 3 on the same data and the same initial weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated.layers import GRU, LSTM, Dense, Embedding, Input, TimeDistributed

RNG = np.random.default_rng(7)


def tutorial_data(n=96, steps=10):
    x = RNG.random((n, steps, 1)).astype("float32")
    y = (x[..., 0] > 0.5).astype("float32")  # a learnable per-step label
    return x, y


def make_pair(keras, build, optimizer, loss, metrics=None, **compile_kwargs):
    """The same architecture in Keras and gated, gated given Keras's initial weights."""
    k_model = build(keras, keras.layers)
    g_model = build(gated, gated.layers)
    g_model.set_weights(k_model.get_weights())
    k_model.compile(optimizer=optimizer(keras.optimizers), loss=loss, metrics=metrics, **compile_kwargs)
    g_model.compile(optimizer=optimizer(gated.optimizers), loss=loss, metrics=metrics, device="cpu",
                    **compile_kwargs)
    return k_model, g_model


def tutorial_model(lib, layers):
    return lib.Sequential([layers.Input((10, 1)), layers.GRU(16, return_sequences=True),
                           layers.Dense(1, activation="sigmoid")])


def assert_weights_close(k_model, g_model, atol):
    for k, g in zip(k_model.get_weights(), g_model.get_weights()):
        np.testing.assert_allclose(g, np.asarray(k), atol=atol, rtol=0)


@pytest.mark.parametrize("name,optimizer", [
    ("sgd", lambda o: o.SGD(learning_rate=0.1)),
    ("sgd_momentum", lambda o: o.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("adam", lambda o: o.Adam(learning_rate=0.01)),
    ("rmsprop", lambda o: o.RMSprop(learning_rate=0.01)),
])
def test_one_epoch_gives_keras_weights_and_history(keras, name, optimizer):
    x, y = tutorial_data()
    k_model, g_model = make_pair(keras, tutorial_model, optimizer, "binary_crossentropy", ["accuracy"])
    k_hist = k_model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0, validation_data=(x[:40], y[:40]))
    g_hist = g_model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0, validation_data=(x[:40], y[:40]))
    assert_weights_close(k_model, g_model, atol=1e-4)
    assert list(g_hist.history) == list(k_hist.history)
    for key in k_hist.history:
        np.testing.assert_allclose(g_hist.history[key], k_hist.history[key], atol=1e-5)


def test_partial_last_batch_and_validation_split_match_keras(keras):
    x, y = tutorial_data(n=90)
    k_model, g_model = make_pair(keras, tutorial_model, lambda o: o.Adam(), "binary_crossentropy",
                                 ["accuracy", "mae"])
    k_hist = k_model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, validation_split=0.25)
    g_hist = g_model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, validation_split=0.25)
    assert_weights_close(k_model, g_model, atol=1e-4)
    assert list(g_hist.history) == list(k_hist.history) == [
        "accuracy", "loss", "mae", "val_accuracy", "val_loss", "val_mae"]
    for key in k_hist.history:
        np.testing.assert_allclose(g_hist.history[key], k_hist.history[key], atol=1e-5)


def test_evaluate_returns_keras_loss_and_metrics(keras):
    x, y = tutorial_data()
    k_model, g_model = make_pair(keras, tutorial_model, lambda o: o.Adam(), "binary_crossentropy",
                                 ["accuracy", "mae", "mse"])
    k_values = k_model.evaluate(x, y, batch_size=20, verbose=0)
    g_values = g_model.evaluate(x, y, batch_size=20, verbose=0)
    np.testing.assert_allclose(g_values, k_values, atol=1e-5)
    k_dict = k_model.evaluate(x, y, batch_size=20, verbose=0, return_dict=True)
    g_dict = g_model.evaluate(x, y, batch_size=20, verbose=0, return_dict=True)
    assert list(g_dict) == list(k_dict)
    np.testing.assert_allclose(list(g_dict.values()), list(k_dict.values()), atol=1e-5)
    np.testing.assert_allclose(g_model.predict(x, verbose=0), k_model.predict(x, verbose=0), atol=1e-6)


def classifier(lib, layers):
    return lib.Sequential([layers.Input((6, 3)), layers.LSTM(8), layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize("loss,targets", [
    ("sparse_categorical_crossentropy", "int"),
    ("categorical_crossentropy", "onehot"),
])
def test_class_weight_and_sample_weight_give_keras_loss(keras, loss, targets):
    x = RNG.normal(size=(60, 6, 3)).astype("float32")
    labels = RNG.integers(0, 3, size=60)
    y = labels if targets == "int" else np.eye(3, dtype="float32")[labels]
    weights = RNG.random(60).astype("float32")
    for kwargs in ({"class_weight": {0: 1.0, 1: 2.5, 2: 0.5}}, {"sample_weight": weights}):
        k_model, g_model = make_pair(keras, classifier, lambda o: o.SGD(0.05), loss, ["accuracy"])
        k_hist = k_model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, **kwargs)
        g_hist = g_model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, **kwargs)
        np.testing.assert_allclose(g_hist.history["loss"], k_hist.history["loss"], atol=1e-5)
        assert_weights_close(k_model, g_model, atol=1e-4)
    np.testing.assert_allclose(g_model.evaluate(x, y, sample_weight=weights, verbose=0),
                               k_model.evaluate(x, y, sample_weight=weights, verbose=0), atol=1e-5)


def test_masked_sequence_loss_matches_keras(keras):
    ids = RNG.integers(1, 20, size=(48, 9))
    ids[::3, 6:] = 0  # right padding
    ids[1::3, :4] = 0  # left padding
    y = RNG.integers(0, 2, size=(48, 9, 1)).astype("float32")

    def build(lib, layers):
        return lib.Sequential([layers.Input((9,), dtype="int32"), layers.Embedding(20, 4, mask_zero=True),
                               layers.GRU(6, return_sequences=True),
                               layers.TimeDistributed(layers.Dense(1, activation="sigmoid"))])

    k_model, g_model = make_pair(keras, build, lambda o: o.Adam(0.01), "binary_crossentropy", ["accuracy"])
    k_hist = k_model.fit(ids, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    g_hist = g_model.fit(ids, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for key in k_hist.history:
        np.testing.assert_allclose(g_hist.history[key], k_hist.history[key], atol=1e-5)
    assert_weights_close(k_model, g_model, atol=1e-4)


def test_functional_encoder_decoder_with_two_inputs_matches_keras(keras):
    """The Keras seq2seq pattern: encoder return_state feeds the decoder's initial_state; loss_weights."""

    def build(lib, layers):
        enc_in, dec_in = layers.Input((7, 3)), layers.Input((5, 2))
        _, h, c = layers.LSTM(8, return_state=True)(enc_in)
        dec = layers.LSTM(8, return_sequences=True)(dec_in, initial_state=[h, c])
        out = layers.Dense(4, activation="softmax", name="tokens")(dec)
        aux = layers.Dense(1, name="length")(h)
        return lib.Model([enc_in, dec_in], [out, aux])

    enc = RNG.normal(size=(40, 7, 3)).astype("float32")
    dec = RNG.normal(size=(40, 5, 2)).astype("float32")
    tokens = RNG.integers(0, 4, size=(40, 5))
    length = RNG.normal(size=(40, 1)).astype("float32")
    k_model, g_model = make_pair(keras, build, lambda o: o.Adam(0.01),
                                 ["sparse_categorical_crossentropy", "mse"], [["accuracy"], ["mae"]],
                                 loss_weights=[1.0, 0.3])
    k_hist = k_model.fit([enc, dec], [tokens, length], batch_size=16, epochs=1, shuffle=False, verbose=0)
    g_hist = g_model.fit([enc, dec], [tokens, length], batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert list(g_hist.history) == list(k_hist.history)
    for key in k_hist.history:
        np.testing.assert_allclose(g_hist.history[key], k_hist.history[key], atol=1e-5)
    assert_weights_close(k_model, g_model, atol=1e-4)
    np.testing.assert_allclose(g_model.evaluate([enc, dec], [tokens, length], verbose=0),
                               k_model.evaluate([enc, dec], [tokens, length], verbose=0), atol=1e-5)


def test_summary_totals_equal_keras_for_the_tutorial_model(keras, capsys):
    model = gated.Sequential([GRU(128, input_shape=(None, 1), return_sequences=True, name="gru"),
                              Dense(1, activation="sigmoid", name="dense")])
    k_model = keras.Sequential([keras.Input((None, 1)), keras.layers.GRU(128, return_sequences=True),
                                keras.layers.Dense(1, activation="sigmoid")])
    model.summary()
    text = capsys.readouterr().out
    assert k_model.count_params() == model.count_params() == 50_433
    assert "gru (GRU)" in text and "(None, None, 128)" in text and "50,304" in text and "129" in text
    assert " Total params: 50,433 (197.00 KB)" in text
    assert " Trainable params: 50,433 (197.00 KB)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text


def test_model_weights_round_trip_through_keras_order(keras):
    k_model = classifier(keras, keras.layers)
    g_model = classifier(gated, gated.layers)
    g_model.set_weights(k_model.get_weights())
    x = RNG.normal(size=(5, 6, 3)).astype("float32")
    np.testing.assert_allclose(g_model.predict(x, verbose=0), k_model.predict(x, verbose=0), atol=1e-6)
    k_model.set_weights(g_model.get_weights())
    assert [w.shape for w in g_model.get_weights()] == [tuple(w.shape) for w in k_model.get_weights()]


def test_lstm_batch_normalization_model_of_the_rnn_guide_matches_keras_after_an_epoch(keras):
    """The guide's MNIST model (LSTM -> BatchNormalization -> Dense logits, plain SGD): weights and moving
    statistics equal Keras's after an epoch, so what its test accuracy does over seeds is Keras's own noise."""
    rng = np.random.default_rng(3)
    x = rng.random((160, 28, 28)).astype("float32")
    y = rng.integers(0, 10, size=160)

    def build(lib, layers):
        return lib.Sequential([layers.Input((None, 28)), layers.LSTM(64), layers.BatchNormalization(),
                               layers.Dense(10)])

    loss = lambda lib: lib.losses.SparseCategoricalCrossentropy(from_logits=True)  # noqa: E731
    k_model = build(keras, keras.layers)
    g_model = build(gated, gated.layers)
    g_model.set_weights(k_model.get_weights())
    k_model.compile(optimizer="sgd", loss=loss(keras), metrics=["accuracy"])
    g_model.compile(optimizer="sgd", loss=loss(gated), metrics=["accuracy"])
    k_hist = k_model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    g_hist = g_model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    assert_weights_close(k_model, g_model, atol=1e-5)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(g_hist.history[key], k_hist.history[key], atol=1e-5)
    np.testing.assert_allclose(g_model.evaluate(x[:64], y[:64], verbose=0),
                               k_model.evaluate(x[:64], y[:64], verbose=0), atol=1e-5)
