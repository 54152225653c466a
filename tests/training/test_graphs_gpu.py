"""Whole-step CUDA-graph capture on a GPU: a captured fit / predict equals the eager one (jit_compile=False)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated import optimizers

try:  # the CPU tests' model and data, here at the tutorial's size (GRU(128), 1000 samples)
    from tests.training.test_graphs import _data, _tutorial
except ImportError:  # tests/ is on sys.path under bare `pytest`
    from test_graphs import _data, _tutorial

UNITS, SAMPLES = 128, 1000

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("ieee_fp32")]


class _Record(gated.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.paths, self.reasons, self.losses = [], [], []

    def on_train_batch_end(self, batch, logs=None):
        self.paths.append(self.model.last_step_path.name)
        self.reasons.append(self.model.last_step_path.reason)  # in the assertion messages: why a step was eager
        self.losses.append(logs["loss"])


def _fit(optimizer, jit, x, y, weights=None, epochs=2, model=None, **fit):
    model = model or _tutorial(UNITS)
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer=optimizer(), loss="binary_crossentropy", metrics=["accuracy"], device="cuda",
                  jit_compile=jit)
    record = _Record()
    torch.manual_seed(0)
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=[record], **fit)
    return model, history.history, record


def test_plain_torch_cudnn_gru_training_step_can_be_captured():
    """The premise, without gated: cuDNN's GRU forward and backward inside one CUDA graph (if this fails, every
    captured fit of a GRU model on cuDNN falls back to eager with 'capture failed' as the reason)."""
    gru = torch.nn.GRU(1, 128, batch_first=True).cuda()
    x = torch.rand(32, 10, 1, device="cuda")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            gru.zero_grad(set_to_none=True)
            gru(x)[0].sum().backward()
    torch.cuda.current_stream().wait_stream(side)
    gru.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=side, capture_error_mode="thread_local"):
        out = gru(x)[0]
        out.sum().backward()
    x.copy_(torch.rand(32, 10, 1, device="cuda"))
    graph.replay()
    expected = gru(x)[0]
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)


OPTIMIZERS = {"adam": lambda: "adam", "sgd_momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
              "rmsprop": lambda: optimizers.RMSprop(0.005)}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_captured_fit_equals_eager_fit_on_the_tutorial_model(name):
    x, y = _data(SAMPLES)  # 31 full batches of 32 and a last one of 8 per epoch
    weights = _tutorial(UNITS).get_weights()
    eager, h_eager, _ = _fit(OPTIMIZERS[name], False, x, y, weights)
    captured, h_captured, record = _fit(OPTIMIZERS[name], "auto", x, y, weights)
    assert eager.last_step_path.reason == "jit_compile=False"
    # epoch 1: 3 warm-up steps, 28 replays, the short batch eagerly; epoch 2: 31 replays, the short batch eagerly
    assert record.paths[:3] == ["eager"] * 3 and record.paths[3:31] == ["captured"] * 28, record.reasons[:5]
    assert record.paths[31] == "eager" and record.paths[32:63] == ["captured"] * 31 and record.paths[63] == "eager", (
        record.reasons[30:34])
    assert sorted(h_captured) == sorted(h_eager)
    for key in h_eager:
        np.testing.assert_allclose(h_captured[key], h_eager[key], rtol=1e-5, atol=1e-5, err_msg=key)
    for a, b in zip(captured.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert captured.optimizer.iterations == eager.optimizer.iterations == 64


def test_a_nan_in_a_replayed_batch_stops_with_the_weights_before_it():
    x, y = _data(SAMPLES)
    x[10 * 32 + 5, 3, 0] = np.nan  # batch 11, a replayed one
    weights = _tutorial(UNITS).get_weights()
    runs = []
    for jit in (False, "auto"):
        with pytest.warns(RuntimeWarning, match="the loss became nan at epoch 1, batch 11"):
            runs.append(_fit(lambda: "adam", jit, x, y, weights, check_finite=False, shuffle=False))
    (eager, _, _), (captured, _, record) = runs
    assert record.paths[-1] == "captured" and len(record.paths) == 10, record.reasons
    assert captured.last_step_path.name == "captured"
    for a, b in zip(captured.get_weights(), eager.get_weights()):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert captured.optimizer.iterations == eager.optimizer.iterations == 10


def test_dropout_draws_new_masks_at_every_replay_and_trains():
    x, y = _data(32)
    x, y = np.tile(x, (20, 1, 1)), np.tile(y, (20, 1, 1))  # the same batch 20 times
    model, _, record = _fit(lambda: optimizers.SGD(0.0), "auto", x, y, _tutorial(UNITS, 0.5).get_weights(),
                            epochs=1, model=_tutorial(UNITS, 0.5), shuffle=False)
    means = np.array(record.losses)
    batch_losses = means * np.arange(1, 21) - np.concatenate([[0.0], means[:-1] * np.arange(1, 20)])
    captured = batch_losses[np.array(record.paths) == "captured"]
    assert len(captured) == 17, record.reasons[:5]
    assert len(np.unique(np.round(captured, 6))) > 10, captured  # lr 0: only the dropout masks differ
    x, y = _data(SAMPLES)
    _, history, record = _fit(lambda: "adam", "auto", x, y, epochs=3, model=_tutorial(UNITS, 0.3))
    assert "captured" in record.paths, record.reasons[:5]
    assert history["loss"][-1] < history["loss"][0]


def test_captured_predict_equals_eager_predict():
    model = _tutorial(UNITS)
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cuda", jit_compile=False)
    x, _ = _data(SAMPLES)
    eager = model.predict(x, batch_size=32, verbose=0)
    assert model.last_step_path.reason == "jit_compile=False"
    model.compiled.jit_compile = "auto"
    first = model.predict(x, batch_size=32, verbose=0)  # 3 eager batches, then replays
    second = model.predict(x, batch_size=32, verbose=0)
    np.testing.assert_allclose(first, eager, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(second, eager, rtol=1e-6, atol=1e-6)
    model.predict(x[:64], batch_size=32, verbose=0)
    assert model.last_step_path.name == "captured", model.last_step_path.reason


def test_jit_compile_true_captures_and_refuses_what_cannot_be_captured():
    x, y = _data(256)
    model, _, record = _fit(lambda: "adam", True, x, y, epochs=1)
    assert record.paths[-1] == "captured", record.reasons
    model.compile(optimizer="nadam", loss="binary_crossentropy", device="cuda", jit_compile=True)
    with pytest.raises(ValueError, match="optimizer Nadam has no captured update"):
        model.fit(x, y, batch_size=32, verbose=0)


def test_a_failed_capture_warns_once_leaves_the_weights_alone_and_runs_eagerly():
    def syncing_loss(y_true, y_pred):
        float(y_pred.sum())  # a host sync: not capturable
        return gated.losses.binary_crossentropy(y_true, y_pred)

    x, y = _data(320)
    weights = _tutorial(UNITS).get_weights()
    runs = []
    for jit in (False, "auto"):
        model = _tutorial(UNITS)
        model.set_weights(weights)
        model.compile(optimizer="adam", loss=syncing_loss, device="cuda", jit_compile=jit)
        torch.manual_seed(0)
        if jit is False:
            runs.append((model, model.fit(x, y, batch_size=32, epochs=1, verbose=0).history))
            continue
        with pytest.warns(RuntimeWarning, match=r"could not be captured as a CUDA graph \(capture failed: .*"
                                                r"compile with jit_compile=False"):
            runs.append((model, model.fit(x, y, batch_size=32, epochs=1, verbose=0).history))
        assert model.last_step_path.name == "eager" and model.last_step_path.reason.startswith("capture failed")
    (eager, h_eager), (failed, h_failed) = runs
    np.testing.assert_allclose(h_failed["loss"], h_eager["loss"], rtol=1e-5, atol=1e-5)
    for a, b in zip(failed.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
