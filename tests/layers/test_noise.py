"""GaussianNoise, GaussianDropout and SpatialDropout1D: the identity at inference (as real Keras), the moments of
their noise in training, whole channels dropped by SpatialDropout1D, seeds, masks, configs and errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gated.layers import GaussianDropout, GaussianNoise, Masking, SpatialDropout1D

LAYERS = {
    "GaussianNoise": (lambda **kw: GaussianNoise(0.3, **kw), lambda k: k.layers.GaussianNoise(0.3)),
    "GaussianDropout": (lambda **kw: GaussianDropout(0.4, **kw), lambda k: k.layers.GaussianDropout(0.4)),
    "SpatialDropout1D": (lambda **kw: SpatialDropout1D(0.5, **kw), lambda k: k.layers.SpatialDropout1D(0.5)),
}


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _x(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_noise_layers_are_the_identity_at_inference_like_keras(keras, name):
    ours, theirs = LAYERS[name][0](), LAYERS[name][1](keras)
    x = _x(3, 5, 4)
    np.testing.assert_array_equal(_np(ours(x)), x)
    np.testing.assert_array_equal(_np(ours(x, training=False)), _np(theirs(x, training=False)))
    assert not ours.training  # layers start in inference mode, as Keras layers outside fit


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_noise_layers_pass_the_mask_through_in_training(name):
    x = _x(3, 5, 4)
    x[0, 3:] = 0.0
    out = LAYERS[name][0]()(Masking()(torch.as_tensor(x)), training=True)
    np.testing.assert_array_equal(_np(out._keras_mask), x.any(-1))


def test_gaussian_noise_adds_zero_mean_noise_of_stddev():
    layer = GaussianNoise(0.3)
    x = torch.full((400, 500), 2.0)
    noise = _np(layer(x, training=True)) - 2.0
    n = noise.size
    assert abs(noise.mean()) < 5 * 0.3 / math.sqrt(n)
    assert abs(noise.std() - 0.3) < 5 * 0.3 / math.sqrt(2 * n)
    assert abs(np.mean(noise ** 3)) < 5 * math.sqrt(15 * 0.3 ** 6 / n)  # symmetric, as a normal distribution
    layer.train()
    assert not np.array_equal(_np(layer(x)), _np(x))  # training=None follows layer.train()


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_gaussian_dropout_multiplies_by_noise_of_mean_one(rate):
    x = torch.full((400, 500), 3.0)
    factor = _np(GaussianDropout(rate)(x, training=True)) / 3.0
    stddev, n = math.sqrt(rate / (1 - rate)), factor.size
    assert abs(factor.mean() - 1.0) < 5 * stddev / math.sqrt(n)
    assert abs(factor.std() - stddev) < 5 * stddev / math.sqrt(2 * n)


@pytest.mark.parametrize("rate", [0.25, 0.6])
def test_spatial_dropout_drops_whole_channels_and_scales_the_rest(rate):
    x = torch.as_tensor(np.abs(_x(200, 7, 50)) + 0.1)  # no zero entries of its own
    out = _np(SpatialDropout1D(rate)(x, training=True))
    dropped = out == 0.0
    per_channel = dropped.all(axis=1)  # (B, F): the whole channel, every timestep
    assert np.array_equal(dropped, np.broadcast_to(per_channel[:, None, :], dropped.shape))
    kept = ~dropped
    np.testing.assert_allclose(out[kept], _np(x)[kept] / (1 - rate), rtol=1e-6)
    n = per_channel.size
    assert abs(per_channel.mean() - rate) < 5 * math.sqrt(rate * (1 - rate) / n)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_seeded_noise_is_reproducible_and_advances(name):
    make = LAYERS[name][0]
    x = torch.as_tensor(_x(4, 6, 5))
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    first = _np(a(x, training=True))
    np.testing.assert_array_equal(first, _np(b(x, training=True)))
    assert not np.array_equal(first, _np(c(x, training=True)))
    assert not np.array_equal(first, _np(a(x, training=True)))  # the next draw differs
    assert "own seeded generator" in a.capture_blocker() and make().capture_blocker() is None


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_noise_configs_have_keras_keys_and_round_trip(keras, name):
    ours, theirs = LAYERS[name][0](seed=3), LAYERS[name][1](keras)
    config = json.loads(json.dumps(ours.get_config()))
    assert set(config) == set(theirs.get_config())
    assert config["seed"] == 3
    assert json.loads(json.dumps(type(ours).from_config(config).get_config())) == config


@pytest.mark.parametrize("make, error, match", [
    (lambda: GaussianNoise(1.5), ValueError, r"`stddev` must be a number between 0 and 1, received stddev=1.5"),
    (lambda: GaussianNoise(0.1, seed="a"), TypeError, r"`seed` must be an int or None, received seed='a'"),
    (lambda: GaussianDropout(1.0), ValueError, r"`rate` must be a number in \[0, 1\), received rate=1.0.*infinite"),
    (lambda: GaussianDropout(-0.1), ValueError, r"`rate` must be a number in \[0, 1\)"),
    (lambda: SpatialDropout1D(2.0), ValueError, r"`rate` must be a number between 0 and 1, received rate=2.0"),
])
def test_noise_layers_reject_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_spatial_dropout_needs_a_sequence():
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, timesteps, channels\), but received a 2-D "
                                         r"array of shape \(3, 4\)"):
        SpatialDropout1D(0.5)(torch.zeros(3, 4), training=True)
