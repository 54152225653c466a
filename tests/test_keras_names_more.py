"""Keras's remaining names in activations, initializers, regularizers, constraints, utils and saving, each
compared with real Keras: the same inputs give the same values, and configs real Keras writes load in gated."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import gated
from gated import activations, constraints, initializers, regularizers


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(4, 6)).astype("float32") * 2


# ---------------------------------------------------------------------------------------------- activations
NEW_ACTIVATIONS = [
    ("celu", {}), ("celu", {"alpha": 0.5}), ("glu", {}), ("glu", {"axis": 0}), ("hard_shrink", {}),
    ("hard_shrink", {"threshold": 1.0}), ("hard_swish", {}), ("soft_shrink", {}), ("soft_shrink", {"threshold": 1.2}),
    ("sparse_plus", {}), ("sparse_sigmoid", {}), ("squareplus", {}),
    ("squareplus", {"b": 2.0}), ("swish", {}), ("tanh_shrink", {}), ("threshold", {"threshold": 0.3,
                                                                                   "default_value": -1.0}),
]


@pytest.mark.parametrize("name,kwargs", NEW_ACTIVATIONS)
def test_new_activation_matches_keras(keras, x, name, kwargs):
    expected = _np(getattr(keras.activations, name)(torch.tensor(x), **kwargs))
    got = _np(getattr(activations, name)(torch.tensor(x), **kwargs))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def _sparsemax_reference(z: np.ndarray, axis: int) -> np.ndarray:
    """Keras's algorithm with the threshold of Martins & Astudillo (2016): ``tau = (cumsum[k] - 1) / k``, the fix of
    keras-team/keras#23469 (Keras 3.15.1 sums every cumulative sum in the support, so its rows with a support of
    more than one logit do not sum to 1, keras-team/keras#23425)."""
    z = np.moveaxis(z.astype("float64"), axis, -1)
    ordered = -np.sort(-z, axis=-1)
    rank = np.arange(1, z.shape[-1] + 1)
    cumulative = np.cumsum(ordered, axis=-1)
    support = 1 + rank * ordered > cumulative
    k = support.sum(-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, k - 1, axis=-1) - 1) / k
    return np.moveaxis(np.maximum(z - tau, 0.0), -1, axis)


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_matches_keras_where_keras_is_right_and_the_reference_everywhere(keras, x, axis):
    got = _np(activations.sparsemax(torch.tensor(x), axis=axis))
    np.testing.assert_allclose(got, _sparsemax_reference(x, axis), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-5)
    peaked = x.copy()  # one dominant logit per slice: a support of one, where Keras 3.15.1's threshold is right
    np.put_along_axis(peaked, np.argmax(peaked, axis=axis, keepdims=True), 20.0, axis=axis)
    np.testing.assert_allclose(_np(activations.sparsemax(torch.tensor(peaked), axis=axis)),
                               _np(keras.activations.sparsemax(torch.tensor(peaked), axis=axis)), atol=1e-6)
    assert activations.get("sparsemax") is activations.sparsemax
    assert activations.serialize(activations.sparsemax) == keras.activations.serialize(keras.activations.sparsemax)


@pytest.mark.parametrize("name", sorted({n for n, _ in NEW_ACTIVATIONS} - {"threshold"}))
def test_new_activation_resolves_and_serializes_as_keras(keras, x, name):
    fn = activations.get(name)
    np.testing.assert_allclose(_np(fn(torch.tensor(x))), _np(keras.activations.get(name)(torch.tensor(x))),
                               rtol=1e-6, atol=1e-6)
    assert activations.serialize(getattr(activations, name)) == keras.activations.serialize(
        getattr(keras.activations, name))


def test_activations_deserialize_reads_keras_configs(keras, x):
    for name in ("celu", "swish", "squareplus", "relu"):
        written = keras.saving.serialize_keras_object(getattr(keras.activations, name))
        for config in (written, keras.activations.serialize(getattr(keras.activations, name))):
            fn = activations.deserialize(config)
            np.testing.assert_allclose(_np(fn(torch.tensor(x))), _np(keras.activations.deserialize(config)(
                torch.tensor(x))), rtol=1e-6, atol=1e-6)
    custom = lambda t: t * 3  # noqa: E731
    assert activations.deserialize("triple", custom_objects={"triple": custom}) is custom


def test_activations_deserialize_rejects_a_class_config():
    with pytest.raises(ValueError, match="names a function"):
        activations.deserialize({"class_name": "ReLU", "config": {}})


