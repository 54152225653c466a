"""Convolution layers against real Keras 3 (torch backend) with the same weights, and against float64 loops written
from the definitions: outputs and output shapes over the option grid (padding, strides, dilation, groups,
data_format, odd and even lengths), one SGD step of a model, weight layouts, configs, regularizers and constraints,
masks, the refusals of ONNX export, int8 and streaming, and the errors for bad arguments and inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

import gated
from gated import constraints, regularizers
from gated import layers as L
from gated.deploy import Streamer, quantize
from gated.export import export_onnx
from gated.utils._config import image_data_format, set_image_data_format

ATOL = 1e-5
B, C = 2, 4  # batch, input channels


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _inputs(spatial: tuple[int, ...], data_format: str = "channels_last", channels: int = C,
            seed: int = 0) -> np.ndarray:
    shape = (B, channels) + spatial if data_format == "channels_first" else (B,) + spatial + (channels,)
    return _rng(seed).standard_normal(shape).astype("float32")


def _random_weights(layer: L.Layer, seed: int = 1) -> None:
    """Weights drawn from N(0, 0.5²) (bias included, so a wrong bias layout shows)."""
    rng = _rng(seed)
    layer.set_weights([(rng.standard_normal(w.shape) * 0.5).astype("float32") for w in layer.get_weights()])


def _matches_keras(ours: L.Layer, theirs, x: np.ndarray, keras) -> np.ndarray:
    """``ours`` on ``x`` with random weights equals ``theirs`` given the same weights; returns our output."""
    ours(torch.as_tensor(x))
    _random_weights(ours)
    out = ours(torch.as_tensor(x)).detach().numpy()
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    expected = keras.ops.convert_to_numpy(theirs(x))
    assert out.shape == expected.shape, (out.shape, expected.shape)
    np.testing.assert_allclose(out, expected, rtol=0, atol=ATOL)
    assert tuple(ours.compute_output_shape(x.shape)) == tuple(theirs.compute_output_shape(x.shape)) == out.shape
    unknown = (None,) + tuple(x.shape[1:])
    assert tuple(ours.compute_output_shape(unknown)) == tuple(theirs.compute_output_shape(unknown))
    return out


# ------------------------------------------------------------------------------------------------ Keras parity
_CONV1D_GRID = [(p, s, d, g, f, t) for p, s, d, g, f, t in itertools.product(
    ["valid", "same", "causal"], [1, 2, 3], [1, 2], [1, 2], ["channels_last", "channels_first"], [7, 8])
    if s == 1 or d == 1]


@pytest.mark.parametrize("padding, strides, dilation, groups, data_format, steps", _CONV1D_GRID)
def test_conv1d_matches_keras(keras, padding, strides, dilation, groups, data_format, steps):
    args = dict(filters=6, kernel_size=3, strides=strides, padding=padding, dilation_rate=dilation, groups=groups,
                data_format=data_format, activation="tanh")
    _matches_keras(L.Conv1D(**args), keras.layers.Conv1D(**args), _inputs((steps,), data_format), keras)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides, dilation", [((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 1), (2, 1))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_matches_keras(keras, padding, strides, dilation, data_format, groups):
    args = dict(filters=4, kernel_size=(3, 2), strides=strides, padding=padding, dilation_rate=dilation,
                groups=groups, data_format=data_format)
    _matches_keras(L.Conv2D(**args), keras.layers.Conv2D(**args), _inputs((7, 6), data_format), keras)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides, dilation", [((1, 1, 1), (1, 1, 1)), ((2, 1, 3), (1, 1, 1)), (1, (1, 2, 1))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv3d_matches_keras(keras, padding, strides, dilation, data_format):
    args = dict(filters=4, kernel_size=(2, 3, 2), strides=strides, padding=padding, dilation_rate=dilation,
                groups=2, data_format=data_format)
    _matches_keras(L.Conv3D(**args), keras.layers.Conv3D(**args), _inputs((5, 6, 5), data_format), keras)


_DEPTHWISE_GRID = [(p, s, d, m, f) for p, s, d, m, f in itertools.product(
    ["valid", "same"], [1, 2], [1, 2], [1, 3], ["channels_last", "channels_first"]) if s == 1 or d == 1]


@pytest.mark.parametrize("padding, strides, dilation, multiplier, data_format", _DEPTHWISE_GRID)
def test_depthwise_conv1d_matches_keras(keras, padding, strides, dilation, multiplier, data_format):
    args = dict(kernel_size=3, strides=strides, padding=padding, depth_multiplier=multiplier, dilation_rate=dilation,
                data_format=data_format)
    _matches_keras(L.DepthwiseConv1D(**args), keras.layers.DepthwiseConv1D(**args), _inputs((9,), data_format), keras)


@pytest.mark.parametrize("padding, strides, dilation, multiplier, data_format", _DEPTHWISE_GRID)
def test_separable_conv1d_matches_keras(keras, padding, strides, dilation, multiplier, data_format):
    args = dict(filters=5, kernel_size=3, strides=strides, padding=padding, depth_multiplier=multiplier,
                dilation_rate=dilation, data_format=data_format, activation="relu")
    _matches_keras(L.SeparableConv1D(**args), keras.layers.SeparableConv1D(**args), _inputs((8,), data_format), keras)


_TRANSPOSE_GRID = [(p, s, d, k, o) for p, s, d, k, o in itertools.product(
    ["valid", "same"], [1, 2, 3], [1, 2], [1, 2, 3, 4], [None, 0, 1, 2]) if (s == 1 or d == 1) and (o is None or o < s)]


@pytest.mark.parametrize("padding, strides, dilation, kernel_size, output_padding", _TRANSPOSE_GRID)
def test_conv1d_transpose_matches_keras(keras, padding, strides, dilation, kernel_size, output_padding):
    args = dict(filters=3, kernel_size=kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                output_padding=output_padding)
    _matches_keras(L.Conv1DTranspose(**args), keras.layers.Conv1DTranspose(**args), _inputs((5,)), keras)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv1d_transpose_matches_keras_channels_first(keras, padding):
    args = dict(filters=3, kernel_size=3, strides=2, padding=padding, data_format="channels_first")
    _matches_keras(L.Conv1DTranspose(**args), keras.layers.Conv1DTranspose(**args),
                   _inputs((6,), "channels_first"), keras)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_softmax_activation_runs_on_the_output_layout_like_keras(keras, data_format):
    args = dict(filters=3, kernel_size=2, activation="softmax", data_format=data_format)
    out = _matches_keras(L.Conv1D(**args), keras.layers.Conv1D(**args), _inputs((5,), data_format), keras)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-6)  # over the last axis, whatever it holds


# ------------------------------------------------------------------------------------------------ float64 loops
def _same(length: int, extent: int, stride: int) -> tuple[int, int]:
    total = max(0, (math.ceil(length / stride) - 1) * stride + extent - length)
    return total // 2, total - total // 2


def _conv1d_loop(x, kernel, bias, stride, padding, dilation, groups):
    """Conv1D by its definition, channels_last: y[t, o] = bias[o] + sum_j,c x_padded[t * s + j * d, c] k[j, c, o]."""
    k, per_group, filters = kernel.shape
    extent = (k - 1) * dilation + 1
    before, after = {"valid": (0, 0), "causal": (extent - 1, 0),
                     "same": _same(x.shape[1], extent, stride)}[padding]
    padded = np.pad(x, ((0, 0), (before, after), (0, 0)))
    steps = (padded.shape[1] - extent) // stride + 1
    out = np.zeros((x.shape[0], steps, filters))
    for t, o, j in itertools.product(range(steps), range(filters), range(k)):
        g = o // (filters // groups)
        out[:, t, o] += padded[:, t * stride + j * dilation, g * per_group:(g + 1) * per_group] @ kernel[j, :, o]
    return out + bias


@pytest.mark.parametrize("padding, strides, dilation, groups", [
    ("valid", 1, 1, 1), ("same", 2, 1, 2), ("same", 1, 3, 1), ("causal", 1, 2, 2), ("causal", 3, 1, 1),
    ("same", 3, 1, 4)])
@pytest.mark.parametrize("steps", [6, 7])
def test_conv1d_matches_a_float64_loop(padding, strides, dilation, groups, steps):
    x = _inputs((steps,)).astype("float64")
    layer = L.Conv1D(4, 3, strides=strides, padding=padding, dilation_rate=dilation, groups=groups, dtype="float64")
    layer(torch.as_tensor(x))
    _random_weights(layer)
    kernel, bias = layer.get_weights()
    expected = _conv1d_loop(x, kernel, bias, strides, padding, dilation, groups)
    np.testing.assert_allclose(layer(torch.as_tensor(x)).detach().numpy(), expected, rtol=0, atol=1e-12)


def test_causal_conv1d_output_at_t_sees_only_inputs_up_to_t():
    layer = L.Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    x = torch.as_tensor(_inputs((9,)).astype("float64"))
    before = layer(x)
    changed = x.clone()
    changed[:, 5:] += 1.0
    after = layer(changed)
    torch.testing.assert_close(after[:, :5], before[:, :5], rtol=0, atol=0)
    assert not torch.allclose(after[:, 5:], before[:, 5:])


def test_depthwise_conv1d_output_channel_c_times_m_plus_m_comes_from_input_channel_c():
    layer = L.DepthwiseConv1D(2, depth_multiplier=3, use_bias=False, dtype="float64")
    x = _inputs((5,)).astype("float64")
    layer(torch.as_tensor(x))
    _random_weights(layer)
    (kernel,) = layer.get_weights()  # (k, C, M)
    out = layer(torch.as_tensor(x)).detach().numpy()
    for c, m in itertools.product(range(C), range(3)):
        expected = sum(x[:, j:j + 4, c] * kernel[j, c, m] for j in range(2))
        np.testing.assert_allclose(out[:, :, c * 3 + m], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("strides, kernel_size", [(1, 3), (2, 3), (3, 2), (2, 1)])
def test_valid_conv1d_transpose_is_the_scatter_of_its_definition(strides, kernel_size):
    """'valid': y[t * s + j] += x[t] @ kernel[j].T over the full length (T - 1) * s + max(k, s)."""
    layer = L.Conv1DTranspose(3, kernel_size, strides=strides, dtype="float64")
    x = _inputs((5,)).astype("float64")
    layer(torch.as_tensor(x))
    _random_weights(layer)
    kernel, bias = layer.get_weights()  # (k, O, C)
    expected = np.zeros((B, 4 * strides + max(kernel_size, strides), 3))
    for t, j in itertools.product(range(5), range(kernel_size)):
        expected[:, t * strides + j] += x[:, t] @ kernel[j].T
    np.testing.assert_allclose(layer(torch.as_tensor(x)).detach().numpy(), expected + bias, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------------------ training parity
_TRAINABLE = {
    "Conv1D same groups": (lambda m: m.Conv1D(4, 3, padding="same", groups=2), (7, C)),
    "Conv1D causal dilated": (lambda m: m.Conv1D(3, 2, padding="causal", dilation_rate=2), (7, C)),
    "Conv1D channels_first strided": (lambda m: m.Conv1D(3, 3, strides=2, data_format="channels_first"), (C, 8)),
    "Conv2D": (lambda m: m.Conv2D(3, (2, 3), padding="same", strides=(2, 1)), (5, 6, C)),
    "Conv3D": (lambda m: m.Conv3D(2, 2, groups=2), (3, 4, 3, C)),
    "DepthwiseConv1D": (lambda m: m.DepthwiseConv1D(3, depth_multiplier=2, padding="same"), (7, C)),
    "SeparableConv1D": (lambda m: m.SeparableConv1D(3, 3, depth_multiplier=2, strides=2), (8, C)),
    "Conv1DTranspose": (lambda m: m.Conv1DTranspose(3, 3, strides=2, padding="same", output_padding=1), (5, C)),
}


@pytest.mark.parametrize("name", list(_TRAINABLE))
def test_one_sgd_step_matches_keras(keras, name):
    make, shape = _TRAINABLE[name]
    x = _rng(3).standard_normal((4,) + shape).astype("float32")
    ours = gated.Sequential([L.Input(shape), make(L), L.Dense(2)])
    for layer in ours.layers:
        _random_weights(layer, seed=len(layer.name))
    theirs = keras.Sequential([keras.Input(shape), make(keras.layers), keras.layers.Dense(2)])
    theirs.set_weights(ours.get_weights())
    y = _rng(4).standard_normal(ours.predict(x, verbose=0).shape).astype("float32")
    ours.compile(optimizer=gated.optimizers.SGD(0.1), loss="mse", device="cpu")
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = ours.get_weights()
    ours.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for index, (mine, reference, start) in enumerate(zip(ours.get_weights(), theirs.get_weights(), before)):
        assert not np.array_equal(mine, start), f"weight {index} did not change"
        np.testing.assert_allclose(mine, reference, rtol=0, atol=ATOL, err_msg=f"weight {index}")


# ------------------------------------------------------------------------------------------------ weights, config
@pytest.mark.parametrize("make", [
    lambda m: m.Conv1D(6, 3, groups=2), lambda m: m.Conv2D(3, (2, 3)), lambda m: m.Conv3D(2, (1, 2, 3)),
    lambda m: m.DepthwiseConv1D(3, depth_multiplier=2), lambda m: m.SeparableConv1D(5, 2, depth_multiplier=3),
    lambda m: m.Conv1DTranspose(5, 3),
], ids=["Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "SeparableConv1D", "Conv1DTranspose"])
def test_weights_have_keras_names_shapes_and_layout(keras, make):
    ours, theirs = make(L), make(keras.layers)
    x = _inputs((6,) * ours.rank)
    ours(torch.as_tensor(x))
    theirs.build(x.shape)
    assert ours._weight_paths() == [w.path.split("/")[-1] for w in theirs.weights]
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.count_params() == theirs.count_params()
    _random_weights(ours)
    weights = ours.get_weights()
    ours.set_weights(weights)  # the layout translation round-trips
    for a, b in zip(weights, ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    views = [ours.depthwise_kernel, ours.pointwise_kernel] if isinstance(ours, L.SeparableConv1D) else [ours.kernel]
    for view, array in zip(views, weights):
        np.testing.assert_array_equal(view.detach().numpy(), array)


def test_the_default_kernel_initializer_is_glorot_uniform_over_keras_fans():
    layer = L.Conv1D(32, 5, groups=2)
    layer(torch.zeros(1, 7, 16))
    kernel = layer.get_weights()[0]  # (5, 8, 32): fan_in 5 * 8, fan_out 5 * 32
    limit = math.sqrt(6 / (5 * 8 + 5 * 32))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    np.testing.assert_array_equal(layer.get_weights()[1], 0.0)


@pytest.mark.parametrize("make", [
    lambda m: m.Conv1D(4, 3, strides=2, padding="causal", groups=2, activation="relu", use_bias=False),
    lambda m: m.Conv2D(3, (2, 3), padding="same", data_format="channels_first", dilation_rate=(2, 1)),
    lambda m: m.Conv3D(2, 2),
    lambda m: m.DepthwiseConv1D(3, depth_multiplier=2, padding="same"),
    lambda m: m.SeparableConv1D(5, 2, depth_multiplier=3, activation="tanh"),
    lambda m: m.Conv1DTranspose(5, 3, strides=2, output_padding=1),
], ids=["Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "SeparableConv1D", "Conv1DTranspose"])
def test_config_has_keras_keys_and_values(keras, make):
    ours, theirs = make(L).get_config(), make(keras.layers).get_config()
    keras_only = set(theirs) - set(ours)
    assert keras_only <= {"activity_regularizer"}, keras_only  # gated leaves out an unset activity_regularizer
    assert set(ours) - set(theirs) == set()
    for key in set(ours) - {"name", "dtype"}:
        if key.endswith(("_initializer", "_regularizer", "_constraint")):
            continue
        assert ours[key] == theirs[key], key
    clone = type(make(L)).from_config(ours)
    assert clone.get_config() == ours


def test_a_saved_and_loaded_crnn_front_end_predicts_the_same(tmp_path):
    x = L.Input((None, 3))
    h = L.Conv1D(4, 3, padding="causal", activation="relu")(x)
    h = L.SeparableConv1D(4, 3, padding="same")(h)
    h = L.Conv1DTranspose(2, 2, strides=2)(h)
    model = gated.Model(x, L.GRU(3)(h))
    data = _inputs((6,), channels=3)
    model.save(tmp_path / "crnn.gated")
    loaded = gated.load_model(tmp_path / "crnn.gated")
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))


def test_regularizer_losses_equal_keras(keras):
    ours = L.Conv1D(3, 2, kernel_regularizer=regularizers.L2(0.01), bias_regularizer=regularizers.L1(0.1))
    theirs = keras.layers.Conv1D(3, 2, kernel_regularizer=keras.regularizers.L2(0.01),
                                 bias_regularizer=keras.regularizers.L1(0.1))
    x = _inputs((5,))
    ours(torch.as_tensor(x))
    _random_weights(ours)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    expected = sum(float(keras.ops.convert_to_numpy(loss)) for loss in theirs.losses)
    assert sum(float(loss.detach()) for loss in ours.losses) == pytest.approx(expected, rel=1e-6)


def test_constraints_project_the_keras_layout_kernel_like_keras(keras):
    ours = L.SeparableConv1D(3, 2, depthwise_constraint=constraints.MaxNorm(0.5, axis=0),
                             pointwise_constraint=constraints.NonNeg())
    ours(torch.as_tensor(_inputs((5,))))
    _random_weights(ours)
    depthwise, pointwise, bias = ours.get_weights()
    ours.apply_constraints()
    np.testing.assert_allclose(
        ours.get_weights()[0], keras.ops.convert_to_numpy(keras.constraints.MaxNorm(0.5, axis=0)(depthwise)),
        rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ours.get_weights()[1], np.maximum(pointwise, 0))
    np.testing.assert_array_equal(ours.get_weights()[2], bias)


def test_aliases_are_the_same_classes_as_in_keras(keras):
    for alias, name in [("Convolution1D", "Conv1D"), ("Convolution2D", "Conv2D"), ("Convolution3D", "Conv3D"),
                        ("SeparableConvolution1D", "SeparableConv1D"), ("Convolution1DTranspose", "Conv1DTranspose")]:
        assert getattr(L, alias) is getattr(L, name)
        assert getattr(keras.layers, alias) is getattr(keras.layers, name)


def test_data_format_none_follows_the_global_image_data_format():
    previous = image_data_format()
    try:
        set_image_data_format("channels_first")
        assert L.Conv1D(2, 3).data_format == "channels_first"
    finally:
        set_image_data_format(previous)
    assert L.Conv1D(2, 3).data_format == previous


# ------------------------------------------------------------------------------------------------ masks
def test_a_mask_reaching_a_convolution_is_dropped_with_keras_warning(keras):
    ids = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 0]])
    embed = L.Embedding(10, C, mask_zero=True)
    conv = L.Conv1D(3, 2, padding="same")
    h = embed(torch.as_tensor(ids))
    with pytest.warns(UserWarning, match=r"Layer 'conv1_?d.*\(Conv1D.*does not support masking.*masked "
                                         r"timesteps enter"):
        out = conv(h)
    assert getattr(out, "_keras_mask", None) is None
    torch.testing.assert_close(out, conv(h.detach().clone()), rtol=0, atol=0)  # the mask changed nothing
    their_embed = keras.layers.Embedding(10, C, mask_zero=True)
    their_conv = keras.layers.Conv1D(3, 2, padding="same")
    their_embed.build(ids.shape)
    their_embed.set_weights(embed.get_weights())
    their_h = their_embed(ids)
    their_conv.build(their_h.shape)
    their_conv.set_weights(conv.get_weights())
    with pytest.warns(UserWarning, match="does not support masking"):
        theirs = their_conv(their_h)
    assert getattr(theirs, "_keras_mask", None) is None
    np.testing.assert_allclose(out.detach().numpy(), keras.ops.convert_to_numpy(theirs), rtol=0, atol=ATOL)


# ------------------------------------------------------------------------------------------------ refusals
def _conv_model() -> gated.Model:
    x = L.Input((None, 3))
    return gated.Model(x, L.Dense(2)(L.Conv1D(4, 3, padding="causal")(x)))


def test_onnx_export_refuses_a_convolution_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"Layer 'conv1_?d.*\(Conv1D.*no ONNX conversion for Conv1D layers"):
        export_onnx(_conv_model(), tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def test_streaming_refuses_a_convolution_over_time():
    with pytest.raises(ValueError, match=r"Streaming cannot run Layer 'conv1_?d.*\(Conv1D.*other timesteps"):
        Streamer(_conv_model())


def test_int8_quantization_refuses_a_convolution():
    with pytest.raises(ValueError, match=r"int8 quantization cannot convert Layer 'conv1_?d.*\(Conv1D"):
        quantize(_conv_model())


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("make, message", [
    (lambda: L.Conv1D(4, 0), r"Conv1D: `kernel_size` must be a positive integer .* received kernel_size=0"),
    (lambda: L.Conv2D(4, (3, 0)), r"`kernel_size` must be .* tuple of 2 .* received kernel_size=\(3, 0\)"),
    (lambda: L.Conv2D(4, (3, 3, 3)), r"tuple of 2 such integers, received kernel_size=\(3, 3, 3\)"),
    (lambda: L.Conv1D(0, 3), r"Conv1D: `filters` must be a positive integer, received filters=0"),
    (lambda: L.Conv1D(5, 3, groups=2), r"`filters` must be divisible by `groups`.*filters=5 and groups=2"),
    (lambda: L.Conv1D(4, 3, groups=0), r"`groups` must be a positive integer, received groups=0"),
    (lambda: L.Conv1D(4, 3, strides=0), r"`strides` must be a positive integer"),
    (lambda: L.Conv1D(4, 3, strides=2, dilation_rate=2), r"`strides` > 1 cannot be combined with `dilation_rate`"),
    (lambda: L.Conv2D(4, 3, padding="causal"), r"Conv2D: `padding` must be one of 'valid', 'same'.*Conv1D only"),
    (lambda: L.SeparableConv1D(4, 3, padding="causal"), r"SeparableConv1D: `padding` must be one of 'valid'"),
    (lambda: L.Conv1D(4, 3, padding="full"), r"`padding` must be one of 'valid', 'same', 'causal'.*'full'"),
    (lambda: L.Conv1D(4, 3, data_format="NCW"), r"`data_format` must be 'channels_last' or 'channels_first'"),
    (lambda: L.DepthwiseConv1D(3, depth_multiplier=0), r"`depth_multiplier` must be a positive integer"),
    (lambda: L.Conv1DTranspose(4, 3, strides=2, output_padding=2),
     r"each `output_padding` must be smaller than its stride.*output_padding=\(2,\) and strides=\(2,\)"),
    (lambda: L.Conv1DTranspose(4, 3, output_padding=-1), r"`output_padding` must be an integer >= 0"),
    (lambda: L.Conv1DTranspose(4, 3, groups=2), r"Conv1DTranspose has no `groups` argument"),
    (lambda: L.Conv1D(4, 3, bias_initialiser="zeros"), r"unexpected keyword argument.*'bias_initialiser'"),
])
def test_bad_arguments_are_refused_clearly(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_groups_that_do_not_divide_the_input_channels_are_refused_at_build():
    with pytest.raises(ValueError, match=r"groups=2, but the input has 5 channels, which groups=2 does not divide"):
        L.Conv1D(4, 3, groups=2)(torch.zeros(2, 6, 5))


@pytest.mark.parametrize("layer, x, message", [
    (lambda: L.Conv1D(4, 3), torch.zeros(2, 6),
     r"expects input of shape \(batch, steps, channels\) \(3-D\), but received a 2-D input of shape \(2, 6\)\. "
     r"If the data has one channel, add a channel axis: x\[\.\.\., None\]"),
    (lambda: L.Conv2D(4, 3), torch.zeros(2, 6, 6),
     r"expects input of shape \(batch, height, width, channels\) \(4-D\), but received a 3-D input"),
    (lambda: L.Conv1D(4, 3, data_format="channels_first"), torch.zeros(2, 3, 6, 1),
     r"\(batch, channels, steps\) \(3-D\), but received a 4-D input of shape \(2, 3, 6, 1\)"),
    (lambda: L.Conv1D(4, 5), torch.zeros(2, 4, 3),
     r"padding='valid' needs steps >= 5 .* received a 3-D input of shape \(2, 4, 3\)\. Use padding='same'"),
    (lambda: L.Conv1D(4, 3, dilation_rate=3), torch.zeros(2, 6, 3), r"needs steps >= 7"),
])
def test_wrong_inputs_are_refused_clearly(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer()(x)


def test_a_built_convolution_refuses_other_channel_counts_and_short_inputs():
    layer = L.Conv1D(4, 3)
    layer(torch.zeros(2, 6, 3))
    with pytest.raises(ValueError, match=r"was built for 3 channels \(channels_last\), but received a 3-D array of "
                                         r"shape \(2, 6, 5\) with 5 channels"):
        layer(torch.zeros(2, 6, 5))
    with pytest.raises(ValueError, match=r"needs steps >= 3 .* received a 3-D array of shape \(2, 2, 3\)"):
        layer(torch.zeros(2, 2, 3))


def test_an_input_without_known_channels_is_refused_when_the_model_is_built():
    with pytest.raises(ValueError, match=r"needs a known number of channels, but received a 3-D input of shape "
                                         r"\(None, 5, None\)"):
        L.Conv1D(4, 3)(L.Input((5, None)))
