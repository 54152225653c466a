"""Parity of gated's recurrent layers with real Keras 3 (torch backend), same Keras-layout weights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import gated
import gated.layers as L

ATOL = 1e-5
RNG = np.random.default_rng(1234)
X = RNG.normal(size=(4, 7, 3)).astype("float32")

KINDS = {
    "gru": ("GRU", {}),
    "gru_reset_before": ("GRU", {"reset_after": False}),
    "lstm": ("LSTM", {}),
    "simple_rnn": ("SimpleRNN", {}),
}


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _numpy(t):
    return np.asarray(t.detach().cpu()) if isinstance(t, torch.Tensor) else np.asarray(t)


def run_pair(keras, kind, x=X, mask=None, units=5, call_kwargs=None, **kwargs):
    """Build the Keras and gated layer, copy Keras's weights into gated, call both; return both outputs."""
    name, extra = KINDS[kind]
    kwargs = {**extra, **kwargs}
    k_layer = getattr(keras.layers, name)(units, **kwargs)
    g_layer = getattr(L, name)(units, **kwargs)
    call_kwargs = call_kwargs or {}
    k_mask = None if mask is None else np.asarray(mask)
    k_out = k_layer(x, mask=k_mask, **call_kwargs) if mask is not None else k_layer(x, **call_kwargs)
    g_layer.build((None,) + x.shape[1:])
    g_layer.set_weights(k_layer.get_weights())
    g_out = g_layer(x, mask=None if mask is None else torch.as_tensor(mask), **call_kwargs)
    return _as_list(k_out), _as_list(g_out), k_layer, g_layer


def assert_close(k_out, g_out, atol=ATOL):
    assert len(k_out) == len(g_out)
    for k, g in zip(k_out, g_out):
        np.testing.assert_allclose(_numpy(g), _numpy(k), atol=atol, rtol=0)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("return_sequences,return_state,go_backwards",
                         list(itertools.product([False, True], repeat=3)))
def test_layer_matches_keras_over_option_grid(keras, kind, return_sequences, return_state, go_backwards):
    k_out, g_out, _, _ = run_pair(keras, kind, return_sequences=return_sequences, return_state=return_state,
                                  go_backwards=go_backwards)
    assert_close(k_out, g_out)


