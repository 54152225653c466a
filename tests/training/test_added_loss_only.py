"""A model trained on the loss its own layer adds with add_loss(), compiled without a loss and fed a dict keyed by
Input names, with validation data given as ``(x_val,)`` (Keras's OCR example does this): against real Keras."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated

RNG = np.random.default_rng(11)
X = {"features": RNG.standard_normal((40, 4)).astype("float32"),
     "target": RNG.standard_normal((40, 1)).astype("float32")}
X_VAL = {k: v[:24] for k, v in X.items()}


def _loss_layer(lib):
    sum_ = lib.ops.sum if lib is not gated else torch.sum

    class SquaredError(lib.layers.Layer):
        def call(self, target, prediction):
            self.add_loss(sum_((target - prediction) ** 2) / 8.0)
            return prediction

    return SquaredError


def _model(lib, layer_class):
    features = lib.layers.Input((4,), name="features")
    target = lib.layers.Input((1,), name="target")
    prediction = lib.layers.Dense(1, name="out")(lib.layers.Dense(3, activation="tanh", name="hidden")(features))
    output = layer_class(name="squared_error")(target, prediction)
    return lib.Model(inputs=[features, target], outputs=output)


def test_add_loss_alone_trains_like_keras_with_dict_inputs_and_x_only_validation(keras):
    k_model, g_model = _model(keras, _loss_layer(keras)), _model(gated, _loss_layer(gated))
    g_model.set_weights(k_model.get_weights())
    k_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05))
    g_model.compile(optimizer=gated.optimizers.SGD(learning_rate=0.05), device="cpu")
    k_hist = k_model.fit(X, validation_data=(X_VAL,), batch_size=16, epochs=2, shuffle=False, verbose=0)
    g_hist = g_model.fit(X, validation_data=(X_VAL,), batch_size=16, epochs=2, shuffle=False, verbose=0)
    for k, g in zip(k_model.get_weights(), g_model.get_weights()):
        np.testing.assert_allclose(g, np.asarray(k), atol=1e-5, rtol=0)
    assert sorted(g_hist.history) == sorted(k_hist.history) == ["loss", "val_loss"]
    for key in k_hist.history:
        np.testing.assert_allclose(g_hist.history[key], k_hist.history[key], rtol=1e-5)
    np.testing.assert_allclose(g_model.evaluate(X_VAL, batch_size=8, verbose=0),
                               k_model.evaluate(X_VAL, batch_size=8, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(g_model.predict(X, verbose=0), k_model.predict(X, verbose=0), atol=1e-6)


def test_a_user_layer_that_adds_no_loss_fails_at_fit_with_the_compile_hint():
    class Identity(gated.layers.Layer):
        def call(self, target, prediction):
            return prediction

    model = _model(gated, Identity)
    model.compile(optimizer="sgd", device="cpu")
    with pytest.raises(ValueError, match=r"compile\(\) needs a loss .* No layer added a loss with add_loss"):
        model.fit(X, batch_size=16, epochs=1, verbose=0)


def test_a_dict_missing_an_input_name_is_refused():
    model = _model(gated, _loss_layer(gated))
    with pytest.raises(ValueError, match=r"expects inputs named \['features', 'target'\]; missing \['target'\]"):
        model({"features": X["features"]})
