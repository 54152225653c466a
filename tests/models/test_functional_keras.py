"""The functional API as Keras 3 has it: ``Model.input`` / ``output`` / ``inputs`` / ``outputs``, ``layer.input`` /
``layer.output``, ``Model.layers`` with the InputLayers in Keras's order, ``get_layer``, masks on symbolic tensors,
nested models, torch modules as layers, ``Sequential.add`` / ``pop`` and the summary of an unbuilt Sequential; each
against real Keras (or torch) on the same inputs and weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated import layers as L

ATOL = 1e-5


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _two_input_model(lib):
    """Two inputs at different depths, a shared Dense, two outputs."""
    a = lib.Input((4,), name="a")
    b = lib.Input((3,), name="b")
    shared = lib.layers.Dense(3, name="shared")
    left = shared(lib.layers.Dense(3, name="left")(a))
    joined = lib.layers.Concatenate(name="join")([left, b])
    right = shared(b)
    out_1 = lib.layers.Dense(2, name="head")(joined)
    return lib.Model([a, b], [out_1, right], name="two")


def test_model_inputs_outputs_and_layer_input_output_are_the_symbolic_tensors(keras):
    for lib in (keras, gated):
        model = _two_input_model(lib)
        assert isinstance(model.input, list) and len(model.input) == 2
        assert [tuple(t.shape) for t in model.inputs] == [(None, 4), (None, 3)]
        assert [tuple(t.shape) for t in model.outputs] == [(None, 2), (None, 3)]
        assert model.output[0] is model.outputs[0]
        head = model.get_layer("head")
        assert head.output is model.outputs[0] and tuple(head.input.shape) == (None, 6)
        # a shared layer: Keras 3 answers with its first call
        shared = model.get_layer("shared")
        assert shared.input is model.get_layer("left").output and tuple(shared.output.shape) == (None, 3)
        assert model.get_layer("a").output is model.inputs[0]
        join = model.get_layer("join")
        assert isinstance(join.input, list) and len(join.input) == 2


def test_layers_list_the_input_layers_in_keras_order(keras):
    ours, theirs = _two_input_model(gated), _two_input_model(keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    ours.set_weights(theirs.get_weights())  # the weights follow the same order
    x = [_x(5, 4), _x(5, 3, seed=1)]
    for found, expected in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(found, expected, atol=ATOL)


def test_get_layer_by_name_and_index(keras):
    for lib in (keras, gated):
        model = _two_input_model(lib)
        assert model.get_layer(index=0).name == model.layers[0].name
        assert model.get_layer(index=-1) is model.layers[-1]
        assert model.get_layer("join") is model.layers[[l.name for l in model.layers].index("join")]
    model = _two_input_model(gated)
    with pytest.raises(ValueError, match=r"No layer named 'nope' in model 'two'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match=r"Model 'two' has 6 layers; index 9 is out of range"):
        model.get_layer(index=9)


def test_symbolic_tensors_carry_masks_like_keras(keras):
    for lib in (keras, gated):
        tokens = lib.Input((6,), dtype="int32" if lib is keras else "int64")
        embedded = lib.layers.Embedding(10, 4, mask_zero=True)(tokens)
        assert tuple(embedded._keras_mask.shape) == (None, 6)
        sequences = lib.layers.GRU(3, return_sequences=True)(embedded)
        assert tuple(sequences._keras_mask.shape) == (None, 6)
        last = lib.layers.GRU(2)(sequences)
        assert getattr(last, "_keras_mask", None) is None
        series = lib.Input((5, 2))
        masked = lib.layers.Masking(0.0)(series)
        assert tuple(masked._keras_mask.shape) == (None, 5)
        assert getattr(lib.layers.Dense(3)(series), "_keras_mask", None) is None


def test_a_mask_placeholder_passed_on_explicitly_is_replayed(keras):
    tokens = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    results = []
    for lib in (keras, gated):
        ids = lib.Input((4,), dtype="int32" if lib is keras else "int64")
        embedded = lib.layers.Embedding(5, 3, mask_zero=True)(ids)
        plain = lib.layers.Dense(3)(embedded)
        out = lib.layers.GRU(2)(plain, mask=embedded._keras_mask)
        model = lib.Model(ids, out)
        if lib is gated:
            model.set_weights(weights)
        else:
            weights = model.get_weights()
        results.append(model.predict(tokens, verbose=0))
    np.testing.assert_allclose(results[1], results[0], atol=ATOL)


def _nested(lib):
    inner_in = lib.Input((5, 3))
    inner = lib.Model(inner_in, lib.layers.GRU(4, return_sequences=True, name="inner_gru")(inner_in), name="inner")
    stack = lib.Sequential([lib.layers.Dense(3, name="s1"), lib.layers.Dense(2, name="s2")], name="stack")
    x = lib.Input((5, 3))
    return lib.Model(x, stack(lib.layers.GRU(6, name="outer_gru")(inner(x))), name="outer")


def test_nested_functional_and_sequential_models_match_keras(keras):
    ours, theirs = _nested(gated), _nested(keras)
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert [layer.name for layer in ours.layers[1:]] == [layer.name for layer in theirs.layers[1:]]
    ours.set_weights(theirs.get_weights())
    x = _x(4, 5, 3)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=ATOL)
    y = _x(4, 2, seed=1)
    for model, lib in ((ours, gated), (theirs, keras)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    found = ours.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0).history["loss"]
    expected = theirs.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(found, expected, rtol=1e-5)


class _FrameEncoder(torch.nn.Module):
    """A small CNN over each timestep's 1-D signal: (B, T, C, W) -> (B, T, F)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(2, 4, kernel_size=3)
        self.pool = torch.nn.AdaptiveAvgPool1d(1)

    def forward(self, x):
        b, t, c, w = x.shape
        frames = self.pool(torch.relu(self.conv(x.reshape(b * t, c, w))))  # (B*T, 4, 1)
        return frames.reshape(b, t, 4)


