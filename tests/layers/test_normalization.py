"""BatchNormalization, LayerNormalization and GroupNormalization against real Keras 3 (torch backend): outputs in
inference and training, the moving statistics after training calls (with and without a mask), an SGD fit step of a
model holding BatchNormalization, configs, errors; and a captured training step updating the moving statistics."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import gated
from gated.layers import BatchNormalization, Dense, GroupNormalization, Input, LayerNormalization, Masking
from gated.training import _graphs

ATOL = 1e-5


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _x(*shape: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * 2.0 + 0.5).astype("float32")


def _random_weights(layer, seed: int = 1) -> None:
    """Weights away from their initial values (variances positive), the same arrays for both libraries."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()])


def _twin(klayer, ours, x: np.ndarray):
    klayer(x)
    klayer.set_weights(ours.get_weights())
    return klayer


def _close(actual, expected, what: str = "") -> None:
    np.testing.assert_allclose(_np(actual), _np(expected), atol=ATOL, rtol=ATOL, err_msg=what)


# ------------------------------------------------------------------------------------------------ BatchNormalization
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False), (False, False)])
@pytest.mark.parametrize("axis, shape", [(-1, (4, 5, 3)), (1, (4, 3, 5)), (-1, (6, 3))], ids=["last", "first", "2d"])
def test_batch_normalization_matches_keras_in_inference_and_training(keras, axis, shape, center, scale):
    x = _x(*shape)
    ours = BatchNormalization(axis=axis, momentum=0.9, center=center, scale=scale)
    ours(x)
    _random_weights(ours)
    theirs = _twin(keras.layers.BatchNormalization(axis=axis, momentum=0.9, center=center, scale=scale), ours, x)
    _close(ours(x), theirs(x, training=False), "inference")
    for step in range(3):
        batch = _x(*shape, seed=10 + step)
        _close(ours(batch, training=True), theirs(batch, training=True), f"training call {step}")
        for mine, keras_weight, name in zip(ours.get_weights(), theirs.get_weights(), ours._weight_paths()):
            _close(mine, keras_weight, f"{name} after training call {step}")
    _close(ours(x), theirs(x, training=False), "inference after training")


@pytest.mark.parametrize("clipping", [None, {"rmax": 1.2, "rmin": 0.8, "dmax": 0.3}], ids=["free", "clipped"])
def test_batch_renormalization_matches_keras_outputs_statistics_and_gradients(keras, clipping):
    x = _x(6, 4, 3)
    kwargs = dict(renorm=True, renorm_clipping=clipping, momentum=0.8, renorm_momentum=0.7)
    ours = BatchNormalization(**kwargs)
    ours(x)
    _random_weights(ours)
    theirs = _twin(keras.layers.BatchNormalization(**kwargs), ours, x)
    assert ours._weight_paths() == [w.path.split("/")[-1] for w in theirs.weights]
    for step in range(3):
        batch = _x(6, 4, 3, seed=20 + step) * 1.5
        xt, xk = torch.tensor(batch, requires_grad=True), torch.tensor(batch, requires_grad=True)
        out, expected = ours(xt, training=True), theirs(xk, training=True)
        _close(out, expected, f"training call {step}")
        (out ** 2).sum().backward()
        (expected ** 2).sum().backward()
        _close(xt.grad, xk.grad, f"input gradient {step}")
        for mine, keras_weight, name in zip(ours.get_weights(), theirs.get_weights(), ours._weight_paths()):
            _close(mine, keras_weight, f"{name} after training call {step}")
    _close(ours.gamma.grad, theirs.gamma.value.grad, "gamma gradient")
    _close(ours(x), theirs(x, training=False), "inference")
    assert ours.get_config()["renorm_clipping"] == theirs.get_config()["renorm_clipping"]


def test_batch_normalization_moving_statistics_follow_the_keras_update_rule():
    """Biased batch variance; moving = moving * momentum + batch * (1 - momentum), against float64 numpy."""
    layer = BatchNormalization(momentum=0.8, dtype="float64")
    moving_mean, moving_var = np.zeros(3), np.ones(3)
    for step in range(4):
        batch = _x(6, 2, 3, seed=step).astype("float64")
        out = layer(batch, training=True)
        mean, var = batch.mean(axis=(0, 1)), batch.var(axis=(0, 1))
        moving_mean, moving_var = moving_mean * 0.8 + mean * 0.2, moving_var * 0.8 + var * 0.2
        np.testing.assert_allclose(_np(out), (batch - mean) / np.sqrt(var + 1e-3), atol=1e-12)
    np.testing.assert_allclose(layer.get_weights()[2], moving_mean, atol=1e-12)
    np.testing.assert_allclose(layer.get_weights()[3], moving_var, atol=1e-12)


