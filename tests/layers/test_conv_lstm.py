"""ConvLSTM1D / 2D / 3D against real Keras 3 (torch backend) with the same weights: padding, strides, dilation,
data formats, return_sequences/state, go_backwards, masks, initial and carried states, one SGD step, dropout,
configs, the path that runs, and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated import layers as L
from gated.kernels._dispatch import Kernel

ATOL = 1e-5
CLASSES = {1: L.ConvLSTM1D, 2: L.ConvLSTM2D, 3: L.ConvLSTM3D}


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _floats(rng, *shape) -> np.ndarray:
    return rng.standard_normal(shape).astype("float32")


def _pair(keras, rank, shape, seed=0, **kwargs):
    """Our layer and Keras's, built on inputs of ``shape``, with the same random weights."""
    rng = np.random.default_rng(seed)
    ours, theirs = CLASSES[rank](**kwargs), getattr(keras.layers, f"ConvLSTM{rank}D")(**kwargs)
    theirs.build(shape)
    ours.build(shape)
    weights = [_floats(rng, *w.shape) * 0.4 for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs


def _same(ours, theirs, x, **call):
    torch_call = {k: (torch.as_tensor(v) if isinstance(v, np.ndarray) else
                      [torch.as_tensor(s) for s in v] if isinstance(v, list) else v) for k, v in call.items()}
    expected = theirs(x, **call)
    got = ours(torch.as_tensor(x), **torch_call)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    got = got if isinstance(got, (list, tuple)) else [got]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_allclose(_np(g), _np(e), atol=ATOL, rtol=0)
    return got


GRID = [  # rank, step shape (channels last), layer arguments
    (1, (7, 2), {"filters": 3, "kernel_size": 3}),
    (1, (7, 2), {"filters": 3, "kernel_size": 2, "padding": "same"}),  # even kernel: the extra pad at the end
    (1, (8, 2), {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}),
    (1, (7, 2), {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same"}),
    (1, (9, 1), {"filters": 2, "kernel_size": 3, "dilation_rate": 2}),
    (1, (9, 1), {"filters": 2, "kernel_size": 2, "dilation_rate": 3, "padding": "same"}),
    (1, (7, 2), {"filters": 3, "kernel_size": 3, "use_bias": False}),
    (1, (7, 2), {"filters": 3, "kernel_size": 3, "activation": "relu", "recurrent_activation": "hard_sigmoid"}),
    (2, (5, 6, 2), {"filters": 3, "kernel_size": 3}),
    (2, (5, 6, 2), {"filters": 2, "kernel_size": (2, 3), "padding": "same"}),
    (2, (7, 6, 2), {"filters": 2, "kernel_size": 3, "strides": (2, 1), "padding": "same"}),
    (2, (6, 5, 2), {"filters": 2, "kernel_size": 2, "strides": 2}),
    (2, (6, 6, 1), {"filters": 2, "kernel_size": 2, "dilation_rate": (2, 1), "padding": "same"}),
    (3, (3, 4, 3, 2), {"filters": 2, "kernel_size": 2}),
    (3, (4, 3, 3, 1), {"filters": 2, "kernel_size": (2, 1, 3), "padding": "same", "strides": (2, 1, 1)}),
]


@pytest.mark.parametrize("rank, step, kwargs", GRID, ids=str)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "return_state": True},
                                     {"return_sequences": True, "go_backwards": True},
                                     {"return_state": True, "go_backwards": True}], ids=str)
def test_matches_keras(keras, rank, step, kwargs, data_format, options):
    if data_format == "channels_first":
        step = (step[-1],) + step[:-1]
    shape = (2, 3) + step
    ours, theirs = _pair(keras, rank, shape, data_format=data_format, **kwargs, **options)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    x = _floats(np.random.default_rng(1), *shape)
    got = _same(ours, theirs, x)
    assert tuple(got[0].shape) == ours.compute_output_shape(shape)[0 if options.get("return_state") else slice(None)]


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("mask", [[[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 1, 0]],
                                  [[0, 0, 0, 0, 0], [1, 0, 1, 0, 1], [0, 1, 1, 1, 1]]], ids=["right", "gaps"])
