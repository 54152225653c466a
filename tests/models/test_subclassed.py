"""Subclassed models written the Keras way (``__init__`` + ``call``, an overridden ``train_step`` / ``test_step``
with Keras 3's torch-backend contract), each run in gated and in real Keras from the same weights: outputs,
training histories and evaluation results must agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated

ATOL = 1e-5


def _data(n: int = 16, steps: int = 5, features: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, steps, features)).astype("float32"),
            rng.standard_normal((n, 1)).astype("float32"))


def _regressor(lib):
    """``call(inputs, training=None)``: GRU -> Dropout -> Dense, as Keras users subclass Model."""

    class Regressor(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.gru = lib.layers.GRU(4)
            self.drop = lib.layers.Dropout(0.5)
            self.head = lib.layers.Dense(1)

        def call(self, inputs, training=None):
            return self.head(self.drop(self.gru(inputs), training=training))

    return Regressor(name="regressor")


def _guide_model(lib):
    """The torch version of keras-io's "customizing what happens in fit": compile's loss and metrics, used from an
    overridden train_step through compute_loss and self.metrics."""

    class CustomModel(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.gru = lib.layers.GRU(4)
            self.head = lib.layers.Dense(1)

        def call(self, inputs):
            return self.head(self.gru(inputs))

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    return CustomModel(name="custom")


def _tracker_model(lib):
    """The guide's lower-level form: a functional model subclassed with its own loss tracker and metric, a
    ``metrics`` property, ``compile(optimizer=...)`` alone, and a test_step."""

    class TrackerModel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lib.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            self.loss_tracker.update_state(self.loss_fn(y, y_pred))
            self.mae_metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    inputs = lib.Input((5, 3))
    outputs = lib.layers.Dense(1)(lib.layers.LSTM(4)(inputs))
    return TrackerModel(inputs, outputs)


def _twins(keras, make, x):
    ours, theirs = make(gated), make(keras)
    theirs(x[:2])
    ours(x[:2])
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def _histories_close(ours: dict, theirs: dict) -> None:
    assert set(ours) == set(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=ATOL, err_msg=key)


def test_subclassed_model_is_built_on_its_first_call_and_predicts_what_keras_predicts(keras):
    x, _ = _data()
    ours = _regressor(gated)
    assert not ours.built
    ours, theirs = _twins(keras, _regressor, x)
    assert ours.built and [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=ATOL)
    np.testing.assert_allclose(ours(x, training=False).detach().numpy(),
                               keras.ops.convert_to_numpy(theirs(x, training=False)), atol=ATOL)


def test_dropout_follows_the_training_argument_of_call(keras):
    x, _ = _data()
    ours, _ = _twins(keras, _regressor, x)
    inference = ours(x, training=False).detach()
    torch.testing.assert_close(ours(x).detach(), inference)  # inference by default
    assert not torch.allclose(ours(x, training=True).detach(), inference)  # the inner Dropout got training=True


def test_fit_with_the_default_step_matches_keras(keras):
    x, y = _data()
    ours, theirs = _twins(keras, _regressor, x)
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    ours.compile(optimizer=gated.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    # Dropout makes training random: compare a model without it
    ours.drop.rate = theirs.drop.rate = 0.0
    expected = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    found = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    _histories_close(found, expected)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4)


def test_overridden_train_step_with_compute_loss_and_self_metrics_matches_keras(keras):
    x, y = _data()
    ours, theirs = _twins(keras, _guide_model, x)
    theirs.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    ours.compile(optimizer=gated.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    assert ours.metrics_names == theirs.metrics_names == ["loss", "compile_metrics"]
    expected = theirs.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
    found = ours.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
    assert ours.last_step_path.name == "user"
    _histories_close(found, expected)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4)
    # the default test_step: compute_loss and compute_metrics, the compile's loss tracker
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-5)


def test_loss_tracker_metrics_property_and_test_step_match_keras(keras):
    x, y = _data()
    ours, theirs = _twins(keras, _tracker_model, x)
    theirs.compile(optimizer=keras.optimizers.Adam(0.02))
    ours.compile(optimizer=gated.optimizers.Adam(0.02))
    assert ours.metrics_names == theirs.metrics_names == ["loss", "mae"]
    x_val, y_val = _data(8, seed=3)
    expected = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                          validation_data=(x_val, y_val)).history
    found = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, validation_data=(x_val, y_val)).history
    _histories_close(found, expected)
    theirs_eval = theirs.evaluate(x_val, y_val, verbose=0, return_dict=True)
    ours_eval = ours.evaluate(x_val, y_val, verbose=0, return_dict=True)
    assert set(ours_eval) == set(theirs_eval)
    for key in theirs_eval:
        np.testing.assert_allclose(ours_eval[key], float(theirs_eval[key]), rtol=1e-5, atol=ATOL)
    assert abs(float(ours.loss_tracker.result()) - float(theirs.loss_tracker.result())) < ATOL


def test_super_train_step_is_keras_default_step(keras):
    """A subclass that only wraps ``super().train_step(data)`` trains as Keras's default step does."""

    def make(lib):
        class Wrapped(lib.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.dense = lib.layers.Dense(1)
                self.steps_seen = 0

            def call(self, inputs):
                return self.dense(inputs)

            def train_step(self, data):
                self.steps_seen += 1
                return super().train_step(data)

        return Wrapped()

    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((12, 3)).astype("float32"), rng.standard_normal((12, 1)).astype("float32")
    ours, theirs = _twins(keras, make, x)
    for model, lib in ((theirs, keras), (ours, gated)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    expected = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    found = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    assert ours.steps_seen == 6
    _histories_close(found, expected)


def test_compute_loss_adds_the_losses_of_add_loss(keras):
    def make(lib):
        class Penalized(lib.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.dense = lib.layers.Dense(2)

            def call(self, inputs):
                out = self.dense(inputs)
                self.add_loss(0.1 * lib.ops.sum(out ** 2) if lib is keras else 0.1 * torch.sum(out ** 2))
                return out

        return Penalized()

    x = np.random.default_rng(5).standard_normal((6, 3)).astype("float32")
    y = np.zeros((6, 2), "float32")
    ours, theirs = _twins(keras, make, x)
    for model, lib in ((theirs, keras), (ours, gated)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    expected = theirs.compute_loss(y=y, y_pred=theirs(x))
    found = ours.compute_loss(y=y, y_pred=ours(x))
    np.testing.assert_allclose(float(found.detach()), float(keras.ops.convert_to_numpy(expected)), rtol=1e-5)
    assert len(ours.losses) == len(theirs.losses) == 1


def test_summary_and_weights_files_of_a_subclassed_model(keras, tmp_path):
    x, _ = _data()
    ours, theirs = _twins(keras, _regressor, x)
    lines: list[str] = []
    ours.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for layer in (ours.gru, ours.drop, ours.head):
        assert f"{layer.name} ({type(layer).__name__})" in text
    assert f"Total params: {theirs.count_params():,}" in text
    path = tmp_path / "regressor.weights"
    ours.save_weights(path)
    other = _regressor(gated)
    other(x[:1])
    other.load_weights(path)
    np.testing.assert_allclose(other.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=ATOL)


def test_a_train_step_that_returns_no_dict_is_refused_with_what_it_returned():
    class Bad(gated.Model):
        def __init__(self):
            super().__init__()
            self.dense = gated.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            return 0.5

    model = Bad()
    model.compile(optimizer="sgd")
    with pytest.raises(TypeError, match=r"Bad.train_step\(\) must return a dict of logs.*returned float 0.5"):
        model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), verbose=0)


def test_compute_loss_without_a_compiled_loss_says_what_to_do():
    class NoLoss(gated.Model):
        def __init__(self):
            super().__init__()
            self.dense = gated.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            x, y = data
            return {"loss": self.compute_loss(y=y, y_pred=self(x))}

    model = NoLoss()
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match=r"No loss to compute for model .*Pass loss= to compile\(\)"):
        model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), verbose=0)
