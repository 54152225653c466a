"""The layer contract, one parametrized check over every public layer and a registered custom subclass of each
kind (a cell inside ``RNN``, a GRU subclass inside ``Bidirectional`` and ``TimeDistributed``, a plain layer in
Sequential and functional models), as Keras's ``run_layer_test`` and PyTorch's ``ModuleInfo`` tables do it:

build and call; output shape and dtype against ``compute_output_shape``; the weight count against Keras's layer
(or the layer's own formula where Keras has none); ``serialize`` -> JSON -> ``deserialize`` giving the same config
and identical outputs; ``save`` -> ``load_model`` -> identical predictions (functional, and Sequential where the
layer takes one tensor); one ``fit`` step that changes every trainable weight (layers without weights skip it).

A public layer without an entry in ``CASES`` fails ``test_every_public_layer_has_a_contract_case``.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
import torch
from torch import nn

import gated
from gated import layers as L
from gated.saving import deserialize, register_serializable, serialize

B, T, F, H = 3, 5, 4, 6  # batch, timesteps, features, units


# ------------------------------------------------------------------------------------------ registered custom kinds
def _parameter(*shape: int) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape) * 0.3)


def _specs(layer: L.Layer, *names: str):
    for name in names:
        yield L.WeightSpec(name, get=lambda name=name: getattr(layer, name),
                           set=lambda value, name=name: getattr(layer, name).copy_(value))


@register_serializable(package="contract")
class ContractCell(L.Layer):
    """A cell written from scratch (Keras's MinimalRNNCell): ``h = tanh(x @ kernel + h @ recurrent_kernel)``."""

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape: Any) -> None:
        self.kernel = _parameter(input_shape[-1], self.units)
        self.recurrent_kernel = _parameter(self.units, self.units)
        self.built = True

    def _own_weight_specs(self):
        return _specs(self, "kernel", "recurrent_kernel") if self.built else iter(())

    def forward(self, inputs: torch.Tensor, states: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)  # (B, H)
        return h, [h]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


@register_serializable(package="contract")
class ScaledGRU(L.GRU):
    """A GRU subclass with one more argument: its outputs (and states) times ``scale``."""

    def __init__(self, units: int, scale: float = 1.0, **kwargs: Any):
        super().__init__(units, **kwargs)
        self.scale = scale

    def forward(self, inputs: Any, initial_state: Any = None, mask: Any = None, training: bool | None = None) -> Any:
        out = super().forward(inputs, initial_state=initial_state, mask=mask, training=training)
        return type(out)(o * self.scale for o in out) if isinstance(out, (list, tuple)) else out * self.scale

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


@register_serializable(package="contract")
class FeatureScale(L.Layer):
    """A plain custom layer with one trainable weight: ``inputs * gain`` per feature."""

    supports_masking = True

    def __init__(self, offset: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape: Any) -> None:
        self.gain = nn.Parameter(torch.linspace(0.5, 1.5, input_shape[-1]))
        self.built = True

    def _own_weight_specs(self):
        return _specs(self, "gain") if self.built else iter(())

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self.gain + self.offset

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "offset": self.offset}


@register_serializable(package="contract")
def doubled(x: torch.Tensor) -> torch.Tensor:
    return 2.0 * x