MASKS = {
    "right_padded": np.array([[1] * 7, [1] * 5 + [0] * 2, [1] * 3 + [0] * 4, [1] + [0] * 6], bool),
    "left_padded": np.array([[1] * 7, [0] * 2 + [1] * 5, [0] * 4 + [1] * 3, [0] * 6 + [1]], bool),
    "fully_masked_row": np.array([[1] * 7, [0] * 7, [1] * 4 + [0] * 3, [0] * 3 + [1] * 4], bool),
    "gaps": np.array([[1, 0, 1, 1, 0, 1, 1], [1] * 7, [0, 1, 0, 1, 0, 1, 0], [1] * 6 + [0]], bool),
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_layer_matches_keras_with_masks(keras, kind, mask_name, go_backwards):
    k_out, g_out, _, g_layer = run_pair(keras, kind, mask=MASKS[mask_name], return_sequences=True,
                                        return_state=True, go_backwards=go_backwards)
    assert_close(k_out, g_out)
    eligible = kind != "gru_reset_before" and mask_name != "gaps"
    assert g_layer.last_path.name == ("fused" if eligible else "loop")


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_last_output_with_mask_matches_keras(keras, kind):
    k_out, g_out, _, _ = run_pair(keras, kind, mask=MASKS["fully_masked_row"])
    assert_close(k_out, g_out)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_mask_from_embedding_propagates_like_keras(keras, kind):
    ids = np.array([[3, 1, 4, 1, 0, 0], [0, 0, 2, 7, 1, 8], [5, 9, 2, 6, 5, 3]])
    k_emb = keras.layers.Embedding(10, 3, mask_zero=True)
    g_emb = L.Embedding(10, 3, mask_zero=True)
    k_seq = k_emb(ids)
    g_emb.build(ids.shape)
    g_emb.set_weights(k_emb.get_weights())
    name, extra = KINDS[kind]
    k_rnn = getattr(keras.layers, name)(4, return_sequences=True, **extra)
    g_rnn = getattr(L, name)(4, return_sequences=True, **extra)
    k_out = k_rnn(k_seq)
    g_rnn.build((None, 6, 3))
    g_rnn.set_weights(k_rnn.get_weights())
    g_out = g_rnn(g_emb(ids))
    assert_close([k_out], [g_out])
    assert torch.equal(g_out._keras_mask, torch.as_tensor(ids != 0))
    assert g_rnn.last_path.name == "fused"  # right and left padded rows: one block each


def test_mask_from_masking_layer_propagates_like_keras(keras):
    x = X.copy()
    x[1, 5:] = 0.0
    x[2, :3] = 0.0
    k_seq = keras.layers.Masking(0.0)(x)
    k_rnn = keras.layers.GRU(5, return_sequences=True)
    g_rnn = L.GRU(5, return_sequences=True)
    k_out = k_rnn(k_seq)
    g_rnn.build((None, 7, 3))
    g_rnn.set_weights(k_rnn.get_weights())
    assert_close([k_out], [g_rnn(L.Masking(0.0)(x))])


@pytest.mark.parametrize("kind", ["gru", "gru_reset_before", "lstm", "simple_rnn"])
def test_initial_state_matches_keras(keras, kind):
    states = [RNG.normal(size=(4, 5)).astype("float32") for _ in range(2 if kind == "lstm" else 1)]
    k_out, g_out, _, _ = run_pair(keras, kind, return_sequences=True, return_state=True,
                                  call_kwargs={"initial_state": states})
    assert_close(k_out, g_out)


@pytest.mark.parametrize("kind", ["gru", "gru_reset_before", "lstm", "simple_rnn"])
def test_stateful_over_two_chunks_matches_keras(keras, kind):
    name, extra = KINDS[kind]
    k_layer = getattr(keras.layers, name)(5, stateful=True, return_sequences=True, **extra)
    g_layer = getattr(L, name)(5, stateful=True, return_sequences=True, **extra)
    k_first = k_layer(X[:, :4])
    g_layer.build((4, 4, 3))
    g_layer.set_weights(k_layer.get_weights())
    assert_close([k_first], [g_layer(X[:, :4])])
    assert_close([k_layer(X[:, 4:])], [g_layer(X[:, 4:])])
    k_layer.reset_state()
    g_layer.reset_state()
    assert_close([k_layer(X[:, 4:])], [g_layer(X[:, 4:])])


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("return_sequences,return_state", [(True, False), (False, True), (True, True)])
def test_bidirectional_matches_keras(keras, merge_mode, kind, return_sequences, return_state):
    name, extra = KINDS[kind]
    make = lambda lib: lib.Bidirectional(  # noqa: E731
        getattr(lib, name)(5, return_sequences=return_sequences, return_state=return_state, **extra),
        merge_mode=merge_mode)
    k_layer, g_layer = make(keras.layers), make(L)
    k_out = k_layer(X)
    g_layer.build((None, 7, 3))
    g_layer.set_weights(k_layer.get_weights())
    assert_close(_as_list(k_out), _as_list(g_layer(X)))


@pytest.mark.parametrize("mask_name", ["right_padded", "left_padded", "fully_masked_row", "gaps"])
def test_bidirectional_with_mask_matches_keras(keras, mask_name):
    k_layer = keras.layers.Bidirectional(keras.layers.GRU(5, return_sequences=True, return_state=True))
    g_layer = L.Bidirectional(L.GRU(5, return_sequences=True, return_state=True))
    k_out = k_layer(X, mask=MASKS[mask_name])
    g_layer.build((None, 7, 3))
    g_layer.set_weights(k_layer.get_weights())
    assert_close(_as_list(k_out), _as_list(g_layer(X, mask=torch.as_tensor(MASKS[mask_name]))))


@pytest.mark.parametrize("kind", ["gru", "gru_reset_before", "lstm", "simple_rnn"])
@pytest.mark.parametrize("rates", [(0.3, 0.0), (0.0, 0.4), (0.25, 0.5)])
def test_dropout_matches_keras_given_the_same_masks(keras, kind, rates):
    """Keras's masks are injected into both layers: the dropout arithmetic must agree exactly."""
    dropout, recurrent_dropout = rates
    name, extra = KINDS[kind]
    k_layer = getattr(keras.layers, name)(5, dropout=dropout, recurrent_dropout=recurrent_dropout,
                                          return_sequences=True, **extra)
    g_layer = getattr(L, name)(5, dropout=dropout, recurrent_dropout=recurrent_dropout,
                               return_sequences=True, **extra)
    k_layer(X)
    g_layer.build((None, 7, 3))
    g_layer.set_weights(k_layer.get_weights())
    input_masks, recurrent_masks = g_layer.cell.dropout_masks(4, torch.as_tensor(X), training=True)

    def to_keras(masks):
        if masks is None:
            return None
        if isinstance(masks, list):
            return [keras.ops.convert_to_tensor(_numpy(m)) for m in masks]
        return keras.ops.convert_to_tensor(_numpy(masks))

    k_cell = k_layer.cell
    original = k_cell.reset_dropout_mask, k_cell.reset_recurrent_dropout_mask
    k_cell._dropout_mask, k_cell._recurrent_dropout_mask = to_keras(input_masks), to_keras(recurrent_masks)
    k_cell.reset_dropout_mask = k_cell.reset_recurrent_dropout_mask = lambda: None
    try:
        k_out = k_layer(X, training=True)
    finally:
        k_cell.reset_dropout_mask, k_cell.reset_recurrent_dropout_mask = original
    g_layer.cell.dropout_masks = lambda *args, **kwargs: (input_masks, recurrent_masks)
    g_out = g_layer(X, training=True)
    assert_close([k_out], [g_out])
    assert g_layer.last_path.name == ("loop" if recurrent_dropout or kind == "gru_reset_before" else "fused")


def test_dropout_is_off_in_inference_and_seeded_in_training():
    layer = L.GRU(5, dropout=0.5, recurrent_dropout=0.5, seed=7, return_sequences=True)
    plain = L.GRU(5, return_sequences=True)
    layer.build((None, 7, 3))
    plain.build((None, 7, 3))
    plain.set_weights(layer.get_weights())
    torch.testing.assert_close(layer(X), plain(X), rtol=0, atol=0)
    first = layer(X, training=True)
    assert not torch.allclose(first, plain(X))
    again = L.GRU(5, dropout=0.5, recurrent_dropout=0.5, seed=7, return_sequences=True)
    again.build((None, 7, 3))
    again.set_weights(layer.get_weights())
    torch.testing.assert_close(again(X, training=True), first, rtol=0, atol=0)


@pytest.mark.parametrize("kind,features,units,expected", [
    ("gru", 4, 5, 3 * 5 * (4 + 5 + 2)),  # 165: the tensorflow#43960 case
    ("gru_reset_before", 4, 5, 3 * 5 * (4 + 5 + 1)),  # 150
    ("lstm", 4, 5, 4 * 5 * (4 + 5 + 1)),
    ("simple_rnn", 4, 5, 5 * (4 + 5 + 1)),
    ("gru", 1, 128, 50_304),  # the tutorial's GRU
])
def test_parameter_counts_equal_keras(keras, kind, features, units, expected):
    name, extra = KINDS[kind]
    g_layer = getattr(L, name)(units, input_shape=(None, features), **extra)
    k_layer = getattr(keras.layers, name)(units, **extra)
    k_layer.build((None, None, features))
    assert g_layer.count_params() == k_layer.count_params() == expected
    assert [w.shape for w in g_layer.get_weights()] == [tuple(w.shape) for w in k_layer.get_weights()]


@pytest.mark.parametrize("kind", ["gru", "gru_reset_before", "lstm", "simple_rnn"])
def test_regularization_losses_match_keras(keras, kind):
    kwargs = dict(kernel_regularizer="l2", recurrent_regularizer=keras.regularizers.L1(0.03),
                  bias_regularizer=keras.regularizers.L1L2(0.01, 0.02), activity_regularizer="l2")
    name, extra = KINDS[kind]
    k_layer = getattr(keras.layers, name)(5, bias_initializer="ones", **kwargs, **extra)
    g_kwargs = {**kwargs, "recurrent_regularizer": gated.regularizers.L1(0.03),
                "bias_regularizer": gated.regularizers.L1L2(0.01, 0.02)}
    g_layer = getattr(L, name)(5, bias_initializer="ones", **g_kwargs, **extra)
    k_layer(X)
    g_layer.build((None, 7, 3))
    g_layer.set_weights(k_layer.get_weights())
    output = g_layer(X)
    k_losses = sorted(float(_numpy(v)) for v in k_layer.losses)
    g_losses = sorted(float(v.detach()) for v in g_layer.losses)
    if kind == "simple_rnn":
        # Keras 3's SimpleRNN accepts activity_regularizer but never passes it on; gated applies it.
        activity = float(0.01 * (output.detach() ** 2).sum() / X.shape[0])
        k_losses = sorted(k_losses + [activity])
    np.testing.assert_allclose(g_losses, k_losses, rtol=1e-6)
    assert len(g_losses) == 4


def test_constraints_project_like_keras(keras):
    g_layer = L.GRU(5, kernel_constraint="max_norm", recurrent_constraint="unit_norm", bias_constraint="non_neg")
    g_layer.build((None, 7, 3))
    weights = [w * 3 - 1 for w in g_layer.get_weights()]
    g_layer.set_weights(weights)
    g_layer.apply_constraints()
    expected = [keras.constraints.MaxNorm()(weights[0]), keras.constraints.UnitNorm()(weights[1]),
                keras.constraints.NonNeg()(weights[2])]
    for got, want in zip(g_layer.get_weights(), expected):
        np.testing.assert_allclose(got, _numpy(want), atol=1e-6)


def test_initializers_follow_keras_layout():
    layer = L.LSTM(16, input_shape=(None, 8))
    kernel, recurrent, bias = layer.get_weights()
    limit = np.sqrt(6 / (8 + 64))  # glorot_uniform on the (F, 4H) kernel
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(16), atol=1e-5)  # orthogonal rows of (H, 4H)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(16), np.ones(16), np.zeros(32)])  # unit_forget_bias
    gru = L.GRU(4, input_shape=(None, 2), bias_initializer="ones", reset_after=True)
    assert gru.get_weights()[2].shape == (2, 12) and np.all(gru.get_weights()[2] == 1)