def test_masked_steps_are_left_out_of_the_batch_statistics_like_keras(keras):
    x = _x(4, 6, 3)
    x[0, 4:] = 0.0
    x[2, :3] = 0.0
    x[3, 1] = 0.0
    ours = BatchNormalization(momentum=0.5)
    theirs = keras.layers.BatchNormalization(momentum=0.5)
    masked_ours, masked_theirs = Masking()(torch.as_tensor(x)), keras.layers.Masking()(x)
    out = ours(masked_ours, training=True)
    expected = theirs(masked_theirs, training=True)
    _close(out, expected)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        _close(mine, keras_weight)
    np.testing.assert_array_equal(_np(out._keras_mask), _np(expected._keras_mask))  # the mask passes through
    keep = x.any(axis=-1)
    valid = x[keep]  # the unmasked steps only
    moving_mean = 0.5 * 0.0 + 0.5 * valid.mean(axis=0)
    np.testing.assert_allclose(ours.get_weights()[2], moving_mean, atol=1e-5)
    unmasked = BatchNormalization(momentum=0.5)
    unmasked(x, training=True)
    assert not np.allclose(unmasked.get_weights()[2], ours.get_weights()[2])  # the padding did count there


def test_trainable_false_runs_in_inference_mode_and_freezes_the_statistics(keras):
    x = _x(5, 3)
    ours = BatchNormalization()
    ours(x)
    _random_weights(ours)
    theirs = _twin(keras.layers.BatchNormalization(), ours, x)
    ours.trainable = theirs.trainable = False
    before = ours.get_weights()
    _close(ours(x, training=True), theirs(x, training=True))
    _close(ours(x, training=True), ours(x, training=False))
    for a, b in zip(before, ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert ours.trainable_weights == [] and len(ours.non_trainable_weights) == 4


def test_batch_normalization_weights_are_named_and_split_like_keras(keras):
    x = _x(4, 3)
    ours = BatchNormalization()
    ours(x)
    theirs = keras.layers.BatchNormalization()
    theirs(x)
    assert ours._weight_paths() == [w.path.split("/")[-1] for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.trainable_weights] == [tuple(w.shape) for w in theirs.trainable_weights]
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights) == 2
    assert [p.requires_grad for p in ours.parameters()] == [True, True]  # the moving statistics are buffers
    assert ours.count_params() == theirs.count_params()


def _keras_model(keras, first_weights):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization(momentum=0.9),
                              keras.layers.Dense(1)])
    model.set_weights(first_weights)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_an_sgd_fit_of_a_model_with_batch_normalization_matches_keras(keras):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((16, 3)).astype("float32") * 2 + 1
    y = rng.standard_normal((16, 1)).astype("float32")
    ours = gated.Sequential([Input((3,)), Dense(4), BatchNormalization(momentum=0.9), Dense(1)])
    _random_weights(ours.layers[1])
    theirs = _keras_model(keras, ours.get_weights())
    ours.compile(optimizer=gated.optimizers.SGD(0.1), loss="mse", device="cpu")
    ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for index, (mine, keras_weight) in enumerate(zip(ours.get_weights(), theirs.get_weights())):
        _close(mine, keras_weight, f"weight {index}")
    _close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), "predictions")


def test_batch_normalization_config_has_keras_keys_and_round_trips(keras):
    ours = BatchNormalization(axis=1, momentum=0.7, epsilon=0.01, center=False, gamma_regularizer="l2")
    theirs = keras.layers.BatchNormalization(axis=1, momentum=0.7, epsilon=0.01, center=False,
                                             gamma_regularizer="l2")
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    for key in ("axis", "momentum", "epsilon", "center", "scale", "renorm", "synchronized", "renorm_momentum"):
        assert config[key] == theirs.get_config()[key], key
    clone = BatchNormalization.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(axis=[1, 2]), TypeError, r"`axis` must be one integer .* received axis=\[1, 2\].*LayerNormalization"),
    (dict(momentum=1.5), ValueError, r"`momentum` must be a number between 0 and 1, received momentum=1.5"),
    (dict(epsilon=-1), ValueError, r"`epsilon` must be a number >= 0, received epsilon=-1"),
    (dict(renorm=True, renorm_clipping={"rmax": 1.0, "max": 2.0}), ValueError,
     r"`renorm_clipping` takes a dict with the keys \['rmax', 'rmin', 'dmax'\], received renorm_clipping="),
    (dict(renorm=True, renorm_clipping={"rmax": 1.0, "rmin": 2.0}), ValueError, r"needs rmax >= rmin"),
    (dict(renorm=True, renorm_clipping={"dmax": -1.0}), ValueError, r"needs dmax >= 0, received dmax=-1.0"),
    (dict(synchronized=True), ValueError, r"synchronized=True is only supported by Keras's TensorFlow backend"),
    (dict(center="yes"), TypeError, r"`center` must be True or False, received center='yes'"),
])
def test_batch_normalization_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        BatchNormalization(**kwargs)


