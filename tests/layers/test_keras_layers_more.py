"""The convolution, pooling, padding, activation, normalization and dropout layers added for Keras programs,
against real Keras 3 (torch backend) with the same weights: outputs and output shapes at inference, and for the
layers with weights one SGD step of a small model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from tests.layers.test_contract import CASES

NEW = ["DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Conv3DTranspose", "MaxPooling3D", "AveragePooling3D",
       "GlobalAveragePooling3D", "GlobalMaxPooling3D", "ZeroPadding3D", "Cropping3D", "UpSampling3D", "Identity",
       "ActivityRegularization", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "UnitNormalization",
       "RMSNormalization", "AlphaDropout", "SpatialDropout2D", "SpatialDropout3D"]
TRAINABLE = ["DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Conv3DTranspose", "PReLU", "RMSNormalization"]


def _random_weights(weights: list[np.ndarray], seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(w.shape) * 0.5).astype("float32") for w in weights]


@pytest.mark.parametrize("name", NEW)
def test_inference_output_and_shape_match_keras(keras, name):
    case = CASES[name]
    x = case.inputs()
    ours, theirs = case.make(), case.keras(keras)
    ours(torch.as_tensor(x))
    theirs.build(x.shape)
    weights = _random_weights(ours.get_weights())
    ours.set_weights(weights)
    theirs.set_weights(weights)
    out = ours(torch.as_tensor(x)).detach().numpy()
    expected = keras.ops.convert_to_numpy(theirs(x, training=False))
    np.testing.assert_allclose(out, expected, atol=1e-5, rtol=0)
    assert tuple(ours.compute_output_shape(x.shape)) == tuple(theirs.compute_output_shape(x.shape)) == out.shape


@pytest.mark.parametrize("name", TRAINABLE)
def test_one_sgd_step_of_a_model_matches_keras(keras, name):
    case = CASES[name]
    x = case.inputs()
    y = np.random.default_rng(4).standard_normal((x.shape[0], 2)).astype("float32")

    def build(lib, layer):
        model = lib.Sequential([lib.Input(x.shape[1:]), layer, lib.layers.Flatten(), lib.layers.Dense(2)])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        return model

    theirs = build(keras, case.keras(keras))
    ours = build(gated, case.make())
    weights = _random_weights(theirs.get_weights())
    theirs.set_weights(weights)
    ours.set_weights(weights)
    k_loss = theirs.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0).history["loss"]
    g_loss = ours.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(g_loss, k_loss, rtol=1e-5)
    changed = 0
    for before, a, b in zip(weights, theirs.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(b, np.asarray(a), atol=1e-5, rtol=0)
        changed += not np.allclose(before, b)
    assert changed == len(weights)


def test_spatial_dropout_drops_whole_channels_and_scales_the_rest():
    layer = gated.layers.SpatialDropout2D(0.5, seed=3)
    x = torch.ones(8, 5, 6, 16)
    out = layer(x, training=True)
    per_map = out.permute(0, 3, 1, 2).reshape(8 * 16, -1)
    assert set(torch.unique(per_map).tolist()) <= {0.0, 2.0}
    assert bool(((per_map == 0).all(dim=1) | (per_map == 2).all(dim=1)).all())
    assert 0 < int((per_map == 0).all(dim=1).sum()) < 8 * 16
    torch.testing.assert_close(layer(x, training=False), x)


def test_alpha_dropout_keeps_mean_and_variance_of_standard_normal_inputs():
    torch.manual_seed(0)
    x = torch.randn(200_000)
    out = gated.layers.AlphaDropout(0.2)(x, training=True)
    assert abs(float(out.mean())) < 0.02 and abs(float(out.std()) - 1.0) < 0.02
    _, counts = torch.unique(out, return_counts=True)
    assert int(counts.max()) / out.numel() == pytest.approx(0.2, abs=0.01)  # every dropped entry takes one value
    torch.testing.assert_close(gated.layers.AlphaDropout(0.2)(x, training=False), x)


@pytest.mark.parametrize("make, match", [
    (lambda: gated.layers.SpatialDropout2D(-0.1), r"rate"),
    (lambda: gated.layers.ZeroPadding3D(((1, 0), (1, 1))), r"padding"),
    (lambda: gated.layers.Cropping3D((1, 2)), r"cropping"),
    (lambda: gated.layers.ReLU(negative_slope=-1.0), r"negative_slope"),
])
def test_bad_arguments_are_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_wrong_input_rank_is_a_clear_error():
    with pytest.raises(ValueError, match=r"5"):
        gated.layers.MaxPooling3D(2)(torch.zeros(2, 4, 4, 3))


@pytest.mark.parametrize("name, kwargs", [("Dense", {"units": 3}), ("Embedding", {"input_dim": 5, "output_dim": 2})])
def test_a_real_keras_config_with_its_quantization_setting_loads_and_a_quantized_one_is_refused(keras, name, kwargs):
    config = getattr(keras.layers, name)(**kwargs).get_config()
    assert "quantization_config" in config  # what Keras 3.10+ writes; without it this test proves nothing
    layer = getattr(gated.layers, name).from_config(config)
    assert {k: v for k, v in layer.get_config().items() if k in kwargs} == kwargs
    with pytest.raises(ValueError, match=r"quantization_config=\{'mode': 'int8'\}.*never quantized"):
        getattr(gated.layers, name).from_config({**config, "quantization_config": {"mode": "int8"}})
