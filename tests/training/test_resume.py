"""A run killed with SIGKILL mid-epoch and resumed from its last checkpoint ends exactly like an unbroken run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import gated
from gated.callbacks import ModelCheckpoint

SCRIPT = os.path.join(os.path.dirname(__file__), "resume_training_script.py")


def run(mode: str, checkpoint, out) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, SCRIPT, mode, str(checkpoint), str(out)], capture_output=True, text=True,
                          env=env, timeout=300)


def test_killed_and_resumed_run_ends_with_identical_weights_and_history(tmp_path):
    full = run("full", tmp_path / "full.gated", tmp_path / "full.npz")
    assert full.returncode == 0, full.stderr
    killed = run("kill", tmp_path / "ckpt.gated", tmp_path / "killed.npz")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "killed.npz").exists()
    assert (tmp_path / "ckpt.gated").exists()
    resumed = run("resume", tmp_path / "ckpt.gated", tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr
    expected, got = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resumed.npz")
    np.testing.assert_array_equal(got["weights"], expected["weights"])  # bit for bit
    assert sorted(got.files) == sorted(expected.files)
    for key in expected.files:
        np.testing.assert_array_equal(got[key], expected[key])
    assert sorted(os.listdir(tmp_path)) == ["ckpt.gated", "full.gated", "full.npz", "resumed.npz"]


def test_resume_from_a_plain_model_file_is_refused_with_the_fix(tmp_path):
    model = gated.Sequential([gated.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    model.save(tmp_path / "plain.gated")
    with pytest.raises(ValueError, match="holds no training progress.*ModelCheckpoint\\(filepath, "
                                         "save_training_state=True\\)"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0, resume_from=tmp_path / "plain.gated")


def test_resume_with_different_callbacks_is_refused(tmp_path):
    x, y = np.random.rand(16, 2), np.random.rand(16, 1)
    model = gated.Sequential([gated.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    path = tmp_path / "c.gated"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path, monitor="loss", save_training_state=True)])
    with pytest.raises(ValueError, match="was written with callbacks \\['ModelCheckpoint'\\], but this fit\\(\\) has "
                                         "\\[\\]"):
        model.fit(x, y, epochs=2, verbose=0, resume_from=path)
    history = model.fit(x, y, epochs=2, verbose=0, resume_from=path,
                        callbacks=[ModelCheckpoint(path, monitor="loss", save_training_state=True)])
    assert len(history.history["loss"]) == 2  # epoch 1 from the checkpoint, epoch 2 trained now


def test_training_state_outside_fit_is_explained(tmp_path):
    model = gated.Sequential([gated.layers.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match="records the progress of a running fit"):
        model.save(tmp_path / "x.gated", training_state=True)
    with pytest.raises(ValueError, match="cannot be combined with save_weights_only=True"):
        ModelCheckpoint(tmp_path / "x", save_weights_only=True, save_training_state=True)