def test_batch_normalization_rejects_inputs_of_another_layout():
    layer = BatchNormalization()
    layer(_x(4, 5, 3))
    with pytest.raises(ValueError, match=r"was built for inputs of rank 3 with 3 features on axis -1, but received a "
                                         r"3-D array of shape \(4, 5, 2\)"):
        layer(_x(4, 5, 2))
    with pytest.raises(ValueError, match=r"normalizes axis 3, which does not exist in inputs of rank 3"):
        BatchNormalization(axis=3)(_x(4, 5, 3))
    with pytest.raises(ValueError, match=r"takes a mask with one axis fewer than its inputs .* received a mask of "
                                         r"shape \(4, 5, 3\)"):
        layer(torch.as_tensor(_x(4, 5, 3)), training=True, mask=torch.ones(4, 5, 3, dtype=torch.bool))


# ------------------------------------------------------------------------------------------------ captured steps
class _NoHostSync(TorchDispatchMode):
    SYNCING = {"aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select", "aten::item"}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func._schema.name in self.SYNCING:
            raise AssertionError(f"{func._schema.name} reads a device value on the host (not capturable)")
        return func(*args, **(kwargs or {}))


def test_a_training_call_updates_the_statistics_in_place_without_reading_the_device():
    """What a captured CUDA graph needs: the same storage every call (a replay writes where the capture wrote) and
    no value read back to the host."""
    layer = BatchNormalization()
    layer(_x(4, 3))
    assert layer.capture_blocker() is None
    pointers = [layer.moving_mean.data_ptr(), layer.moving_variance.data_ptr()]
    with _NoHostSync():
        layer(torch.as_tensor(_x(4, 3, seed=2)), training=True)
    assert [layer.moving_mean.data_ptr(), layer.moving_variance.data_ptr()] == pointers
    assert not np.allclose(layer.get_weights()[2], 0.0)


def _fit(jit_compile, monkeypatch):
    torch.manual_seed(0)
    model = gated.Sequential([Input((3,)), Dense(4), BatchNormalization(momentum=0.8), Dense(1)])
    model.compile(optimizer=gated.optimizers.SGD(0.05), loss="mse", device="cpu", jit_compile=jit_compile)
    paths = []

    class Record(gated.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            paths.append(self.model.last_step_path.name)

    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 3)).astype("float32")
    y = rng.standard_normal((64, 1)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[Record()])
    return model, paths


def test_a_simulated_captured_fit_updates_the_moving_statistics_like_the_eager_fit(monkeypatch):
    monkeypatch.setattr(_graphs, "_SIMULATE", True)  # the captured body runs at each replay, on the CPU
    real = _graphs.blockers
    monkeypatch.setattr(_graphs, "blockers", lambda model, device, jit, *a, **k: [
        r for r in real(model, device, jit, *a, **k) if "CUDA device" not in r])
    captured, paths = _fit("auto", monkeypatch)
    eager, eager_paths = _fit(False, monkeypatch)
    assert "captured" in paths and set(eager_paths) == {"eager"}
    for index, (a, b) in enumerate(zip(captured.get_weights(), eager.get_weights())):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=f"weight {index}")
    assert not np.allclose(captured.layers[1].get_weights()[2], 0.0)


# ------------------------------------------------------------------------------------------------ LayerNormalization
@pytest.mark.parametrize("axis, shape", [(-1, (3, 5, 4)), ([1, 2], (3, 5, 4)), ([-2, -1], (3, 5, 4)),
                                         ([1, 3], (2, 3, 4, 5)), (-1, (6, 4))],
                         ids=["last", "both", "negative-pair", "non-contiguous", "2d"])
