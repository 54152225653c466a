"""Keras arguments of Model methods that gated either honours or refuses by name: none is silently ignored."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gated
from gated import layers as L


def _model(units: int = 2, name: str = "head"):
    model = gated.Sequential([L.Input((5, 3)), L.GRU(4, name="gru"), L.Dense(units, name=name)])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.mark.parametrize("value, error, match", [
    (2, NotImplementedError, r"steps_per_execution=2\) is not supported.*Leave steps_per_execution at 1"),
    (0, ValueError, r"steps_per_execution=\.\.\.\) takes a positive integer; received 0"),
    (True, ValueError, r"takes a positive integer; received True"),
])
def test_steps_per_execution_other_than_one_is_refused_by_name(value, error, match):
    model = _model()
    with pytest.raises(error, match=match):
        model.compile(optimizer="adam", loss="mse", steps_per_execution=value)


def test_steps_per_execution_one_trains():
    model = _model()
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=1)
    before = model.get_weights()
    model.fit(np.ones((4, 5, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_auto_scale_loss_is_refused_for_float16_weights_and_checked_for_type():
    half = gated.Sequential([L.Input((5, 3)), L.GRU(4, dtype="float16"), L.Dense(1, dtype="float16")])
    with pytest.raises(NotImplementedError, match=r"float16 weights.*auto_scale_loss=True.*auto_scale_loss=False"):
        half.compile(optimizer="adam", loss="mse")  # Keras's default is auto_scale_loss=True
    half.compile(optimizer="adam", loss="mse", auto_scale_loss=False)
    assert half.compiled is not None
    with pytest.raises(TypeError, match=r"auto_scale_loss=\.\.\.\) takes True or False; received 'yes'"):
        _model().compile(optimizer="adam", loss="mse", auto_scale_loss="yes")


def test_load_weights_skip_mismatch_keeps_the_layers_that_do_not_fit(tmp_path):
    source = _model(units=2)
    path = tmp_path / "w.safetensors"
    source.save_weights(path)
    target = _model(units=3)  # the Dense head no longer fits; the GRU does
    head_before = target.get_layer("head").get_weights()
    with pytest.raises(ValueError, match=r"does not fit model"):
        target.load_weights(path)
    for a, b in zip(head_before, target.get_layer("head").get_weights()):
        np.testing.assert_array_equal(a, b)  # the refused load changed nothing
    with pytest.warns(UserWarning, match=r"(?s)kept the current weights of 1 layer\(s\).*layer 'head': the model "
                                         r"has shapes \[\(4, 3\), \(3,\)\], the file \[\(4, 2\), \(2,\)\]"):
        target.load_weights(path, skip_mismatch=True)
    for a, b in zip(source.get_layer("gru").get_weights(), target.get_layer("gru").get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(head_before, target.get_layer("head").get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match=r"skip_mismatch=\.\.\.\) takes True or False; received 1"):
        target.load_weights(path, skip_mismatch=1)


def test_load_weights_skip_mismatch_loads_everything_that_fits_silently(tmp_path, recwarn):
    source, target = _model(), _model()
    path = tmp_path / "w.safetensors"
    source.save_weights(path)
    target.load_weights(path, skip_mismatch=True)
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not [w for w in recwarn if "skip_mismatch" in str(w.message)]


def test_export_verbose_says_what_was_written(tmp_path, capsys):
    pytest.importorskip("onnx")
    model = _model()
    model.export(tmp_path / "quiet.onnx", verbose=False)
    assert capsys.readouterr().out == ""
    model.export(tmp_path / "model.onnx")  # Keras prints by default
    out = capsys.readouterr().out
    assert f"Saved artifact at '{tmp_path / 'model.onnx'}'" in out
    assert "inputs:  input_layer" in out and "(batch, timesteps, 3) float32" in out
    assert "outputs: head (batch, 2) float32" in out
    with pytest.raises(TypeError, match=r"export\(verbose=\.\.\.\) takes True or False; received 'loud'"):
        model.export(tmp_path / "x.onnx", verbose="loud")


def test_interop_and_export_are_attributes_after_import_gated():
    code = "import gated; print(gated.interop.from_keras.__name__, gated.export.export.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["from_keras", "export"]
