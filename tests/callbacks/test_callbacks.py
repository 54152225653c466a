"""Callbacks against real Keras 3: the same epoch/batch logs into both, the same decisions out.

The gated side acts on ``FakeModel`` (only the interface callbacks use); the Keras side on a real one-layer
``keras.Sequential``. Each epoch both models' weights are set to the epoch index, so "which weights were
restored" reads as "which epoch's".
"""

from __future__ import annotations

import inspect
import math
import os
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gated import callbacks

# ---------------------------------------------------------------------------------------------------------------
# The two models and a driver that runs fit's hook sequence
# ---------------------------------------------------------------------------------------------------------------


class FakeOptimizer:
    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate


class FakeModel:
    """The interface gated callbacks rely on, and nothing else."""

    def __init__(self, learning_rate: float = 0.1, metrics=()):
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.metrics = list(metrics)
        self._weights = [np.zeros((2, 1), np.float32), np.zeros((1,), np.float32)]
        self.saved: list[tuple[str, str]] = []

    def get_weights(self):
        return [w.copy() for w in self._weights]

    def set_weights(self, weights):
        self._weights = [np.array(w, copy=True) for w in weights]

    def save(self, path):
        self.saved.append(("save", path))
        with open(path, "w") as f:
            f.write("model")

    def save_weights(self, path):
        self.saved.append(("save_weights", path))
        with open(path, "w") as f:
            f.write("weights")


