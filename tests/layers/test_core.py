"""Core layers against real Keras 3 (torch backend): outputs, masks, weights, losses, constraints, configs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gated import constraints, regularizers
from gated.layers import (
    Activation, Add, Concatenate, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Lambda, Masking,
    RepeatVector, Reshape, SymbolicTensor,
)

ATOL = 1e-6


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _keras_twin(klayer, ours, input_shape):
    """Build a Keras layer and give it our weights (both in Keras's layout)."""
    klayer.build(input_shape)
    klayer.set_weights(ours.get_weights())
    return klayer


def _masked_sequences(rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((3, 5, 4)).astype("float32")  # (B, T, F)
    x[0, 3:] = 0.0  # padding at the end
    x[1, 0] = 0.0  # padding at the start
    x[2, 2, 1] = 0.0  # one zero feature is not a masked step
    return x


# ------------------------------------------------------------------------------------------------------------ Dense
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid", "softmax", "gelu", "elu", "softplus"])
@pytest.mark.parametrize("input_shape", [(6, 4), (2, 5, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_matches_keras(keras, activation, input_shape, use_bias):
    x = np.random.standard_normal(input_shape).astype("float32")
    ours = Dense(3, activation=activation, use_bias=use_bias, bias_initializer="random_normal")
    out = ours(x)
    theirs = _keras_twin(keras.layers.Dense(3, activation=activation, use_bias=use_bias), ours, (None, 4))
    np.testing.assert_allclose(_np(out), _np(theirs(x)), atol=ATOL, rtol=ATOL)
    assert out.shape == input_shape[:-1] + (3,) and out.dtype == torch.float32
    assert ours.count_params() == theirs.count_params()


def test_dense_passes_mask_through_like_keras(keras):
    x = _masked_sequences(np.random.default_rng(0))
    ours = Dense(2)
    out = ours(Masking()(torch.as_tensor(x)))
    theirs = _keras_twin(keras.layers.Dense(2), ours, (None, 5, 4))
    expected = theirs(keras.layers.Masking()(x))
    np.testing.assert_allclose(_np(out), _np(expected), atol=ATOL)
    np.testing.assert_array_equal(_np(out._keras_mask), _np(expected._keras_mask))


def test_dense_weights_round_trip_in_keras_layout():
    ours = Dense(3, input_shape=(4,))
    kernel = np.arange(12, dtype="float32").reshape(4, 3)
    bias = np.array([1.0, -1.0, 0.5], dtype="float32")
    ours.set_weights([kernel, bias])
    got = ours.get_weights()
    np.testing.assert_array_equal(got[0], kernel)
    np.testing.assert_array_equal(got[1], bias)
    out = ours(np.eye(4, dtype="float32"))  # row i of the output is kernel[i] + bias
    np.testing.assert_array_equal(_np(out), kernel + bias)


def test_set_weights_lists_every_mismatch_and_changes_nothing():
    ours = Dense(3, input_shape=(4,))
    before = ours.get_weights()
    with pytest.raises(ValueError, match=r"(?s)Cannot set the weights of Layer 'dense.*' \(Dense, units=3\).*"
                                         r"'kernel' expects shape \(4, 3\), received \(3, 4\).*"
                                         r"'bias' expects shape \(3,\), received \(4,\).*Nothing was changed"):
        ours.set_weights([np.ones((3, 4)), np.ones(4)])
    with pytest.raises(ValueError, match=r"expected 2 arrays \(kernel \(4, 3\), bias \(3,\)\), received 1"):
        ours.set_weights([np.ones((4, 3))])
    for b, a in zip(before, ours.get_weights()):
        np.testing.assert_array_equal(b, a)


def test_dense_builds_lazily_or_from_input_shape():
    lazy = Dense(5)
    assert not lazy.built and lazy.get_weights() == []
    with pytest.raises(ValueError, match="is not built yet"):
        lazy.count_params()
    lazy(np.zeros((2, 7), dtype="float32"))
    eager = Dense(5, input_shape=(7,))
    assert eager.built and lazy.built
    assert [w.shape for w in eager.get_weights()] == [w.shape for w in lazy.get_weights()] == [(7, 5), (5,)]
    assert eager.count_params() == 7 * 5 + 5


def test_dense_initializers_follow_keras_formulas():
    layer = Dense(300, input_shape=(200,), kernel_initializer="glorot_uniform", bias_initializer="ones")
    kernel, bias = layer.get_weights()
    limit = np.sqrt(6.0 / (200 + 300))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    np.testing.assert_array_equal(bias, np.ones(300, dtype="float32"))


def test_dense_rejects_wrong_feature_size():
    layer = Dense(4, input_shape=(32,))
    with pytest.raises(ValueError, match=r"Layer 'dense.*' \(Dense, units=4\) expects input of shape "
                                         r"\(batch, \.\.\., features\) with features=32, but received a 2-D array "
                                         r"of shape \(8, 16\) with features=16\..*new Dense layer for 16"):
        layer(np.zeros((8, 16), dtype="float32"))
    with pytest.raises(ValueError, match=r"received a 1-D array of shape \(32,\)\. If this is one sample, add a "
                                         r"batch axis: x\[None, :\]"):
        layer(np.zeros(32, dtype="float32"))


def test_dense_regularizer_losses_equal_keras(keras):
    x = np.random.standard_normal((4, 3)).astype("float32")
    ours = Dense(2, kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.02), bias_regularizer="l2",
                 activity_regularizer=regularizers.L1(0.05), bias_initializer="random_normal")
    ours(x)
    theirs = _keras_twin(
        keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.02), bias_regularizer="l2",
                           activity_regularizer=keras.regularizers.L1(0.05)), ours, (None, 3))
    theirs(x)
    ours_losses = sorted(float(_np(v)) for v in ours.losses)
    keras_losses = sorted(float(_np(v)) for v in theirs.losses)
    assert len(ours_losses) == 3
    np.testing.assert_allclose(ours_losses, keras_losses, rtol=1e-6)


def test_dense_constraints_project_like_keras(keras):
    ours = Dense(3, input_shape=(4,), kernel_constraint=constraints.MaxNorm(1.0, axis=0),
                 bias_constraint="non_neg")
    kernel = np.random.standard_normal((4, 3)).astype("float32") * 3
    bias = np.array([1.0, -2.0, 0.5], dtype="float32")
    ours.set_weights([kernel, bias])
    ours.apply_constraints()
    expected_kernel = _np(keras.constraints.MaxNorm(1.0, axis=0)(kernel))
    expected_bias = _np(keras.constraints.NonNeg()(bias))
    np.testing.assert_allclose(ours.get_weights()[0], expected_kernel, atol=ATOL)
    np.testing.assert_array_equal(ours.get_weights()[1], expected_bias)


def test_dense_config_round_trip_gives_same_outputs(keras):
    layer = Dense(3, activation="tanh", kernel_regularizer="l2", bias_constraint="non_neg",
                  activity_regularizer="l1", input_shape=(5, 4), name="proj")
    config = layer.get_config()
    keras_keys = set(keras.layers.Dense(3).get_config())
    assert set(config) <= keras_keys | {"batch_input_shape", "activity_regularizer"}
    clone = Dense.from_config(config)
    clone.set_weights(layer.get_weights())
    x = np.random.standard_normal((2, 5, 4)).astype("float32")
    np.testing.assert_array_equal(_np(layer(x)), _np(clone(x)))
    assert clone.get_config() == config
    assert clone.activity_regularizer is not None


def test_dense_trainable_false_freezes_parameters():
    layer = Dense(2, input_shape=(3,), trainable=False)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not any(p.requires_grad for p in layer.parameters())


# ------------------------------------------------------------------------------------------------------------ Dropout
def test_dropout_is_identity_in_inference_mode():
    layer = Dropout(0.5)
    x = torch.randn(4, 6)
    assert not layer.training
    assert torch.equal(layer(x), x)
    assert torch.equal(layer(x, training=False), x)


@pytest.mark.parametrize("seed", [None, 7])
def test_dropout_drops_rate_fraction_and_scales_the_rest(seed):
    rate = 0.3
    x = torch.rand(200, 500) + 0.5  # no zeros in the input
    out = Dropout(rate, seed=seed)(x, training=True)
    dropped = out == 0
    assert abs(dropped.float().mean().item() - rate) < 0.01
    torch.testing.assert_close(out[~dropped], (x / (1 - rate))[~dropped], rtol=1e-6, atol=0)


def test_dropout_follows_train_mode_when_training_is_not_given():
    layer = Dropout(0.5)
    layer.train()
    assert (layer(torch.ones(1000)) == 0).any()
    layer.eval()
    assert torch.equal(layer(torch.ones(1000)), torch.ones(1000))


def test_seeded_dropout_is_reproducible_and_advances():
    x = torch.ones(64, 32)
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    first_a, first_b = a(x, training=True), b(x, training=True)
    assert torch.equal(first_a, first_b)
    assert torch.equal(a(x, training=True), b(x, training=True))
    assert not torch.equal(a(x, training=True), first_a)


def test_dropout_noise_shape_shares_the_mask_over_time():
    out = Dropout(0.5, noise_shape=(None, 1, 8), seed=1)(torch.ones(4, 6, 8), training=True)
    assert torch.equal(out, out[:, :1].expand_as(out))
    with pytest.raises(ValueError, match=r"noise_shape=\(None, 1, 8\) of rank 3, but received a 2-D array"):
        Dropout(0.5, noise_shape=(None, 1, 8))(torch.ones(4, 8), training=True)


def test_dropout_passes_mask_and_validates_rate():
    x = torch.as_tensor(_masked_sequences(np.random.default_rng(1)))
    masked = Masking()(x)
    out = Dropout(0.5)(masked, training=True)
    assert torch.equal(out._keras_mask, masked._keras_mask)
    with pytest.raises(ValueError, match=r"`rate` must be a number between 0 and 1, received rate=1.5"):
        Dropout(1.5)
    layer = Dropout(0.25, noise_shape=[None, 1], seed=2)
    assert Dropout.from_config(layer.get_config()).get_config() == layer.get_config()


# ------------------------------------------------------------------------------------------------------------ Embedding
@pytest.mark.parametrize("mask_zero", [False, True])
def test_embedding_matches_keras_outputs_and_mask(keras, mask_zero):
    ids = np.array([[1, 2, 0, 0], [9, 0, 3, 4]], dtype="int64")
    ours = Embedding(10, 3, mask_zero=mask_zero)
    out = ours(ids)
    theirs = _keras_twin(keras.layers.Embedding(10, 3, mask_zero=mask_zero), ours, (None, 4))
    expected = theirs(ids)
    np.testing.assert_allclose(_np(out), _np(expected), atol=0)
    assert out.shape == (2, 4, 3) and out.dtype == torch.float32
    if mask_zero:
        np.testing.assert_array_equal(_np(out._keras_mask), _np(expected._keras_mask))
    else:
        assert getattr(out, "_keras_mask", None) is None
    assert ours.count_params() == theirs.count_params() == 30


def test_embedding_mask_reaches_dense_output(keras):
    ids = np.array([[4, 5, 0]])
    out = Dense(2)(Embedding(6, 3, mask_zero=True)(ids))
    np.testing.assert_array_equal(_np(out._keras_mask), [[True, True, False]])


def test_embedding_default_initializer_is_keras_uniform():
    weights = Embedding(500, 40, input_shape=(7,)).get_weights()[0]
    assert weights.shape == (500, 40)
    assert -0.05 <= weights.min() < -0.049 and 0.049 < weights.max() <= 0.05


def test_embedding_out_of_range_index_is_a_value_error():
    layer = Embedding(10, 3)
    with pytest.raises(ValueError, match=r"Layer 'embedding.*' \(Embedding, input_dim=10, output_dim=3\) received "
                                         r"index 12 at position \(1, 2\) of a 2-D array of shape \(3, 3\) "
                                         r"\(2 out-of-range entries in all\), but input_dim=10 allows indices 0 to 9\. "
                                         r"Increase input_dim to at least 13"):
        layer(np.array([[1, 2, 3], [4, 5, 12], [10, 0, 0]]))
    with pytest.raises(ValueError, match=r"received index -1 at position \(0, 0\).*Indices must be >= 0"):
        layer(np.array([[-1, 2]]))


def test_embedding_regularizer_and_constraint_match_keras(keras):
    ours = Embedding(5, 4, embeddings_regularizer=regularizers.L2(0.1),
                     embeddings_constraint=constraints.UnitNorm(axis=1), input_shape=(3,))
    theirs = _keras_twin(keras.layers.Embedding(5, 4, embeddings_regularizer=keras.regularizers.L2(0.1)),
                         ours, (None, 3))
    np.testing.assert_allclose(_np(ours.losses[0]), _np(theirs.losses[0]), rtol=1e-6)
    table = ours.get_weights()[0]
    ours.apply_constraints()
    expected = _np(keras.constraints.UnitNorm(axis=1)(table))
    np.testing.assert_allclose(ours.get_weights()[0], expected, atol=ATOL)


def test_embedding_config_round_trip_and_keras2_arguments():
    layer = Embedding(8, 2, mask_zero=True, input_length=5)
    assert layer.built and layer._batch_input_shape == (None, 5)
    clone = Embedding.from_config(layer.get_config())
    clone.set_weights(layer.get_weights())
    ids = np.array([[1, 7, 0, 0, 3]])
    np.testing.assert_array_equal(_np(layer(ids)), _np(clone(ids)))
    table = np.arange(16, dtype="float32").reshape(8, 2)
    np.testing.assert_array_equal(Embedding(8, 2, weights=[table]).get_weights()[0], table)


# ------------------------------------------------------------------------------------------------------------ Masking
def test_masking_matches_keras_outputs_and_mask(keras):
    x = _masked_sequences(np.random.default_rng(2))
    x[2, 4] = 0.5  # with mask_value=0.5 this step is masked instead
    for mask_value in (0.0, 0.5):
        out = Masking(mask_value=mask_value)(x)
        expected = keras.layers.Masking(mask_value=mask_value)(x)
        np.testing.assert_array_equal(_np(out), _np(expected))
        np.testing.assert_array_equal(_np(out._keras_mask), _np(expected._keras_mask))
    np.testing.assert_array_equal(_np(Masking()(x)._keras_mask)[:2],
                                  [[True, True, True, False, False], [False, True, True, True, True]])
    assert Masking.from_config(Masking(0.5).get_config()).mask_value == 0.5


# ---------------------------------------------------------------------------------------------------- RepeatVector
def test_repeat_vector_matches_keras(keras):
    x = np.random.standard_normal((2, 3)).astype("float32")
    out = RepeatVector(4)(x)
    np.testing.assert_array_equal(_np(out), _np(keras.layers.RepeatVector(4)(x)))
    assert out.shape == (2, 4, 3)
    with pytest.raises(ValueError, match=r"\(RepeatVector, n=4\) expects input of shape \(batch, features\), but "
                                         r"received a 3-D array of shape \(2, 5, 3\)\..*x\[:, -1, :\]"):
        RepeatVector(4)(np.zeros((2, 5, 3), dtype="float32"))
    assert RepeatVector(4)(Input(shape=(3,))).shape == (None, 4, 3)


# ------------------------------------------------------------------------------------------------------------ Input
def test_input_returns_a_placeholder_from_an_input_layer():
    inputs = Input(shape=(5, 3), name="features")
    assert isinstance(inputs, SymbolicTensor) and inputs.shape == (None, 5, 3)
    assert isinstance(inputs.node.layer, InputLayer) and inputs.node.outputs == [inputs]
    assert inputs.node.layer.name == "features"
    out = Dense(4)(inputs)
    assert out.shape == (None, 5, 4) and out.node.args[0] is inputs
    ids = Input(shape=(7,), dtype="int32", batch_size=2)
    assert ids.shape == (2, 7) and ids.dtype == torch.int32
    assert Embedding(10, 6)(ids).shape == (2, 7, 6)
    assert Input(batch_shape=(None, None, 3)).shape == (None, None, 3)


def test_input_layer_config_and_errors():
    layer = InputLayer(shape=(4,), dtype="int64", name="ids")
    assert layer.get_config() == {"batch_shape": [None, 4], "dtype": "int64", "sparse": False, "ragged": False,
                                  "name": "ids"}
    assert InputLayer.from_config(layer.get_config()).output.shape == (None, 4)
    assert torch.equal(layer(torch.arange(8).reshape(2, 4)), torch.arange(8).reshape(2, 4))
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 4\) \(None: any size\), but received a "
                                         r"2-D array of shape \(2, 5\)"):
        layer(torch.zeros(2, 5, dtype=torch.int64))
    with pytest.raises(ValueError, match="pass either `shape` or `batch_shape`, not both"):
        Input(shape=(3,), batch_shape=(None, 3))
    with pytest.raises(TypeError, match="holds no values"):
        np.asarray(Input(shape=(3,)))


