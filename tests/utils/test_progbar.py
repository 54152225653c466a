"""The progress bar and ProgbarLogger against Keras 3's, character for character, under a fake clock.

On a terminal gated draws what Keras draws (less Keras's redundant backspaces before each '\\r'); elsewhere
``verbose=1`` prints only each bar's final line, without colour codes.
"""

from __future__ import annotations

import contextlib
import io
import sys
import types

import pytest

from gated import callbacks
from gated.utils import _progbar as _progress
from gated.utils._progbar import Progbar, resolve_verbose


class Clock:
    def __init__(self):
        self.now = 1000.0

    def time(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    namespace = types.SimpleNamespace(time=clock.time)
    monkeypatch.setattr(_progress, "time", namespace)
    import keras.src.utils.progbar as keras_progbar  # conftest has chosen the torch backend

    monkeypatch.setattr(keras_progbar, "time", namespace)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    return clock


def play(clock, make, script, stream_cls=Terminal) -> str:
    """Output of ``make()``'s bar driven by ``script``: ``[(seconds later, method, *args), ...]``."""
    stream = stream_cls()
    clock.now = 1000.0
    with contextlib.redirect_stdout(stream):
        bar = make()
        for seconds, method, *args in script:
            clock.now += seconds
            getattr(bar, method)(*args)
    return stream.getvalue()


def both(clock, script, **kwargs) -> tuple[str, str]:
    from keras.src.utils.progbar import Progbar as KerasProgbar

    ours = play(clock, lambda: Progbar(**kwargs), script)
    theirs = play(clock, lambda: KerasProgbar(**kwargs), script)
    return ours, theirs.replace("\b", "")


def steps(n, dt=0.1, values=lambda i: [("loss", 1.0 / (i + 1)), ("accuracy", 0.5 + i / 100)]):
    return [(dt, "update", i + 1, values(i)) for i in range(n)]


SCRIPTS = {
    "known_target": (dict(target=12), steps(12)),
    "throttled_by_interval": (dict(target=10, interval=0.25), steps(10)),
    "stateful_metric_shown_as_passed": (dict(target=5, stateful_metrics=["accuracy"]), steps(5)),
    "stateless_metrics": (dict(target=5, stateless_metrics=["loss"]), steps(5)),
    "skipping_steps_weights_the_average": (dict(target=20), [(0.1, "update", 1, [("loss", 1.0)]),
                                                              (0.5, "update", 7, [("loss", 4.0)]),
                                                              (0.2, "update", 9, [("loss", 2.0)]),
                                                              (0.3, "update", 20, [("loss", 0.5)])]),
    "add": (dict(target=6), [(0.2, "add", 2, [("loss", 1.0)]), (0.2, "add", 2, [("loss", 3.0)]),
                             (0.2, "add", 2, [("loss", 2.0)])]),
    "unknown_target": (dict(target=None), steps(4) + [(0.1, "update", 4, [("loss", 0.3)], True)]),
    "eta_in_minutes_and_hours": (dict(target=100000), [(1.0, "update", 1, []), (2.0, "update", 2, []),
                                                       (90.0, "update", 50000, []), (1.0, "update", 99999, []),
                                                       (5000, "update", 100000, [])]),
    "tiny_values_in_e_notation": (dict(target=3), steps(3, values=lambda i: [("loss", 1e-5 * (i + 1))])),
    "microseconds_per_step": (dict(target=1000, interval=0.0),
                              [(1.25e-3, "update", k, [("loss", 1.0 / k)]) for k in (250, 500, 750, 1000)]),
    "seconds_per_step": (dict(target=3), steps(3, dt=2.5)),
    "narrow_bar": (dict(target=7, width=5), steps(7)),
    "sample_units": (dict(target=64, unit_name="sample"), steps(64, dt=0.01)[::8] + steps(64)[-1:]),
    "shrinking_line_is_blanked_out": (dict(target=4, interval=0.0),
                                      [(0.1, "update", 1, [("loss", 1.0), ("a_long_metric_name", 2.0)]),
                                       (0.1, "update", 2, [("loss", 1.0)]), (0.1, "update", 3, []),
                                       (0.1, "update", 4, [])]),
    "finalize_before_the_target": (dict(target=10), steps(3) + [(0.1, "update", 3, [("loss", 9.0)], True)]),
}


@pytest.mark.parametrize("case", list(SCRIPTS))
def test_progbar_on_a_terminal_draws_what_keras_draws(keras, clock, case):
    kwargs, script = SCRIPTS[case]
    ours, theirs = both(clock, script, **kwargs)
    assert ours == theirs and ours.count("\r") > 1 and ours.endswith("\n")


@pytest.mark.parametrize("case", [c for c in SCRIPTS if SCRIPTS[c][0]["target"]])
def test_progbar_verbose_2_prints_the_line_keras_prints(keras, clock, case):
    kwargs, script = SCRIPTS[case]
    ours, theirs = both(clock, script, verbose=2, **kwargs)
    assert ours == theirs
    assert ours.count("\n") == (1 if ours else 0) and "\r" not in ours and "\x1b" not in ours


def test_progbar_line_format_while_running_and_when_done(clock):
    script = [(0.5, "update", 1, [("loss", 0.7), ("accuracy", 0.5)]),
              (0.003, "update", 12, [("loss", 0.6), ("accuracy", 0.6)])]
    out = play(clock, lambda: Progbar(32, interval=0.0), script)
    plain = out.replace("\x1b[1m", "").replace("\x1b[32m", "").replace("\x1b[37m", "").replace("\x1b[0m", "")
    first, second = plain.split("\r")[1:]
    assert first == " 1/32 ━━━━━━━━━━━━━━━━━━━━ 15s 500ms/step - loss: 0.7000 - accuracy: 0.5000"  # ETA 31 x 0.5s
    # steps 2..12 carry the second values; the first step's time is left out of the time per step (0.003s / 11)
    assert second.rstrip() == "12/32 ━━━━━━━━━━━━━━━━━━━━ 0s 273us/step - loss: 0.6083 - accuracy: 0.5917"
    assert "\x1b[32m━━━━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━\x1b[0m" in out  # 12/32 of 20: 7 done, 13 to go
    done = play(clock, lambda: Progbar(32), steps(32, dt=0.003))
    # the final values are shown as passed (the epoch's results); the time is the elapsed one
    assert done.endswith("\r\x1b[1m32/32\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m0s\x1b[0m "
                         "3ms/step - loss: 0.0312 - accuracy: 0.8100\n")


def test_progbar_averages_non_stateful_values_over_the_steps_they_cover(clock):
    script = [(0.1, "update", 1, [("loss", 1.0), ("lr", 0.5)]), (0.1, "update", 3, [("loss", 4.0), ("lr", 0.25)])]
    out = play(clock, lambda: Progbar(10, interval=0.0, stateful_metrics=["lr"]), script)
    assert out.rstrip().endswith("- loss: 3.0000 - lr: 0.2500")  # (1 * 1 + 4 * 2) / 3; lr as passed


def test_progbar_off_a_terminal_prints_only_the_final_plain_line(clock):
    out = play(clock, lambda: Progbar(12), steps(12), stream_cls=Pipe)
    assert out == "12/12 ━━━━━━━━━━━━━━━━━━━━ 1s 100ms/step - loss: 0.0833 - accuracy: 0.6100\n"
    unfinished = play(clock, lambda: Progbar(12), steps(11), stream_cls=Pipe)
    assert unfinished == ""
    unknown = play(clock, lambda: Progbar(None), steps(3) + [(0.1, "update", 3, [], True)],
                   stream_cls=Pipe)
    assert unknown == "      3/Unknown 0s 150ms/step - loss: 0.6111 - accuracy: 0.5100\n"  # averages


def test_progbar_verbose_0_prints_nothing(clock):
    assert play(clock, lambda: Progbar(5, verbose=0), steps(5)) == ""


def test_progbar_verbose_2_formats_negative_values_in_fixed_point(clock):
    # Keras 3 tests `avg > 1e-3` here (not abs), printing -0.95 as -9.5000e-01; gated prints it as verbose=1 does.
    out = play(clock, lambda: Progbar(2, verbose=2), steps(2, values=lambda i: [("loss", -0.95)]))
    assert out == "2/2 - 0s - 100ms/step - loss: -0.9500\n"


def test_progbar_falls_back_to_ascii_where_the_stream_cannot_encode_the_bar(clock):
    class AsciiTerminal(io.TextIOWrapper):
        def isatty(self):
            return True

    raw = io.BytesIO()
    stream = AsciiTerminal(raw, encoding="ascii")
    with contextlib.redirect_stdout(stream):
        Progbar(2, width=4).update(2, [("loss", 0.5)])
    stream.flush()
    assert "====" in raw.getvalue().decode("ascii") and "loss: 0.5000" in raw.getvalue().decode("ascii")


def test_progbar_rejects_both_metric_lists_and_a_bad_verbose():
    with pytest.raises(ValueError, match="stateful_metrics .* or stateless_metrics .*not both"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])
    with pytest.raises(ValueError, match=r"verbose must be 0, 1 or 2; received 'auto'. Use resolve_verbose"):
        Progbar(3, verbose="auto")