def test_a_torch_module_feeds_a_gru_in_sequential_and_functional_models():
    x = _x(3, 5, 2, 8)
    encoder = _FrameEncoder()
    sequential = gated.Sequential([gated.Input((5, 2, 8)), encoder, L.GRU(3, name="gru")])
    assert isinstance(sequential.layers[0], L.TorchModuleWrapper)
    assert sequential.output_shapes() == [(None, 5, 4), (None, 3)]
    gru = sequential.get_layer("gru")
    with torch.no_grad():
        expected = gru(encoder(torch.as_tensor(x))).numpy()
    np.testing.assert_allclose(sequential.predict(x, verbose=0), expected, atol=ATOL)
    assert len(sequential.get_weights()) == 2 + 3  # the conv's weight and bias, the GRU's three
    inputs = gated.Input((None, 2, 8))
    wrapped = L.TorchModuleWrapper(_FrameEncoder(), name="frames")
    features = wrapped(inputs)
    assert tuple(features.shape) == (None, None, 4)  # the time axis stays unknown
    functional = gated.Model(inputs, L.Dense(1)(L.GRU(3)(features)))
    functional.compile(optimizer="adam", loss="mse")
    before = [p.detach().clone() for p in wrapped.module.parameters()]
    functional.fit(x, _x(3, 1, seed=1), epochs=2, verbose=0)
    assert all(not torch.equal(a, b.detach()) for a, b in zip(before, wrapped.module.parameters()))


def test_a_torch_module_assigned_to_a_keras_style_layer_is_tracked():
    class WithTorch(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.proj = torch.nn.Linear(3, 2)

        def call(self, inputs):
            return self.proj(inputs)

    layer = WithTorch()
    x = _x(4, 3)
    out = layer(x)
    torch.testing.assert_close(out, torch.as_tensor(x) @ layer.proj.module.weight.T + layer.proj.module.bias)
    assert [w.shape for w in layer.get_weights()] == [(2, 3), (2,)]


def test_torch_module_wrapper_refuses_what_it_cannot_wrap():
    with pytest.raises(TypeError, match=r"TorchModuleWrapper wraps a torch.nn.Module; received int 3"):
        L.TorchModuleWrapper(3)
    with pytest.raises(NotImplementedError, match=r"cannot hold.*save_weights"):
        L.TorchModuleWrapper(torch.nn.Linear(2, 2)).get_config()


def _rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in text.splitlines()
            if line.startswith("│")]


def _summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, line_break=True: lines.append(line))
    return "\n".join(lines)


def test_summary_of_an_unbuilt_sequential_equals_keras(keras):
    ours = gated.Sequential([L.Dense(3, name="a"), L.GRU(2, name="b")], name="pending")
    theirs = keras.Sequential([keras.layers.Dense(3, name="a"), keras.layers.GRU(2, name="b")], name="pending")
    found, expected = _summary(ours), _summary(theirs)
    assert _rows(found) == _rows(expected) == [["a (Dense)", "?", "0 (unbuilt)"], ["b (GRU)", "?", "0 (unbuilt)"]]
    tail = lambda text: [line for line in text.splitlines() if "params" in line]  # noqa: E731
    assert tail(found) == tail(expected)
    assert found.splitlines()[0] == expected.splitlines()[0] == 'Model: "pending"'


def test_sequential_add_pop_and_input_like_keras(keras):
    for lib in (keras, gated):
        model = lib.Sequential(name="grown")
        model.add(lib.Input((5, 3)))
        model.add(lib.layers.GRU(4, name="gru"))
        model.add(lib.layers.Dense(2, name="dense"))
        assert [layer.name for layer in model.layers] == ["gru", "dense"]  # Sequential lists no InputLayer
        assert tuple(model.outputs[0].shape) == (None, 2) and tuple(model.inputs[0].shape) == (None, 5, 3)
        popped = model.pop()
        assert popped.name == "dense" and [layer.name for layer in model.layers] == ["gru"]
        assert tuple(model.outputs[0].shape) == (None, 4)
    ours = gated.Sequential([gated.Input((5, 3)), L.GRU(4)])
    theirs = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4)])
    ours.set_weights(theirs.get_weights())
    x = _x(2, 5, 3)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=ATOL)


def test_layer_output_of_a_layer_never_called_symbolically_says_how_to_get_one():
    layer = L.Dense(2, name="lonely")
    layer(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match=r"Layer 'lonely' \(Dense, units=2\) has never been called on a symbolic "
                                         r"input .* so it has no output"):
        layer.output