def test_seeded_initializers_reproduce():
    a = L.GRU(6, kernel_initializer=gated.initializers.GlorotUniform(seed=3), input_shape=(None, 2))
    b = L.GRU(6, kernel_initializer=gated.initializers.GlorotUniform(seed=3), input_shape=(None, 2))
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])


@pytest.mark.parametrize("kind", ["gru", "lstm", "simple_rnn"])
def test_config_round_trip_gives_same_layer(kind):
    name, _ = KINDS[kind]
    layer = getattr(L, name)(5, return_sequences=True, go_backwards=True, dropout=0.1, input_shape=(None, 3))
    clone = type(layer).from_config(layer.get_config())
    clone.build((None, None, 3))
    clone.set_weights(layer.get_weights())
    torch.testing.assert_close(clone(X), layer(X))
    assert clone.get_config() == layer.get_config()
    wrapped = L.Bidirectional(getattr(L, name)(5), merge_mode="sum", input_shape=(7, 3))
    clone = L.Bidirectional.from_config(wrapped.get_config())
    clone.set_weights(wrapped.get_weights())
    torch.testing.assert_close(clone(X), wrapped(X))


def test_rnn_wrapper_with_stacked_cells_matches_keras(keras):
    k_layer = keras.layers.RNN([keras.layers.GRUCell(4), keras.layers.LSTMCell(3)], return_sequences=True)
    g_layer = L.RNN([L.GRUCell(4), L.LSTMCell(3)], return_sequences=True)
    k_out = k_layer(X)
    g_layer.build((None, 7, 3))
    g_layer.set_weights(k_layer.get_weights())
    assert_close([k_out], [g_layer(X)])
    assert g_layer.last_path.name == "cell-loop"