# ---------------------------------------------------------------------------------------------------- small layers
def test_flatten_activation_reshape_match_keras(keras):
    x = np.random.standard_normal((2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(_np(Flatten()(x)), _np(keras.layers.Flatten()(x)))
    np.testing.assert_array_equal(_np(Flatten(data_format="channels_first")(x)),
                                  _np(keras.layers.Flatten(data_format="channels_first")(x)))
    np.testing.assert_allclose(_np(Activation("gelu")(x)),
                               _np(keras.layers.Activation("gelu")(x)), atol=ATOL)
    np.testing.assert_array_equal(_np(Reshape((-1, 2))(x)), _np(keras.layers.Reshape((-1, 2))(x)))
    placeholder = Input(shape=(3, 4))
    assert Flatten()(placeholder).shape == (None, 12)
    assert Reshape((-1, 2))(placeholder).shape == (None, 6, 2)
    with pytest.raises(ValueError, match=r"cannot reshape a 3-D array of shape \(2, 3, 4\) \(12 values per sample\) "
                                         r"to \(5, 2\)"):
        Reshape((5, 2))(x)


def test_concatenate_and_add_match_keras_including_masks(keras):
    x = _masked_sequences(np.random.default_rng(3))
    y = np.random.standard_normal((3, 5, 2)).astype("float32")
    ours_masked, keras_masked = Masking()(x), keras.layers.Masking()(x)
    y_torch = torch.as_tensor(y)
    out = Concatenate()([ours_masked, y_torch])
    expected = keras.layers.Concatenate()([keras_masked, torch.as_tensor(y)])
    np.testing.assert_array_equal(_np(out), _np(expected))
    np.testing.assert_array_equal(_np(out._keras_mask), _np(expected._keras_mask))
    other = Masking()(np.flip(x, axis=1).copy())
    summed = Add()([ours_masked, other])
    expected_sum = keras.layers.Add()([keras_masked, keras.layers.Masking()(np.flip(x, axis=1).copy())])
    np.testing.assert_allclose(_np(summed), _np(expected_sum), atol=ATOL)
    np.testing.assert_array_equal(_np(summed._keras_mask), _np(expected_sum._keras_mask))
    a, b = Input(shape=(5, 4)), Input(shape=(5, 2))
    assert Concatenate()([a, b]).shape == (None, 5, 6)
    with pytest.raises(ValueError, match=r"expects a list of at least 2 tensors, but received a 3-D array"):
        Add()(torch.as_tensor(x))


def test_lambda_applies_function_and_infers_symbolic_shape():
    layer = Lambda(lambda t, scale: t[:, -1] * scale, arguments={"scale": 2.0})
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(layer(x), x[:, -1] * 2.0)
    assert layer(Input(shape=(5, 3))).shape == (None, 3)
    assert Lambda(torch.flatten, output_shape=(15,))(Input(shape=(5, 3))).shape == (None, 15)