# ---------------------------------------------------------------------------------------------- initializers
LOWERCASE_INITIALIZERS = ["constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
                          "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
                          "truncated_normal", "variance_scaling", "zeros"]


@pytest.mark.parametrize("name", LOWERCASE_INITIALIZERS)
def test_lowercase_initializer_is_the_class_with_keras_config(keras, name):
    gated_cls, keras_cls = getattr(initializers, name), getattr(keras.initializers, name)
    assert inspect.isclass(gated_cls) and gated_cls.__name__ == keras_cls.__name__
    written = keras.initializers.serialize(keras_cls())
    loaded = initializers.deserialize(written)
    assert type(loaded) is gated_cls
    expected = keras_cls().get_config()
    if name == "identity":  # Keras 3.15 writes no gain; gated writes its default
        expected = {"gain": 1.0, **expected}
    assert loaded.get_config() == pytest.approx(expected) if not any(
        isinstance(v, list) for v in expected.values()) else loaded.get_config() == expected


def test_keras_other_initializer_class_names(keras):
    assert initializers.IdentityInitializer is initializers.Identity
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    assert keras.initializers.IdentityInitializer.__name__ == initializers.IdentityInitializer.__name__
    assert keras.initializers.OrthogonalInitializer.__name__ == initializers.OrthogonalInitializer.__name__


@pytest.mark.parametrize("name,kwargs", [("zeros", {}), ("ones", {}), ("constant", {"value": 2.5}),
                                         ("identity", {"gain": 3.0})])
def test_deterministic_initializers_match_keras_values(keras, name, kwargs):
    shape = (5, 7)
    expected = _np(getattr(keras.initializers, name)(**kwargs)(shape))
    np.testing.assert_array_equal(_np(getattr(initializers, name)(**kwargs)(shape)), expected)


def test_variance_scaling_with_keras_input_and_output_axes(keras):
    """Keras 3.15 counts the fans over named axes; gated reads those configs and draws with the same spread."""
    config = {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 3, "input_axes": [0],
              "output_axes": [1, 2]}
    keras_init = keras.initializers.VarianceScaling(**config)
    gated_init = initializers.deserialize(keras.initializers.serialize(keras_init))
    assert gated_init.get_config() == keras_init.get_config()
    shape = (64, 4, 8)  # fan_in 64, fan_out 32 (a plain fan count would say 256 and 8)
    expected, got = _np(keras_init(shape)), _np(gated_init(shape))
    limit = np.sqrt(3 * 2.0 / 32)
    assert np.abs(got).max() <= limit and np.abs(expected).max() <= limit
    np.testing.assert_allclose(got.std(), expected.std(), rtol=0.05)
    np.testing.assert_allclose(got.std(), limit / np.sqrt(3), rtol=0.05)


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                                  "lecun_normal"])
def test_named_variance_scaling_reads_keras_axes(keras, name):
    keras_init = getattr(keras.initializers, name)(seed=1, input_axes=[0, 1], output_axes=[2])
    gated_init = initializers.deserialize(keras.initializers.serialize(keras_init))
    assert gated_init.get_config() == keras_init.get_config()
    shape = (16, 8, 64)
    np.testing.assert_allclose(_np(gated_init(shape)).std(), _np(keras_init(shape)).std(), rtol=0.06)


def test_orthogonal_alias_gives_an_orthogonal_matrix_like_keras(keras):
    for shape in ((6, 4), (4, 6)):
        expected = _np(keras.initializers.orthogonal(gain=2.0, seed=1)(shape))
        got = _np(initializers.orthogonal(gain=2.0, seed=1)(shape))
        gram = (lambda m: m.T @ m) if shape[0] >= shape[1] else (lambda m: m @ m.T)
        np.testing.assert_allclose(gram(got), gram(expected), atol=1e-5)


def test_initializers_deserialize_custom_objects():
    class MyInit(initializers.Initializer):
        def __call__(self, shape, dtype=torch.float32):
            return torch.full(shape, 7.0, dtype=dtype)

    loaded = initializers.deserialize({"class_name": "MyInit", "config": {}}, custom_objects={"MyInit": MyInit})
    assert isinstance(loaded, MyInit)
    with pytest.raises(TypeError, match="initializer name or config dict"):
        initializers.deserialize(3)


# ---------------------------------------------------------------------------------------------- regularizers
@pytest.mark.parametrize("name,kwargs", [("l1", {"l1": 0.3}), ("l2", {"l2": 0.2}), ("l1_l2", {"l1": 0.1, "l2": 0.4}),
                                         ("orthogonal_regularizer", {"factor": 0.5, "mode": "rows"}),
                                         ("orthogonal_regularizer", {"factor": 0.2, "mode": "columns"}),
                                         ("OrthogonalRegularizer", {})])