@pytest.mark.parametrize("options", [{"return_sequences": True, "return_state": True},
                                     {"return_state": True, "go_backwards": True},
                                     {"return_sequences": True, "zero_output_for_mask": True},
                                     {"return_sequences": True, "go_backwards": True, "zero_output_for_mask": True}],
                         ids=str)
def test_masks_match_keras(keras, rank, mask, options):
    step = (6, 2) if rank == 1 else (4, 5, 2)
    shape = (3, 5) + step
    ours, theirs = _pair(keras, rank, shape, filters=2, kernel_size=3, padding="same", **options)
    x = _floats(np.random.default_rng(2), *shape)
    _same(ours, theirs, x, mask=np.array(mask, bool))


def test_initial_state_matches_keras_in_both_data_formats(keras):
    rng = np.random.default_rng(3)
    for data_format, shape, state in [("channels_last", (2, 4, 5, 5, 2), (2, 3, 3, 3)),
                                      ("channels_first", (2, 4, 2, 5, 5), (2, 3, 3, 3))]:
        ours, theirs = _pair(keras, 2, shape, filters=3, kernel_size=3, data_format=data_format,
                             return_sequences=True, return_state=True)
        states = [_floats(rng, *state), _floats(rng, *state)]
        _same(ours, theirs, _floats(rng, *shape), initial_state=states)


def test_one_sgd_step_matches_keras(keras):
    rng = np.random.default_rng(4)
    shape = (4, 3, 5, 5, 2)
    ours, theirs = _pair(keras, 2, shape, filters=2, kernel_size=3, padding="same", return_sequences=True)
    x, y = _floats(rng, *shape), _floats(rng, 4, 3, 5, 5, 2)
    their_model = keras.Sequential([keras.Input(shape[1:]), theirs])
    their_model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model = gated.Sequential([L.Input(shape[1:]), ours])
    model.compile(optimizer=gated.optimizers.SGD(0.1), loss="mse", device="cpu")
    their_model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for got, expected in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, expected, atol=ATOL)


def test_gradients_match_keras_with_a_mask_and_state_outputs(keras):
    rng = np.random.default_rng(5)
    shape = (2, 4, 6, 2)
    ours, theirs = _pair(keras, 1, shape, filters=3, kernel_size=2, strides=2, padding="same",
                         return_sequences=True, return_state=True, go_backwards=True)
    x = _floats(rng, *shape)
    mask = np.array([[1, 1, 1, 0], [0, 1, 1, 1]], bool)
    weights = [_floats(rng, *o) for o in [(2, 4, 3, 3), (2, 3, 3), (2, 3, 3)]]

    def grads(layer, params):
        outs = layer(torch.as_tensor(x), mask=torch.as_tensor(mask))
        loss = sum((o * torch.as_tensor(w)).sum() for o, w in zip(outs, weights))
        return torch.autograd.grad(loss, params)

    ours_grads = grads(ours, [ours.cell.weight_ih, ours.cell.weight_hh, ours.cell.bias])
    theirs_grads = grads(theirs, [v.value for v in theirs.weights])
    kernel, recurrent, bias = ours_grads
    for got, expected in zip([kernel.permute(2, 1, 0), recurrent.permute(2, 1, 0), bias], theirs_grads):
        np.testing.assert_allclose(_np(got), _np(expected), atol=ATOL)


