"""Model and weights files: round trips, old formats, damaged and foreign files, atomic writes, no code execution."""

from __future__ import annotations

import json
import os
import re
import struct

import numpy as np
import pytest
import torch

import gated
from gated.layers import GRU, LSTM, Bidirectional, Dense, Embedding, Input, Layer
from gated.saving import _model_file

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
RNG = np.random.default_rng(11)


def sequential():
    model = gated.Sequential([GRU(8, input_shape=(None, 2), return_sequences=True, reset_after=False),
                              Bidirectional(LSTM(4)), Dense(3, activation="softmax")])
    model.compile(optimizer=gated.optimizers.Adam(0.01, clipnorm=1.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], device="cpu")
    return model


def test_save_load_gives_identical_predictions_and_resumes_training(tmp_path):
    model = sequential()
    x, y = RNG.normal(size=(40, 7, 2)), RNG.integers(0, 3, 40)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "model.gated"
    model.save(path)
    loaded = gated.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 10
    assert loaded.optimizer.clipnorm == 1.0 and loaded.optimizer.learning_rate == pytest.approx(0.01)
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)  # optimizer moments came back exactly


def test_functional_model_with_shared_layer_and_two_outputs_round_trips(tmp_path):
    a, b = Input((5, 3), name="a"), Input((5, 3), name="b")
    shared = GRU(4, name="shared")
    merged = gated.layers.Add()([shared(a), shared(b)])
    model = gated.Model([a, b], [Dense(1, name="y1")(merged), Dense(2, name="y2")(merged)])
    path = tmp_path / "f.gated"
    model.save(path)
    loaded = gated.load_model(path, compile=False)
    x = [torch.randn(3, 5, 3), torch.randn(3, 5, 3)]
    for p, q in zip(model(x), loaded(x)):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert len(loaded.layers) == len(model.layers) == 6  # two InputLayers (as Keras 3 lists them); one shared GRU


def test_file_of_format_version_1_keeps_loading():
    model = gated.load_model(os.path.join(FIXTURES, "model_format_v1.gated"))
    ids = np.load(os.path.join(FIXTURES, "model_format_v1_inputs.npy"))
    expected = np.load(os.path.join(FIXTURES, "model_format_v1_predictions.npy"))
    np.testing.assert_allclose(model.predict(ids, verbose=0), expected, atol=1e-6)
    assert model.optimizer.iterations == 2
    fresh = gated.load_model(os.path.join(FIXTURES, "model_format_v1.gated"), compile=False)
    fresh.load_weights(os.path.join(FIXTURES, "weights_format_v1.safetensors"))
    np.testing.assert_allclose(fresh.predict(ids, verbose=0), expected, atol=1e-6)


def test_newer_format_version_is_refused_with_the_versions(tmp_path):
    path = tmp_path / "future.gated"
    _model_file.atomic_save({"weights/0000": np.zeros(1, np.float32)},
                            {"format": "gated.model", "format_version": "99", "gated_version": "9.0"}, str(path))
    with pytest.raises(ValueError, match="written by gated 9.0 in model format 99; this gated .* reads formats up "
                                         "to 1. Upgrade gated."):
        gated.load_model(path)


def _saved(tmp_path):
    model = sequential()
    path = tmp_path / "m.gated"
    model.save(path)
    return path, path.read_bytes()


def test_truncated_file_names_the_file(tmp_path):
    path, data = _saved(tmp_path)
    for keep in (0, 7, 100, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:keep])
        with pytest.raises(ValueError, match=re.escape(str(path))):
            gated.load_model(path)


def test_flipped_bytes_in_header_or_weights_give_clear_errors(tmp_path):
    path, data = _saved(tmp_path)
    header_len = struct.unpack("<Q", data[:8])[0]
    for position in (9, 20, header_len // 2, header_len + 3):
        corrupt = bytearray(data)
        corrupt[position] ^= 0xFF
        path.write_bytes(bytes(corrupt))
        try:
            gated.load_model(path)
        except ValueError as err:
            assert str(path) in str(err)
        # A flipped byte inside a weight changes a number but keeps the file valid: it loads.


def test_foreign_files_are_recognised(tmp_path):
    zip_path = tmp_path / "model.keras"
    zip_path.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    with pytest.raises(ValueError, match="It is a zip archive - a Keras .keras file\\? Import it with "
                                         "gated.interop.from_keras"):
        gated.load_model(zip_path)
    weights = tmp_path / "w.safetensors"
    sequential().save_weights(weights)
    with pytest.raises(ValueError, match="It holds weights only: build the model and call model.load_weights"):
        gated.load_model(weights)
    with pytest.raises(FileNotFoundError, match="No model file at"):
        gated.load_model(tmp_path / "missing.gated")


def test_wrong_json_is_reported_as_damage(tmp_path):
    path = tmp_path / "bad.gated"
    metadata = {"format": "gated.model", "format_version": "1", "model": "{not json", "weight_names": "[]"}
    _model_file.atomic_save({"weights/0000": np.zeros(1, np.float32)}, metadata, str(path))
    with pytest.raises(ValueError, match="the 'model' section is not valid JSON"):
        gated.load_model(path)
    metadata["model"] = json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "Nope"}]}})
    _model_file.atomic_save({"weights/0000": np.zeros(1, np.float32)}, metadata, str(path))
    with pytest.raises(ValueError, match="Unknown layer class 'Nope'"):
        gated.load_model(path)


def test_loading_never_runs_code_from_the_file(tmp_path):
    """A pickle payload in the header is just a string: nothing imports or executes it."""
    path = tmp_path / "evil.gated"
    marker = tmp_path / "pwned"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR."
    metadata = {"format": "gated.model", "format_version": "1", "weight_names": "[]",
                "model": json.dumps({"class_name": "os.system", "config": payload})}
    _model_file.atomic_save({"weights/0000": np.zeros(1, np.float32)}, metadata, str(path))
    with pytest.raises(ValueError, match="class 'os.system', which is not registered"):
        gated.load_model(path)
    assert not marker.exists()


def test_a_crash_during_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    model = sequential()
    path = tmp_path / "m.gated"
    model.save(path)
    before = path.read_bytes()

    def crash(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(_model_file, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.gated"]  # no temporary file left behind


def test_custom_layer_loads_through_the_registry(tmp_path):
    @gated.saving.register_serializable()
    class Scale(Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = gated.Sequential([Dense(3, input_shape=(4,)), Scale(3.0)])
    model.save(tmp_path / "c.gated")
    loaded = gated.load_model(tmp_path / "c.gated")
    x = torch.randn(2, 4)
    torch.testing.assert_close(loaded(x), model(x))


def test_unsaveable_python_objects_are_explained(tmp_path):
    model = gated.Sequential([Dense(3, activation=lambda t: t * 2, input_shape=(4,))])
    with pytest.raises(ValueError, match="cannot be saved whole: a layer's configuration holds a Python object"):
        model.save(tmp_path / "x.gated")


def test_uncompiled_and_python_loss_models_load_uncompiled(tmp_path):
    model = gated.Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss=lambda t, p: ((t - p) ** 2).mean(), device="cpu")
    model.save(tmp_path / "p.gated")
    loaded = gated.load_model(tmp_path / "p.gated")
    assert loaded.compiled is None
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