def test_regularizer_values_match_keras(keras, x, name, kwargs):
    expected = float(_np(getattr(keras.regularizers, name)(**kwargs)(torch.tensor(x))))
    got = float(_np(getattr(regularizers, name)(**kwargs)(torch.tensor(x))))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("instance", ["L1", "L2", "L1L2", "OrthogonalRegularizer"])
def test_regularizers_deserialize_keras_configs(keras, x, instance):
    keras_reg = getattr(keras.regularizers, instance)()
    gated_reg = regularizers.deserialize(keras.regularizers.serialize(keras_reg))
    assert type(gated_reg).__name__ == instance
    gated_config, keras_config = gated_reg.get_config(), keras_reg.get_config()
    assert sorted(gated_config) == sorted(keras_config)
    for key, value in keras_config.items():  # Keras keeps factors as float32 values: 0.009999999776482582
        assert gated_config[key] == (pytest.approx(value, rel=1e-6) if isinstance(value, float) else value)
    np.testing.assert_allclose(float(_np(gated_reg(torch.tensor(x)))), float(_np(keras_reg(torch.tensor(x)))),
                               rtol=1e-5)


def test_orthogonal_regularizer_rejects_bad_input():
    with pytest.raises(ValueError, match="mode must be 'rows' or 'columns'"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="2-D weights"):
        regularizers.OrthogonalRegularizer()(torch.ones(2, 3, 4))


# ---------------------------------------------------------------------------------------------- constraints
@pytest.mark.parametrize("name,kwargs", [("max_norm", {"max_value": 1.5}), ("max_norm", {"axis": 1}),
                                         ("min_max_norm", {"min_value": 0.5, "max_value": 2.0, "rate": 0.7}),
                                         ("non_neg", {}), ("unit_norm", {}), ("unit_norm", {"axis": 1})])
def test_lowercase_constraints_match_keras(keras, x, name, kwargs):
    assert inspect.isclass(getattr(constraints, name))
    keras_c = getattr(keras.constraints, name)(**kwargs)
    gated_c = constraints.deserialize(keras.constraints.serialize(keras_c))
    assert gated_c.get_config() == keras_c.get_config()
    np.testing.assert_allclose(_np(gated_c(torch.tensor(x))), _np(keras_c(torch.tensor(x))), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_np(getattr(constraints, name)(**kwargs)(torch.tensor(x))),
                               _np(keras_c(torch.tensor(x))), rtol=1e-6, atol=1e-6)


def test_constraints_deserialize_rejects_other_types():
    with pytest.raises(TypeError, match="constraint name or config dict"):
        constraints.deserialize(1.5)


# ---------------------------------------------------------------------------------------------- utils
@pytest.mark.parametrize("args", [((1,), {}), (([1, 2],), {}), ((1, 2), {}), ((1, 2, 3), {}), ((1, None, 3), {}),
                                  (((1, 2),), {"y": 5})])
def test_pack_x_y_sample_weight_matches_keras(keras, args):
    positional, kwargs = args
    assert gated.utils.pack_x_y_sample_weight(*positional, **kwargs) == keras.utils.pack_x_y_sample_weight(
        *positional, **kwargs)


@pytest.mark.parametrize("data", [1, (1,), [1, 2], (1, 2), (1, 2, 3), {"a": 1}])
def test_unpack_x_y_sample_weight_matches_keras(keras, data):
    assert gated.utils.unpack_x_y_sample_weight(data) == keras.utils.unpack_x_y_sample_weight(data)


def test_unpack_rejects_long_tuples(keras):
    with pytest.raises(ValueError, match="tuple of 4 items"):
        gated.utils.unpack_x_y_sample_weight((1, 2, 3, 4))
    with pytest.raises(ValueError):
        keras.utils.unpack_x_y_sample_weight((1, 2, 3, 4))


def test_progbar_has_keras_constructor(keras, capsys):
    keras_params = list(inspect.signature(keras.utils.Progbar).parameters)
    gated_params = list(inspect.signature(gated.utils.Progbar).parameters)
    assert gated_params[:len(keras_params)] == keras_params
    bar = gated.utils.Progbar(4, verbose=2)
    bar.update(2, values=[("loss", 1.0)])
    bar.add(2, values=[("loss", 3.0)])
    assert "4/4" in capsys.readouterr().out