@pytest.fixture(scope="module")
def keras_model(keras):
    """A compiled Keras model whose metrics are built (so mode='auto' can find 'accuracy')."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.evaluate(np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32), verbose=0)
    return model


def fresh_keras(model, learning_rate: float = 0.1):
    model.stop_training = False
    model.optimizer.learning_rate = learning_rate
    mark(model, -1)
    return model


def mark(model, epoch: int) -> None:
    model.set_weights([np.full(np.shape(w), epoch, np.float32) for w in model.get_weights()])


def marker(model) -> int:
    return int(np.asarray(model.get_weights()[0]).flat[0])


def run_fit(callback_list, model, epoch_logs, steps: int = 0, batch_logs=None):
    """fit's hook order over the given epoch logs; stops like fit when ``model.stop_training`` is set.

    Returns the epochs that ran. ``batch_logs(epoch, batch)`` gives the logs of each of ``steps`` batches.
    """
    callback_list.on_train_begin()
    ran = []
    logs = None
    for epoch, logs in enumerate(epoch_logs):
        callback_list.on_epoch_begin(epoch)
        mark(model, epoch)
        for batch in range(steps):
            callback_list.on_train_batch_begin(batch)
            callback_list.on_train_batch_end(batch, batch_logs(epoch, batch) if batch_logs else {})
            if model.stop_training:
                break
        callback_list.on_epoch_end(epoch, dict(logs))
        ran.append(epoch)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return ran


def run_both(keras, keras_model, make_gated, make_keras, epoch_logs, **kwargs):
    """(gated callback, gated model, epochs run), (keras callback, keras model, epochs run)."""
    gated_cb, keras_cb = make_gated(), make_keras()
    gated_model, keras_model = FakeModel(), fresh_keras(keras_model)
    gated_ran = run_fit(callbacks.CallbackList([gated_cb], model=gated_model), gated_model, epoch_logs, **kwargs)
    keras_ran = run_fit(keras.callbacks.CallbackList([keras_cb], model=keras_model), keras_model, epoch_logs,
                        **kwargs)
    return (gated_cb, gated_model, gated_ran), (keras_cb, keras_model, keras_ran)


def val_logs(values, key="val_loss"):
    return [{"loss": 1.0 + i, key: float(v)} for i, v in enumerate(values)]


# ---------------------------------------------------------------------------------------------------------------
# Keras's vocabulary
# ---------------------------------------------------------------------------------------------------------------

HOOKS = ["on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
         "on_predict_batch_end", "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
         "on_predict_begin", "on_predict_end"]


def test_callback_base_has_keras_hooks_with_keras_signatures(keras):
    for hook in HOOKS:
        ours = inspect.signature(getattr(callbacks.Callback, hook))
        theirs = inspect.signature(getattr(keras.callbacks.Callback, hook))
        assert list(ours.parameters) == list(theirs.parameters), hook
    base = callbacks.Callback()
    assert base.model is None and base.params is None
    base.set_model("m")
    base.set_params({"epochs": 3})
    assert base.model == "m" and base.params == {"epochs": 3}


@pytest.mark.parametrize("name", ["EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler",
                                  "CSVLogger", "TerminateOnNaN", "LambdaCallback", "History", "ProgbarLogger",
                                  "CallbackList"])
def test_constructor_arguments_and_defaults_match_keras(keras, name):
    def arguments(cls):
        return [(p.name, p.default) for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.kind is not p.VAR_KEYWORD]

    ours = arguments(getattr(callbacks, name))
    if name == "ModelCheckpoint":  # gated's one addition, last so that Keras's positional order is kept
        assert ours[-1] == ("save_training_state", False)
        ours = ours[:-1]
    assert ours == arguments(getattr(keras.callbacks, name))


# ---------------------------------------------------------------------------------------------------------------
# EarlyStopping
# ---------------------------------------------------------------------------------------------------------------

LOSSES = [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.8, 0.85, 0.86, 0.87]
ACCURACIES = [0.5, 0.6, 0.6, 0.65, 0.64, 0.63, 0.7, 0.69, 0.68, 0.67]
EARLY_STOPPING_CASES = {
    "patience_0": (dict(), LOSSES),
    "patience_2": (dict(patience=2), LOSSES),
    "patience_2_restore": (dict(patience=2, restore_best_weights=True), LOSSES),
    "restore_without_stopping": (dict(patience=20, restore_best_weights=True), LOSSES),
    "min_delta": (dict(patience=1, min_delta=0.05), LOSSES),
    "negative_min_delta_is_its_absolute_value": (dict(patience=1, min_delta=-0.05), LOSSES),
    "baseline_never_beaten": (dict(patience=3, baseline=0.7, restore_best_weights=True), LOSSES),
    "baseline_beaten_later": (dict(patience=4, baseline=0.85), LOSSES),
    "start_from_epoch": (dict(patience=1, start_from_epoch=3, restore_best_weights=True), LOSSES),
    "accuracy_auto_is_max": (dict(monitor="val_accuracy", patience=2, restore_best_weights=True), ACCURACIES),
    "accuracy_mode_max": (dict(monitor="val_accuracy", mode="max", patience=1), ACCURACIES),
    "mode_max_on_a_loss": (dict(mode="max", patience=1), LOSSES),
    "training_loss_min": (dict(monitor="loss", mode="min", patience=1), LOSSES),
    "ties_do_not_improve": (dict(patience=1), [1.0, 1.0, 1.0, 0.5]),
    # 0.7 + 0.1 < 0.8 in float64 but not in float32, where Keras compares: no improvement, so a stop.
    "min_delta_at_the_float32_boundary": (dict(min_delta=0.1), [0.8, 0.7, 0.6]),
}


def early_stopping_logs(kwargs, values):
    monitor = kwargs.get("monitor", "val_loss")
    if monitor == "loss":
        return [{"loss": float(v)} for v in values]
    return val_logs(values, key=monitor)


def assert_same_early_stopping(ours, theirs):
    gated_cb, gated_model, gated_ran = ours
    keras_cb, keras_model, keras_ran = theirs
    assert gated_ran == keras_ran
    assert gated_cb.stopped_epoch == keras_cb.stopped_epoch
    assert gated_cb.best_epoch == keras_cb.best_epoch
    assert gated_cb.wait == keras_cb.wait
    assert gated_cb.best == keras_cb.best
    assert gated_model.stop_training == keras_model.stop_training
    assert marker(gated_model) == marker(keras_model)  # which epoch's weights the model ends with


@pytest.mark.parametrize("case", list(EARLY_STOPPING_CASES))
def test_early_stopping_decides_like_keras(keras, keras_model, case):
    kwargs, values = EARLY_STOPPING_CASES[case]
    ours, theirs = run_both(keras, keras_model, lambda: callbacks.EarlyStopping(**kwargs),
                            lambda: keras.callbacks.EarlyStopping(**kwargs), early_stopping_logs(kwargs, values))
    assert_same_early_stopping(ours, theirs)


def test_early_stopping_restores_the_best_weights_when_training_runs_to_the_end():
    model = FakeModel()
    stopper = callbacks.EarlyStopping(patience=50, restore_best_weights=True)
    ran = run_fit(callbacks.CallbackList([stopper], model=model), model, val_logs(LOSSES))
    assert ran == list(range(len(LOSSES))) and stopper.stopped_epoch == 0
    assert marker(model) == int(np.argmin(LOSSES)) == stopper.best_epoch


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.sampled_from([0.5, 0.6, 0.7, 0.75, 0.8, 0.8000001]), min_size=1, max_size=9),
       patience=st.integers(0, 3), min_delta=st.sampled_from([0.0, 0.05, 0.1]),
       baseline=st.sampled_from([None, 0.6, 0.75]), start_from_epoch=st.integers(0, 3),
       restore_best_weights=st.booleans(), mode=st.sampled_from(["auto", "min", "max"]))
def test_early_stopping_decides_like_keras_on_any_sequence(keras, keras_model, values, **kwargs):
    ours, theirs = run_both(keras, keras_model, lambda: callbacks.EarlyStopping(**kwargs),
                            lambda: keras.callbacks.EarlyStopping(**kwargs), val_logs(values))
    assert_same_early_stopping(ours, theirs)


def test_early_stopping_can_be_reused_across_fits():
    model = FakeModel()
    stopper = callbacks.EarlyStopping(patience=1)
    assert run_fit(callbacks.CallbackList([stopper], model=model), model, val_logs([1, 2, 3])) == [0, 1]
    model.stop_training = False
    assert run_fit(callbacks.CallbackList([stopper], model=model), model, val_logs([3, 2, 1])) == [0, 1, 2]
    assert stopper.stopped_epoch == 0 and stopper.best == 1.0


def test_early_stopping_prints_what_keras_prints(keras, keras_model, capsys):
    kwargs = dict(patience=1, verbose=1, restore_best_weights=True)
    logs = val_logs(LOSSES)
    model = FakeModel()
    run_fit(callbacks.CallbackList([callbacks.EarlyStopping(**kwargs)], model=model), model, logs)
    ours = capsys.readouterr().out
    model = fresh_keras(keras_model)
    run_fit(keras.callbacks.CallbackList([keras.callbacks.EarlyStopping(**kwargs)], model=model), model, logs)
    assert ours == capsys.readouterr().out == ("Epoch 3: early stopping\n"
                                              "Restoring model weights from the end of the best epoch: 2.\n")


def test_early_stopping_rejects_an_unknown_mode_listing_the_valid_ones():
    with pytest.raises(ValueError, match=r"EarlyStopping received mode='bigger'; expected one of 'auto', 'min', "
                                         r"'max'"):
        callbacks.EarlyStopping(mode="bigger")


def test_early_stopping_rejects_negative_patience():
    with pytest.raises(ValueError, match=r"patience >= 0 .* received patience=-1"):
        callbacks.EarlyStopping(patience=-1)


def test_early_stopping_warns_naming_the_available_metrics_when_the_monitor_is_missing():
    model = FakeModel()
    stopper = callbacks.EarlyStopping()
    with pytest.warns(UserWarning, match=r"EarlyStopping monitors 'val_loss', which is not in the logs.*"
                                         r"Available metrics: 'accuracy', 'loss'.*Pass validation data"):
        ran = run_fit(callbacks.CallbackList([stopper], model=model), model, [{"loss": 1.0, "accuracy": 0.5}] * 3)
    assert ran == [0, 1, 2] and not model.stop_training


def test_auto_mode_reads_the_direction_of_the_models_metric_objects():
    class Metric:
        def __init__(self, name, direction):
            self.name, self.direction = name, direction

    class Container:  # like Keras's CompileMetrics: members under .metrics
        metrics = [Metric("my_score", "up")]

    model = FakeModel(metrics=[Metric("loss", "down"), Container()])
    stopper = callbacks.EarlyStopping(monitor="val_my_score", patience=0)
    run_fit(callbacks.CallbackList([stopper], model=model), model, val_logs([0.1, 0.2, 0.3], key="val_my_score"))
    assert stopper.monitor_op == "max" and stopper.stopped_epoch == 0


@pytest.mark.parametrize("monitor, expected", [("val_loss", "min"), ("loss", "min"), ("val_accuracy", "max"),
                                               ("acc", "max"), ("val_auc", "max"), ("precision", "max"),
                                               ("val_mae", "min"), ("mean_squared_error", "min"),
                                               ("output_1_loss", "min")])
def test_auto_mode_falls_back_to_the_registered_metric_names(monitor, expected):
    stopper = callbacks.EarlyStopping(monitor=monitor)
    stopper.set_model(FakeModel())
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {monitor: 1.0})
    assert stopper.monitor_op == expected


def test_auto_mode_refuses_to_guess_an_unknown_metric(keras, keras_model):
    logs = {"val_f2_score": 0.5}
    with pytest.raises(ValueError, match=r"cannot tell whether 'f2_score' should be maximized or minimized. Pass "
                                         r"mode='max'"):
        stopper = callbacks.EarlyStopping(monitor="val_f2_score")
        stopper.set_model(FakeModel())
        stopper.on_epoch_end(0, logs)
    with pytest.raises(ValueError, match="isn't able to automatically determine"):  # Keras refuses too
        stopper = keras.callbacks.EarlyStopping(monitor="val_f2_score")
        stopper.set_model(keras_model)
        stopper.on_epoch_end(0, logs)


# ---------------------------------------------------------------------------------------------------------------
# ReduceLROnPlateau and LearningRateScheduler
# ---------------------------------------------------------------------------------------------------------------

PLATEAU = [1.0, 0.9, 0.9, 0.9, 0.9, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85]
REDUCE_CASES = {
    "patience_2": dict(patience=2),
    "cooldown": dict(patience=1, cooldown=2),
    "min_lr_floor": dict(patience=1, factor=0.5, min_lr=0.02),
    "min_delta_large": dict(patience=1, min_delta=0.06),
    "patience_0": dict(patience=0, factor=0.5),
    "mode_max": dict(patience=1, mode="max"),
}


def run_reduce(keras, keras_model, kwargs, values):
    """Learning rates after each epoch and the History both sides record (which includes 'learning_rate')."""
    def run(cb_module, make_cb, model):
        lrs = []
        recorder = cb_module.LambdaCallback(on_epoch_end=lambda epoch, logs: lrs.append(
            float(np.asarray(model.optimizer.learning_rate))))
        cb = make_cb()
        cb_list = cb_module.CallbackList([cb, recorder], add_history=True, model=model)
        run_fit(cb_list, model, val_logs(values))
        return cb, lrs, model.history.history

    ours = run(callbacks, lambda: callbacks.ReduceLROnPlateau(**kwargs), FakeModel())
    theirs = run(keras.callbacks, lambda: keras.callbacks.ReduceLROnPlateau(**kwargs), fresh_keras(keras_model))
    return ours, theirs


@pytest.mark.parametrize("case", list(REDUCE_CASES))
def test_reduce_lr_on_plateau_follows_keras_learning_rates(keras, keras_model, case):
    (gated_cb, gated_lrs, gated_history), (keras_cb, keras_lrs, keras_history) = run_reduce(
        keras, keras_model, REDUCE_CASES[case], PLATEAU)
    # Keras keeps the rate in a float32 variable; gated in a Python float.
    np.testing.assert_allclose(gated_lrs, keras_lrs, rtol=1e-6)
    np.testing.assert_allclose(gated_history["learning_rate"], keras_history["learning_rate"], rtol=1e-6)
    assert sorted(gated_history) == sorted(keras_history) == ["learning_rate", "loss", "val_loss"]
    assert (gated_cb.wait, gated_cb.cooldown_counter, gated_cb.best) == (
        keras_cb.wait, keras_cb.cooldown_counter, keras_cb.best)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.sampled_from([0.5, 0.6, 0.7, 0.70005]), min_size=1, max_size=12),
       patience=st.integers(0, 3), cooldown=st.integers(0, 2), factor=st.sampled_from([0.1, 0.5]),
       min_lr=st.sampled_from([0.0, 0.001, 0.02]), min_delta=st.sampled_from([0.0, 1e-4, 0.1]))
def test_reduce_lr_on_plateau_follows_keras_on_any_sequence(keras, keras_model, values, **kwargs):
    (gated_cb, gated_lrs, _), (keras_cb, keras_lrs, _) = run_reduce(keras, keras_model, kwargs, values)
    np.testing.assert_allclose(gated_lrs, keras_lrs, rtol=1e-6)
    assert (gated_cb.wait, gated_cb.cooldown_counter) == (keras_cb.wait, keras_cb.cooldown_counter)


def test_reduce_lr_on_plateau_prints_what_keras_prints(keras, keras_model, capsys):
    run_reduce(keras, keras_model, dict(patience=1, factor=0.5, verbose=1), [1.0, 1.0])
    out = capsys.readouterr().out  # gated runs first
    ours = "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.05.\n"
    assert out.startswith(ours)
    # Keras prints its float32-rounded rate: 0.05000000074505806.
    assert re.fullmatch(r"\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0\.0500000\d+\.\n", out[len(ours):])


def test_reduce_lr_on_plateau_rejects_a_factor_of_one_or_more():
    with pytest.raises(ValueError, match=r"does not support a factor >= 1.0 .* received factor=1.5"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_on_plateau_warns_and_still_logs_the_learning_rate_when_the_monitor_is_missing():
    model = FakeModel(learning_rate=0.25)
    cb_list = callbacks.CallbackList([callbacks.ReduceLROnPlateau(patience=0)], add_history=True, model=model)
    with pytest.warns(UserWarning, match=r"ReduceLROnPlateau monitors 'val_loss'.*Available metrics: 'loss', "
                                         r"'learning_rate'"):
        run_fit(cb_list, model, [{"loss": 1.0}, {"loss": 2.0}])
    assert model.history.history == {"loss": [1.0, 2.0], "learning_rate": [0.25, 0.25]}


def test_learning_rate_callbacks_need_an_optimizer():
    model = FakeModel()
    model.optimizer = None
    scheduler = callbacks.LearningRateScheduler(lambda epoch: 0.1)
    scheduler.set_model(model)
    with pytest.raises(ValueError, match=r"the model has no optimizer. Call model.compile\(optimizer=...\)"):
        scheduler.on_epoch_begin(0)


SCHEDULES = {
    "epoch_and_lr": lambda epoch, lr: lr if epoch < 2 else lr * 0.5,
    "epoch_only": lambda epoch: 0.1 / (1 + epoch),
    "numpy_float": lambda epoch, lr: np.float32(lr * 0.9),
    "default_argument": lambda epoch, lr=3.0: lr + 0.01 * epoch,
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_learning_rate_scheduler_sets_the_rates_keras_sets(keras, keras_model, name):
    def run(cb_module, model):
        lrs = []
        cb_list = cb_module.CallbackList(
            [cb_module.LearningRateScheduler(SCHEDULES[name]),
             cb_module.LambdaCallback(on_epoch_end=lambda epoch, logs: lrs.append(logs["learning_rate"]))],
            model=model)
        run_fit(cb_list, model, [{"loss": 1.0}] * 5)
        return lrs

    np.testing.assert_allclose(run(callbacks, FakeModel()), run(keras.callbacks, fresh_keras(keras_model)),
                               rtol=1e-6)


def test_learning_rate_scheduler_rejects_a_non_number_naming_the_epoch():
    model = FakeModel()
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: "0.1")
    scheduler.set_model(model)
    with pytest.raises(ValueError, match=r"must return a float; at epoch 0 it returned str '0.1'"):
        scheduler.on_epoch_begin(0)
    with pytest.raises(TypeError, match=r"expects a function schedule\(epoch, lr\)"):
        callbacks.LearningRateScheduler(0.1)


def test_learning_rate_scheduler_does_not_hide_type_errors_raised_by_the_schedule():
    def schedule(epoch, lr):  # Keras would retry as schedule(epoch) and report the wrong problem
        raise TypeError("bug inside the schedule")

    scheduler = callbacks.LearningRateScheduler(schedule)
    scheduler.set_model(FakeModel())
    with pytest.raises(TypeError, match="bug inside the schedule"):
        scheduler.on_epoch_begin(0)


def test_learning_rate_scheduler_prints_what_keras_prints(keras, keras_model, capsys):
    for cb_module, model in [(callbacks, FakeModel()), (keras.callbacks, fresh_keras(keras_model))]:
        cb_list = cb_module.CallbackList([cb_module.LearningRateScheduler(lambda epoch: 0.5, verbose=1)],
                                         model=model)
        run_fit(cb_list, model, [{"loss": 1.0}])
    assert capsys.readouterr().out == "\nEpoch 1: LearningRateScheduler setting learning rate to 0.5.\n" * 2


# ---------------------------------------------------------------------------------------------------------------
# ModelCheckpoint
# ---------------------------------------------------------------------------------------------------------------

CHECKPOINT_CASES = {
    "every_epoch": dict(filepath="{epoch:02d}-{val_loss:.2f}.keras"),
    "best_only": dict(filepath="{epoch:02d}-{val_loss:.2f}.keras", save_best_only=True),
    "best_only_one_file": dict(filepath="best.keras", save_best_only=True),
    "best_accuracy_auto": dict(filepath="acc-{epoch}-{val_accuracy:.3f}.keras", monitor="val_accuracy",
                               save_best_only=True),
    "initial_value_threshold": dict(filepath="{epoch}.keras", save_best_only=True, initial_value_threshold=0.91),
    "weights_only": dict(filepath="sub/dir/{epoch:03d}.weights.h5", save_weights_only=True, save_best_only=True),
    "mode_max": dict(filepath="{epoch}.keras", save_best_only=True, mode="max"),
}


def checkpoint_logs(values):
    return [{"loss": 2.0 - v, "val_loss": float(v), "val_accuracy": ACCURACIES[i]} for i, v in enumerate(values)]


def record_saves(monkeypatch, model, saves, root):
    def saver(kind):
        def save(path, overwrite=True):
            saves.append((kind, os.path.relpath(path, root)))
            with open(path, "w") as f:
                f.write(kind)
        return save

    monkeypatch.setattr(model, "save", saver("save"), raising=False)
    monkeypatch.setattr(model, "save_weights", saver("save_weights"), raising=False)


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_model_checkpoint_saves_the_files_keras_saves(keras, keras_model, tmp_path, monkeypatch, case):
    kwargs = dict(CHECKPOINT_CASES[case])
    pattern = kwargs.pop("filepath")
    logs = checkpoint_logs(LOSSES)

    gated_root, keras_root = tmp_path / "gated", tmp_path / "keras"
    gated_root.mkdir(), keras_root.mkdir()
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(gated_root / pattern, **kwargs)
    run_fit(callbacks.CallbackList([cb], model=model), model, logs)
    ours = [(kind, os.path.relpath(path, gated_root)) for kind, path in model.saved]

    theirs = []
    record_saves(monkeypatch, keras_model, theirs, keras_root)
    keras_cb = keras.callbacks.ModelCheckpoint(str(keras_root / pattern), **kwargs)
    run_fit(keras.callbacks.CallbackList([keras_cb], model=keras_model), fresh_keras(keras_model), logs)

    assert ours == theirs and ours
    assert cb.best == keras_cb.best
    assert sorted(p.relative_to(gated_root) for p in gated_root.rglob("*") if p.is_file()) == sorted(
        p.relative_to(keras_root) for p in keras_root.rglob("*") if p.is_file())


@pytest.mark.parametrize("save_freq", [1, 2, 3, 7])
def test_model_checkpoint_saves_every_save_freq_batches_like_keras(keras, keras_model, tmp_path, monkeypatch,
                                                                   save_freq):
    def batch_logs(epoch, batch):
        return {"loss": 1.0 / (1 + epoch * 10 + batch)}

    pattern = "e{epoch}-b{batch}-{loss:.3f}.keras"
    model = FakeModel()
    cb_list = callbacks.CallbackList([callbacks.ModelCheckpoint(tmp_path / pattern, save_freq=save_freq)],
                                     model=model)
    run_fit(cb_list, model, [{"loss": 1.0}] * 3, steps=5, batch_logs=batch_logs)
    ours = [os.path.basename(path) for _, path in model.saved]

    theirs = []
    record_saves(monkeypatch, keras_model, theirs, tmp_path)
    cb_list = keras.callbacks.CallbackList([keras.callbacks.ModelCheckpoint(str(tmp_path / pattern),
                                                                            save_freq=save_freq)], model=keras_model)
    run_fit(cb_list, fresh_keras(keras_model), [{"loss": 1.0}] * 3, steps=5, batch_logs=batch_logs)
    assert ours == [name for _, name in theirs] and len(ours) == 15 // save_freq


def test_model_checkpoint_verbose_messages_match_keras(keras, keras_model, tmp_path, monkeypatch, capsys):
    logs = checkpoint_logs([1.0, 1.1, 0.5])
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True, verbose=1)
    run_fit(callbacks.CallbackList([cb], model=model), model, logs)
    ours = capsys.readouterr().out
    record_saves(monkeypatch, keras_model, [], tmp_path)
    cb = keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True, verbose=1)
    run_fit(keras.callbacks.CallbackList([cb], model=keras_model), fresh_keras(keras_model), logs)
    assert ours == capsys.readouterr().out
    assert "val_loss improved from None to 1.00000" in ours and "did not improve from 1.00000" in ours


def test_model_checkpoint_explains_a_filepath_field_missing_from_the_logs(tmp_path):
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "{epoch}-{val_acc:.2f}.keras"))
    cb_list = callbacks.CallbackList([cb], model=model)
    with pytest.raises(KeyError, match=r"field 'val_acc' is not among the logged values \['epoch', 'loss', "
                                       r"'val_loss'\]"):
        run_fit(cb_list, model, val_logs([1.0]))


def test_model_checkpoint_rejects_a_bad_save_freq_and_mode():
    with pytest.raises(ValueError, match=r"save_freq='batch'; expected 'epoch' or a positive integer"):
        callbacks.ModelCheckpoint("m.keras", save_freq="batch")
    with pytest.raises(ValueError, match=r"save_freq=0"):
        callbacks.ModelCheckpoint("m.keras", save_freq=0)
    with pytest.raises(ValueError, match=r"ModelCheckpoint received mode='best'"):
        callbacks.ModelCheckpoint("m.keras", mode="best")


def test_model_checkpoint_with_save_best_only_warns_and_saves_when_the_monitor_is_missing(tmp_path):
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True)
    with pytest.warns(UserWarning, match=r"monitors 'val_loss', which is not in the logs; saving anyway"):
        run_fit(callbacks.CallbackList([cb], model=model), model, [{"loss": 1.0}])
    assert model.saved == [("save", str(tmp_path / "m.keras"))]


# ---------------------------------------------------------------------------------------------------------------
# CSVLogger
# ---------------------------------------------------------------------------------------------------------------

CSV_CASES = {
    "training_only": [{"loss": 0.5, "accuracy": 0.25}, {"loss": 0.4, "accuracy": 0.125}],
    "with_validation": val_logs([1.0, 0.9, 0.95]),
    "validation_from_the_second_epoch": [{"loss": 0.5}, {"loss": 0.4, "val_loss": 0.3}],
    "odd_values": [{"loss": float("nan"), "note": "a,b", "vector": [1.0, 2.0], "big": 1e20}],
}


@pytest.mark.parametrize("separator", [",", ";", "\t"])
@pytest.mark.parametrize("case", list(CSV_CASES))
def test_csv_logger_writes_the_bytes_keras_writes(keras, keras_model, tmp_path, case, separator):
    for name, cb_module, model in [("gated.csv", callbacks, FakeModel()),
                                   ("keras.csv", keras.callbacks, fresh_keras(keras_model))]:
        cb = cb_module.CSVLogger(str(tmp_path / name), separator=separator)
        cb.set_model(model)
        cb.on_train_begin()
        for epoch, logs in enumerate(CSV_CASES[case]):
            cb.on_epoch_end(epoch, dict(logs))
        cb.on_train_end()
    assert (tmp_path / "gated.csv").read_bytes() == (tmp_path / "keras.csv").read_bytes()


def test_csv_logger_appends_without_a_second_header_like_keras(keras, keras_model, tmp_path):
    for name, cb_module, model in [("gated.csv", callbacks, FakeModel()),
                                   ("keras.csv", keras.callbacks, fresh_keras(keras_model))]:
        (tmp_path / name).write_text("")  # an existing empty file still gets a header
        for first_epoch in (0, 2):
            cb = cb_module.CSVLogger(tmp_path / name, append=True)
            run_fit(cb_module.CallbackList([cb], model=model), model, val_logs([1.0 + first_epoch, 0.5]))
    ours = (tmp_path / "gated.csv").read_text()
    assert ours == (tmp_path / "keras.csv").read_text()
    assert ours.count("epoch") == 1 and len(ours.splitlines()) == 5


def test_csv_logger_overwrites_without_append(tmp_path):
    path = tmp_path / "log.csv"
    for values in ([1.0, 2.0], [3.0]):
        model = FakeModel()
        run_fit(callbacks.CallbackList([callbacks.CSVLogger(path)], model=model), model, val_logs(values))
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,1.0,3.0"]


# ---------------------------------------------------------------------------------------------------------------
# TerminateOnNaN, History, LambdaCallback, CallbackList
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_terminate_on_nan_stops_at_the_batch_keras_stops_at(keras, keras_model, capsys, bad):
    def batch_logs(epoch, batch):
        return {"loss": bad if (epoch, batch) == (1, 2) else 0.5}

    results = []
    for cb_module, model in [(callbacks, FakeModel()), (keras.callbacks, fresh_keras(keras_model))]:
        batches = []
        cb_list = cb_module.CallbackList(
            [cb_module.TerminateOnNaN(),
             cb_module.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))], model=model)
        ran = run_fit(cb_list, model, [{"loss": 1.0}] * 4, steps=4, batch_logs=batch_logs)
        results.append((ran, batches, model.stop_training, capsys.readouterr().out))
    assert results[0] == results[1] == ([0, 1], [0, 1, 2, 3, 0, 1, 2], True,
                                        "Batch 2: Invalid loss, terminating training\n")


def test_terminate_on_nan_can_raise_at_once():
    cb = callbacks.TerminateOnNaN(raise_error=True)
    cb.set_model(FakeModel())
    cb.on_train_batch_end(0, {"loss": 0.5})
    with pytest.raises(RuntimeError, match=r"NaN or Inf loss encountered at batch 3. Loss value: nan"):
        cb.on_train_batch_end(3, {"loss": float("nan")})


def test_history_records_what_keras_records_and_becomes_model_history(keras, keras_model):
    logs = [{"val_loss": 0.9, "loss": 1.0, "accuracy": 0.5, "val_accuracy": 0.4},
            {"val_loss": 0.8, "loss": 0.7, "accuracy": 0.6, "val_accuracy": 0.5}]
    histories = []
    for cb_module, model in [(callbacks, FakeModel()), (keras.callbacks, fresh_keras(keras_model))]:
        history = cb_module.History()
        for _ in range(2):  # the same instance over two fits keeps accumulating; epoch restarts
            run_fit(cb_module.CallbackList([history], model=model), model, logs)
        assert model.history is history
        histories.append((history.history, list(history.history), history.epoch))
    assert histories[0] == histories[1]
    assert histories[0][1] == ["accuracy", "loss", "val_accuracy", "val_loss"] and histories[0][2] == [0, 1]


def test_callback_list_adds_history_and_progbar_once():
    model = FakeModel()
    history = callbacks.History()
    cb_list = callbacks.CallbackList([history], add_history=True, add_progbar=True, model=model, verbose=0,
                                     epochs=1, steps=1)
    assert cb_list.callbacks[0] is history and model.history is history
    assert [type(cb).__name__ for cb in cb_list] == ["History", "ProgbarLogger"]
    assert all(cb.params == {"verbose": 0, "epochs": 1, "steps": 1} and cb.model is model for cb in cb_list)


def test_callback_list_passes_python_floats_sorted_and_flattened_to_every_callback():
    seen = []
    cb_list = callbacks.CallbackList([callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs))],
                                     model=FakeModel())
    cb_list.on_epoch_end(0, {"val_loss": torch.tensor(0.5), "loss": np.float32(0.25), "out": {"mae": 1},
                             "name": "x", "vector": np.array([1.0, 2.0])})
    (logs,) = seen
    assert list(logs) == ["loss", "name", "mae", "val_loss", "vector"]  # sorted, a nested dict where it sat
    assert [type(logs[k]) for k in ("loss", "mae", "val_loss")] == [float] * 3 and logs["name"] == "x"
    assert isinstance(logs["vector"], np.ndarray)


def test_callback_list_rejects_a_function_in_place_of_a_callback():
    with pytest.raises(TypeError, match=r"must be an instance of gated.callbacks.Callback; received function.*"
                                        r"LambdaCallback"):
        callbacks.CallbackList([lambda epoch, logs: None])


def test_lambda_callback_hooks_are_called_in_the_order_keras_calls_them(keras, keras_model):
    def recorder(cb_module, calls):
        def log(name):
            return lambda *args, **kwargs: calls.append((name, *args, *sorted(kwargs)))

        return cb_module.LambdaCallback(
            on_train_begin=log("train_begin"), on_train_end=log("train_end"), on_epoch_begin=log("epoch_begin"),
            on_epoch_end=log("epoch_end"), on_train_batch_begin=log("batch_begin"),
            on_train_batch_end=log("batch_end"), on_test_end=log("test_end"))

    calls = {}
    for name, cb_module, model in [("gated", callbacks, FakeModel()),
                                   ("keras", keras.callbacks, fresh_keras(keras_model))]:
        calls[name] = []
        cb_list = cb_module.CallbackList([recorder(cb_module, calls[name])], model=model)
        run_fit(cb_list, model, val_logs([1.0, 0.5]), steps=2, batch_logs=lambda e, b: {"loss": 0.1 * b})
        cb_list.on_test_begin()
        cb_list.on_test_end({"loss": 0.25})
    assert calls["gated"] == calls["keras"]
    assert [c[0] for c in calls["gated"][:4]] == ["train_begin", "epoch_begin", "batch_begin", "batch_end"]
    assert calls["gated"][3] == ("batch_end", 0, "logs")  # batch hooks get logs by keyword, as in Keras


def test_lambda_callback_rejects_unknown_hooks_and_non_functions():
    with pytest.raises(TypeError, match=r"unknown hook\(s\) \['on_epoch_ending'\]"):
        callbacks.LambdaCallback(on_epoch_ending=print)
    with pytest.raises(TypeError, match=r"LambdaCallback\(on_epoch_end=...\) must be a function; received int"):
        callbacks.LambdaCallback(on_epoch_end=3)


def test_train_batch_hooks_fall_back_to_the_keras_2_aliases():
    class Old(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_batch_end(self, batch, logs=None):
            self.batches.append((batch, logs["loss"]))

    old = Old()
    callbacks.CallbackList([old]).on_train_batch_end(4, {"loss": 2})
    assert old.batches == [(4, 2.0)] and type(old.batches[0][1]) is float


# ---------------------------------------------------------------------------------------------------------------
# On a real gated model: the interface the callbacks use is the one gated models have
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture
def gru_model():
    import gated
    from gated import layers

    model = gated.Sequential([layers.Input((4, 3)), layers.GRU(5), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gated.optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4, 3)).astype(np.float32)
    y = (x[:, -1, :1] > 0).astype(np.float32)
    return model, x, y


def test_callbacks_steer_a_real_gated_fit(gru_model, tmp_path):
    model, x, y = gru_model
    weights_at_end_of = []
    stopper = callbacks.EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, batch_size=8, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch < 3 else 100.0),  # diverges from epoch 3
        # no epoch after the first improves by 10: each halves the rate for the next (logged: the rate it ran with)
        callbacks.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=10.0, factor=0.5),
        stopper,
        callbacks.ModelCheckpoint(tmp_path / "{epoch:02d}-{loss:.3f}.weights.h5", save_weights_only=True),
        callbacks.CSVLogger(tmp_path / "log.csv"),
        callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: weights_at_end_of.append(model.get_weights())),
    ])
    assert history.epoch == list(range(6)) and stopper.stopped_epoch == 0
    assert stopper.best_epoch == int(np.argmin(history.history["loss"])) < 3
    for ours, best in zip(model.get_weights(), weights_at_end_of[stopper.best_epoch]):
        np.testing.assert_array_equal(ours, best)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 100.0, 100.0, 100.0])
    assert len(list(tmp_path.glob("0*.weights.h5"))) == 6
    # Keras's CSV columns: without validation, empty val_ columns are reserved anyway
    assert (tmp_path / "log.csv").read_text().splitlines()[0] == (
        "epoch,accuracy,learning_rate,loss,val_accuracy,val_learning_rate,val_loss")


def test_terminate_on_nan_stops_a_silent_real_fit_at_the_first_bad_batch(gru_model):
    model, x, y = gru_model
    model.compile(optimizer="sgd", loss="mse")  # crossentropy refuses NaN probabilities; mse returns NaN
    x[10] = np.nan  # in the second batch of 8
    batches = []
    # fit's own guard stops first (before the bad batch changes any weight); TerminateOnNaN stays for Keras code.
    with pytest.warns(RuntimeWarning, match="the loss became nan at epoch 1, batch 2"):
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0, callbacks=[
            callbacks.TerminateOnNaN(), callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: batches.append(b))],
            check_finite=False)  # let the NaN through the input check, to reach the loss
    assert batches == [0, 1] and history.epoch == [] and all(np.isfinite(w).all() for w in model.get_weights())


def test_model_checkpoint_explains_a_model_without_save(tmp_path):
    class WeightsOnly:
        def save_weights(self, path):
            pass

    cb = callbacks.ModelCheckpoint(tmp_path / "m.keras")
    cb.set_model(WeightsOnly())
    with pytest.raises(AttributeError, match=r"calls model.save\(path\), which WeightsOnly does not have. Pass "
                                             r"save_weights_only=True"):
        cb.on_epoch_end(0, {"val_loss": 1.0})
