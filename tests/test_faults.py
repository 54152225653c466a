"""Faults during training: NaN losses, Ctrl-C, unwritable checkpoints — nothing is lost or silently changed."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import gated
from gated.callbacks import Callback, ModelCheckpoint
from gated.layers import GRU, Dense

RNG = np.random.default_rng(4)


def model():
    m = gated.Sequential([GRU(6, input_shape=(None, 2)), Dense(1)])
    m.compile(optimizer="sgd", loss="mse", device="cpu")
    return m


def test_a_nan_loss_stops_training_and_keeps_the_last_good_weights():
    x, y = RNG.normal(size=(64, 5, 2)).astype("float32"), RNG.normal(size=(64, 1)).astype("float32")
    y[40] = np.nan  # batch 3 of epoch 2 (batch size 16) has a NaN target
    m = model()
    snapshots = []

    class Record(Callback):
        def on_train_batch_end(self, batch, logs=None):
            snapshots.append([w.copy() for w in m.get_weights()])

    with pytest.warns(RuntimeWarning, match="Training stopped: the loss became nan at epoch 1, batch 3. The weights "
                                            "are those before that batch. Common causes: a learning rate too high"):
        history = m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[Record()],
                        check_finite=False)  # let the NaN through the input check, to reach the loss
    assert len(snapshots) == 2  # two good batches ran
    for kept, last_good in zip(m.get_weights(), snapshots[-1]):
        np.testing.assert_array_equal(kept, last_good)
    assert all(np.isfinite(w).all() for w in m.get_weights())
    assert history.history == {}  # no epoch completed


def test_ctrl_c_returns_the_weights_of_the_last_completed_batch_and_the_history():
    x, y = RNG.normal(size=(64, 5, 2)).astype("float32"), RNG.normal(size=(64, 1)).astype("float32")
    m = model()
    snapshots = []

    class PressCtrlC(Callback):
        def on_train_batch_end(self, batch, logs=None):
            snapshots.append([w.copy() for w in m.get_weights()])
            if len(snapshots) == 6:  # epoch 2, batch 2
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.warns(RuntimeWarning, match="interrupted \\(Ctrl-C\\) at epoch 2, after batch 2"):
        history = m.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0, callbacks=[PressCtrlC()])
    assert len(snapshots) == 6
    for kept, last in zip(m.get_weights(), snapshots[-1]):
        np.testing.assert_array_equal(kept, last)
    assert len(history.history["loss"]) == 1  # the completed epoch
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored


def test_checkpoint_write_failure_keeps_the_previous_checkpoint_and_the_model(tmp_path, monkeypatch):
    x, y = RNG.normal(size=(32, 5, 2)).astype("float32"), RNG.normal(size=(32, 1)).astype("float32")
    m = model()
    path = tmp_path / "ckpt.gated"
    m.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path, monitor="loss")])
    before = path.read_bytes()
    from gated.saving import _model_file

    def full_disk(tensors, filename, metadata=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_model_file, "save_file", full_disk)
    weights = m.get_weights()
    with pytest.raises(OSError, match="ModelCheckpoint could not write .*ckpt.gated: No space left on device. Training "
                                      "stopped; the previous file at that path \\(if any\\) is unchanged"):
        m.fit(x, y, epochs=1, verbose=0, shuffle=False, callbacks=[ModelCheckpoint(path, monitor="loss")])
    assert path.read_bytes() == before  # the last good checkpoint is untouched
    assert sorted(os.listdir(tmp_path)) == ["ckpt.gated"]
    monkeypatch.undo()
    assert not any(np.array_equal(a, b) for a, b in zip(weights, m.get_weights()))  # the epoch's training is kept
    m.save(tmp_path / "after.gated")  # and the model still saves
