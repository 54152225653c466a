"""TensorBoard: the event files hold Keras's scalar names with the values of the history (read back with
tensorboard's own reader), batch logs at the requested frequency, weight histograms; without tensorboard the
callback says what to install."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gated
from gated.callbacks import TensorBoard

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def _model():
    model = gated.Sequential([gated.layers.Dense(3, activation="relu", input_shape=(4,), name="hidden"),
                              gated.layers.Dense(1, activation="sigmoid", name="out")])
    model.compile(optimizer=gated.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"],
                  device="cpu")
    return model


def _scalars(folder):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    reader = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    reader.Reload()
    scalars = {tag: [(e.step, e.value) for e in reader.Scalars(tag)] for tag in reader.Tags()["scalars"]}
    return scalars, reader.Tags()["histograms"]


def test_epoch_scalars_are_the_history_under_keras_names(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is an optional extra (pip install tensorboard)")
    model = _model()
    history = model.fit(X[:24], Y[:24], batch_size=8, epochs=3, verbose=0, validation_data=(X[24:], Y[24:]),
                        callbacks=[TensorBoard(tmp_path, histogram_freq=2)])
    train, histograms = _scalars(tmp_path / "train")
    validation, _ = _scalars(tmp_path / "validation")
    assert set(train) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(validation) == {"epoch_loss", "epoch_accuracy"}
    for name in ("loss", "accuracy"):
        assert [s for s, _ in train[f"epoch_{name}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{name}"]], history.history[name], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in validation[f"epoch_{name}"]], history.history[f"val_{name}"],
                                   rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.1] * 3, rtol=1e-6)
    assert sorted(histograms) == ["hidden/bias/histogram", "hidden/kernel/histogram", "out/bias/histogram",
                                  "out/kernel/histogram"]


def test_batch_logs_every_update_freq_batches_and_evaluation(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is an optional extra (pip install tensorboard)")
    model = _model()
    seen = []
    record = gated.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    board = TensorBoard(tmp_path, update_freq=2)
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0, callbacks=[record, board])
    logs = model.evaluate(X, Y, verbose=0, return_dict=True, callbacks=[board])
    train, _ = _scalars(tmp_path / "train")
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6, 8]  # global batch count, every second batch
    np.testing.assert_allclose([v for _, v in train["batch_loss"]], seen[1::2], rtol=1e-6)
    validation, _ = _scalars(tmp_path / "validation")
    assert validation["evaluation_loss_vs_iterations"] == [(8, pytest.approx(logs["loss"], rel=1e-6))]


def test_epoch_only_logging_asks_for_no_batch_logs():
    pytest.importorskip("tensorboard", reason="tensorboard is an optional extra (pip install tensorboard)")
    assert "on_train_batch_end" not in vars(TensorBoard("logs"))  # no host sync per batch for epoch curves
    assert "on_train_batch_end" in vars(TensorBoard("logs", update_freq="batch"))


def test_bad_arguments_are_refused():
    pytest.importorskip("tensorboard", reason="tensorboard is an optional extra (pip install tensorboard)")
    with pytest.raises(ValueError, match="update_freq='often'; expected 'epoch', 'batch'"):
        TensorBoard("logs", update_freq="often")
    with pytest.raises(ValueError, match="profiling is not available on torch"):
        TensorBoard("logs", profile_batch=2)
    with pytest.raises(ValueError, match="histogram_freq=-1"):
        TensorBoard("logs", histogram_freq=-1)


def test_without_tensorboard_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if tensorboard were missing
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoard("logs")