def test_resolve_verbose_gives_1_on_a_terminal_and_2_elsewhere(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert resolve_verbose("auto") == 1
    monkeypatch.setattr(sys, "stdout", Pipe())
    assert resolve_verbose("auto") == 2
    assert [resolve_verbose(v) for v in (0, 1, 2)] == [0, 1, 2]
    with pytest.raises(ValueError, match=r"verbose must be 'auto', 0 \(silent\), 1 .* received 3"):
        resolve_verbose(3)
    with pytest.raises(ValueError, match="received 'yes'"):
        resolve_verbose("yes")


# ---------------------------------------------------------------------------------------------------------------
# ProgbarLogger: the bar wired to fit / evaluate / predict hooks
# ---------------------------------------------------------------------------------------------------------------

def fit_script(cb_list, clock, epochs=2, steps_per_epoch=3, validate=True):
    cb_list.on_train_begin()
    for epoch in range(epochs):
        cb_list.on_epoch_begin(epoch)
        for batch in range(steps_per_epoch):
            cb_list.on_train_batch_begin(batch)
            clock.now += 0.02
            cb_list.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1 + epoch), "accuracy": 0.25 * batch})
        logs = {"loss": 0.5 / (epoch + 1), "accuracy": 0.6}
        if validate:  # validation inside fit: its hooks fire, but it draws nothing of its own
            cb_list.on_test_begin()
            for batch in range(2):
                clock.now += 0.01
                cb_list.on_test_batch_end(batch, {"loss": 0.7})
            cb_list.on_test_end({"loss": 0.7, "accuracy": 0.55})
            logs.update(val_loss=0.7, val_accuracy=0.55)
        cb_list.on_epoch_end(epoch, logs)
    cb_list.on_train_end(logs)


