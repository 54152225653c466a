"""The serialization registry: registration spellings, lookup order, errors, and custom classes and functions in
every nested config (wrapped layers, cells, models, the compile settings) through save -> load."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from torch import nn

import gated
from gated import losses, metrics, optimizers
from gated.layers import GRU, RNN, Bidirectional, Dense, GRUCell, Input, Lambda, Layer, TimeDistributed, WeightSpec
from gated.saving import (
    custom_object_scope, deserialize, get_registered_name, get_registered_object, register_keras_serializable,
    register_serializable, serialize,
)
from gated.saving import _registry

RNG = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _clean_registry(monkeypatch):
    """Each test registers into a copy of the registry, so that nothing leaks into other tests."""
    monkeypatch.setattr(_registry, "_REGISTERED", dict(_registry._REGISTERED))
    monkeypatch.setattr(_registry, "_NAMES", dict(_registry._NAMES))


class Offset(Layer):
    """x + offset: a custom layer with one config argument and no weights."""

    def __init__(self, offset: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def forward(self, x):
        return x + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


class TanhCell(Layer):
    """A cell from scratch: h = tanh(x @ kernel + h @ recurrent_kernel)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = nn.Parameter(torch.randn(input_shape[-1], self.units) * 0.3)
        self.recurrent_kernel = nn.Parameter(torch.randn(self.units, self.units) * 0.3)
        self.built = True

    def _own_weight_specs(self):
        if self.built:
            for name in ("kernel", "recurrent_kernel"):
                yield WeightSpec(name, get=lambda name=name: getattr(self, name),
                                 set=lambda value, name=name: getattr(self, name).copy_(value))

    def forward(self, inputs, states):
        h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class ReversedGRU(GRU):
    """A GRU subclass with its own default."""

    def __init__(self, units: int, **kwargs):
        kwargs.setdefault("reset_after", False)
        super().__init__(units, **kwargs)


def _saved_spec(path) -> dict:
    return json.loads(safe_open(str(path), framework="np").metadata()["model"])


# ------------------------------------------------------------------------------------------ registering
def test_every_registration_spelling_gives_its_name():
    register_serializable(Offset)
    assert get_registered_name(Offset) == "Offset" and get_registered_object("Offset") is Offset

    @register_serializable()
    class Plain(Offset):
        pass

    @register_serializable(package="my_pkg")
    class Packaged(Offset):
        pass

    @register_keras_serializable("keras_style", name="Renamed")
    class KerasStyle(Offset):
        pass

    assert [get_registered_name(c) for c in (Plain, Packaged, KerasStyle)] == [
        "Plain", "my_pkg>Packaged", "keras_style>Renamed"]
    assert get_registered_object("keras_style>Renamed") is KerasStyle
    assert get_registered_name(Dense) == "Dense"  # gated's own classes keep their class name
    assert serialize(KerasStyle(2.0, name="k"))["registered_name"] == "keras_style>Renamed"
    assert "registered_name" not in serialize(Plain(name="p"))  # files stay as they were for plain registrations


def test_registration_errors_name_the_problem():
    class NoConfig:
        pass

    with pytest.raises(TypeError, match="received class NoConfig, which has no get_config\\(\\) method"):
        register_serializable(NoConfig)
    with pytest.raises(TypeError, match="registers classes and functions; received int 3"):
        register_serializable()(3)
    with pytest.raises(TypeError, match="register_serializable\\(name=...\\) takes a non-empty string; received 7"):
        register_serializable(name=7)


def test_gated_layers_and_models_register_themselves():
    for cls in (Dense, GRU, GRUCell, Bidirectional, TimeDistributed, gated.Sequential, gated.Model):
        assert get_registered_object(cls.__name__) is cls
    assert get_registered_object("Offset") is None  # a user's class needs registering
    assert get_registered_object("_BuiltinRNN") is None  # private classes stay out


# ------------------------------------------------------------------------------------------ lookup order
def test_custom_objects_come_before_registered_classes_and_inner_scopes_before_outer():
    class Other(Offset):
        pass

    register_serializable(Offset)
    spec = serialize(Offset(0.5, name="o"))
    assert type(deserialize(spec)) is Offset
    assert type(deserialize(spec, custom_objects={"Offset": Other})) is Other
    with custom_object_scope({"Offset": Other}):
        assert type(deserialize(spec)) is Other
        with custom_object_scope({"Offset": Offset}):
            assert type(deserialize(spec)) is Offset


def test_a_class_of_another_kind_never_answers():
    @register_serializable()
    class MeanSquaredError(losses.Loss):  # shadows the loss of that name, not the metric
        def call(self, y_true, y_pred):
            return (y_true - y_pred).abs().mean(-1)

    assert type(losses.deserialize({"class_name": "MeanSquaredError", "config": {}})) is MeanSquaredError
    assert type(metrics.deserialize({"class_name": "MeanSquaredError", "config": {}})) is metrics.MeanSquaredError
    with pytest.raises(ValueError, match="Unknown layer class 'MeanSquaredError'"):
        deserialize({"class_name": "MeanSquaredError", "config": {}}, base=Layer)