def test_rnn_wrapper_with_builtin_cell_uses_the_fused_path(keras):
    k_layer = keras.layers.RNN(keras.layers.GRUCell(4), return_sequences=True, return_state=True)
    g_layer = L.RNN(L.GRUCell(4), return_sequences=True, return_state=True)
    k_out = k_layer(X)
    g_layer.build((None, 7, 3))
    g_layer.set_weights(k_layer.get_weights())
    assert_close(_as_list(k_out), _as_list(g_layer(X)))
    assert g_layer.last_path.name == "fused"


def test_cell_step_matches_keras_cell(keras):
    for name in ("GRUCell", "LSTMCell", "SimpleRNNCell"):
        k_cell = getattr(keras.layers, name)(5)
        g_cell = getattr(L, name)(5)
        states = [RNG.normal(size=(4, 5)).astype("float32") for _ in range(2 if name == "LSTMCell" else 1)]
        k_out, k_states = k_cell(X[:, 0], states)
        g_cell.build((None, 3))
        g_cell.set_weights(k_cell.get_weights())
        g_out, g_states = g_cell(X[:, 0], [torch.as_tensor(s) for s in states])
        assert_close([k_out, *k_states], [g_out, *g_states])


def test_symbolic_call_gives_keras_output_shapes(keras):
    inputs = L.Input(shape=(None, 3))
    out, h, c = L.LSTM(5, return_sequences=True, return_state=True)(inputs)
    assert out.shape == (None, None, 5) and h.shape == (None, 5) and c.shape == (None, 5)
    merged = L.Bidirectional(L.GRU(4, return_sequences=True))(inputs)
    assert merged.shape == (None, None, 8)
