"""Pooling layers against real Keras 3 (torch backend) and against float64 loops written from the definitions:
outputs and output shapes over the option grid (pool sizes, strides, valid/same, data_format, odd and even lengths),
Keras's "same" padding that never counts, masks (GlobalAveragePooling1D leaves masked steps out; the others warn
and drop the mask, as Keras does), a CNN front end before a GRU trained one SGD step against Keras, configs, the
refusals of ONNX export and streaming, and the errors for bad arguments and inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

import gated
from gated import layers as L
from gated.deploy import Streamer
from gated.export import export_onnx

ATOL = 1e-5
B, C = 2, 3  # batch, channels


def _inputs(spatial: tuple[int, ...], data_format: str = "channels_last", seed: int = 0) -> np.ndarray:
    shape = (B, C) + spatial if data_format == "channels_first" else (B,) + spatial + (C,)
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _ours(layer: L.Layer, x: np.ndarray) -> np.ndarray:
    return layer(torch.as_tensor(x)).detach().numpy()


def _theirs(layer, x: np.ndarray, keras) -> np.ndarray:
    return keras.ops.convert_to_numpy(layer(x))


# ------------------------------------------------------------------------------------------------ float64 loops
def _windows(length: int, pool: int, stride: int, padding: str) -> list[tuple[int, int]]:
    """(start, stop) of each window in input coordinates, where the padding is outside 0..length."""
    if padding == "valid":
        return [(i * stride, i * stride + pool) for i in range((length - pool) // stride + 1)]
    out = math.ceil(length / stride)
    before = max(0, (out - 1) * stride + pool - length) // 2
    return [(i * stride - before, i * stride - before + pool) for i in range(out)]


def _pool_loop(x: np.ndarray, pool: tuple, strides: tuple, padding: str, mode: str, edges: str = "excluded"):
    """Pooling of a channels_last array by its definition. ``edges='excluded'``: padding never counts (Keras's
    result); ``edges='copied'``: the padding holds copies of the edge values (what Keras 3.15's torch backend
    averages where the padding is uneven)."""
    spatial = x.shape[1:-1]
    per_axis = [_windows(n, k, s, padding) for n, k, s in zip(spatial, pool, strides)]
    out = np.zeros((x.shape[0],) + tuple(len(w) for w in per_axis) + (x.shape[-1],))
    for index in itertools.product(*(range(len(w)) for w in per_axis)):
        ranges = [range(start, stop) for (start, stop) in (per_axis[a][i] for a, i in enumerate(index))]
        if edges == "copied":
            cells = [tuple(min(max(p, 0), n - 1) for p, n in zip(point, spatial))
                     for point in itertools.product(*ranges)]
        else:
            cells = [point for point in itertools.product(*ranges)
                     if all(0 <= p < n for p, n in zip(point, spatial))]
        values = np.stack([x[(slice(None),) + cell] for cell in cells])  # (cells, B, C)
        out[(slice(None),) + index] = values.max(axis=0) if mode == "max" else values.mean(axis=0)
    return out


def _keras_pads_evenly(spatial: tuple, pool: tuple, strides: tuple, padding: str) -> bool:
    if padding == "valid":
        return True
    for n, k, s in zip(spatial, pool, strides):
        total = max(0, (math.ceil(n / s) - 1) * s + k - n)
        if total % 2:
            return False
    return True


def _channels_last(x: np.ndarray, data_format: str) -> np.ndarray:
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


# ------------------------------------------------------------------------------------------------ window pooling
_GRID_1D = list(itertools.product(["max", "average"], [1, 2, 3, 4], [None, 1, 2, 3], ["valid", "same"],
                                  ["channels_last", "channels_first"], [6, 7]))


@pytest.mark.parametrize("mode, pool, strides, padding, data_format, steps", _GRID_1D)
def test_pooling_1d_matches_a_float64_loop_and_keras(keras, mode, pool, strides, padding, data_format, steps):
    name = "MaxPooling1D" if mode == "max" else "AveragePooling1D"
    args = dict(pool_size=pool, strides=strides, padding=padding, data_format=data_format)
    x = _inputs((steps,), data_format)
    ours = getattr(L, name)(**args)
    out = _ours(ours, x)
    step = strides or pool
    expected = _pool_loop(_channels_last(x, data_format).astype("float64"), (pool,), (step,), padding, mode)
    np.testing.assert_allclose(_channels_last(out, data_format), expected, rtol=0, atol=1e-6)
    theirs = getattr(keras.layers, name)(**args)
    assert tuple(ours.compute_output_shape(x.shape)) == tuple(theirs.compute_output_shape(x.shape)) == out.shape
    if mode == "max" or _keras_pads_evenly((steps,), (pool,), (step,), padding):
        np.testing.assert_allclose(out, _theirs(theirs, x, keras), rtol=0, atol=ATOL)


_GRID_2D = list(itertools.product(["max", "average"], [(2, 2), (3, 2), (1, 3)], [None, (1, 1), (2, 1)],
                                  ["valid", "same"], ["channels_last", "channels_first"]))


@pytest.mark.parametrize("mode, pool, strides, padding, data_format", _GRID_2D)
def test_pooling_2d_matches_a_float64_loop_and_keras(keras, mode, pool, strides, padding, data_format):
    name = "MaxPooling2D" if mode == "max" else "AveragePooling2D"
    args = dict(pool_size=pool, strides=strides, padding=padding, data_format=data_format)
    x = _inputs((7, 6), data_format)
    ours = getattr(L, name)(**args)
    out = _ours(ours, x)
    step = strides or pool
    expected = _pool_loop(_channels_last(x, data_format).astype("float64"), pool, step, padding, mode)
    np.testing.assert_allclose(_channels_last(out, data_format), expected, rtol=0, atol=1e-6)
    theirs = getattr(keras.layers, name)(**args)
    assert tuple(ours.compute_output_shape(x.shape)) == tuple(theirs.compute_output_shape(x.shape)) == out.shape
    if mode == "max" or _keras_pads_evenly((7, 6), pool, step, padding):
        np.testing.assert_allclose(out, _theirs(theirs, x, keras), rtol=0, atol=ATOL)


@pytest.mark.parametrize("pool, strides, steps", [(3, 2, 6), (4, 1, 7), (4, 3, 7)])
def test_uneven_same_average_pooling_leaves_the_padding_out(keras, pool, strides, steps):
    """Keras's result leaves the padding out of every mean (its TensorFlow and JAX backends, and its torch backend
    where the padding is even). Where the padding is uneven, Keras 3.15's torch backend averages copies of the edge
    values instead (fixed upstream in keras-team/keras#23233): gated computes the documented result, and this test
    shows which of the two the installed Keras computes."""
    x = _inputs((steps,))
    out = _ours(L.AveragePooling1D(pool, strides=strides, padding="same"), x)
    excluded = _pool_loop(x.astype("float64"), (pool,), (strides,), "same", "average")
    copied = _pool_loop(x.astype("float64"), (pool,), (strides,), "same", "average", edges="copied")
    np.testing.assert_allclose(out, excluded, rtol=0, atol=1e-6)
    assert np.abs(excluded - copied).max() > 1e-2  # the two readings differ here
    theirs = _theirs(keras.layers.AveragePooling1D(pool, strides=strides, padding="same"), x, keras)
    assert (np.allclose(theirs, excluded, rtol=0, atol=ATOL) or np.allclose(theirs, copied, rtol=0, atol=ATOL))


def test_same_average_pooling_over_an_edge_window_is_the_mean_of_its_real_steps():
    x = np.arange(6, dtype="float32").reshape(1, 6, 1)  # 0..5
    out = _ours(L.AveragePooling1D(3, strides=2, padding="same"), x)[0, :, 0]
    np.testing.assert_allclose(out, [1.0, 3.0, 4.5])  # (0+1+2)/3, (2+3+4)/3, (4+5)/2: the pad after 5 not counted


# ------------------------------------------------------------------------------------------------ global pooling
@pytest.mark.parametrize("name, spatial", [("GlobalAveragePooling1D", (5,)), ("GlobalMaxPooling1D", (5,)),
                                           ("GlobalAveragePooling2D", (4, 3)), ("GlobalMaxPooling2D", (4, 3))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_keras_and_numpy(keras, name, spatial, data_format, keepdims):
    x = _inputs(spatial, data_format)
    ours = getattr(L, name)(data_format=data_format, keepdims=keepdims)
    theirs = getattr(keras.layers, name)(data_format=data_format, keepdims=keepdims)
    out = _ours(ours, x)
    axes = tuple(range(2, x.ndim)) if data_format == "channels_first" else tuple(range(1, x.ndim - 1))
    reduce = np.mean if "Average" in name else np.max
    np.testing.assert_allclose(out, reduce(x.astype("float64"), axis=axes, keepdims=keepdims), rtol=0, atol=1e-6)
    np.testing.assert_allclose(out, _theirs(theirs, x, keras), rtol=0, atol=ATOL)
    assert tuple(ours.compute_output_shape(x.shape)) == tuple(theirs.compute_output_shape(x.shape)) == out.shape


# ------------------------------------------------------------------------------------------------ masks
def _masked_ids() -> np.ndarray:
    return np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2], [5, 0, 0, 0, 0]])  # padding at the end (0)


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling_1d_leaves_masked_steps_out_like_keras(keras, keepdims):
    ids = _masked_ids()
    embed = L.Embedding(10, C, mask_zero=True)
    pool = L.GlobalAveragePooling1D(keepdims=keepdims)
    out = pool(embed(torch.as_tensor(ids)))
    assert getattr(out, "_keras_mask", None) is None  # as Keras: the mask ends here
    vectors = embed(torch.as_tensor(ids)).detach().numpy().astype("float64")
    for row, length in enumerate([3, 5, 1]):
        expected = vectors[row, :length].mean(axis=0)
        np.testing.assert_allclose(out[row].detach().numpy().reshape(-1), expected, rtol=0, atol=1e-6)
    their_embed = keras.layers.Embedding(10, C, mask_zero=True)
    their_embed.build(ids.shape)
    their_embed.set_weights(embed.get_weights())
    theirs = keras.layers.GlobalAveragePooling1D(keepdims=keepdims)(their_embed(ids))
    np.testing.assert_allclose(out.detach().numpy(), keras.ops.convert_to_numpy(theirs), rtol=0, atol=ATOL)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling_1d_takes_an_explicit_mask_like_keras(keras, data_format):
    x = _inputs((5,), data_format)
    mask = np.array([[True, True, False, True, False], [False, False, False, False, False]])
    out = _ours_with_mask(L.GlobalAveragePooling1D(data_format=data_format), x, mask)
    theirs = keras.layers.GlobalAveragePooling1D(data_format=data_format)(x, mask=mask)
    theirs = keras.ops.convert_to_numpy(theirs)
    steps = _channels_last(x, data_format)
    np.testing.assert_allclose(out[0], steps[0, [0, 1, 3]].mean(axis=0), rtol=0, atol=1e-6)
    assert np.isnan(out[1]).all() and np.isnan(theirs[1]).all()  # every step masked: 0 / 0, as in Keras
    np.testing.assert_allclose(out[0], theirs[0], rtol=0, atol=ATOL)


def _ours_with_mask(layer: L.Layer, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return layer(torch.as_tensor(x), mask=torch.as_tensor(mask)).detach().numpy()


def test_global_average_pooling_1d_refuses_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"received a mask of shape \(2, 4\) for a 3-D array of shape \(2, 5, 3\) "
                                         r"\(channels_last\); the mask must be \(batch, steps\) = \(2, 5\)"):
        L.GlobalAveragePooling1D()(torch.zeros(2, 5, 3), mask=torch.ones(2, 4, dtype=torch.bool))


@pytest.mark.parametrize("make, keras_name", [
    (lambda: L.GlobalMaxPooling1D(), "GlobalMaxPooling1D"), (lambda: L.MaxPooling1D(2), "MaxPooling1D"),
    (lambda: L.AveragePooling1D(2), "AveragePooling1D"),
])
def test_pooling_without_mask_support_warns_and_drops_the_mask_like_keras(keras, make, keras_name):
    ids = _masked_ids()
    embed = L.Embedding(10, C, mask_zero=True)
    layer = make()
    h = embed(torch.as_tensor(ids))
    with pytest.warns(UserWarning, match=rf"\({type(layer).__name__}.*does not support masking.*receive no mask"):
        out = layer(h)
    assert getattr(out, "_keras_mask", None) is None
    torch.testing.assert_close(out, layer(h.detach().clone()), rtol=0, atol=0)  # the padded steps counted
    their_embed = keras.layers.Embedding(10, C, mask_zero=True)
    their_embed.build(ids.shape)
    their_embed.set_weights(embed.get_weights())
    theirs = getattr(keras.layers, keras_name)(**layer.get_config() | {"name": None, "dtype": None})
    with pytest.warns(UserWarning, match="does not support masking"):
        expected = theirs(their_embed(ids))
    np.testing.assert_allclose(out.detach().numpy(), keras.ops.convert_to_numpy(expected), rtol=0, atol=ATOL)


# ------------------------------------------------------------------------------------------------ in a model
def _front_end(m):
    """A CRNN-style front end: convolutions and pooling before a GRU."""
    return [m.Conv1D(4, 3, padding="same", activation="relu"), m.MaxPooling1D(2, padding="same"),
            m.AveragePooling1D(3, strides=1, padding="same"), m.GRU(3, return_sequences=True),
            m.GlobalAveragePooling1D(), m.Dense(2)]


def test_a_cnn_front_end_before_a_gru_trains_one_sgd_step_like_keras(keras):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 7, 3)).astype("float32")
    y = rng.standard_normal((4, 2)).astype("float32")
    ours = gated.Sequential([L.Input((7, 3))] + _front_end(L))
    theirs = keras.Sequential([keras.Input((7, 3))] + _front_end(keras.layers))
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=0, atol=ATOL)
    ours.compile(optimizer=gated.optimizers.SGD(0.1), loss="mse", device="cpu")
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = ours.get_weights()
    ours.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for index, (mine, reference, start) in enumerate(zip(ours.get_weights(), theirs.get_weights(), before)):
        assert not np.array_equal(mine, start), f"weight {index} did not change"
        np.testing.assert_allclose(mine, reference, rtol=0, atol=ATOL, err_msg=f"weight {index}")


def test_symbolic_shapes_with_unknown_lengths_match_keras(keras):
    for name, args, shape in [("MaxPooling1D", dict(pool_size=3, strides=2, padding="same"), (None, None, 3)),
                              ("AveragePooling2D", dict(pool_size=2), (None, None, 5, 3)),
                              ("GlobalMaxPooling2D", dict(keepdims=True), (None, None, None, 3))]:
        ours, theirs = getattr(L, name)(**args), getattr(keras.layers, name)(**args)
        assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape)), name


# ------------------------------------------------------------------------------------------------ config
@pytest.mark.parametrize("make", [
    lambda m: m.MaxPooling1D(), lambda m: m.MaxPooling2D((2, 3), strides=1, padding="same"),
    lambda m: m.AveragePooling1D(3, data_format="channels_first"), lambda m: m.AveragePooling2D(2),
    lambda m: m.GlobalAveragePooling1D(keepdims=True), lambda m: m.GlobalMaxPooling1D(),
    lambda m: m.GlobalAveragePooling2D(data_format="channels_first"), lambda m: m.GlobalMaxPooling2D(),
], ids=["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
        "GlobalMaxPooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D"])
def test_config_has_keras_keys_and_values(keras, make):
    ours, theirs = make(L).get_config(), make(keras.layers).get_config()
    assert set(ours) == set(theirs)
    for key in set(ours) - {"name", "dtype"}:
        assert ours[key] == theirs[key], key
    assert type(make(L)).from_config(ours).get_config() == ours


def test_aliases_are_the_same_classes_as_in_keras(keras):
    for alias, name in [("MaxPool1D", "MaxPooling1D"), ("MaxPool2D", "MaxPooling2D"),
                        ("AvgPool1D", "AveragePooling1D"), ("AvgPool2D", "AveragePooling2D"),
                        ("GlobalAvgPool1D", "GlobalAveragePooling1D"), ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
                        ("GlobalAvgPool2D", "GlobalAveragePooling2D"), ("GlobalMaxPool2D", "GlobalMaxPooling2D")]:
        assert getattr(L, alias) is getattr(L, name)
        assert getattr(keras.layers, alias) is getattr(keras.layers, name)


def test_max_pooling_keeps_the_input_dtype():
    out = L.MaxPooling1D(2, dtype="float64")(torch.zeros(2, 4, 3, dtype=torch.float64))
    assert out.dtype == torch.float64


# ------------------------------------------------------------------------------------------------ refusals
def _pooled_model() -> gated.Model:
    x = L.Input((None, 3))
    return gated.Model(x, L.Dense(2)(L.GlobalMaxPooling1D()(L.MaxPooling1D(2)(x))))


def test_onnx_export_refuses_pooling_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"\(MaxPooling1D.*no ONNX conversion for MaxPooling1D layers.*\n.*"
                                         r"no ONNX conversion for GlobalMaxPooling1D layers"):
        export_onnx(_pooled_model(), tmp_path / "model.onnx")


def test_streaming_refuses_pooling_over_time():
    with pytest.raises(ValueError, match=r"Streaming cannot run Layer 'max_pooling1_?d.*\(MaxPooling1D.*other "
                                         r"timesteps"):
        Streamer(_pooled_model())
    x = L.Input((None, 3))
    with pytest.raises(ValueError, match=r"\(GlobalAveragePooling1D.*depends on other timesteps"):
        Streamer(gated.Model(x, L.GlobalAveragePooling1D()(x)))


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("make, message", [
    (lambda: L.MaxPooling1D(0), r"MaxPooling1D: `pool_size` must be a positive integer .* received pool_size=0"),
    (lambda: L.MaxPooling2D((2, 2, 2)), r"`pool_size` must be .* tuple of 2 such integers"),
    (lambda: L.AveragePooling1D(2, strides=0), r"`strides` must be a positive integer .* received strides=0"),
    (lambda: L.AveragePooling2D(2, padding="causal"), r"`padding` must be 'valid' or 'same', received "
                                                      r"padding='causal'"),
    (lambda: L.GlobalMaxPooling1D(data_format="NCW"), r"`data_format` must be 'channels_last' or 'channels_first'"),
    (lambda: L.MaxPooling1D(2, pool_mode="avg"), r"unexpected keyword argument.*'pool_mode'"),
])
def test_bad_arguments_are_refused_clearly(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize("layer, x, message", [
    (lambda: L.MaxPooling1D(2), torch.zeros(2, 6),
     r"expects input of shape \(batch, steps, channels\) \(3-D\), but received a 2-D input of shape \(2, 6\)\. "
     r"If the data has one channel, add a channel axis: x\[\.\.\., None\]"),
    (lambda: L.GlobalAveragePooling2D(), torch.zeros(2, 6, 3),
     r"\(batch, height, width, channels\) \(4-D\), but received a 3-D input"),
    (lambda: L.GlobalAveragePooling1D(data_format="channels_first"), torch.zeros(2, 3, 6, 1),
     r"\(batch, channels, steps\) \(3-D\), but received a 4-D input of shape \(2, 3, 6, 1\)"),
    (lambda: L.AveragePooling1D(4), torch.zeros(2, 3, 2),
     r"padding='valid' needs windows of \(4,\) to fit in the input, but received a 3-D input of shape \(2, 3, 2\)"),
])
def test_wrong_inputs_are_refused_clearly(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer()(x)


def test_a_built_pooling_layer_checks_every_call():
    layer = L.MaxPooling2D(3)
    layer(torch.zeros(1, 6, 6, 2))
    with pytest.raises(ValueError, match=r"needs windows of \(3, 3\) to fit .* a 4-D array of shape \(1, 2, 6, 2\)"):
        layer(torch.zeros(1, 2, 6, 2))
    with pytest.raises(ValueError, match=r"but received a 3-D array of shape \(6, 6, 2\)\. If the data has one "
                                         r"channel"):
        layer(torch.zeros(6, 6, 2))
