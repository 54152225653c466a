"""Wrong inputs to recurrent layers raise errors that say what was expected, what came, and how to fix it."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import gated.layers as L


def built_gru(**kwargs):
    layer = L.GRU(64, name="gru", **kwargs)
    layer.build((None, None, 32))
    return layer


def test_two_dimensional_input_names_layer_shape_and_fix():
    layer = built_gru()
    expected = ("Layer 'gru' (GRU, units=64) expects input of shape (batch, timesteps, features) with features=32, "
                "but received a 2-D array of shape (16, 32). If these are 16 single-step samples, add a time axis: "
                "x[:, None, :].")
    with pytest.raises(ValueError, match=re.escape(expected)):
        layer(np.zeros((16, 32), "float32"))


def test_univariate_series_without_feature_axis_suggests_adding_one():
    layer = L.LSTM(8, name="lstm_uni")
    layer.build((None, None, 1))
    with pytest.raises(ValueError, match=re.escape("add a feature axis: x[..., None]")):
        layer(np.zeros((5, 20), "float32"))


def test_wrong_feature_count_says_what_the_layer_was_built_for():
    layer = built_gru()
    with pytest.raises(ValueError, match=re.escape(
            "with features=32, but received a 3-D array of shape (4, 10, 31). The layer was built for 32 features")):
        layer(np.zeros((4, 10, 31), "float32"))


def test_four_dimensional_input_suggests_time_distributed():
    with pytest.raises(ValueError, match="received a 4-D array of shape \\(2, 3, 4, 32\\).*TimeDistributed"):
        built_gru()(np.zeros((2, 3, 4, 32), "float32"))


def test_zero_timesteps_is_a_clear_error():
    with pytest.raises(ValueError, match=re.escape("received a sequence with 0 timesteps: shape (3, 0, 32)")):
        built_gru()(np.zeros((3, 0, 32), "float32"))


def test_wrong_initial_state_shape_lists_expected_and_received():
    layer = L.LSTM(4, name="enc")
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'enc' (LSTM, units=4): initial_state expects 2 state tensor(s) of shape(s) [(2, 4), (2, 4)], "
            "received 1 of shape(s) [(2, 4)]. An LSTM takes [h, c].")):
        layer(np.zeros((2, 3, 5), "float32"), initial_state=[np.zeros((2, 4), "float32")])


def test_mask_of_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=re.escape("received a mask of shape (3, 5) for inputs with batch=3 and "
                                                   "timesteps=6")):
        built_gru()(np.zeros((3, 6, 32), "float32"), mask=np.ones((3, 5), bool))


def test_stateful_batch_size_change_explains_the_fix():
    layer = L.GRU(4, stateful=True, name="s")
    layer(np.zeros((8, 3, 2), "float32"))
    with pytest.raises(ValueError, match="holds states for batch size 8, but received a batch of 5. Keep every batch "
                                         "the same size"):
        layer(np.zeros((5, 3, 2), "float32"))


def test_reset_state_on_a_stateless_layer_is_an_error():
    with pytest.raises(ValueError, match="is not stateful"):
        built_gru().reset_state()


def test_use_cudnn_true_with_reset_after_false_names_the_blocker():
    layer = L.GRU(4, reset_after=False, use_cudnn=True, name="strict")
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'strict' was created with use_cudnn=True, but the fused kernel cannot run this call: "
            "reset_after=False (fused kernels implement the reset-after GRU only). Pass use_cudnn='auto'")):
        layer(np.zeros((2, 3, 2), "float32"))


def test_invalid_use_cudnn_and_units_and_unknown_arguments():
    with pytest.raises(ValueError, match="use_cudnn must be 'auto', True or False; received 'yes'"):
        L.GRU(4, use_cudnn="yes")
    with pytest.raises(ValueError, match="units must be a positive integer, received 0"):
        L.GRU(0)
    with pytest.raises(TypeError, match="GRU got unexpected keyword argument\\(s\\) 'retrun_sequences'"):
        L.GRU(4, retrun_sequences=True)
    with pytest.raises(ValueError, match="Unknown activation 'tahn'. Did you mean 'tanh'\\?"):
        L.LSTM(4, activation="tahn")
    with pytest.raises(ValueError, match="Unknown initializer 'glorot_unifrom'. Did you mean 'glorot_uniform'\\?"):
        L.GRU(4, kernel_initializer="glorot_unifrom")


def test_set_weights_lists_every_mismatch_and_changes_nothing():
    layer = built_gru()
    before = layer.get_weights()
    bad = [np.zeros((31, 192)), np.zeros((64, 192)), np.zeros((192,))]
    with pytest.raises(ValueError) as info:
        layer.set_weights(bad)
    message = str(info.value)
    assert "'kernel' expects shape (32, 192), received (31, 192)" in message
    assert "'bias' expects shape (2, 192), received (192,)" in message
    assert "Nothing was changed" in message
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)
    with pytest.raises(ValueError, match="expected 3 arrays .* received 2"):
        layer.set_weights(before[:2])


def test_string_and_ragged_inputs_get_clear_errors():
    layer = built_gru()
    with pytest.raises(TypeError, match="expects numeric input, but received an array of dtype <U1"):
        layer(np.array([[["a"] * 32]]))
    with pytest.raises(ValueError, match="ragged nested list.*pad_sequences"):
        L.GRU(2)([[[1.0], [2.0]], [[1.0]]])


def test_cell_called_on_a_sequence_suggests_rnn_wrapper():
    cell = L.GRUCell(4, name="c")
    cell.build((None, 3))
    with pytest.raises(ValueError, match=re.escape("wrap the cell: gated.layers.RNN(cell)")):
        cell(torch.zeros(2, 5, 3), [torch.zeros(2, 4)])
