"""BackupAndRestore: a fit interrupted by an exception, then a second fit call, ends with the weights and history of
one uninterrupted run (in process, on the CPU, with the same seed)."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

import gated
from gated.callbacks import BackupAndRestore, Callback, EarlyStopping

EPOCHS = 3
RNG = np.random.default_rng(3)
X = RNG.normal(size=(24, 10)).astype("float32")
Y = (X.sum(axis=1) > 0).astype("float32")[:, None]


class Interrupt(Callback):
    """Raises once, at the hook and step given; its state is not part of the backup (a crash is not state)."""

    def __init__(self, epoch: int | None = None, batch: int | None = None):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def get_state(self):
        return {}

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if self.batch is None and epoch == self.epoch:
            raise RuntimeError(f"interrupted before epoch {epoch}")

    def on_train_batch_end(self, batch, logs=None):
        if self.batch is not None and self.current == self.epoch and batch == self.batch:
            raise RuntimeError(f"interrupted after batch {batch} of epoch {self.current}")


def make_model(seed: int):
    gated.utils.set_random_seed(seed)
    model = gated.Sequential([gated.layers.Dense(4, activation="relu", input_shape=(10,)),
                              gated.layers.Dropout(0.2), gated.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gated.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"],
                  device="cpu")
    return model


def fit(model, callbacks, seed=11):
    gated.utils.set_random_seed(seed)  # the shuffles and dropout masks of the run
    return model.fit(X, Y, batch_size=6, epochs=EPOCHS, verbose=0, callbacks=callbacks)


@functools.cache
def uninterrupted():
    model = make_model(0)
    history = fit(model, [])
    return model.get_weights(), history.history


@pytest.mark.parametrize("save_freq, interrupt", [("epoch", {"epoch": 2}), (3, {"epoch": 1, "batch": 2}),
                                                  ("epoch", {"epoch": 1, "batch": 2})],
                         ids=["between-epochs", "mid-epoch-backup-per-3-batches", "mid-epoch-backup-per-epoch"])
def test_interrupted_fit_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path, save_freq, interrupt):
    expected_weights, expected_history = uninterrupted()
    backup = tmp_path / "backup"
    first = make_model(0)
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(first, [BackupAndRestore(backup, save_freq=save_freq), Interrupt(**interrupt)])
    assert os.listdir(backup) == ["latest.gated"]
    # a new process: a new model, other initial weights, the same script
    second = make_model(5)
    history = fit(second, [BackupAndRestore(backup, save_freq=save_freq), Interrupt()], seed=99)
    for got, want in zip(second.get_weights(), expected_weights):
        np.testing.assert_array_equal(got, want)
    assert history.history.keys() == expected_history.keys()
    for key in expected_history:
        np.testing.assert_allclose(history.history[key], expected_history[key], rtol=1e-12, err_msg=key)
    assert history.epoch == list(range(EPOCHS))
    assert not backup.exists()  # delete_checkpoint=True: a finished run leaves no backup


def test_without_a_backup_fit_starts_from_scratch_and_keeps_it_when_asked(tmp_path):
    expected_weights, _ = uninterrupted()
    model = make_model(0)
    fit(model, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    for got, want in zip(model.get_weights(), expected_weights):
        np.testing.assert_array_equal(got, want)
    assert os.listdir(tmp_path / "b") == ["latest.gated"]
    # a finished backup: a later fit with it resumes after the last epoch, so it trains no more
    again = make_model(7)
    history = fit(again, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    for got, want in zip(again.get_weights(), expected_weights):
        np.testing.assert_array_equal(got, want)
    assert history.epoch == list(range(EPOCHS))


def test_double_checkpoint_keeps_the_previous_backup(tmp_path):
    model = make_model(0)
    with pytest.raises(RuntimeError):
        fit(model, [BackupAndRestore(tmp_path / "b", double_checkpoint=True), Interrupt(epoch=2)])
    assert sorted(os.listdir(tmp_path / "b")) == ["latest.gated", "latest.gated.bkp"]
    os.remove(tmp_path / "b" / "latest.gated")  # the latest lost: resume from the one before
    expected_weights, _ = uninterrupted()
    resumed = make_model(1)
    fit(resumed, [BackupAndRestore(tmp_path / "b", double_checkpoint=True), Interrupt()])
    for got, want in zip(resumed.get_weights(), expected_weights):
        np.testing.assert_array_equal(got, want)


def test_a_stopped_run_deletes_its_backup(tmp_path):
    model = make_model(0)
    backup = tmp_path / "b"
    os.makedirs(backup)
    (backup / "notes.txt").write_text("mine")
    fit(model, [EarlyStopping(monitor="loss", patience=0, min_delta=10.0), BackupAndRestore(backup)])
    assert os.listdir(backup) == ["notes.txt"]  # only gated's own files are removed


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="needs a backup_dir"):
        BackupAndRestore("")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="is a file; it must be a folder"):
        BackupAndRestore(tmp_path / "f")
    with pytest.raises(ValueError, match="expected 'epoch' or a positive integer"):
        BackupAndRestore(tmp_path / "b", save_freq="batch")
