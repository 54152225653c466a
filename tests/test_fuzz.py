"""Fuzzing (hypothesis): random recurrent layer configurations and input shapes, and randomly damaged model files.

Only documented errors may come out: a ValueError or TypeError with a message for a configuration or input that
cannot work, a ValueError naming the file for a damaged model file. Never another exception, never code run from a
file, never a hang (every example has a deadline). Examples are derandomized, so a failure reproduces.
"""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gated
from gated.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN

FUZZ = settings(max_examples=60, print_blob=False, deadline=5000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

CELLS = {"GRU": GRU, "LSTM": LSTM, "SimpleRNN": SimpleRNN}
STATES = {"GRU": 1, "LSTM": 2, "SimpleRNN": 1}


def assert_documented(err: BaseException) -> None:
    assert type(err) in (ValueError, TypeError), f"{type(err).__name__}: {err}"
    message = str(err)
    assert len(message) > 20, message
    assert "aten::" not in message and "Traceback" not in message


# Mostly valid choices with the invalid ones mixed in, so that both outcomes are exercised often.
configurations = st.fixed_dictionaries({
    "cell": st.sampled_from(sorted(CELLS)),
    "units": st.sampled_from([1, 2, 3, 4, 5, 1, 2, 3, 0, -1, 2.5, "3"]),
    "return_sequences": st.booleans(),
    "return_state": st.booleans(),
    "go_backwards": st.booleans(),
    "use_bias": st.booleans(),
    "unroll": st.booleans(),
    "dropout": st.sampled_from([0.0, 0.3, 1.5, -0.2]),  # Keras clips dropout rates into [0, 1]
    "bidirectional": st.booleans(),
    "merge_mode": st.sampled_from(["concat", "sum", "mul", "ave", None, "max"]),
    "reset_after": st.booleans(),
})
shapes = st.one_of(
    st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(1, 3)),
    st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(1, 3)),
    st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(0, 3)),
    st.lists(st.integers(0, 3), min_size=1, max_size=4).map(tuple),
)
inputs = st.fixed_dictionaries({
    "shape": shapes,
    "mask": st.sampled_from(["none", "none", "random", "random", "all_false", "wrong_shape"]),
    "dtype": st.sampled_from(["float32", "float32", "float64", "int64", "bool"]),
    "seed": st.integers(0, 2**16),
})


def _layer(config: dict):
    kwargs = {k: config[k] for k in ("units", "return_sequences", "return_state", "go_backwards", "use_bias",
                                     "unroll", "dropout")}
    if config["cell"] == "GRU":
        kwargs["reset_after"] = config["reset_after"]
    layer = CELLS[config["cell"]](**kwargs)
    if config["bidirectional"]:
        layer = Bidirectional(layer, merge_mode=config["merge_mode"])
    return layer


def _expected_shapes(config: dict, batch: int, steps: int) -> list[tuple[int, ...]]:
    units = config["units"]
    per_step = (lambda width: (batch, steps, width)) if config["return_sequences"] else (lambda width: (batch, width))
    if config["bidirectional"]:
        mode = config["merge_mode"]
        outputs = [per_step(units)] * 2 if mode is None else [per_step(2 * units if mode == "concat" else units)]
        directions = 2
    else:
        outputs, directions = [per_step(units)], 1
    states = [(batch, units)] * (STATES[config["cell"]] * directions if config["return_state"] else 0)
    return outputs + states


@settings(FUZZ, max_examples=150)
@given(config=configurations, data=inputs)
def test_random_recurrent_configurations_work_or_raise_a_documented_error(config, data):
    rng = np.random.default_rng(data["seed"])
    x = rng.normal(size=data["shape"]).astype(data["dtype"])
    mask = None
    if data["mask"] != "none" and len(data["shape"]) >= 2:
        batch, steps = data["shape"][:2]
        mask = {"random": lambda: rng.random((batch, steps)) > 0.3, "all_false": lambda: np.zeros((batch, steps), bool),
                "wrong_shape": lambda: np.ones((batch, steps + 1), bool)}[data["mask"]]()
    try:
        layer = _layer(config)
        out = layer(x, mask=mask)
    except Exception as err:  # noqa: BLE001 - the claim under test is the exception's type and message
        assert_documented(err)
        event(f"refused: {type(err).__name__}")
        return
    event("ran")
    # It ran: then the configuration and input were valid, and the outputs have the documented shapes.
    assert isinstance(config["units"], int) and config["units"] > 0
    assert len(data["shape"]) == 3 and data["shape"][1] > 0
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    assert [tuple(o.shape) for o in outputs] == _expected_shapes(config, *data["shape"][:2])
    assert all(bool(torch.isfinite(o).all()) for o in outputs)