@pytest.mark.parametrize("center, scale", [(True, True), (False, False)])
def test_layer_normalization_matches_keras(keras, axis, shape, center, scale):
    x = _x(*shape)
    ours = LayerNormalization(axis=axis, center=center, scale=scale, epsilon=1e-2)
    ours(x)
    _random_weights(ours)
    theirs = _twin(keras.layers.LayerNormalization(axis=axis, center=center, scale=scale, epsilon=1e-2), ours, x)
    _close(ours(x), theirs(x))
    assert ours.get_config()["axis"] == theirs.get_config()["axis"]
    assert set(ours.get_config()) == set(theirs.get_config())


def test_layer_normalization_rms_scaling_is_keras_variance_scaling(keras):
    x = _x(3, 5, 4)
    ours = LayerNormalization(rms_scaling=True)
    ours(x)
    _random_weights(ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras deprecates the argument; its computation is what is compared
        theirs = _twin(keras.layers.LayerNormalization(rms_scaling=True), ours, x)
        expected = theirs(x)
    assert [w.shape for w in ours.get_weights()] == [(4,)]  # gamma only
    _close(ours(x), expected)
    gamma = ours.get_weights()[0]
    np.testing.assert_allclose(_np(ours(x)), x / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * gamma, atol=ATOL)


def test_layer_normalization_gradients_match_keras(keras):
    x = _x(3, 4, 5)
    ours = LayerNormalization()
    ours(x)
    _random_weights(ours)
    theirs = _twin(keras.layers.LayerNormalization(), ours, x)
    xt, xk = torch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours(xt) ** 3).sum().backward()
    (theirs(xk) ** 3).sum().backward()
    _close(xt.grad, xk.grad, "input gradient")
    _close(ours.gamma.grad, theirs.gamma.value.grad, "gamma gradient")
    _close(ours.beta.grad, theirs.beta.value.grad, "beta gradient")


def test_layer_normalization_passes_the_mask_and_rejects_bad_axes():
    x = _x(2, 4, 3)
    x[0, 2:] = 0.0
    out = LayerNormalization()(Masking()(torch.as_tensor(x)))
    np.testing.assert_array_equal(_np(out._keras_mask), x.any(-1))
    with pytest.raises(TypeError, match=r"`axis` must be an int or a non-empty list of ints, received axis='last'"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match=r"normalizes axis 3, which does not exist in inputs of rank 3"):
        LayerNormalization(axis=[1, 3])(x)
    with pytest.raises(ValueError, match=r"received axis=\[2, -1\], which names one axis twice"):
        LayerNormalization(axis=[2, -1])(x)


# ------------------------------------------------------------------------------------------------ GroupNormalization
@pytest.mark.parametrize("groups, axis, shape", [(2, -1, (3, 5, 6)), (3, -1, (3, 5, 6)), (-1, -1, (3, 5, 6)),
                                                 (1, -1, (4, 6)), (2, 1, (3, 4, 5))],
                         ids=["2-groups", "3-groups", "instance", "layer", "channels-first"])
def test_group_normalization_matches_keras(keras, groups, axis, shape):
    x = _x(*shape)
    ours = GroupNormalization(groups=groups, axis=axis)
    ours(x)
    _random_weights(ours)
    theirs = _twin(keras.layers.GroupNormalization(groups=groups, axis=axis), ours, x)
    _close(ours(x), theirs(x))
    assert ours.get_config()["groups"] == theirs.get_config()["groups"]  # -1 becomes the channel count in both
    assert set(ours.get_config()) == set(theirs.get_config())


def test_group_normalization_rejects_bad_groups():
    with pytest.raises(ValueError, match=r"`groups` must be a positive integer \(or -1 for instance normalization\), "
                                         r"received groups=0"):
        GroupNormalization(groups=0)
    with pytest.raises(ValueError, match=r"splits 6 channels .* into groups=4, but the channel count must be a "
                                         r"multiple of the number of groups"):
        GroupNormalization(groups=4)(_x(2, 3, 6))
    layer = GroupNormalization(groups=2)
    layer(_x(2, 3, 6))
    with pytest.raises(ValueError, match=r"was built for inputs of rank 3 with 6 channels on axis -1, but received a "
                                         r"3-D array of shape \(2, 3, 4\)"):
        layer(_x(2, 3, 4))


def test_normalization_layers_save_and_load_with_their_statistics(tmp_path):
    x = _x(4, 5, 6)
    inputs = Input((5, 6))
    h = BatchNormalization()(inputs)
    h = LayerNormalization(axis=[1, 2])(h)
    model = gated.Model(inputs, GroupNormalization(groups=3)(h))
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            layer(x, training=True)  # moving statistics away from their initial values
        elif layer.weights:
            _random_weights(layer)
    model.save(tmp_path / "norms.gated")
    loaded = gated.load_model(tmp_path / "norms.gated")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