def test_interactive_logging_switch_matches_keras_and_silences_progress(keras, capsys):
    try:
        for module in (keras.utils, gated.utils):
            module.disable_interactive_logging()
        assert gated.utils.is_interactive_logging_enabled() is keras.utils.is_interactive_logging_enabled() is False
        bar = gated.utils.Progbar(2, verbose=2)
        bar.update(2)
        assert capsys.readouterr().out == ""
    finally:
        for module in (keras.utils, gated.utils):
            module.enable_interactive_logging()
    assert gated.utils.is_interactive_logging_enabled() is keras.utils.is_interactive_logging_enabled() is True


@pytest.mark.parametrize("dtype", ["float32", "float64", np.float16, "int64", np.int32, "bool", "bfloat16"])
def test_standardize_dtype_matches_keras(keras, dtype):
    assert gated.utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)


def test_clear_session_restarts_names_like_keras(keras):
    for module in (keras, gated):
        module.utils.clear_session()
        module.layers.Dense(2)
    assert gated.layers.Dense(2).name == keras.layers.Dense(2).name == "dense_1"
    gated.utils.clear_session()
    keras.utils.clear_session()
    assert gated.layers.Dense(2).name == keras.layers.Dense(2).name == "dense"


def test_is_keras_tensor_matches_keras(keras):
    assert gated.utils.is_keras_tensor(gated.Input((3,))) is keras.utils.is_keras_tensor(keras.Input((3,))) is True
    assert gated.utils.is_keras_tensor(np.ones(3)) is keras.utils.is_keras_tensor(np.ones(3)) is False
    assert isinstance(gated.Input((3,)), gated.KerasTensor)


def test_config_behaves_like_keras(keras):
    for module in (keras.utils, gated.utils):
        config = module.Config(units=3, rate=0.5)
        config.name = "a"
        config["depth"] = 2
        assert (config.units, config["rate"], len(config), sorted(config), config.as_dict()) == (
            3, 0.5, 4, ["depth", "name", "rate", "units"], {"units": 3, "rate": 0.5, "name": "a", "depth": 2})
        assert config.to_json() == '{"units": 3, "rate": 0.5, "name": "a", "depth": 2}'
        config.freeze()
        assert config.frozen
        with pytest.raises(ValueError):
            config.units = 4
        config.unfreeze()
        config.update(units=5)
        assert config.pop("units") == 5 and "units" not in config
        with pytest.raises(AttributeError, match="Did you mean 'rate'"):
            config.rte


# ---------------------------------------------------------------------------------------------- registry names
def test_registry_names_in_utils_and_saving(keras):
    for name in ("register_keras_serializable", "get_custom_objects", "custom_object_scope", "CustomObjectScope",
                 "serialize_keras_object", "deserialize_keras_object", "get_registered_name",
                 "get_registered_object"):
        assert hasattr(gated.utils, name) and hasattr(keras.utils, name), name
    for name in ("get_custom_objects", "CustomObjectScope", "serialize_keras_object", "deserialize_keras_object",
                 "save_weights", "load_weights"):
        assert hasattr(gated.saving, name) and hasattr(keras.saving, name), name


def test_register_keras_serializable_names_and_custom_objects_match_keras(keras):
    def scale(x):
        return x * 2

    for module in (keras, gated):
        registered = module.utils.register_keras_serializable(package="names_more")(scale)
        assert module.utils.get_registered_name(registered) == "names_more>scale"
        assert module.utils.get_registered_object("names_more>scale") is scale
        assert module.utils.get_custom_objects()["names_more>scale"] is scale


