"""Merge layers against real Keras 3 (torch backend): element-wise merges with broadcasting and inputs of different
ranks, masks combined as Keras combines them, Dot over its axes, symbolic shapes, configs and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gated.layers import (
    Add, Average, Concatenate, Dot, Input, Masking, Maximum, Minimum, Multiply, Subtract, _core, _merge,
)

ATOL = 1e-6
ELEMENTWISE = {"Add": Add, "Subtract": Subtract, "Multiply": Multiply, "Average": Average, "Maximum": Maximum,
               "Minimum": Minimum}


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _x(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _padded(seed: int, pad_start: int, pad_row: int = 0) -> np.ndarray:
    x = _x(3, 5, 4, seed=seed)
    x[pad_row, pad_start:] = 0.0  # masked steps once through Masking
    x[2, 0] = 0.0
    return x


# ------------------------------------------------------------------------------------------------ element-wise
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("shapes", [[(3, 5, 4), (3, 5, 4)], [(3, 5, 4), (3, 1, 4), (3, 5, 1)], [(3, 4), (3, 5, 4)]],
                         ids=["same", "broadcast", "ranks"])
def test_elementwise_merges_match_keras(keras, name, shapes):
    if name == "Subtract" and len(shapes) != 2:
        shapes = shapes[:2]
    xs = [_x(*s, seed=i) for i, s in enumerate(shapes)]
    out = ELEMENTWISE[name]()([torch.as_tensor(x) for x in xs])
    expected = getattr(keras.layers, name)()([torch.as_tensor(x) for x in xs])
    np.testing.assert_allclose(_np(out), _np(expected), atol=ATOL, rtol=ATOL)
    placeholder = ELEMENTWISE[name]()([Input(s[1:]) for s in shapes])
    assert placeholder.shape == tuple(getattr(keras.layers, name)()([keras.Input(s[1:]) for s in shapes]).shape)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("masked", ["both", "first", "second"])
def test_elementwise_merges_combine_masks_like_keras(keras, name, masked):
    a, b = _padded(1, 3), _padded(2, 2, pad_row=1)
    ours_in = [torch.as_tensor(a), torch.as_tensor(b)]
    theirs_in = [torch.as_tensor(a), torch.as_tensor(b)]
    for i in {"both": (0, 1), "first": (0,), "second": (1,)}[masked]:
        ours_in[i] = Masking()(ours_in[i])
        theirs_in[i] = keras.layers.Masking()(theirs_in[i])
    out = ELEMENTWISE[name]()(ours_in)
    expected = getattr(keras.layers, name)()(theirs_in)
    np.testing.assert_allclose(_np(out), _np(expected), atol=ATOL, rtol=ATOL)
    expected_mask = getattr(expected, "_keras_mask", None)
    if expected_mask is None:
        assert getattr(out, "_keras_mask", None) is None
    else:
        np.testing.assert_array_equal(_np(out._keras_mask), _np(expected_mask))


def test_masked_entries_never_win_a_maximum_and_count_as_one_in_a_product():
    a = torch.tensor([[[5.0], [0.0]]])  # the second step is masked
    b = torch.tensor([[[1.0], [-3.0]]])
    a_masked = Masking()(a)
    assert _np(Maximum()([a_masked, b])).ravel().tolist() == [5.0, -3.0]  # not max(0, -3) = 0
    assert _np(Minimum()([a_masked, b])).ravel().tolist() == [1.0, -3.0]
    assert _np(Multiply()([a_masked, b])).ravel().tolist() == [5.0, -3.0]  # the masked 0 reads as 1
    both = Multiply()([a_masked, Masking()(torch.tensor([[[2.0], [0.0]]]))])
    assert _np(both).ravel().tolist() == [10.0, 0.0]  # masked in every input: 0
    assert _np(both._keras_mask).tolist() == [[True, False]]


def test_merge_gradients_match_torch_autograd():
    xs = [torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True) for _ in range(3)]
    ys = [x.detach().clone().requires_grad_() for x in xs]
    (Average(dtype="float64")(xs) * Maximum(dtype="float64")(xs)).sum().backward()
    ((ys[0] + ys[1] + ys[2]) / 3 * torch.maximum(torch.maximum(ys[0], ys[1]), ys[2])).sum().backward()
    for x, y in zip(xs, ys):
        torch.testing.assert_close(x.grad, y.grad, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------------------ Concatenate
@pytest.mark.parametrize("axis", [-1, 1])
def test_concatenate_matches_keras_on_both_axes_with_masks(keras, axis):
    a, b = _padded(1, 3), _padded(2, 2)
    out = Concatenate(axis=axis)([Masking()(torch.as_tensor(a)), torch.as_tensor(b)])
    expected = keras.layers.Concatenate(axis=axis)([keras.layers.Masking()(a), torch.as_tensor(b)])
    np.testing.assert_array_equal(_np(out), _np(expected))
    np.testing.assert_array_equal(_np(out._keras_mask), _np(expected._keras_mask))
    assert Concatenate(axis=axis)([Input((5, 4)), Input((5, 4))]).shape == tuple(
        keras.layers.Concatenate(axis=axis)([keras.Input((5, 4)), keras.Input((5, 4))]).shape)


def test_add_and_concatenate_live_on_the_merge_base_and_are_still_importable_from_core():
    assert _core.Add is Add is _merge.Add and _core.Concatenate is Concatenate is _merge.Concatenate
    assert all(issubclass(cls, _merge.Merge) for cls in (*ELEMENTWISE.values(), Concatenate, Dot))


# ------------------------------------------------------------------------------------------------ Dot
@pytest.mark.parametrize("axes, shapes", [
    (1, [(3, 4), (3, 4)]),
    (-1, [(3, 5, 4), (3, 6, 4)]),
    (2, [(3, 5, 4), (3, 6, 4)]),
    ((1, 2), [(3, 5, 4), (3, 6, 5)]),
    ((1, 1), [(3, 5, 4), (3, 5, 2)]),
    ((2, 1), [(3, 5, 4), (3, 4)]),
    ((1, 1), [(3, 4), (3, 4, 6)]),
    ((3, 1), [(2, 3, 4, 5), (2, 5, 6, 2)]),
], ids=["vectors", "last", "features", "crossed", "time", "matrix-vector", "vector-matrix", "rank-4"])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_keras(keras, axes, shapes, normalize):
    xs = [_x(*s, seed=i) for i, s in enumerate(shapes)]
    out = Dot(axes=axes, normalize=normalize)([torch.as_tensor(x) for x in xs])
    expected = keras.layers.Dot(axes=axes, normalize=normalize)([torch.as_tensor(x) for x in xs])
    np.testing.assert_allclose(_np(out), _np(expected), atol=1e-5, rtol=1e-5)
    symbolic = Dot(axes=axes, normalize=normalize)([Input(s[1:]) for s in shapes])
    assert symbolic.shape == tuple(keras.layers.Dot(axes=axes)([keras.Input(s[1:]) for s in shapes]).shape)
    assert symbolic.shape[1:] == tuple(out.shape[1:])


def test_dot_drops_the_mask_like_keras(keras):
    a = _padded(1, 3)
    out = Dot(axes=2)([Masking()(torch.as_tensor(a)), torch.as_tensor(a)])
    expected = keras.layers.Dot(axes=2)([keras.layers.Masking()(a), torch.as_tensor(a)])
    np.testing.assert_allclose(_np(out), _np(expected), atol=1e-5)
    assert getattr(out, "_keras_mask", None) is None and getattr(expected, "_keras_mask", None) is None


# ------------------------------------------------------------------------------------------------ configs and errors
@pytest.mark.parametrize("layer, keras_layer", [
    (lambda: Add(), lambda k: k.layers.Add()), (lambda: Subtract(name="minus"), lambda k: k.layers.Subtract()),
    (lambda: Concatenate(axis=1), lambda k: k.layers.Concatenate(axis=1)),
    (lambda: Dot(axes=(1, 2), normalize=True), lambda k: k.layers.Dot(axes=(1, 2), normalize=True)),
])
def test_merge_configs_have_keras_keys_and_round_trip(keras, layer, keras_layer):
    ours = layer()
    config = json.loads(json.dumps(ours.get_config()))
    assert set(config) == set(keras_layer(keras).get_config())
    assert json.loads(json.dumps(type(ours).from_config(config).get_config())) == config


@pytest.mark.parametrize("call, match", [
    (lambda: Add()(torch.zeros(3, 4)), r"Layer 'add\w*' \(Add\) expects a list of at least 2 tensors, but received a "
                                       r"2-D array of shape \(3, 4\)\. Call it as layer\(\[a, b\]\)"),
    (lambda: Multiply()([torch.zeros(3, 4)]), r"expects a list of at least 2 tensors, but received a list of 1 input"),
    (lambda: Subtract()([torch.zeros(3, 4)] * 3), r"\(Subtract\) expects a list of exactly 2 tensors, but received a "
                                                   r"list of 3 inputs"),
    (lambda: Add()([torch.zeros(3, 4), torch.zeros(3, 5)]),
     r"merges element-wise, so its inputs need one shape \(or sizes of 1 that broadcast\), but received shapes "
     r"\[\(3, 4\), \(3, 5\)\]"),
    (lambda: Maximum()([torch.zeros(3, 4), torch.zeros(2, 4)]),
     r"cannot merge tensors with different batch sizes, but received shapes \[\(3, 4\), \(2, 4\)\]"),
    (lambda: Average()([Input((5, 4)), Input((5, 3))]),
     r"received shapes \[\(None, 5, 4\), \(None, 5, 3\)\]"),
    (lambda: Concatenate()([torch.zeros(3, 4, 2), torch.zeros(3, 5, 2)]),
     r"needs inputs whose shapes agree except on axis -1, but received shapes \[\(3, 4, 2\), \(3, 5, 2\)\]"),
    (lambda: Dot(axes=2)([torch.zeros(3, 5, 4), torch.zeros(3, 5, 3)]),
     r"multiplies axis 2 of the first input with axis 2 of the second, but their sizes differ \(4 != 3\)"),
    (lambda: Dot(axes=(0, 1))([torch.zeros(3, 4), torch.zeros(3, 4)]),
     r"cannot take the dot product over axes \[0, 1\].*axis 0 \(the batch\) cannot be one"),
    (lambda: Dot(axes=1)([torch.zeros(3), torch.zeros(3)]), r"takes inputs of rank >= 2 \(batch, \.\.\.\)"),
])
def test_mismatched_merge_inputs_are_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(axes="last"), TypeError, r"`axes` must be an int or a list of two ints, received axes='last'"),
    (dict(axes=(1, 2, 3)), ValueError, r"`axes` must be an int or a list of two ints \(one axis per input\), "
                                       r"received axes=\[1, 2, 3\]"),
    (dict(axes=1, normalize="yes"), TypeError, r"`normalize` must be True or False"),
])
def test_dot_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Dot(**kwargs)


@pytest.mark.parametrize("name, kwargs", [
    ("add", {}), ("subtract", {}), ("multiply", {}), ("average", {}), ("maximum", {}), ("minimum", {}),
    ("concatenate", {"axis": 1}), ("dot", {"axes": 2}),
])
def test_the_functional_merges_match_keras_on_arrays_and_in_a_model(keras, name, kwargs):
    import gated
    from gated import layers as L
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3, 4)).astype("float32"), rng.standard_normal((2, 3, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(getattr(keras.layers, name)([a, b], **kwargs))
    out = getattr(L, name)([torch.as_tensor(a), torch.as_tensor(b)], **kwargs)
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-6, rtol=0)
    x, y = gated.Input((3, 4)), gated.Input((3, 4))
    model = gated.Model([x, y], getattr(L, name)([x, y], **kwargs))
    np.testing.assert_allclose(model.predict([a, b], verbose=0), expected, atol=1e-6, rtol=0)


def test_layers_serialize_writes_keras_format_and_deserialize_reads_real_keras_configs(keras):
    from gated import layers as L
    ours = L.serialize(L.Dense(3, activation="relu", name="head"))
    theirs = keras.layers.serialize(keras.layers.Dense(3, activation="relu", name="head"))
    assert ours["class_name"] == theirs["class_name"] == "Dense"
    assert set(ours["config"]) <= set(theirs["config"])
    for layer in (keras.layers.Dense(3, activation="tanh"), keras.layers.GRU(4, return_sequences=True),
                  keras.layers.Conv2DTranspose(2, 3, strides=2)):
        rebuilt = L.deserialize(json.loads(json.dumps(keras.layers.serialize(layer))))
        assert type(rebuilt).__name__ == type(layer).__name__
        config = layer.get_config()
        for key, value in rebuilt.get_config().items():
            if key in config and key not in ("dtype", "name") and not isinstance(config[key], dict):
                assert json.loads(json.dumps(value)) == json.loads(json.dumps(config[key])), key
        assert rebuilt.get_config()["name"] == config["name"]
