"""Custom layers written the Keras way (``build``, ``call``, ``add_weight``, ``add_loss``, ``compute_mask``,
sublayers as attributes, ``get_config``), run unchanged in gated and in real Keras: weights in the same order and
layout, the same outputs, masks, losses and training, and save -> load round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated.saving import register_keras_serializable

ATOL = 1e-5


def _matmul(lib):
    return (lambda a, b: lib.ops.matmul(a, b)) if lib is not gated else torch.matmul


def _linear(lib):
    matmul = _matmul(lib)

    class Linear(lib.layers.Layer):
        """Keras's guide layer: a kernel, a bias, and a non-trainable call counter created between them."""

        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                     trainable=True, name="kernel")
            self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False, name="calls")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="bias")

        def call(self, inputs):
            self.calls.assign(self.calls + 1.0)
            return matmul(inputs, self.w) + self.b

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Linear


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _numpy(value):
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def test_add_weight_lists_weights_in_keras_order_with_keras_names_and_shapes(keras):
    ours, theirs = _linear(gated)(4), _linear(keras)(4)
    x = _x(2, 3)
    ours(x), theirs(x)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights] == ["kernel", "bias", "calls"]
    assert [w.name for w in ours.trainable_weights] == [w.name for w in theirs.trainable_weights]
    assert [w.name for w in ours.non_trainable_weights] == [w.name for w in theirs.non_trainable_weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.weights[0] is ours.w  # the Variable itself, as in Keras
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(_numpy(ours(x)), keras.ops.convert_to_numpy(theirs(x)), atol=ATOL)
    assert float(ours.calls.numpy()) == float(keras.ops.convert_to_numpy(theirs.calls)) == 2.0


def test_variables_behave_like_keras_variables():
    layer = _linear(gated)(2)
    layer(_x(1, 3))
    w = layer.w
    assert isinstance(w, torch.nn.Parameter) and w.trainable and not layer.calls.trainable
    assert w.path == f"{layer.name}/kernel" and w.shape == (3, 2)
    w.assign(np.ones((3, 2), "float32"))
    np.testing.assert_array_equal(w.numpy(), np.ones((3, 2)))
    w.assign_add(np.ones((3, 2), "float32"))
    np.testing.assert_array_equal(layer.get_weights()[0], np.full((3, 2), 2.0))
    assert w.value is w
    with pytest.raises(ValueError, match=r"has shape \(3, 2\); the value to assign has shape \(2, 3\)"):
        w.assign(np.ones((2, 3), "float32"))
    layer.trainable = False
    assert not w.trainable and layer.trainable_weights == []
    layer.trainable = True
    assert w.trainable and not layer.calls.trainable  # a non-trainable weight stays so


def test_add_weight_defaults_follow_keras(keras):
    for lib in (gated, keras):
        layer = lib.layers.Layer()
        float_weight = layer.add_weight(shape=(20, 30))
        int_weight = layer.add_weight(shape=(2,), dtype="int32", trainable=False)
        limit = np.sqrt(6.0 / 50)  # glorot_uniform
        values = _numpy(float_weight) if lib is gated else keras.ops.convert_to_numpy(float_weight)
        assert np.abs(values).max() <= limit and values.std() > limit / 3
        ints = _numpy(int_weight) if lib is gated else keras.ops.convert_to_numpy(int_weight)
        assert ints.tolist() == [0, 0] and "int32" in str(int_weight.dtype)
        assert not int_weight.trainable


def test_add_weight_refuses_unknown_sizes_and_a_positional_name():
    layer = gated.layers.Layer(name="odd")
    with pytest.raises(ValueError, match=r"Layer 'odd' \(Layer\): add_weight\(shape=...\) takes a fully known shape.*"
                                         r"received \(None, 3\)"):
        layer.add_weight(shape=(None, 3))
    with pytest.raises(ValueError, match=r"takes the name as a keyword argument; received add_weight\('w', ...\)"):
        layer.add_weight("w")


def _penalized(lib):
    class ActivityPenalty(lib.layers.Layer):
        def __init__(self, rate=0.01, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * (lib.ops.sum(inputs ** 2) if lib is not gated else torch.sum(inputs ** 2)))
            return inputs

        def get_config(self):
            return {**super().get_config(), "rate": self.rate}

    return ActivityPenalty


def test_add_loss_is_cleared_at_each_call_and_counted_in_fit_like_keras(keras):
    x, y = _x(8, 3), _x(8, 2, seed=1)
    histories, predictions = [], []
    for lib in (keras, gated):
        inputs = lib.Input((3,))
        hidden = _penalized(lib)(0.05)(lib.layers.Dense(4, name="d1")(inputs))
        model = lib.Model(inputs, lib.layers.Dense(2, name="d2")(hidden))
        if lib is gated:
            model.set_weights(weights)
        else:
            weights = model.get_weights()
        model(x[:2])
        model(x[:4])
        assert len(model.losses) == 1  # the second call replaced the first call's loss
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
        histories.append(model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history["loss"])
        predictions.append(model.predict(x, verbose=0))
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
    np.testing.assert_allclose(predictions[1], predictions[0], atol=ATOL)


def _masked_mean(lib):
    class MaskedMean(lib.layers.Layer):
        """Mean over the valid timesteps: takes ``mask``; its output has no time axis, so no mask."""

        def call(self, inputs, mask=None):
            weights = mask[..., None] if lib is gated else lib.ops.expand_dims(lib.ops.cast(mask, "float32"), -1)
            weights = weights.to(inputs.dtype) if lib is gated else weights
            total = (inputs * weights).sum(1) if lib is gated else lib.ops.sum(inputs * weights, axis=1)
            count = weights.sum(1) if lib is gated else lib.ops.sum(weights, axis=1)
            return total / count

        def compute_mask(self, inputs, mask=None):
            return None

    class Scale(lib.layers.Layer):
        """Keeps the mask: supports_masking passes it through."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return inputs * 2.0

    return MaskedMean, Scale


def test_masks_pass_through_supports_masking_and_reach_call_like_keras(keras):
    tokens = np.array([[3, 1, 0, 0], [2, 5, 4, 0], [1, 0, 0, 0]])
    outputs = []
    for lib in (keras, gated):
        masked_mean, scale = _masked_mean(lib)
        inputs = lib.Input((4,), dtype="int32" if lib is keras else "int64")
        embedded = lib.layers.Embedding(6, 3, mask_zero=True, name="embed")(inputs)
        scaled = scale()(embedded)
        assert tuple(scaled._keras_mask.shape) == (None, 4)  # the symbolic mask, as Keras has it
        pooled = masked_mean()(scaled)
        assert getattr(pooled, "_keras_mask", None) is None
        gru_out = lib.layers.GRU(2, name="gru")(scaled)
        model = lib.Model(inputs, [pooled, gru_out])
        if lib is gated:
            model.set_weights(weights)
        else:
            weights = model.get_weights()
        outputs.append(model.predict(tokens, verbose=0))
    for found, expected in zip(outputs[1], outputs[0]):
        np.testing.assert_allclose(found, expected, atol=ATOL)


def _growing(lib):
    class Doubler(lib.layers.Layer):
        """No compute_output_shape: Keras finds its output shape by running call symbolically."""

        def call(self, inputs):
            both = [inputs, inputs]
            return lib.ops.concatenate(both, axis=-1) if lib is not gated else torch.cat(both, dim=-1)

    return Doubler


def test_output_shape_without_compute_output_shape_is_found_by_running_call(keras):
    for lib in (keras, gated):
        out = _growing(lib)()(lib.Input((None, 3)))
        assert tuple(out.shape) == (None, None, 6)
    assert gated.Sequential([gated.Input((5, 3)), _growing(gated)()]).output_shapes() == [(None, 5, 6)]


def test_a_call_that_fails_on_the_symbolic_shape_says_how_to_fix_it():
    class Picky(gated.layers.Layer):
        def call(self, inputs):
            if inputs.shape[0] != 7:
                raise RuntimeError("only batches of 7")
            return inputs

    with pytest.raises(ValueError, match=r"has no compute_output_shape\(\), so its output shape is found by running "
                                         r"call\(\) on zeros.*only batches of 7.*Define compute_output_shape"):
        Picky(name="picky")(gated.Input((3,)))


def _block(lib):
    class Block(lib.layers.Layer):
        """Sublayers as attributes and in a list: weights in Keras's order (attribute order)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first = lib.layers.Dense(4, activation="tanh")
            self.stack = [lib.layers.Dense(3), lib.layers.Dense(2)]
            self.scale = self.add_weight(shape=(2,), initializer="ones", name="scale")

        def call(self, inputs):
            x = self.first(inputs)
            for layer in self.stack:
                x = layer(x)
            return x * self.scale

    return Block


def test_sublayers_as_attributes_and_lists_are_tracked_in_keras_order(keras):
    x = _x(5, 6)
    ours, theirs = _block(gated)(), _block(keras)()
    ours(x), theirs(x)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(_numpy(ours(x)), keras.ops.convert_to_numpy(theirs(x)), atol=ATOL)
    assert len(list(ours.parameters())) == len(ours.weights) == 7


@register_keras_serializable(package="custom_layers_test")
class SavedLinear(_linear(gated)):
    pass


@register_keras_serializable(package="custom_layers_test")
class AutoConfig(gated.layers.Layer):
    """No get_config: Keras writes the constructor's plain arguments itself."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor


def test_registered_custom_layers_save_and_load_with_the_model(tmp_path):
    x = _x(4, 3)
    inputs = gated.Input((3,))
    model = gated.Model(inputs, AutoConfig(factor=0.5)(SavedLinear(units=2)(inputs)))
    assert AutoConfig(factor=0.5).get_config()["factor"] == 0.5
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "custom.gated")
    loaded = gated.load_model(tmp_path / "custom.gated")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=0)
    assert [type(layer).__name__ for layer in loaded.layers] == ["InputLayer", "SavedLinear", "AutoConfig"]
    sequential = gated.Sequential([gated.Input((3,)), SavedLinear(units=2)])
    sequential.save(tmp_path / "sequential.gated")
    again = gated.load_model(tmp_path / "sequential.gated")
    np.testing.assert_allclose(again.predict(x, verbose=0), sequential.predict(x, verbose=0), atol=0)


def test_unplain_constructor_arguments_need_a_get_config():
    class Holder(gated.layers.Layer):
        def __init__(self, table, **kwargs):
            super().__init__(**kwargs)
            self.table = table

        def call(self, inputs):
            return inputs

    with pytest.raises(NotImplementedError, match=r"has no get_config\(\).*not plain values.*Write get_config"):
        Holder(object()).get_config()


def test_weight_regularizers_and_constraints_of_add_weight_act_like_keras(keras):
    def make(lib):
        class Regularized(lib.layers.Layer):
            def build(self, input_shape):
                self.kernel = self.add_weight(shape=(input_shape[-1], 2), regularizer=lib.regularizers.L2(0.1),
                                              constraint=lib.constraints.NonNeg(), name="kernel")

            def call(self, inputs):
                return _matmul(lib)(inputs, self.kernel)

        return Regularized

    x, y = _x(6, 3), _x(6, 2, seed=2)
    results = []
    for lib in (keras, gated):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, make(lib)()(inputs))
        if lib is gated:
            model.set_weights(weights)
        else:
            weights = model.get_weights()
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss="mse")
        history = model.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0).history["loss"]
        results.append((history, model.get_weights()[0]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], atol=ATOL)
    assert (results[1][1] >= 0).all()


def test_a_custom_layer_whose_config_has_no_name_rebuilds_in_from_config_like_keras(keras):
    """The functional API guide's CustomDense: ``__init__`` does not pass ``name`` on and ``get_config`` returns
    only ``units``, so the layer entries of the model config name the layers and the calls still find them."""
    def build(lib):
        class CustomDense(lib.layers.Layer):
            def __init__(self, units=32):
                super().__init__()
                self.units = units

            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
                self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

            def call(self, inputs):
                return _matmul(lib)(inputs, self.w) + self.b

            def get_config(self):
                return {"units": self.units}

        inputs = lib.Input((4,))
        model = lib.Model(inputs, CustomDense(2)(CustomDense(3)(inputs)))
        return model, CustomDense

    x = _x(5, 4)
    for lib in (keras, gated):
        model, custom_dense = build(lib)
        config = model.get_config()
        assert [entry["name"] for entry in config["layers"]] == [layer.name for layer in model.layers]
        rebuilt = lib.Model.from_config(config, custom_objects={"CustomDense": custom_dense})
        rebuilt.set_weights(model.get_weights())
        assert [layer.name for layer in rebuilt.layers] != [layer.name for layer in model.layers]  # new names...
        np.testing.assert_allclose(np.asarray(rebuilt.predict(x, verbose=0)), np.asarray(model.predict(x, verbose=0)),
                                   atol=1e-6)  # ...and the same graph