# ------------------------------------------------------------------------------------------ the table
def _floats(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _padded() -> np.ndarray:
    x = _floats(B, T, F, seed=1)
    x[0, 3:] = 0.0  # padding at the end, for Masking
    x[1, 0] = 0.0
    return x


def _step_inputs(*state_sizes: int) -> tuple[np.ndarray, list[np.ndarray]]:
    return _floats(B, F, seed=2), [_floats(B, s, seed=3 + i) for i, s in enumerate(state_sizes)]


@dataclass(frozen=True)
class Case:
    make: Callable[[], L.Layer]
    inputs: Callable[[], Any]  # numpy, batch first; a list for several inputs; (x_t, states) for a cell
    weights: tuple[int, int]  # (number of weight arrays, number of parameters) once built on ``inputs``
    keras: Callable[[Any], Any] | None = None  # the Keras twin, built on the same inputs, where Keras has one
    cell: bool = False  # called as cell(x_t, states); its models run it inside RNN
    model: Callable[[L.Layer], Any] | None = None  # how it sits in a model, when not called on Inputs directly
    covers: tuple[str, ...] = ()  # public classes checked through this case besides the layer's own


def _gru_params(f: int, h: int) -> int:
    return f * 3 * h + h * 3 * h + 2 * 3 * h  # kernel, recurrent_kernel, bias (2, 3H) with reset_after


def _lstm_params(f: int, h: int) -> int:
    return f * 4 * h + h * 4 * h + 4 * h


def _simple_params(f: int, h: int) -> int:
    return f * h + h * h + h


def _input_layer_model(layer: L.Layer) -> Any:
    return gated.Model(layer.output, L.Dense(2, name="head")(layer.output))


CASES: dict[str, Case] = {
    "Activation": Case(lambda: L.Activation("tanh"), lambda: _floats(B, T, F), (0, 0),
                       lambda k: k.layers.Activation("tanh")),
    "Add": Case(lambda: L.Add(), lambda: [_floats(B, T, F), _floats(B, T, F, seed=1)], (0, 0),
                lambda k: k.layers.Add()),
    "Concatenate": Case(lambda: L.Concatenate(), lambda: [_floats(B, T, F), _floats(B, T, 2, seed=1)], (0, 0),
                        lambda k: k.layers.Concatenate()),
    "Dense": Case(lambda: L.Dense(3, activation="relu"), lambda: _floats(B, T, F), (2, F * 3 + 3),
                  lambda k: k.layers.Dense(3, activation="relu")),
    "Dropout": Case(lambda: L.Dropout(0.5), lambda: _floats(B, T, F), (0, 0), lambda k: k.layers.Dropout(0.5)),
    "Embedding": Case(lambda: L.Embedding(10, F, mask_zero=True),
                      lambda: np.random.default_rng(0).integers(0, 10, (B, T)), (1, 10 * F),
                      lambda k: k.layers.Embedding(10, F, mask_zero=True)),
    "Flatten": Case(lambda: L.Flatten(), lambda: _floats(B, T, F), (0, 0), lambda k: k.layers.Flatten()),
    "InputLayer": Case(lambda: L.InputLayer(shape=(T, F)), lambda: _floats(B, T, F), (0, 0),
                       model=_input_layer_model),
    "Lambda": Case(lambda: L.Lambda(doubled), lambda: _floats(B, T, F), (0, 0),
                   lambda k: k.layers.Lambda(lambda x: 2.0 * x)),
    "Masking": Case(lambda: L.Masking(0.0), _padded, (0, 0), lambda k: k.layers.Masking(0.0)),
    "RepeatVector": Case(lambda: L.RepeatVector(3), lambda: _floats(B, F), (0, 0), lambda k: k.layers.RepeatVector(3)),
    "Reshape": Case(lambda: L.Reshape((2, 10)), lambda: _floats(B, T, F), (0, 0),
                    lambda k: k.layers.Reshape((2, 10))),
    "TimeDistributed": Case(lambda: L.TimeDistributed(L.Dense(3)), lambda: _floats(B, T, F), (2, F * 3 + 3),
                            lambda k: k.layers.TimeDistributed(k.layers.Dense(3))),
    "GRU": Case(lambda: L.GRU(H, return_sequences=True), lambda: _floats(B, T, F), (3, _gru_params(F, H)),
                lambda k: k.layers.GRU(H, return_sequences=True)),
    "LSTM": Case(lambda: L.LSTM(H), lambda: _floats(B, T, F), (3, _lstm_params(F, H)),
                 lambda k: k.layers.LSTM(H)),
    "SimpleRNN": Case(lambda: L.SimpleRNN(H), lambda: _floats(B, T, F), (3, _simple_params(F, H)),
                      lambda k: k.layers.SimpleRNN(H)),
    "RNN": Case(lambda: L.RNN(L.LSTMCell(H), return_sequences=True), lambda: _floats(B, T, F), (3, _lstm_params(F, H)),
                lambda k: k.layers.RNN(k.layers.LSTMCell(H), return_sequences=True)),
    "GRUCell": Case(lambda: L.GRUCell(H), lambda: _step_inputs(H), (3, _gru_params(F, H)),
                    lambda k: k.layers.GRUCell(H), cell=True),
    "LSTMCell": Case(lambda: L.LSTMCell(H), lambda: _step_inputs(H, H), (3, _lstm_params(F, H)),
                     lambda k: k.layers.LSTMCell(H), cell=True),
    "SimpleRNNCell": Case(lambda: L.SimpleRNNCell(H), lambda: _step_inputs(H), (3, _simple_params(F, H)),
                          lambda k: k.layers.SimpleRNNCell(H), cell=True),
    # StackedRNNCells has no call of its own (RNN steps through its cells), so it is checked inside RNN.
    "StackedRNNCells": Case(lambda: L.RNN(L.StackedRNNCells([L.GRUCell(H), L.SimpleRNNCell(2)])),
                            lambda: _floats(B, T, F), (6, _gru_params(F, H) + _simple_params(H, 2)),
                            lambda k: k.layers.RNN(k.layers.StackedRNNCells([k.layers.GRUCell(H),
                                                                             k.layers.SimpleRNNCell(2)])),
                            covers=("StackedRNNCells",)),
    "Bidirectional": Case(lambda: L.Bidirectional(L.GRU(H)), lambda: _floats(B, T, F), (6, 2 * _gru_params(F, H)),
                          lambda k: k.layers.Bidirectional(k.layers.GRU(H))),
    "MinGRU": Case(lambda: L.MinGRU(H, return_sequences=True), lambda: _floats(B, T, F), (2, F * 2 * H + 2 * H)),
    "MinLSTM": Case(lambda: L.MinLSTM(H), lambda: _floats(B, T, F), (2, F * 3 * H + 3 * H)),
    "Attention": Case(lambda: L.Attention(), lambda: [_floats(B, T, F), _floats(B, 7, F, seed=1)], (0, 0),
                      lambda k: k.layers.Attention()),
    "AdditiveAttention": Case(lambda: L.AdditiveAttention(), lambda: [_floats(B, T, F), _floats(B, 7, F, seed=1)],
                              (1, F), lambda k: k.layers.AdditiveAttention()),
    # registered custom subclasses, one of each kind
    "custom cell in RNN": Case(lambda: L.RNN(ContractCell(H), return_sequences=True), lambda: _floats(B, T, F),
                               (2, F * H + H * H)),
    "custom cell": Case(lambda: ContractCell(H), lambda: _step_inputs(H), (2, F * H + H * H), cell=True),
    "custom cells stacked in RNN": Case(lambda: L.RNN([ContractCell(H), L.GRUCell(2)]), lambda: _floats(B, T, F),
                                        (5, F * H + H * H + _gru_params(H, 2))),
    "custom GRU in Bidirectional": Case(lambda: L.Bidirectional(ScaledGRU(H, scale=0.5, return_sequences=True)),
                                        lambda: _floats(B, T, F), (6, 2 * _gru_params(F, H)),
                                        lambda k: k.layers.Bidirectional(k.layers.GRU(H, return_sequences=True))),
    "custom GRU in TimeDistributed": Case(lambda: L.TimeDistributed(ScaledGRU(H, scale=0.5)),
                                          lambda: _floats(B, 2, T, F), (3, _gru_params(F, H)),
                                          lambda k: k.layers.TimeDistributed(k.layers.GRU(H))),
    "custom layer": Case(lambda: FeatureScale(offset=0.25), lambda: _floats(B, T, F), (1, F)),
}

# Names in gated.layers.__all__ that are not layers to run, and why.
NOT_LAYERS = {
    "Layer": "the abstract base: it has no call (each custom subclass above is checked instead)",
    "WeightSpec": "a weight's description, not a layer",
    "SymbolicTensor": "a placeholder, not a layer",
    "Input": "a function returning InputLayer's placeholder (InputLayer is checked)",
}


# ------------------------------------------------------------------------------------------ helpers
def _call(case: Case, layer: L.Layer, inputs: Any) -> Any:
    if case.cell:
        x, states = inputs
        return layer(torch.as_tensor(x), _tensors(states))
    return layer(_tensors(inputs))


def _tensors(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_tensors(v) for v in value]
    return torch.as_tensor(value)


def _flat(value: Any) -> list[torch.Tensor]:
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat(v)]
    return [value]