def test_unknown_names_say_how_to_fix_them():
    with pytest.raises(ValueError, match=r"Unknown layer class 'Dence'\. Did you mean 'Dense'\? .*Pass "
                                         r"custom_objects=\{'Dence': Dence\}.*register_serializable"):
        deserialize({"class_name": "Dence", "config": {"units": 2}}, base=Layer)
    with pytest.raises(ValueError, match=r"Unknown layer class 'pkg>Gone' \(class 'Gone'\)"):
        deserialize({"class_name": "Gone", "registered_name": "pkg>Gone", "config": {}}, base=Layer)
    with pytest.raises(ValueError, match="Unknown function 'missing_fn'"):
        deserialize({"class_name": "function", "config": "missing_fn"})
    with pytest.raises(ValueError, match=r"Unknown loss class 'Hubber'\. Did you mean 'Huber'\?"):
        losses.get({"class_name": "Hubber", "config": {}})
    with pytest.raises(ValueError, match=r"Unknown optimizer 'Adamm'\. Did you mean 'adam'\?"):
        optimizers.get({"class_name": "Adamm", "config": {}})
    with pytest.raises(TypeError, match=r"Expected a layer config, a dict \{'class_name': ..., 'config': \{...\}\}.*"
                                        r"received str 'Dense'"):
        deserialize("Dense", base=Layer)
    with pytest.raises(TypeError, match="The config of a 'Dense' must be a dict of its arguments; received list"):
        deserialize({"class_name": "Dense", "config": [2]}, base=Layer)


def test_unregistered_functions_are_refused_by_name():
    with pytest.raises(ValueError, match="cannot be saved by name: register it with "
                                         "@gated.saving.register_serializable\\(\\)"):
        serialize(lambda x: x)
    with pytest.raises(TypeError, match="serialize\\(\\) takes an object with get_config\\(\\).*received type"):
        serialize(Dense)


# ------------------------------------------------------------------------------------------ nested configs
def _round_trip(model, path, x, **load_kwargs):
    model.save(path)
    loaded = gated.load_model(path, **load_kwargs)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    return loaded


def test_custom_objects_reach_every_nested_config_without_registering(tmp_path):
    """Cells inside RNN, layers inside Bidirectional and TimeDistributed, layers of Sequential and functional
    models: load_model(custom_objects=...) resolves them all, and without it the error names the class."""
    inputs = Input((2, 5, 3))
    x = TimeDistributed(ReversedGRU(4, return_sequences=True))(inputs)  # (B, 2, 5, 4)
    x = TimeDistributed(RNN(TanhCell(3)))(x)  # (B, 2, 3)
    x = Bidirectional(ReversedGRU(2))(x)  # (B, 4)
    model = gated.Model(inputs, Offset(0.5)(x))
    data = RNG.normal(size=(3, 2, 5, 3)).astype("float32")
    custom = {"ReversedGRU": ReversedGRU, "TanhCell": TanhCell, "Offset": Offset}
    loaded = _round_trip(model, tmp_path / "f.gated", data, custom_objects=custom)
    assert loaded.layers[-1].offset == 0.5
    sequential = gated.Sequential([Input((5, 3)), RNN([TanhCell(3), GRUCell(2)]), Offset(2.0)])
    _round_trip(sequential, tmp_path / "s.gated", data[:, 0], custom_objects=custom)
    with pytest.raises(ValueError, match=r"s\.gated: Unknown layer class 'TanhCell'.*custom_objects="):
        gated.load_model(tmp_path / "s.gated")


def test_registered_classes_load_without_custom_objects_and_keep_their_registered_name(tmp_path):
    register_serializable(package="nested")(TanhCell)
    register_serializable(package="nested")(ReversedGRU)
    model = gated.Sequential([Input((5, 3)), Bidirectional(RNN(TanhCell(3), return_sequences=True)),
                              TimeDistributed(Dense(2)), ReversedGRU(2)])
    data = RNG.normal(size=(3, 5, 3)).astype("float32")
    loaded = _round_trip(model, tmp_path / "r.gated", data)
    spec = _saved_spec(tmp_path / "r.gated")["config"]["layers"]
    assert spec[0]["config"]["layer"]["config"]["cell"]["registered_name"] == "nested>TanhCell"
    assert spec[2]["registered_name"] == "nested>ReversedGRU"
    assert type(loaded.layers[2]) is ReversedGRU and loaded.layers[2].reset_after is False


def test_a_registered_model_class_saves_under_its_registered_name(tmp_path):
    @register_serializable(package="apps", name="Regressor")
    class Regressor(gated.Sequential):
        pass

    model = Regressor([Input((4,)), Dense(2)])
    data = RNG.normal(size=(5, 4)).astype("float32")
    loaded = _round_trip(model, tmp_path / "m.gated", data)
    assert type(loaded) is Regressor
    assert _saved_spec(tmp_path / "m.gated")["registered_name"] == "apps>Regressor"


