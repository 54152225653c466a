"""Whole-step CUDA-graph capture (gated/training/_graphs.py), the parts that run without a GPU: the split
optimizer step (host scalars, device update reading them from a buffer) equals the eager step exactly; the
eligibility decisions and their reasons; jit_compile's checks; the replay logic, run on the CPU by "simulating" the
graph (the captured body runs eagerly at each replay); and the captured body never syncs with the host."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import gated
from gated import optimizers
from gated.layers import GRU, LSTM, Dense, Dropout, Embedding
from gated.training import _graphs


# ------------------------------------------------------------------------------------------- optimizer halves
def _schedule(step: int) -> float:
    return 0.01 * 0.9 ** step


# These add ``lr * g`` with one fused multiply-add (``alpha=``) eagerly; the captured update, whose lr is a tensor,
# multiplies then adds: at most one rounding apart per step.
FUSED_MULTIPLY_ADD = {"sgd", "sgd_momentum", "sgd_nesterov", "sgd_weight_decay_schedule", "adadelta"}
OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.1),
    "sgd_momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "sgd_weight_decay_schedule": lambda: optimizers.SGD(_schedule, momentum=0.5, weight_decay=0.01),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adam": lambda: optimizers.Adam(0.01),
    "adam_amsgrad_clipnorm": lambda: optimizers.Adam(0.01, amsgrad=True, clipnorm=0.5),
    "adam_schedule_global_clipnorm": lambda: optimizers.Adam(_schedule, global_clipnorm=0.5),
    "adamw_clipvalue": lambda: optimizers.AdamW(0.01, clipvalue=0.05),
    "adagrad": lambda: optimizers.Adagrad(0.05),
    "adamax": lambda: optimizers.Adamax(0.01, weight_decay=0.1),
    "adadelta": lambda: optimizers.Adadelta(1.0),
}


def _params(dtype):
    g = torch.Generator().manual_seed(1)
    return [torch.randn(5, 3, generator=g, dtype=dtype).requires_grad_(), torch.randn(3, generator=g,
                                                                                        dtype=dtype).requires_grad_()]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_split_step_with_scalars_from_a_buffer_equals_the_eager_step(name, dtype):
    eager, split = OPTIMIZERS[name](), OPTIMIZERS[name]()
    pa, pb = _params(dtype), _params(dtype)
    eager.build(pa)
    split.build(pb)
    assert split.capture_blocker() is None
    buffer = None
    g = torch.Generator().manual_seed(2)
    for _ in range(6):
        grads = [torch.randn(p.shape, generator=g, dtype=dtype) for p in pa]
        for p, q, grad in zip(pa, pb, grads):
            p.grad, q.grad = grad.clone(), grad.clone()
        eager.step()
        host = split.host_step()
        if buffer is None:
            buffer = _graphs.ScalarBuffer(host, [dtype], torch.device("cpu"))
        buffer.fill(host)
        split.device_step(buffer.views)  # 0-d tensors, as the captured update reads them
    tolerance = {"rtol": 4 * torch.finfo(dtype).eps, "atol": 4 * torch.finfo(dtype).eps} if (
        name in FUSED_MULTIPLY_ADD) else {"rtol": 0, "atol": 0}  # else bit for bit
    for p, q in zip(pa, pb):
        torch.testing.assert_close(q, p, **tolerance)
        for key, value in eager.torch_optimizer.state[p].items():
            torch.testing.assert_close(split.torch_optimizer.state[q][key], value, **tolerance)
    assert split.iterations == eager.iterations == 6
    assert split.learning_rate == eager.learning_rate
    assert [g["step"] for g in split.torch_optimizer.param_groups] == [6]


def test_host_step_is_undone_by_restoring_the_host_state():
    opt = optimizers.Adam(_schedule)
    opt.build(_params(torch.float32))
    state = opt.host_state()
    opt.host_step()
    assert opt.iterations == 1
    opt.restore_host_state(state)
    assert opt.iterations == 0 and opt.torch_optimizer.param_groups[0]["step"] == 0


@pytest.mark.parametrize("optimizer, reason", [
    (lambda: optimizers.Nadam(), "optimizer Nadam has no captured update"),
    (lambda: optimizers.TorchOptimizer(torch.optim.SGD), "wraps a torch optimizer"),
])
def test_optimizers_without_a_captured_update_say_so(optimizer, reason):
    opt = optimizer()
    opt.build(_params(torch.float32)) if not opt.built else None
    assert reason in opt.capture_blocker()


# ------------------------------------------------------------------------------------------- eligibility
def _tutorial(units=8, dropout=0.0):
    layers = [GRU(units, return_sequences=True, input_shape=(10, 1))]
    if dropout:
        layers.append(Dropout(dropout))
    return gated.Sequential(layers + [Dense(1, activation="sigmoid")])


def _data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 10, 1), dtype=np.float32)
    return x, (x > 0.5).astype(np.float32)


CUDA = torch.device("cuda")  # blockers() only compares the device type: no GPU needed


@pytest.mark.parametrize("build, reason", [
    (lambda: gated.Sequential([GRU(4, stateful=True, batch_input_shape=(8, 10, 1)), Dense(1)]),
     "(GRU) is stateful (its states change between batches"),
    (lambda: gated.Sequential([Embedding(10, 4, mask_zero=True, input_shape=(10,)), GRU(4), Dense(1)]),
     "(Embedding) makes a mask"),
    (lambda: gated.Sequential([Embedding(10, 4, input_shape=(10,)), GRU(4), Dense(1)]),
     "checks its indices on the host"),
    (lambda: gated.Sequential([GRU(4, input_shape=(10, 1)), Dropout(0.5, seed=3), Dense(1)]),
     "(Dropout) draws dropout masks from its own seeded generator"),
])
def test_layers_that_prevent_capture_are_named(build, reason):
    reasons = _graphs.blockers(build(), CUDA, "auto")
    assert any(reason in r for r in reasons), reasons


def test_the_tutorial_model_is_eligible_on_cuda():
    model = _tutorial(dropout=0.2)
    opt = optimizers.Adam()
    opt.build(model.parameters())
    assert _graphs.blockers(model, CUDA, "auto", opt) == []
    assert _graphs.blockers(model, CUDA, False, opt) == ["jit_compile=False"]
    assert "weight constraints" in _graphs.blockers(model, CUDA, "auto", opt, constraints=True)[0]
    assert "CUDA graphs need a CUDA device" in _graphs.blockers(model, torch.device("cpu"), "auto", opt)[0]


def test_fit_and_predict_on_cpu_run_eagerly_and_say_why():
    model = _tutorial()
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cpu")
    x, y = _data()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert model.last_step_path == _graphs.StepPath(
        "eager", "the model runs on 'cpu', and CUDA graphs need a CUDA device")
    model.predict(x, verbose=0)
    assert model.last_step_path.name == "eager" and "'cpu'" in model.last_step_path.reason


def test_jit_compile_false_is_the_reason_when_set():
    model = _tutorial()
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cpu", jit_compile=False)
    model.fit(*_data(), batch_size=32, verbose=0)
    assert model.last_step_path == _graphs.StepPath("eager", "jit_compile=False")


def test_jit_compile_true_on_cpu_says_what_was_received_why_and_how_to_fix():
    model = _tutorial()
    with pytest.raises(ValueError, match=r"compile\(jit_compile=True\) requires each step to run as a captured CUDA "
                                         r"graph, but capture cannot run here: the model runs on 'cpu', and CUDA "
                                         r"graphs need a CUDA device\. Compile with jit_compile='auto'"):
        model.compile(optimizer="adam", loss="mse", device="cpu", jit_compile=True)


def test_jit_compile_rejects_other_values():
    with pytest.raises(ValueError, match=r"takes 'auto', True or False; received 'yes'"):
        _tutorial().compile(optimizer="adam", loss="mse", device="cpu", jit_compile="yes")


def test_jit_compile_true_with_a_blocker_raises_at_the_first_step_before_any_change(monkeypatch):
    monkeypatch.setattr(_graphs, "_SIMULATE", True)
    model = _tutorial()
    model.compile(optimizer="nadam", loss="mse", device="cpu")
    model.compiled.jit_compile = True  # as compile on CUDA would leave it
    before = [w.copy() for w in model.get_weights()] if model.built else None
    with pytest.raises(ValueError, match=r"capture cannot run here: the model runs on 'cpu'.*; optimizer Nadam has "
                                         r"no captured update"):
        model.fit(*_data(), batch_size=32, verbose=0)
    if before is not None:
        assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


# ------------------------------------------------------------------------------------------- replay logic on CPU
def _fit_pair(optimizer, epochs=2, x=None, y=None, check_finite=True, **fit):
    x, y = _data() if x is None else (x, y)
    runs = []
    for jit in ("auto", False):
        torch.manual_seed(0)
        model = _tutorial()
        model.compile(optimizer=optimizer(), loss="binary_crossentropy", metrics=["accuracy"], device="cpu",
                      jit_compile=jit)
        paths = []

        class Record(gated.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                paths.append(self.model.last_step_path.name)

        with np.errstate(all="ignore"):
            history = model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False, verbose=0, callbacks=[Record()],
                                check_finite=check_finite, **fit)
        runs.append((model, history.history, paths))
    return runs


@pytest.mark.parametrize("optimizer", [lambda: optimizers.Adam(0.01), lambda: optimizers.SGD(0.1, momentum=0.9),
                                       lambda: optimizers.RMSprop(0.01)])
def test_simulated_captured_fit_equals_eager_fit(simulated, optimizer):
    (captured, h_captured, paths), (eager, h_eager, eager_paths) = _fit_pair(optimizer)
    # 4 batches per epoch (the last holds 4 samples): 3 warm-up steps, then the full batches replay
    assert paths == ["eager"] * 4 + ["captured", "captured", "captured", "eager"]
    assert set(eager_paths) == {"eager"}
    for key in h_eager:
        np.testing.assert_allclose(h_captured[key], h_eager[key], rtol=1e-6, atol=1e-7, err_msg=key)
    for a, b in zip(captured.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert captured.optimizer.iterations == eager.optimizer.iterations == 8


def test_simulated_captured_fit_stops_at_a_nan_with_the_weights_before_that_batch(simulated):
    x, y = _data(200)
    x[5 * 32 + 3, 4, 0] = np.nan  # batch 6 (a replayed one): 3 warm-up, capture at 4, replays 4 and 5
    with pytest.warns(RuntimeWarning, match="the loss became nan at epoch 1, batch 6"):
        (captured, h_captured, paths), (eager, h_eager, _) = _fit_pair(lambda: optimizers.Adam(0.01), epochs=1,
                                                                       x=x, y=y, check_finite=False)
    assert paths[-1] == "captured" and len(paths) == 5
    for a, b in zip(captured.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert captured.optimizer.iterations == eager.optimizer.iterations == 5
    for p, q in zip(captured.parameters(), eager.parameters()):
        for key, value in captured.optimizer.torch_optimizer.state[p].items():
            torch.testing.assert_close(value, eager.optimizer.torch_optimizer.state[q][key], rtol=1e-5, atol=1e-6)


def test_simulated_predict_replays_per_input_shape(simulated):
    model = _tutorial()
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cpu")
    x, _ = _data(200)
    expected = model.predict(x, batch_size=32, verbose=0)
    got = model.predict(x, batch_size=32, verbose=0)  # warm-up ended in the first call: replays
    assert model.last_step_path.name == "eager"  # the short last batch
    np.testing.assert_array_equal(got, expected)
    model.predict(x[:64], batch_size=32, verbose=0)
    assert model.last_step_path.name == "captured"


def test_simulated_cache_keeps_at_most_cache_size_shapes(simulated):
    cache = _graphs._Cache()
    for i in range(_graphs.CACHE_SIZE + 2):
        cache.store(("key", i), object())
    assert len(cache.entries) == _graphs.CACHE_SIZE and ("key", 0) not in cache.entries


def test_a_failed_capture_warns_once_and_runs_eagerly():
    cache = _graphs._Cache()
    with pytest.warns(RuntimeWarning, match=r"could not be captured as a CUDA graph \(capture failed: RuntimeError: "
                                            r"boom\).*compile with jit_compile=False"):
        reason = cache.fail(("k",), RuntimeError("boom\nmore"), "training")
    assert reason == "capture failed: RuntimeError: boom"
    assert cache.lookup(("k",)) == (None, reason)


# ------------------------------------------------------------------------------------------- no host sync inside
class _NoHostSync(TorchDispatchMode):
    SYNCING = {"aten::_local_scalar_dense", "aten::nonzero", "aten::_unique2", "aten::masked_select",
               "aten::unique_consecutive", "aten::unique_dim"}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func._schema.name in self.SYNCING:
            raise AssertionError(f"{func._schema.name} reads a device value on the host (not capturable)")
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("torch_kernel", [False, True])
@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", "adamw"])
def test_the_captured_body_reads_nothing_back_to_the_host(monkeypatch, optimizer, torch_kernel):
    """Forward, loss, backward, clipping and the update with tensor scalars; with torch_kernel the GRU runs
    torch's fused kernel (on CUDA the same call runs cuDNN)."""
    monkeypatch.setattr(_graphs, "_SIMULATE", True)
    if torch_kernel:
        monkeypatch.setenv("GATED_CPU_KERNEL", "0")
    model = _tutorial(dropout=0.3)
    opt = optimizers.get(optimizer)
    opt.global_clipnorm = 1.0
    model.compile(optimizer=opt, loss="binary_crossentropy", metrics=["accuracy"], device="cpu")
    x, y = _data(64)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # builds everything, creates the slots
    from gated.training._step import StepInputs, TrainStep

    executor = _graphs.CapturedExecutor(TrainStep(model, model.compiled))
    executor.cache = _graphs._Cache()
    xb, yb = torch.as_tensor(x[:32]), torch.as_tensor(y[:32])
    entry, reason = executor._capture(("k",), StepInputs(xb, [yb], [None], 32))
    assert reason is None
    host = opt.host_step()
    entry.scalars.fill(host)
    before = [p.detach().clone() for p in model.parameters()]
    with _NoHostSync():
        entry.replay()
    assert all(not torch.equal(a, p) for a, p in zip(before, model.parameters()))
    assert ("gated-cpu" in model.layers[0].last_path.kernel) != torch_kernel, model.layers[0].last_path