def _shape_of(value: Any) -> Any:
    return [_shape_of(v) for v in value] if isinstance(value, list) else tuple(value.shape)


def _model(case: Case, layer: L.Layer, sequential: bool = False) -> Any:
    if case.model is not None:
        return case.model(layer)
    if case.cell:
        layer = L.RNN(layer, return_sequences=True)
        sample = _floats(B, T, F)
    else:
        sample = case.inputs()
    if sequential:
        return gated.Sequential([L.Input(sample.shape[1:], dtype=_dtype_name(sample)), layer])
    samples = sample if isinstance(sample, list) else [sample]
    inputs = [L.Input(s.shape[1:], dtype=_dtype_name(s)) for s in samples]
    return gated.Model(inputs if isinstance(sample, list) else inputs[0],
                       layer(inputs if isinstance(sample, list) else inputs[0]))


def _model_inputs(case: Case) -> Any:
    return _floats(B, T, F) if case.cell else case.inputs()


def _dtype_name(array: np.ndarray) -> str:
    return "int64" if array.dtype.kind in "iu" else "float32"


def _equal(actual: Any, expected: Any) -> None:
    for a, e in zip(_flat(actual), _flat(expected), strict=True):
        torch.testing.assert_close(a, e, rtol=0, atol=0)


def _one_tensor_in_and_out(case: Case) -> bool:
    return case.model is None and not case.cell and not isinstance(case.inputs(), list)