def test_a_lambda_of_a_registered_function_saves_and_loads(tmp_path):
    @register_serializable(package="fns")
    def halve(x):
        return x / 2

    model = gated.Sequential([Input((3,)), Dense(2), Lambda(halve)])
    data = RNG.normal(size=(4, 3)).astype("float32")
    loaded = _round_trip(model, tmp_path / "l.gated", data)
    assert loaded.layers[-1].function is halve
    unregistered = gated.Sequential([Input((3,)), Lambda(lambda x: x / 2)])
    with pytest.raises(ValueError, match="cannot be saved whole: a layer's configuration holds a Python object"):
        unregistered.save(tmp_path / "u.gated")


# ------------------------------------------------------------------------------------------ compile settings
class AbsoluteError(losses.Loss):
    def __init__(self, power: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.power = power

    def call(self, y_true, y_pred):
        return (y_true - y_pred).abs().pow(self.power).mean(-1)

    def get_config(self):
        return {**super().get_config(), "power": self.power}


class LargestError(metrics.Mean):
    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state((torch.as_tensor(y_true) - y_pred).abs().amax(-1), sample_weight)


def squared_log_error(y_true, y_pred):
    return (torch.log1p(y_pred.abs()) - torch.log1p(torch.as_tensor(y_true).abs())).pow(2).mean(-1)


def worst_step(y_true, y_pred):
    return (torch.as_tensor(y_true) - y_pred).abs().amax(-1)


class SlowAdam(optimizers.Adam):
    """Adam at a tenth of its learning rate: a custom optimizer class."""

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate=learning_rate / 10, **kwargs)

    def get_config(self):
        return {**super().get_config(), "learning_rate": self.learning_rate * 10}


def _compiled(loss, metric_list, optimizer="adam"):
    model = gated.Sequential([Input((3,)), Dense(2)])
    model.compile(optimizer=optimizer, loss=loss, metrics=metric_list, device="cpu")
    return model


@pytest.mark.parametrize("use_custom_objects", [False, True], ids=["registered", "custom_objects"])
def test_custom_losses_metrics_and_optimizers_in_compile_save_and_load(tmp_path, use_custom_objects):
    custom = {c.__name__: c for c in (AbsoluteError, LargestError, SlowAdam, squared_log_error, worst_step)}
    for obj in custom.values():
        register_serializable(obj)
    model = _compiled(AbsoluteError(power=1.5, name="abs15"), [LargestError(name="largest"), worst_step,
                                                               squared_log_error, "mae"], SlowAdam(0.05))
    x, y = RNG.normal(size=(16, 3)).astype("float32"), RNG.normal(size=(16, 2)).astype("float32")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "c.gated")
    if use_custom_objects:
        _registry._REGISTERED.clear()  # a fresh process where nothing was registered
        _registry._NAMES.clear()
        loaded = gated.load_model(tmp_path / "c.gated", custom_objects=custom)
    else:
        loaded = gated.load_model(tmp_path / "c.gated")
    assert loaded.compiled is not None and type(loaded.optimizer) is SlowAdam
    assert loaded.optimizer.learning_rate == pytest.approx(0.005) and loaded.optimizer.iterations == 8
    assert loaded.compiled.loss_spec.power == 1.5 and loaded.compiled.metrics_spec[1] is worst_step
    expected = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    assert loaded.evaluate(x, y, batch_size=4, verbose=0, return_dict=True) == expected
    assert set(expected) == {"loss", "largest", "worst_step", "squared_log_error", "mae"}
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)  # the custom optimizer's moments came back


def test_compile_settings_naming_a_class_the_loader_cannot_find_say_so(tmp_path):
    register_serializable(AbsoluteError)
    model = _compiled(AbsoluteError(), ["mae"])
    model.save(tmp_path / "c.gated")
    _registry._REGISTERED.clear()
    with pytest.raises(ValueError, match=r"c\.gated: the compile settings cannot be restored: Unknown loss class "
                                         r"'AbsoluteError'.*compile=False\) loads the model without them"):
        gated.load_model(tmp_path / "c.gated")
    assert gated.load_model(tmp_path / "c.gated", compile=False).compiled is None


def test_unregistered_python_objects_in_compile_load_uncompiled(tmp_path):
    for loss, optimizer in ((AbsoluteError(), "sgd"), (squared_log_error, "sgd"), ("mse", torch.optim.SGD)):
        model = _compiled(loss, None, optimizer)
        model.fit(RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2)), verbose=0)
        model.save(tmp_path / "p.gated")
        loaded = gated.load_model(tmp_path / "p.gated")
        assert loaded.compiled is None, (loss, optimizer)
        np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
