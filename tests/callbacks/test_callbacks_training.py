"""Callbacks in real training runs, gated and real Keras side by side from the same weights and data."""

from __future__ import annotations

import numpy as np

import gated


def _pair(keras, learning_rate):
    def build(lib):
        return lib.Sequential([lib.layers.Input((6, 2)), lib.layers.GRU(8), lib.layers.Dense(1)])

    k_model, g_model = build(keras), build(gated)
    g_model.set_weights(k_model.get_weights())
    k_model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9), loss="mse")
    g_model.compile(optimizer=gated.optimizers.SGD(learning_rate, momentum=0.9), loss="mse", device="cpu")
    return k_model, g_model


def _data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(96, 6, 2)).astype("float32")
    y = (x[:, :, 0].sum(1, keepdims=True) * 0.5 + rng.normal(scale=0.5, size=(96, 1))).astype("float32")
    return x[:64], y[:64], x[64:], y[64:]


def test_early_stopping_and_lr_reduction_decide_like_keras_in_real_training(keras):
    x, y, x_val, y_val = _data()
    k_model, g_model = _pair(keras, learning_rate=0.3)  # large steps: the validation loss goes up and down

    def callbacks(lib):
        return [lib.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
                lib.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)]

    k_hist = k_model.fit(x, y, validation_data=(x_val, y_val), epochs=25, batch_size=16, shuffle=False, verbose=0,
                         callbacks=callbacks(keras))
    g_hist = g_model.fit(x, y, validation_data=(x_val, y_val), epochs=25, batch_size=16, shuffle=False, verbose=0,
                         callbacks=callbacks(gated))
    assert len(g_hist.history["loss"]) == len(k_hist.history["loss"]) < 25  # stopped early, at the same epoch
    np.testing.assert_allclose(g_hist.history["learning_rate"], k_hist.history["learning_rate"], rtol=1e-6)
    assert min(g_hist.history["learning_rate"]) < 0.3  # the rate was reduced
    np.testing.assert_allclose(g_hist.history["val_loss"], k_hist.history["val_loss"], rtol=1e-4, atol=1e-5)
    best = int(np.argmin(k_hist.history["val_loss"]))
    assert int(np.argmin(g_hist.history["val_loss"])) == best
    for k, g in zip(k_model.get_weights(), g_model.get_weights()):  # both restored the best epoch's weights
        np.testing.assert_allclose(g, k, atol=1e-4)
    np.testing.assert_allclose(g_model.evaluate(x_val, y_val, verbose=0), min(g_hist.history["val_loss"]),
                               rtol=1e-5)