def test_a_failed_capture_changes_nothing_and_the_fit_equals_the_eager_fit(simulated, monkeypatch):
    monkeypatch.setattr(_graphs, "_capture_graph", lambda body, stream: (RuntimeError("boom\nmore"), None))
    with pytest.warns(RuntimeWarning, match=r"training step could not be captured as a CUDA graph \(capture failed: "
                                            r"RuntimeError: boom\); it runs eagerly for these batch shapes\. To "
                                            r"silence this, compile with jit_compile=False\."):
        (failed, h_failed, paths), (eager, h_eager, _) = _fit_pair(lambda: optimizers.Adam(0.01))
    assert set(paths) == {"eager"} and failed.last_step_path.reason.startswith("warm-up")  # the short last batch
    assert h_failed == h_eager
    for a, b in zip(failed.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_jit_compile_true_raises_when_the_capture_fails(simulated, monkeypatch):
    monkeypatch.setattr(_graphs, "_capture_graph", lambda body, stream: (RuntimeError("boom"), None))
    model = _tutorial()
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cpu")
    model.compiled.jit_compile = True
    with pytest.raises(ValueError, match=r"capture cannot run here: capture failed: RuntimeError: boom\. Compile "
                                         r"with jit_compile='auto'"), pytest.warns(RuntimeWarning):
        model.fit(*_data(), batch_size=32, epochs=2, verbose=0)  # the capture: first batch of epoch 2


def test_a_copied_model_starts_without_graphs(simulated):
    import copy

    model = _tutorial()
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cpu")
    model.fit(*_data(), batch_size=32, epochs=2, verbose=0)
    for _ in range(2):
        model.predict(_data()[0], batch_size=32, verbose=0)
    assert model.compiled._step_graphs.entries and model._predict_graphs.entries
    clone = copy.deepcopy(model)
    assert not clone.compiled._step_graphs.entries and not clone._predict_graphs.entries


def test_weights_replaced_by_new_tensors_are_detected_and_captured_again(simulated):
    reasons = []

    class Replace(gated.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            reasons.append(self.model.last_step_path)
            if batch == 4:
                first = next(self.model.parameters())
                first.data = first.data.clone()  # a new address: a graph would still read the old one

    model = _tutorial()
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cpu")
    x, y = _data(320)
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0, callbacks=[Replace()])
    assert [p.name for p in reasons] == ["eager"] * 3 + ["captured"] * 2 + ["eager"] + ["captured"] * 4
    assert reasons[5].reason.startswith("the weights or optimizer slots were replaced since the capture")


@pytest.mark.slow
def test_the_gpu_train_step_benchmark_runs_on_the_cpu(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_train_step.py"
    out = tmp_path / "result.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, str(script), "--device", "cpu", "--epochs", "1", "--repeats", "1", "--json",
                    str(out)], check=True, capture_output=True, env=env, timeout=300)
    rows = json.loads(out.read_text())["rows"]
    assert [r["variant"] for r in rows] == ["gated eager", "torch (ATen CPU)"]
    assert all(r["ms_per_step_median"] > 0 and np.isfinite(r["final_loss"]) for r in rows)