def test_stateful_chunks_equal_the_whole_sequence_and_reset_clears_them():
    rng = np.random.default_rng(6)
    x = torch.as_tensor(_floats(rng, 2, 6, 4, 4, 2))
    whole = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    whole(x)
    chunked = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, stateful=True)
    chunked(x[:, :1])
    chunked.reset_state()
    chunked.set_weights(whole.get_weights())
    parts = [chunked(x[:, :2]), chunked(x[:, 2:5]), chunked(x[:, 5:])]
    np.testing.assert_allclose(_np(torch.cat(parts, 1)), _np(whole(x)), atol=1e-6)
    assert [tuple(s.shape) for s in chunked.states] == [(2, 4, 4, 2)] * 2  # channels last, as the outputs
    np.testing.assert_allclose(_np(chunked.states[0]), _np(parts[-1][:, -1]), atol=0)
    chunked.reset_state()
    np.testing.assert_allclose(_np(chunked(x[:, :2])), _np(parts[0]), atol=1e-6)
    assert chunked.capture_blocker() is not None and whole.capture_blocker() is None


def test_go_backwards_equals_running_on_the_reversed_sequence():
    rng = np.random.default_rng(7)
    x = torch.as_tensor(_floats(rng, 2, 5, 6, 2))
    forward = L.ConvLSTM1D(3, 3, return_sequences=True)
    forward(x)
    backward = L.ConvLSTM1D(3, 3, return_sequences=True, go_backwards=True)
    backward(x)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(_np(backward(x)), _np(forward(x.flip(1))), atol=1e-6)


def test_float64_step_matches_a_numpy_reference():
    """One step of ConvLSTM1D ('same', kernel 3) in float64 against a direct loop over positions."""
    rng = np.random.default_rng(8)
    layer = L.ConvLSTM1D(2, 3, padding="same", return_state=True, dtype="float64")
    x = rng.standard_normal((1, 1, 5, 2))
    layer(torch.as_tensor(x))
    kernel, recurrent, bias = [w * 3 for w in layer.get_weights()]
    layer.set_weights([kernel, recurrent, bias])
    _, h, c = (_np(t) for t in layer(torch.as_tensor(x)))
    padded = np.pad(x[0, 0], ((1, 1), (0, 0)))
    z = np.stack([sum(padded[p + j] @ kernel[j] for j in range(3)) for p in range(5)]) + bias  # (5, 8)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = np.split(z, 4, axis=-1)
    c_ref = sigmoid(i) * np.tanh(g)  # c0 = 0
    np.testing.assert_allclose(c[0], c_ref, atol=1e-12)
    np.testing.assert_allclose(h[0], sigmoid(o) * np.tanh(c_ref), atol=1e-12)


def test_dropout_only_while_training_and_seeded_masks_repeat():
    rng = np.random.default_rng(9)
    x = torch.as_tensor(_floats(rng, 2, 4, 5, 5, 2))
    layer = L.ConvLSTM2D(2, 3, padding="same", dropout=0.4, recurrent_dropout=0.3, seed=1)
    plain = L.ConvLSTM2D(2, 3, padding="same")
    layer(x)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(layer(x)), _np(plain(x)), atol=1e-6)
    trained = layer(x, training=True)
    assert not torch.allclose(trained, plain(x))
    again = L.ConvLSTM2D(2, 3, padding="same", dropout=0.4, recurrent_dropout=0.3, seed=1)
    again(x)
    again.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(again(x, training=True)), _np(trained), atol=0)
    assert layer.capture_blocker() is not None


def test_input_dropout_masks_each_gate_over_the_whole_step():
    """The four input masks are (B, *S, C) per gate and reused at every step: with all-ones weights, a step's
    projections differ per gate exactly where the masks differ."""
    layer = L.ConvLSTM1D(1, 1, dropout=0.5, seed=0)
    x = torch.ones(1, 3, 8, 1)
    layer(x)
    cell = layer.cell
    input_masks, _ = cell.dropout_masks(cell.to_channels_first(x, 2), torch.zeros(1, 1, 8), True)
    assert [tuple(m.shape) for m in input_masks] == [(1, 1, 8)] * 4
    assert len({tuple(m.flatten().tolist()) for m in input_masks}) > 1
    with torch.no_grad():
        cell.weight_ih.fill_(1.0)
        cell.bias.zero_()
    projected = cell.project(cell.to_channels_first(x, 2), input_masks)  # (1, 3, 4, 8)
    for g, mask in enumerate(input_masks):
        for t in range(3):
            np.testing.assert_allclose(_np(projected[0, t, g]), _np(mask[0, 0]), atol=0)