def logger_output(module, clock, stream_cls, script, **params) -> str:
    stream = stream_cls()
    clock.now = 1000.0
    with contextlib.redirect_stdout(stream):
        cb_list = module.CallbackList([module.ProgbarLogger()], model=object(), **params)
        script(cb_list, clock)
    return stream.getvalue().replace("\b", "")


def evaluate_then_predict(cb_list, clock):
    cb_list.on_test_begin()
    for batch in range(4):
        clock.now += 0.05
        cb_list.on_test_batch_end(batch, {"loss": 0.5 + batch / 10})
    cb_list.on_test_end({"loss": 0.65})
    cb_list.on_predict_begin()
    for batch in range(4):
        clock.now += 0.05
        cb_list.on_predict_batch_end(batch, {"outputs": 1.0})
    cb_list.on_predict_end()


@pytest.mark.parametrize("verbose", [1, 2, 0])
@pytest.mark.parametrize("script", [fit_script, lambda cb, clock: fit_script(cb, clock, epochs=1, validate=False),
                                    evaluate_then_predict], ids=["fit", "fit_one_epoch", "evaluate_predict"])
def test_progbar_logger_on_a_terminal_prints_what_keras_prints(keras, clock, script, verbose):
    params = dict(verbose=verbose, epochs=2, steps=4 if script is evaluate_then_predict else 3)
    ours = logger_output(callbacks, clock, Terminal, script, **params)
    theirs = logger_output(keras.callbacks, clock, Terminal, script, **params)
    assert ours == theirs
    assert (ours == "") == (verbose == 0)


def test_progbar_logger_fit_output_in_a_log_file(clock):
    out = logger_output(callbacks, clock, Pipe, fit_script, verbose="auto", epochs=2, steps=3)
    assert out == ("Epoch 1/2\n"
                   "3/3 - 0s - 27ms/step - accuracy: 0.6000 - loss: 0.5000 - val_accuracy: 0.5500 - val_loss: 0.7000\n"
                   "Epoch 2/2\n"
                   "3/3 - 0s - 27ms/step - accuracy: 0.6000 - loss: 0.2500 - val_accuracy: 0.5500 - val_loss: 0.7000\n")
    bar = logger_output(callbacks, clock, Pipe, fit_script, verbose=1, epochs=2, steps=3)
    assert bar.splitlines()[1] == ("3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 30ms/step - accuracy: 0.6000 - loss: 0.5000 - "
                                   "val_accuracy: 0.5500 - val_loss: 0.7000")
    assert "\r" not in bar and "\x1b" not in bar and len(bar.splitlines()) == 4


def test_progbar_logger_learns_an_unknown_step_count_from_the_first_epoch(keras, clock):
    params = dict(verbose=2, epochs=2, steps=None)
    ours = logger_output(callbacks, clock, Terminal, fit_script, **params)
    assert ours == logger_output(keras.callbacks, clock, Terminal, fit_script, **params)
    assert ours.splitlines()[1].startswith("3/3 - 0s")
