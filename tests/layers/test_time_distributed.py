"""TimeDistributed against real Keras 3 (torch backend): outputs, masks, weights, config, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gated.layers import Dense, Dropout, Embedding, Input, Masking, TimeDistributed

ATOL = 1e-6


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy()


def _sequences(seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((3, 5, 4)).astype("float32")  # (B, T, F)
    x[0, 3:] = 0.0
    x[1, 0] = 0.0
    return x


@pytest.mark.parametrize("activation", ["linear", "relu", "softmax"])
def test_time_distributed_dense_matches_keras(keras, activation):
    x = _sequences()
    ours = TimeDistributed(Dense(3, activation=activation))
    out = ours(x)
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(3, activation=activation))
    theirs.build((None, 5, 4))
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(_np(out), _np(theirs(x)), atol=ATOL, rtol=ATOL)
    assert out.shape == (3, 5, 3)
    assert ours.count_params() == theirs.count_params() == 4 * 3 + 3


def test_time_distributed_passes_mask_through_like_keras(keras):
    x = _sequences(1)
    ours = TimeDistributed(Dense(2))
    out = ours(Masking()(x))
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(2))
    theirs.build((None, 5, 4))
    theirs.set_weights(ours.get_weights())
    expected = theirs(keras.layers.Masking()(x))
    np.testing.assert_allclose(_np(out), _np(expected), atol=ATOL)
    np.testing.assert_array_equal(_np(out._keras_mask), _np(expected._keras_mask))
    np.testing.assert_array_equal(_np(out._keras_mask)[:2], [[True, True, True, False, False],
                                                             [False, True, True, True, True]])


def test_time_distributed_equals_inner_layer_on_each_timestep():
    inner = Dense(3, activation="tanh", bias_initializer="random_normal")
    wrapped = TimeDistributed(inner)
    x = torch.randn(2, 6, 4)
    out = wrapped(x)
    for t in range(6):
        torch.testing.assert_close(out[:, t], inner(x[:, t]), rtol=0, atol=0)


def test_time_distributed_weights_are_the_inner_layers_weights():
    inner = Dense(3)
    wrapped = TimeDistributed(inner, input_shape=(5, 4))
    assert inner.built and [w.shape for w in wrapped.get_weights()] == [(4, 3), (3,)]
    new = [np.full((4, 3), 0.5, dtype="float32"), np.arange(3, dtype="float32")]
    wrapped.set_weights(new)
    np.testing.assert_array_equal(inner.get_weights()[0], new[0])
    np.testing.assert_array_equal(inner.get_weights()[1], new[1])
    wrapped.trainable = False
    assert not inner.trainable and wrapped.trainable_weights == []
    with pytest.raises(ValueError, match=r"(?s)Cannot set the weights of Layer 'time_distributed.*' "
                                         r"\(TimeDistributed, layer=Dense\(units=3\)\).*'kernel' expects shape "
                                         r"\(4, 3\), received \(3, 3\).*'bias' expects shape \(3,\), received \(2,\)"):
        wrapped.set_weights([np.ones((3, 3)), np.ones(2)])
    np.testing.assert_array_equal(inner.get_weights()[0], new[0])


def test_time_distributed_config_round_trip_gives_same_outputs():
    wrapped = TimeDistributed(Dense(2, activation="relu", kernel_regularizer="l2"), name="per_step")
    x = _sequences(2)
    out = wrapped(x)
    config = wrapped.get_config()
    assert config["layer"]["class_name"] == "Dense" and config["layer"]["config"]["units"] == 2
    clone = TimeDistributed.from_config(config)
    assert clone.name == "per_step" and not clone.built
    clone(x)
    clone.set_weights(wrapped.get_weights())
    np.testing.assert_array_equal(_np(clone(x)), _np(out))
    np.testing.assert_allclose(_np(clone.losses[0]), _np(wrapped.losses[0]))


def test_time_distributed_symbolic_call_and_lazy_build():
    wrapped = TimeDistributed(Dense(7))
    assert not wrapped.built
    out = wrapped(Input(shape=(None, 4)))
    assert out.shape == (None, None, 7) and wrapped.built and wrapped.layer.built
    assert wrapped.compute_output_shape((2, 5, 4)) == (2, 5, 7)


def test_time_distributed_embedding_keeps_integer_ids(keras):
    ids = np.array([[[1, 2], [0, 3]], [[4, 4], [2, 0]]])  # (B, T, L)
    ours = TimeDistributed(Embedding(5, 3))
    out = ours(ids)
    theirs = keras.layers.TimeDistributed(keras.layers.Embedding(5, 3))
    theirs.build((None, 2, 2))
    theirs.set_weights(ours.get_weights())
    np.testing.assert_array_equal(_np(out), _np(theirs(ids)))
    assert out.shape == (2, 2, 2, 3)


def test_time_distributed_forwards_training_to_the_inner_layer():
    wrapped = TimeDistributed(Dropout(0.5, seed=0))
    x = torch.ones(4, 6, 8)
    assert torch.equal(wrapped(x), x)
    dropped = wrapped(x, training=True)
    assert (dropped == 0).any() and torch.equal(dropped[dropped != 0], torch.full_like(dropped[dropped != 0], 2.0))


def test_time_distributed_rejects_wrong_inputs():
    wrapped = TimeDistributed(Dense(4), input_shape=(5, 32))
    with pytest.raises(ValueError, match=r"Layer 'time_distributed.*' \(TimeDistributed, layer=Dense\(units=4\)\) "
                                         r"applies its layer to each timestep of a 3-D array of shape \(8, 5, 16\), "
                                         r"folded into the batch as shape \(40, 16\): Layer 'dense.*' "
                                         r"\(Dense, units=4\) expects input of shape \(batch, \.\.\., features\) "
                                         r"with features=32"):
        wrapped(np.zeros((8, 5, 16), dtype="float32"))
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, timesteps, \.\.\.\), but received a 2-D "
                                         r"array of shape \(8, 32\)\. Add a time axis"):
        wrapped(np.zeros((8, 32), dtype="float32"))
    embedded = TimeDistributed(Embedding(5, 3))
    with pytest.raises(ValueError, match=r"folded into the batch as shape \(4, 2\): Layer 'embedding.*\) received "
                                         r"index 7 at position \(3, 0\)"):
        embedded(np.array([[[1, 2], [0, 3]], [[4, 4], [7, 0]]]))  # out of range at the last timestep only
    with pytest.raises(ValueError, match=r"at least 3 axes, but was given shape \(None, 32\)"):
        TimeDistributed(Dense(4), input_shape=(32,))
    with pytest.raises(ValueError, match=r"TimeDistributed wraps a gated layer.*received Linear"):
        TimeDistributed(torch.nn.Linear(3, 4))