def test_config_round_trip_and_keras_config_keys(keras):
    layer = L.ConvLSTM2D(4, (3, 2), strides=(2, 1), padding="same", data_format="channels_first", activation="relu",
                         unit_forget_bias=False, dropout=0.1, recurrent_dropout=0.2, seed=3, return_sequences=True,
                         go_backwards=True, kernel_regularizer="l2", name="frames")
    twin = keras.layers.ConvLSTM2D(4, (3, 2), strides=(2, 1), padding="same", data_format="channels_first",
                                   name="frames")
    config = layer.get_config()
    assert set(config) == set(twin.get_config())
    clone = L.ConvLSTM2D.from_config(config)
    assert clone.get_config() == config
    # (Keras 3.15's initializer configs carry input_axes/output_axes, which gated's initializers do not take yet)
    from_keras = L.ConvLSTM2D.from_config({k: v for k, v in twin.get_config().items()
                                           if k not in ("dtype", "kernel_initializer")})
    assert (from_keras.filters, from_keras.kernel_size, from_keras.strides, from_keras.data_format) == (
        4, (3, 2), (2, 1), "channels_first")
    x = torch.as_tensor(_floats(np.random.default_rng(10), 2, 3, 2, 6, 5))
    expected = layer(x)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(clone(x)), _np(expected), atol=0)
    assert len(layer.losses) == 1


def test_weights_initialise_as_keras_with_unit_forget_bias(keras):
    layer = L.ConvLSTM2D(3, 2)
    layer(torch.zeros(1, 2, 4, 4, 2))
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (2, 2, 2, 12) and recurrent.shape == (2, 2, 3, 12)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(3), np.ones(3), np.zeros(6)])
    flat = recurrent.reshape(-1, 12)  # Keras's orthogonal: rows = all axes but the last
    np.testing.assert_allclose(flat.T @ flat, np.eye(12), atol=1e-5)
    assert layer.name.startswith("conv_lstm2d") and layer.cell.name == "conv_lstm_cell"


def test_last_path_and_dispatch_say_a_step_loop_runs():
    layer = L.ConvLSTM1D(2, 3)
    assert layer.dispatch().kernel is Kernel.LOOP
    layer(torch.zeros(2, 3, 5, 1))
    assert layer.last_path == layer.dispatch()
    assert "conv1d" in layer.last_path.detail and "no fused kernel" in layer.last_path.reason


def test_bidirectional_conv_lstm_matches_keras(keras):
    x = _floats(np.random.default_rng(12), 2, 3, 5, 2)
    theirs = keras.layers.Bidirectional(keras.layers.ConvLSTM1D(2, 3, return_sequences=True))
    ours = L.Bidirectional(L.ConvLSTM1D(2, 3, return_sequences=True))
    theirs(x)
    ours(torch.as_tensor(x))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(_np(ours(torch.as_tensor(x))), _np(theirs(x)), atol=ATOL)