def test_custom_object_scope_class_resolves_names(keras):
    class Doubler(gated.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    spec = gated.utils.serialize_keras_object(Doubler(name="d"))
    with pytest.raises(ValueError, match="Unknown class 'Doubler'"):
        gated.utils.deserialize_keras_object(spec)
    with gated.utils.CustomObjectScope({"Doubler": Doubler}):
        assert isinstance(gated.utils.deserialize_keras_object(spec), Doubler)
    with gated.utils.custom_object_scope({"Doubler": Doubler}):
        assert gated.saving.deserialize_keras_object(spec).name == "d"
    assert isinstance(gated.saving.deserialize_keras_object(spec, custom_objects={"Doubler": Doubler}), Doubler)


@pytest.mark.parametrize("value", [None, 3, 1.5, "a", True, [1, (2, 3)], (1, 2), {"a": 1}])
def test_serialize_keras_object_passes_plain_values_like_keras(keras, value):
    assert gated.saving.serialize_keras_object(value) == keras.saving.serialize_keras_object(value)


def test_serialize_keras_object_round_trips_a_layer(keras, x):
    layer = gated.layers.Dense(3, activation="celu")
    layer(torch.tensor(x))
    spec = gated.saving.serialize_keras_object([layer])[0]
    assert spec["class_name"] == "Dense"
    rebuilt = gated.saving.deserialize_keras_object(spec)
    assert rebuilt.get_config() == layer.get_config()
    keras_dense = keras.layers.Dense(3, activation="celu")
    keras_dense.build((None, 6))
    keras_dense.set_weights(layer.get_weights())
    rebuilt(torch.tensor(x))
    rebuilt.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(rebuilt(torch.tensor(x))), _np(keras_dense(torch.tensor(x))), rtol=1e-5,
                               atol=1e-6)