# ------------------------------------------------------------------------------------------ damaged model files
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained, compiled model file (with optimizer state) and its predictions."""
    torch.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(8, 4, 2)).astype("float32")
    model = gated.Sequential([GRU(4, input_shape=(None, 2)), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    model.fit(x, np.arange(8) % 2, epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("fuzz") / "model.gated"
    model.save(path)
    return path.read_bytes(), x


def _header_size(blob: bytes) -> int:
    return 8 + struct.unpack("<Q", blob[:8])[0]


def _load(blob: bytes, folder, x: np.ndarray) -> None:
    """Load a (damaged) file: either it fails with a ValueError naming the file, or the model it gives works."""
    path = folder / "damaged.gated"
    path.write_bytes(blob)
    try:
        model = gated.load_model(path)
    except Exception as err:  # noqa: BLE001 - the claim under test is the exception's type and message
        assert type(err) is ValueError, f"{type(err).__name__}: {err}"
        assert str(path) in str(err)
        event("refused")
        return
    event("loaded")
    assert model.predict(x, verbose=0, check_finite=False).shape == (8, 2)  # a flipped weight byte still loads


@FUZZ
@given(data=st.data())
def test_truncated_model_files_raise_a_clear_error(saved, tmp_path, data):
    blob, x = saved
    cut = data.draw(st.integers(0, len(blob) - 1), label="cut")
    path = tmp_path / "truncated.gated"
    path.write_bytes(blob[:cut])
    with pytest.raises(ValueError, match=r"truncated\.gated (is not a readable gated model file|.*damaged)"):
        gated.load_model(path)


@FUZZ
@given(data=st.data())
def test_model_files_with_flipped_bytes_fail_clearly_or_load(saved, tmp_path, data):
    blob, x = saved
    damaged = bytearray(blob)
    header = _header_size(blob)
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        # Half the flips land in the JSON header, where the architecture lives.
        where = data.draw(st.one_of(st.integers(0, header - 1), st.integers(0, len(blob) - 1)), label="position")
        damaged[where] ^= data.draw(st.integers(1, 255), label="xor")
    _load(bytes(damaged), tmp_path, x)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 64), st.floats(allow_nan=True), st.text(max_size=12)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6)


def _paths(tree, prefix=()):
    yield prefix
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _paths(value, prefix + (i,))


def _replace(tree, path, value):
    if not path:
        return value
    tree[path[0]] = _replace(tree[path[0]], path[1:], value)
    return tree


@FUZZ
@given(data=st.data())
def test_model_files_with_edited_json_fail_clearly_or_load(saved, tmp_path, data):
    from safetensors import safe_open
    from safetensors.numpy import save_file

    blob, x = saved
    source = tmp_path / "source.gated"
    source.write_bytes(blob)
    with safe_open(str(source), framework="np") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    section = data.draw(st.sampled_from(["model", "weight_names", "compile", "state", "format_version"]),
                        label="section")
    if section == "format_version":
        metadata[section] = data.draw(st.text(max_size=4), label="version")
    elif data.draw(st.booleans(), label="raw text"):
        metadata[section] = data.draw(st.text(max_size=40), label="text")  # not JSON, or not the expected JSON
    else:
        tree = json.loads(metadata[section])
        path = data.draw(st.sampled_from(list(_paths(tree))), label="path")
        tree = _replace(tree, path, data.draw(json_values, label="value"))
        metadata[section] = json.dumps(tree)
    edited = tmp_path / "edited.gated"
    save_file(tensors, str(edited), metadata=metadata)
    _load(edited.read_bytes(), tmp_path, x)


class _Marker:
    """Unpickling this creates a folder: the proof that a loader ran code from the file."""

    path = ""

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_a_pickle_disguised_as_a_model_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code_ran"
    _Marker.path = str(marker)
    bad = tmp_path / "model.gated"
    bad.write_bytes(pickle.dumps(_Marker()))
    torch.save({"payload": _Marker()}, tmp_path / "torch_save.gated")
    for path in (bad, tmp_path / "torch_save.gated"):
        with pytest.raises(ValueError, match="is not a readable gated model file"):
            gated.load_model(path)
        with pytest.raises(ValueError, match="is not a readable gated weights file"):
            gated.Sequential([Dense(1, input_shape=(2,))]).load_weights(path)
    assert not os.path.exists(marker)
    pickle.loads(pickle.dumps(_Marker()))  # the payload is live: unpickling it does create the marker
    assert os.path.exists(marker)
