"""Lion, Lamb, Ftrl, Adafactor and LossScaleOptimizer against real Keras (torch backend): five steps on the same
parameters and gradients, configs, names in compile, and a GRU model's fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated import optimizers
from tests.test_optimizers import assert_histories_close, gradient_sequence, initial_params, run_gated, run_keras

CONFIGS = [
    ("Lion", {}), ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9}),
    ("Lion", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("Lamb", {}), ("Lamb", {"learning_rate": 0.05, "beta_1": 0.8, "epsilon": 1e-3}),
    ("Lamb", {"learning_rate": 0.01, "global_clipnorm": 1.0}),
    ("Ftrl", {}), ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01}),
    ("Ftrl", {"learning_rate": 0.05, "learning_rate_power": -0.3, "initial_accumulator_value": 0.5,
              "l2_regularization_strength": 0.1, "l2_shrinkage_regularization_strength": 0.05, "beta": 0.2}),
    ("Adafactor", {}), ("Adafactor", {"learning_rate": 0.01, "beta_2_decay": -0.5, "clip_threshold": 0.5}),
    ("Adafactor", {"learning_rate": 0.5, "epsilon_2": 1e-2, "relative_step": False}),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in CONFIGS])
def test_five_steps_match_keras(keras, name, kwargs):
    grads = gradient_sequence(5)
    theirs = run_keras(keras, name, kwargs, 5, grads)
    ours = run_gated(getattr(optimizers, name)(**kwargs), 5, grads)
    assert_histories_close(ours[:1], theirs[:1], atol=5e-7)
    assert_histories_close(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in CONFIGS])
def test_config_matches_keras_and_round_trips(keras, name, kwargs):
    ours, theirs = getattr(optimizers, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs)
    config = theirs.get_config()
    for key, value in ours.get_config().items():
        if key == "name":  # Keras numbers the names of later instances ('lion_1')
            continue
        assert config[key] == pytest.approx(value) if isinstance(value, float) else config[key] == value, key
    from_keras = type(ours).from_config(config).get_config()
    assert from_keras.keys() == ours.get_config().keys()
    assert from_keras["learning_rate"] == pytest.approx(ours.get_config()["learning_rate"])
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    assert optimizers.deserialize(optimizers.serialize(ours)).get_config() == ours.get_config()


def _scaled(grads, scale):
    return [[g * scale for g in step] for step in grads]


@pytest.mark.parametrize("growth", [2, 2000])
def test_loss_scale_optimizer_matches_keras_including_a_skipped_step(keras, growth):
    grads = gradient_sequence(5)
    grads[2][0][0, 0] = np.inf  # a non-finite gradient: the step is skipped and the scale halves
    kvars = [keras.Variable(p) for p in initial_params()]
    theirs = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=8.0,
                                                 dynamic_growth_steps=growth)
    params = [torch.nn.Parameter(torch.tensor(p)) for p in initial_params()]
    ours = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=8.0, dynamic_growth_steps=growth)
    for step in range(5):
        scale = float(theirs.dynamic_scale.numpy()) if theirs.built else 8.0
        assert ours.dynamic_scale == scale
        theirs.apply([torch.tensor(g * scale) for g in grads[step]], kvars)
        ours.apply([torch.tensor(g * scale) for g in grads[step]], params)
        for ours_p, their_v in zip(params, kvars):
            np.testing.assert_allclose(ours_p.detach().numpy(), their_v.numpy(), rtol=1e-6, atol=1e-7)
        assert ours.dynamic_scale == float(theirs.dynamic_scale.numpy())
        assert ours.iterations == int(theirs.iterations.numpy())


def test_loss_scale_optimizer_step_is_the_inner_update_in_float32(keras):
    grads = gradient_sequence(5)
    theirs = run_keras(keras, "Adam", {"learning_rate": 0.01}, 5, grads)
    ours = run_gated(optimizers.LossScaleOptimizer(optimizers.Adam(0.01)), 5, grads)
    assert_histories_close(ours, theirs)


def test_loss_scale_optimizer_config_round_trips_with_keras(keras):
    theirs = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=4.0,
                                                 dynamic_growth_steps=10)
    ours = optimizers.LossScaleOptimizer.from_config(theirs.get_config())
    assert ours.initial_scale == 4.0 and ours.dynamic_growth_steps == 10
    assert isinstance(ours.inner_optimizer, optimizers.SGD) and ours.inner_optimizer.learning_rate == pytest.approx(0.1)
    again = optimizers.deserialize(optimizers.serialize(ours))
    assert again.get_config() == ours.get_config()


def test_lion_rejects_beta_1_outside_its_range():
    with pytest.raises(ValueError, match=r"Lion needs beta_1 in \(0, 1\].*received beta_1=0"):
        optimizers.Lion(beta_1=0)


def test_ftrl_rejects_a_positive_learning_rate_power():
    with pytest.raises(ValueError, match=r"Ftrl needs learning_rate_power <= 0; received learning_rate_power=0.5"):
        optimizers.Ftrl(learning_rate_power=0.5)


def test_loss_scale_optimizer_rejects_options_of_the_inner_optimizer():
    with pytest.raises(ValueError, match=r"does not take clipnorm=1.0; set it on the inner_optimizer"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)


@pytest.mark.parametrize("name", ["lion", "ftrl", "adafactor", "Lamb"])
def test_new_optimizer_by_name_trains_a_gru_model_like_keras(keras, name):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 4, 3)).astype(np.float32)
    y = rng.normal(size=(8, 2)).astype(np.float32)

    def build(lib):
        # Adafactor factors the second moments of weights of rank >= 2: Keras's reset_after GRU keeps one (2, 3H)
        # bias where gated keeps two (3H,) ones, so the Adafactor comparison uses reset_after=False (one bias).
        gru = lib.layers.GRU(5, reset_after=name != "adafactor")
        model = lib.Sequential([lib.Input((4, 3)), gru, lib.layers.Dense(2)])
        # Keras takes 'lion', 'ftrl' and 'adafactor' by name, Lamb only as an object
        model.compile(optimizer=lib.optimizers.Lamb() if name == "Lamb" else name, loss="mse")
        return model

    ours, theirs = build(gated), build(keras)
    ours.set_weights(theirs.get_weights())
    h1 = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    h2 = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_loss_scale_optimizer_in_fit_matches_keras(keras):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 4, 3)).astype(np.float32)
    y = rng.normal(size=(8, 2)).astype(np.float32)

    def build(lib):
        model = lib.Sequential([lib.Input((4, 3)), lib.layers.GRU(5), lib.layers.Dense(2)])
        model.compile(optimizer=lib.optimizers.LossScaleOptimizer(lib.optimizers.Adam(0.01)), loss="mse")
        return model

    ours, theirs = build(gated), build(keras)
    ours.set_weights(theirs.get_weights())
    h1 = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    h2 = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_lion_split_step_with_tensor_scalars_equals_step():
    """Lion runs inside a captured step: ``device_step`` with 0-d tensor scalars gives ``step()``'s update."""
    grads = gradient_sequence(3)
    eager = run_gated(optimizers.Lion(0.01, weight_decay=0.1), 3, grads)
    split = optimizers.Lion(0.01, weight_decay=0.1)
    params = [torch.nn.Parameter(torch.tensor(p)) for p in initial_params()]
    split.build(params)
    assert split.capture_blocker() is None
    for step in range(3):
        for p, g in zip(params, grads[step]):
            p.grad = torch.tensor(g)
        scalars = split.host_step()
        split.device_step([{k: torch.tensor(v) for k, v in group.items()} for group in scalars])
        for ours, theirs in zip(params, eager[step]):
            np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=0, atol=1e-7)
    assert optimizers.Lamb().build(params).capture_blocker().startswith("optimizer Lamb has no captured update")


@pytest.mark.parametrize("make", [lambda: optimizers.Lion(0.01), lambda: optimizers.Ftrl(0.1), "adafactor",
                                  lambda: optimizers.Lamb(0.01),
                                  lambda: optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=4.0)])
def test_new_optimizer_state_survives_save_and_load(tmp_path, make):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(8, 4, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    model = gated.Sequential([gated.Input((4, 3)), gated.layers.GRU(4), gated.layers.Dense(1)])
    model.compile(optimizer=make if isinstance(make, str) else make(), loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = gated.load_model(tmp_path / "model.keras")
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 2
    h1 = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    h2 = loaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    assert h1 == h2
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