def test_saving_weight_functions_round_trip(keras, x, tmp_path):
    model = gated.Sequential([gated.Input((6,)), gated.layers.Dense(3)])
    other = gated.Sequential([gated.Input((6,)), gated.layers.Dense(3)])
    path = tmp_path / "w.weights.safetensors"
    gated.saving.save_weights(model, path)
    gated.saving.load_weights(other, path)
    keras_model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    keras_model.set_weights(other.get_weights())
    np.testing.assert_allclose(_np(model(torch.tensor(x))), _np(keras_model(torch.tensor(x))), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(_np(other(torch.tensor(x))), _np(model(torch.tensor(x))))


# ---------------------------------------------------------------------------------------------- tree
_Point = __import__("collections").namedtuple("_Point", "x y")
STRUCTURES = [1, None, [1, None], {"b": 1, "a": (2, [3])}, _Point(1, [2, {"z": 3, "c": 4}]),
              __import__("collections").OrderedDict([("b", 1), ("a", 2)]), [(), {"k": []}, 5]]


@pytest.mark.parametrize("structure", STRUCTURES)
def test_tree_flattens_packs_and_maps_like_keras(keras, structure):
    assert gated.tree.flatten(structure) == keras.tree.flatten(structure)
    assert gated.tree.flatten_with_path(structure) == keras.tree.flatten_with_path(structure)
    assert gated.tree.is_nested(structure) == keras.tree.is_nested(structure)
    flat = list(range(len(keras.tree.flatten(structure))))
    packed, expected = gated.tree.pack_sequence_as(structure, flat), keras.tree.pack_sequence_as(structure, flat)
    assert packed == expected and type(packed) is type(expected)
    double = lambda v: None if v is None else v * 2  # noqa: E731
    assert gated.tree.map_structure(double, structure) == keras.tree.map_structure(double, structure)
    assert gated.tree.lists_to_tuples(structure) == keras.tree.lists_to_tuples(structure)
    gated.tree.assert_same_structure(structure, structure)


def test_tree_maps_several_structures_like_keras(keras):
    a, b = _Point(1, [2, {"k": 3}]), _Point(10, [20, {"k": 30}])
    result = gated.tree.map_structure(lambda u, v: u + v, a, b)
    assert result == keras.tree.map_structure(lambda u, v: u + v, a, b) and type(result) is _Point
    assert gated.tree.map_structure(lambda v: 0, [None, 1], none_is_leaf=False) == keras.tree.map_structure(
        lambda v: 0, [None, 1], none_is_leaf=False)
    shallow = [0, 0]
    assert gated.tree.map_structure_up_to(shallow, len, [[1, 2], (3,)]) == keras.tree.map_structure_up_to(
        shallow, len, [[1, 2], (3,)])
    shapes = [(2, 3), {"a": (None,)}]
    assert gated.tree.map_shape_structure(list, shapes) == keras.tree.map_shape_structure(list, shapes)


@pytest.mark.parametrize("a,b", [([1], (1,)), ([1, 2], [1]), ({"a": 1}, {"b": 1}), ({"a": 1}, {"a": [1]})])
def test_tree_structure_mismatches_raise_like_keras(keras, a, b):
    with pytest.raises(ValueError):
        keras.tree.assert_same_structure(a, b)
    with pytest.raises(ValueError, match="structures do not match"):
        gated.tree.assert_same_structure(a, b)


def test_tree_pack_rejects_wrong_counts(keras):
    with pytest.raises(ValueError):
        keras.tree.pack_sequence_as([0, 0], [1])
    with pytest.raises(ValueError, match="holds 2 leaves but received 1"):
        gated.tree.pack_sequence_as([0, 0], [1])


def test_tree_traverse_like_keras(keras):
    structure = [1, (2, {"a": 3})]
    def times_ten(v):
        return None if keras.tree.is_nested(v) else v * 10
    assert gated.tree.traverse(times_ten, structure) == keras.tree.traverse(times_ten, structure)
    assert gated.tree.traverse(lambda v: v, structure, top_down=False) == keras.tree.traverse(
        lambda v: v, structure, top_down=False)
    assert gated.tree.traverse(lambda v: gated.tree.MAP_TO_NONE if v == 2 else None, [1, 2]) == keras.tree.traverse(
        lambda v: keras.tree.MAP_TO_NONE if v == 2 else None, [1, 2])
    def count_bottom_up(v):
        return len(v) if isinstance(v, (list, tuple)) else None
    assert gated.tree.traverse(count_bottom_up, structure, top_down=False) == keras.tree.traverse(
        count_bottom_up, structure, top_down=False)


def test_get_source_inputs_matches_keras(keras):
    def build(module):
        a, b = module.Input((3,), name="a"), module.Input((3,), name="b")
        left = module.layers.Dense(2)(b)
        right = module.layers.Dense(2)(a)
        merged = module.layers.Add()([left, right, module.layers.Dense(2)(b)])
        return [a, b], merged, left

    (ga, gb), g_out, g_left = build(gated)
    (ka, kb), k_out, k_left = build(keras)
    position = {id(ga): "a", id(gb): "b"}
    k_position = {id(ka): "a", id(kb): "b"}
    assert [position[id(t)] for t in gated.utils.get_source_inputs(g_out)] == [
        k_position[id(t)] for t in keras.utils.get_source_inputs(k_out)]
    assert [position[id(t)] for t in gated.utils.get_source_inputs(g_left)] == [
        k_position[id(t)] for t in keras.utils.get_source_inputs(k_left)]
    assert gated.utils.get_source_inputs(ga) == [ga]
    with pytest.raises(TypeError, match="symbolic tensor"):
        gated.utils.get_source_inputs(np.ones(3))


# ---------------------------------------------------------------------------------------------- images
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_image_arrays_round_trip_like_keras(keras, channels, data_format):
    pytest.importorskip("PIL")  # Keras needs Pillow for these as well
    image = np.random.default_rng(channels).uniform(-1, 3, size=(5, 7, channels)).astype("float32")
    if data_format == "channels_first":
        image = image.transpose(2, 0, 1)
    for scale in (True, False):
        source = image if scale else np.clip(image * 60, 0, 255)
        got = gated.utils.array_to_img(source, data_format=data_format, scale=scale)
        expected = keras.utils.array_to_img(source, data_format=data_format, scale=scale)
        assert got.mode == expected.mode
        np.testing.assert_array_equal(gated.utils.img_to_array(got, data_format=data_format),
                                      keras.utils.img_to_array(expected, data_format=data_format))


@pytest.mark.parametrize("kwargs", [{}, {"color_mode": "grayscale"}, {"color_mode": "rgba"},
                                    {"target_size": (4, 6), "interpolation": "bilinear"},
                                    {"target_size": (4, 4), "keep_aspect_ratio": True, "interpolation": "bicubic"}])
def test_save_and_load_img_like_keras(keras, tmp_path, kwargs):
    pytest.importorskip("PIL")
    image = np.random.default_rng(1).uniform(0, 255, size=(9, 12, 3)).astype("float32")
    gated.utils.save_img(tmp_path / "g.png", image)
    keras.utils.save_img(tmp_path / "k.png", image)
    got = gated.utils.img_to_array(gated.utils.load_img(tmp_path / "g.png", **kwargs))
    expected = keras.utils.img_to_array(keras.utils.load_img(str(tmp_path / "k.png"), **kwargs))
    np.testing.assert_array_equal(got, expected)


def test_image_helpers_report_bad_input():
    pytest.importorskip("PIL")
    with pytest.raises(ValueError, match="rank 3"):
        gated.utils.array_to_img(np.ones((2, 2)))
    with pytest.raises(ValueError, match="color_mode must be one of"):
        gated.utils.load_img("x.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="1 \\(grayscale\\), 3 \\(RGB\\) or 4"):
        gated.utils.array_to_img(np.ones((2, 2, 2)))


def test_image_helpers_say_when_pillow_is_missing(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match="needs Pillow"):
        gated.utils.array_to_img(np.ones((2, 2, 3)))