def test_functional_model_saves_and_loads(tmp_path):
    x = L.Input((4, 6, 6, 1))
    out = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True)(x)
    model = gated.Model(x, L.ConvLSTM2D(1, 3)(out))
    data = _floats(np.random.default_rng(11), 2, 4, 6, 6, 1)
    model.save(tmp_path / "frames.gated")
    loaded = gated.load_model(tmp_path / "frames.gated")
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))
    assert model.predict(data, verbose=0).shape == (2, 4, 4, 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"filters": 0, "kernel_size": 3}, "filters"),
    ({"filters": 2, "kernel_size": (3, 3, 3)}, r"kernel_size.*tuple of 2"),
    ({"filters": 2, "kernel_size": 3, "padding": "causal"}, "padding must be 'valid' or 'same'"),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, "strides > 1 cannot be combined"),
    ({"filters": 2, "kernel_size": 3, "data_format": "NHWC"}, "data_format"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.ConvLSTM2D(**kwargs)


def test_bad_inputs_say_what_was_expected():
    layer = L.ConvLSTM2D(2, 3)
    with pytest.raises(ValueError, match=r"rank 5, \(batch, timesteps, s1, s2, channels\).*\(2, 5, 5, 1\)"):
        layer(torch.zeros(2, 5, 5, 1))
    layer(torch.zeros(2, 3, 5, 5, 1))
    with pytest.raises(ValueError, match=r"\('batch', 'timesteps', 5, 5, 1\).*\(2, 3, 5, 5, 2\).*built for that step"):
        layer(torch.zeros(2, 3, 5, 5, 2))
    with pytest.raises(ValueError, match=r"4-D array of shape \(3, 5, 5, 1\).*add a time axis"):
        layer(torch.zeros(3, 5, 5, 1))
    with pytest.raises(ValueError, match=r"0 timesteps"):
        layer(torch.zeros(2, 0, 5, 5, 1))
    with pytest.raises(ValueError, match=r"initial_state expects 2 state tensors \[h, c\] of shape \(2, 3, 3, 2\).*"
                                         r"received 1 of shape\(s\) \[\(2, 2, 3, 3\)\]"):
        layer(torch.zeros(2, 3, 5, 5, 1), initial_state=[torch.zeros(2, 2, 3, 3)])
    with pytest.raises(ValueError, match=r"mask of shape \(2, 4\).*\(batch, timesteps\) = \(2, 3\)"):
        layer(torch.zeros(2, 3, 5, 5, 1), mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"spatial size \(2, 5\) are smaller than the kernel \(3, 3\)"):
        L.ConvLSTM2D(2, 3)(torch.zeros(1, 2, 2, 5, 1))
    with pytest.raises(ValueError, match=r"needs known spatial sizes and channels"):
        L.ConvLSTM1D(2, 3)(L.Input((None, None, 2)))


def test_the_next_frame_model_of_the_conv_lstm_example_trains_like_keras(keras):
    """keras-io's next-frame model (three ConvLSTM2D with BatchNormalization, a Conv3D sigmoid head, Adam): from
    Keras's initial weights three epochs give Keras's losses and weights."""
    rng = np.random.default_rng(0)
    x = (rng.random((16, 5, 12, 12, 1)) > 0.8).astype("float32")
    y = np.roll(x, 1, axis=1)

    def build(lib):
        layers = lib.layers
        inputs = layers.Input(shape=(None, 12, 12, 1))
        h = layers.ConvLSTM2D(6, (5, 5), padding="same", return_sequences=True, activation="relu")(inputs)
        h = layers.BatchNormalization()(h)
        h = layers.ConvLSTM2D(6, (3, 3), padding="same", return_sequences=True, activation="relu")(h)
        h = layers.BatchNormalization()(h)
        h = layers.ConvLSTM2D(6, (1, 1), padding="same", return_sequences=True, activation="relu")(h)
        outputs = layers.Conv3D(1, (3, 3, 3), activation="sigmoid", padding="same")(h)
        model = lib.Model(inputs, outputs)
        model.compile(loss=lib.losses.binary_crossentropy, optimizer=lib.optimizers.Adam())
        return model

    theirs, ours = build(keras), build(gated)
    ours.set_weights(theirs.get_weights())
    expected = theirs.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]
    losses = ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    assert losses[-1] < losses[0]
    for a, b in zip(theirs.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(b, np.asarray(a), atol=1e-5, rtol=0)