# ------------------------------------------------------------------------------------------ the contract
def test_every_public_layer_has_a_contract_case():
    covered = {name for case in CASES.values() for name in (type(case.make()).__name__, *case.covers)}
    missing, undecided = [], []
    for name in L.__all__:
        obj = getattr(L, name)
        if name in NOT_LAYERS:
            continue
        if inspect.isclass(obj) and issubclass(obj, L.Layer):
            if name not in covered:
                missing.append(name)
        else:
            undecided.append(name)
    assert not missing, f"public layers without a case in tests/layers/test_contract.py CASES: {missing}"
    assert not undecided, f"public names that are neither layers nor in NOT_LAYERS (say why): {undecided}"


@pytest.mark.parametrize("name", list(CASES))
def test_builds_calls_and_matches_its_output_shape_and_dtype(name):
    case = CASES[name]
    layer, inputs = case.make(), case.inputs()
    out = _call(case, layer, inputs)
    assert layer.built
    if case.cell:
        output, states = out
        assert tuple(output.shape) == (B, getattr(layer, "output_size", None) or layer.units)
        sizes = layer.state_size
        assert [tuple(s.shape) for s in _flat(states)] == [(B, s) for s in _flat_sizes(sizes)]
    else:
        expected = layer.compute_output_shape(_shape_of(_tensors(inputs)))
        outs, expected = (list(out), list(expected)) if isinstance(out, (list, tuple)) else ([out], [expected])
        assert len(outs) == len(expected)
        for tensor, shape in zip(outs, expected):
            assert len(tensor.shape) == len(shape) and all(
                e is None or e == a for e, a in zip(shape, tensor.shape)), (tuple(tensor.shape), shape)
    for tensor in _flat(out):
        assert tensor.dtype == layer.compute_dtype == torch.float32


def _flat_sizes(sizes: Any) -> list[int]:
    return [s for size in sizes for s in _flat_sizes(size)] if isinstance(sizes, (list, tuple)) else [sizes]


@pytest.mark.parametrize("name", list(CASES))
def test_weight_count_matches_keras_and_the_formula(name, keras):
    case = CASES[name]
    layer, inputs = case.make(), case.inputs()
    _call(case, layer, inputs)
    assert (len(layer.weights), layer.count_params()) == case.weights
    assert len(layer.get_weights()) == len(layer.trainable_weights) + len(layer.non_trainable_weights)
    if case.keras is None:
        return
    twin = case.keras(keras)
    if case.cell:
        twin.build((None, F))
    else:
        twin(inputs)
    assert (len(twin.weights), twin.count_params()) == case.weights
    assert [tuple(w.shape) for w in twin.get_weights()] == [w.shape for w in layer.get_weights()]


@pytest.mark.parametrize("name", list(CASES))
def test_config_round_trip_through_json_gives_identical_outputs(name):
    case = CASES[name]
    layer, inputs = case.make(), case.inputs()
    expected = _call(case, layer, inputs)
    spec = json.loads(json.dumps(serialize(layer)))
    clone = deserialize(spec)
    assert type(clone) is type(layer) and clone.name == layer.name
    assert json.loads(json.dumps(serialize(clone))) == spec
    _call(case, clone, inputs)  # builds it
    clone.set_weights(layer.get_weights())
    _equal(_call(case, clone, inputs), expected)
    direct = type(layer).from_config(layer.get_config())  # the class's own from_config, as Keras users call it
    assert json.loads(json.dumps(direct.get_config())) == spec["config"]


@pytest.mark.parametrize("name", list(CASES))
def test_save_and_load_model_give_identical_predictions(name, tmp_path):
    case = CASES[name]
    kinds = [False] + ([True] if _one_tensor_in_and_out(case) else [])
    x = _model_inputs(case)
    for sequential in kinds:
        model = _model(case, case.make(), sequential=sequential)
        path = tmp_path / f"{'sequential' if sequential else 'functional'}.gated"
        model.save(path)
        loaded = gated.load_model(path)
        assert type(loaded) is type(model) and [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name", list(CASES))
def test_one_fit_step_changes_every_trainable_weight(name):
    case = CASES[name]
    layer = case.make()
    model = _model(case, layer)
    x = _model_inputs(case)
    y = model.predict(x, verbose=0)
    if not layer.trainable_weights:
        pytest.skip(f"{name} has no weights: a step changes nothing (every other check ran)")
    model.compile(optimizer=gated.optimizers.SGD(0.1), loss="mse", device="cpu")
    trainable = [w.numpy().copy() for w in layer.trainable_weights]
    frozen = [w.numpy().copy() for w in layer.non_trainable_weights]
    target = y + np.random.default_rng(5).standard_normal(y.shape).astype("float32")
    model.fit(x, target, epochs=1, batch_size=B, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 1
    unchanged = [i for i, (before, after) in enumerate(zip(trainable, layer.trainable_weights))
                 if np.array_equal(before, after.numpy())]
    assert not unchanged, f"trainable weights {unchanged} of {name} did not change in a step"
    for before, after in zip(frozen, layer.non_trainable_weights):
        np.testing.assert_array_equal(before, after.numpy())
