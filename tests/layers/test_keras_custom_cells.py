"""Custom RNN cells written the Keras way (``state_size``, ``output_size``, ``build``, ``call(inputs, states)``
returning ``(output, new_states)``, ``get_initial_state``) inside ``RNN`` and ``Bidirectional(RNN(cell))``, against
real Keras with the same weights: Keras's MinimalRNNCell and a cell with several states of different sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated

ATOL = 1e-5


def _ops(lib):
    if lib is gated:
        return torch.matmul, torch.tanh
    return lib.ops.matmul, lib.ops.tanh


def _minimal_cell(lib):
    matmul, tanh = _ops(lib)

    class MinimalRNNCell(lib.layers.Layer):
        """Keras's documented example cell."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            prev_output = states[0]
            output = tanh(matmul(inputs, self.kernel) + matmul(prev_output, self.recurrent_kernel))
            return output, [output]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return MinimalRNNCell


def _nested_cell(lib):
    matmul, tanh = _ops(lib)

    class NestedCell(lib.layers.Layer):
        """Three states of two sizes (``state_size`` a list), the output wider than any state
        (``output_size``)."""

        def __init__(self, unit_1, unit_2, **kwargs):
            super().__init__(**kwargs)
            self.unit_1, self.unit_2 = unit_1, unit_2
            self.state_size = [unit_1, unit_2, unit_2]
            self.output_size = unit_1 + unit_2

        def build(self, input_shape):
            features = input_shape[-1]
            self.kernel_1 = self.add_weight(shape=(features, self.unit_1), name="kernel_1")
            self.kernel_2 = self.add_weight(shape=(features, self.unit_2), name="kernel_2")
            self.mix = self.add_weight(shape=(self.unit_2, self.unit_2), name="mix")

        def call(self, inputs, states):
            h, c, d = states
            new_h = tanh(matmul(inputs, self.kernel_1) + h)
            new_c = tanh(matmul(inputs, self.kernel_2) + matmul(d, self.mix))
            new_d = c + new_c
            joined = [new_h, new_c]
            output = torch.cat(joined, dim=-1) if lib is gated else lib.ops.concatenate(joined, axis=-1)
            return output, [new_h, new_c, new_d]

    return NestedCell


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _same_weights(ours, theirs, x):
    theirs_out = theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    return theirs_out


def _close(ours, theirs, keras):
    ours = ours if isinstance(ours, (list, tuple)) else [ours]
    theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), keras.ops.convert_to_numpy(b), atol=ATOL)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_minimal_cell_in_rnn_matches_keras(keras, return_sequences, go_backwards):
    x = _x(3, 5, 4)
    kwargs = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
    ours = gated.layers.RNN(_minimal_cell(gated)(6), **kwargs)
    theirs = keras.layers.RNN(_minimal_cell(keras)(6), **kwargs)
    expected = _same_weights(ours, theirs, x)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    _close(ours(x), expected, keras)


def test_minimal_cell_in_bidirectional_matches_keras(keras):
    """Bidirectional makes its backward layer from the forward one's config, so Keras needs the cell registered."""
    x = _x(2, 4, 3, seed=1)
    register = keras.saving.register_keras_serializable(package="custom_cells_test")
    keras_cell = register(type("BidirectionalCell", (_minimal_cell(keras),), {}))
    ours = gated.layers.Bidirectional(gated.layers.RNN(_minimal_cell(gated)(5), return_sequences=True))
    theirs = keras.layers.Bidirectional(keras.layers.RNN(keras_cell(5), return_sequences=True))
    expected = _same_weights(ours, theirs, x)
    _close(ours(x), expected, keras)


def test_cell_with_several_states_and_an_output_size_matches_keras(keras):
    x = _x(3, 6, 4, seed=2)
    ours = gated.layers.RNN(_nested_cell(gated)(3, 2), return_sequences=True, return_state=True)
    theirs = keras.layers.RNN(_nested_cell(keras)(3, 2), return_sequences=True, return_state=True)
    expected = _same_weights(ours, theirs, x)
    _close(ours(x), expected, keras)


def test_custom_cell_trains_in_a_model_like_keras(keras):
    x, y = _x(8, 5, 4), _x(8, 1, seed=3)
    results = []
    for lib in (keras, gated):
        inputs = lib.Input((5, 4))
        outputs = lib.layers.Dense(1)(lib.layers.RNN(_minimal_cell(lib)(6))(inputs))
        model = lib.Model(inputs, outputs)
        if lib is gated:
            model.set_weights(weights)
        else:
            weights = model.get_weights()
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"]
        results.append((history, model.predict(x, verbose=0)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], atol=ATOL)


def test_cell_get_initial_state_gives_the_first_states(keras):
    def with_start(lib):
        base = _minimal_cell(lib)

        class StartAtOne(base):
            def get_initial_state(self, batch_size=None):
                ones = torch.ones if lib is gated else lib.ops.ones
                return [ones((batch_size, self.units))]

        return StartAtOne

    x = _x(2, 3, 4, seed=4)
    ours = gated.layers.RNN(with_start(gated)(3), return_sequences=True)
    theirs = keras.layers.RNN(with_start(keras)(3), return_sequences=True)
    expected = _same_weights(ours, theirs, x)
    _close(ours(x), expected, keras)
    zero_start = gated.layers.RNN(_minimal_cell(gated)(3), return_sequences=True)
    zero_start(x)
    zero_start.set_weights(ours.get_weights())
    assert not torch.allclose(zero_start(x), ours(x))


def test_registered_custom_cell_saves_and_loads_with_the_model(tmp_path):
    cell_class = gated.saving.register_keras_serializable(package="custom_cells_test")(
        type("SavedMinimalCell", (_minimal_cell(gated),), {}))
    x = _x(2, 4, 3)
    inputs = gated.Input((4, 3))
    model = gated.Model(inputs, gated.layers.RNN(cell_class(4))(inputs))
    model.save(tmp_path / "cell.gated")
    loaded = gated.load_model(tmp_path / "cell.gated")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=0)
