"""``keras.models``'s ``clone_model`` and ``model_from_json``, against real Keras's semantics: a clone has the same
architecture, fresh weights and, given the original's weights, the same outputs."""

from __future__ import annotations

import numpy as np
import pytest

import gated
from gated import layers as L
from gated.models import clone_model, model_from_json, model_to_json

from .support import SubclassedGRU


def _x(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _functional():
    inputs = L.Input((5, 3), name="series")
    h = L.GRU(4, return_sequences=True, name="encoder")(inputs)
    shared = L.Dense(2, name="shared")
    out = L.Add(name="sum")([shared(L.GRU(3, name="last")(h)), shared(L.GRU(3, name="other")(h))])
    return gated.Model(inputs, out, name="net")


def _sequential():
    return gated.Sequential([L.Input((5, 3)), L.GRU(4), L.Dense(2)], name="stack")


@pytest.mark.parametrize("make", [_sequential, _functional], ids=["sequential", "functional"])
def test_a_clone_has_fresh_weights_and_the_same_function(make):
    model = make()
    clone = clone_model(model)
    x = _x(2, 5, 3)
    assert type(clone) is type(model) and clone.name == model.name
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    kernels = [(a, b) for a, b in zip(model.get_weights(), clone.get_weights()) if a.ndim == 2 and a.std() > 0]
    assert kernels and all(not np.allclose(a, b) for a, b in kernels), "the clone shares or copies the weights"
    assert not np.allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert clone.compiled is None


def test_the_shared_layer_stays_shared_in_the_clone():
    clone = clone_model(_functional())
    assert [layer.name for layer in clone.layers].count("shared") == 1
    assert len(clone.get_weights()) == len(_functional().get_weights())


def test_clone_function_maps_each_layer_once(keras):
    seen = []

    def function(layer):
        seen.append(layer.name)
        config = layer.get_config()
        if isinstance(layer, L.GRU):
            config["units"] = 6
        return type(layer).from_config(config)

    model = _functional()
    clone = clone_model(model, clone_function=function)
    assert sorted(seen) == sorted(layer.name for layer in model.layers if not isinstance(layer, L.InputLayer))
    assert clone.get_layer("encoder").units == 6
    assert clone.predict(_x(2, 5, 3), verbose=0).shape == (2, 2)

    # Keras calls the function once per layer too (the oracle for that rule)
    kseen = []
    kin = keras.Input((5, 3))
    kshared = keras.layers.Dense(2)
    kh = keras.layers.GRU(4, return_sequences=True)(kin)
    kout = keras.layers.Add()([kshared(keras.layers.GRU(3)(kh)), kshared(keras.layers.GRU(3)(kh))])
    keras.models.clone_model(keras.Model(kin, kout), clone_function=lambda layer: kseen.append(layer.name) or
                             layer.__class__.from_config(layer.get_config()))
    assert len(kseen) == len(seen)


def test_sharing_layers_through_clone_function_keeps_the_weights():
    model = _sequential()
    clone = clone_model(model, clone_function=lambda layer: layer)
    x = _x(2, 5, 3)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_input_tensors_become_the_clone_s_inputs():
    model = _functional()
    new_input = L.Input((5, 3), name="renamed")
    clone = clone_model(model, input_tensors=new_input)
    assert clone.inputs[0] is new_input if hasattr(clone, "inputs") else clone._graph.input_tensors[0] is new_input
    with pytest.raises(ValueError, match="one per model input"):
        clone_model(model, input_tensors=[L.Input((5, 3)), L.Input((5, 3))])


def test_recursive_clones_nested_models_layer_by_layer():
    inner = _sequential()
    inputs = L.Input((5, 3))
    outer = gated.Model(inputs, L.Dense(1)(inner(inputs)))
    names = []
    clone_model(outer, clone_function=lambda layer: names.append(type(layer).__name__) or
                type(layer).from_config(layer.get_config()), recursive=True)
    assert "GRU" in names and "Sequential" not in names
    names.clear()
    clone_model(outer, clone_function=lambda layer: names.append(type(layer).__name__) or
                type(layer).from_config(layer.get_config()))
    assert "Sequential" in names and "GRU" not in names


def test_a_clone_function_that_returns_no_layer_is_named():
    with pytest.raises(TypeError, match="clone_function must return a layer; for layer 'gru"):
        clone_model(gated.Sequential([L.Input((5, 3)), L.GRU(2)]), clone_function=lambda layer: None)


def test_subclassed_models_need_a_config():
    with pytest.raises(ValueError, match="cannot clone subclassed model"):
        clone_model(SubclassedGRU())
    with pytest.raises(ValueError, match="apply to Sequential and functional models only"):
        clone_model(SubclassedGRU(), clone_function=lambda layer: layer)


@pytest.mark.parametrize("make", [_sequential, _functional], ids=["sequential", "functional"])
def test_json_round_trip_rebuilds_the_architecture(make):
    model = make()
    rebuilt = model_from_json(model_to_json(model))
    rebuilt.set_weights(model.get_weights())
    x = _x(2, 5, 3, seed=1)
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert model_to_json(rebuilt) == model_to_json(model)


def test_model_from_json_refuses_what_is_not_a_model():
    with pytest.raises(ValueError, match="could not be parsed"):
        model_from_json("{not json")
    with pytest.raises(ValueError, match="describes a Dense, not a model"):
        model_from_json('{"class_name": "Dense", "config": {"units": 2}}')
