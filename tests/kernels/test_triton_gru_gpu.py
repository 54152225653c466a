"""gated's fused GPU GRU kernel compiled and run on a CUDA GPU: against cuDNN and a float64 loop, the grid barrier,
CUDA-graph capture, and the measured dispatch inside a layer and a fit."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton", reason="the fused GPU GRU kernel is written in Triton")

import gated  # noqa: E402
from gated.kernels import _gpu_gru, _triton_gru  # noqa: E402
from gated.kernels._dispatch import Kernel  # noqa: E402
from gated.layers import GRU, Dense  # noqa: E402

from ..layers.support import close  # noqa: E402
from .test_triton_gru import _problem, _reference  # noqa: E402

pytestmark = pytest.mark.gpu

SHAPES = [(1, 50, 64, 256), (32, 20, 64, 256), (3, 7, 5, 40), (70, 10, 8, 128), (32, 10, 1, 128), (2, 30, 16, 200)]


@pytest.fixture(autouse=True)
def _fresh_decisions(ieee_fp32):
    _gpu_gru.forget()  # each test measures its shapes itself, in full fp32
    yield
    _gpu_gru.forget()


def _on_gpu(tensors):
    return [t.detach().cuda().requires_grad_() for t in tensors]


def _grads(out, final, tensors, seed=1):
    g = torch.Generator(device="cuda").manual_seed(seed)
    d_out = torch.randn(out.shape, generator=g, device="cuda")
    d_final = torch.randn(final.shape, generator=g, device="cuda")
    return torch.autograd.grad((out * d_out).sum() + (final * d_final).sum(), tensors), (d_out, d_final)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_every_candidate_split_matches_a_float64_loop(shape):
    batch, steps, features, units = shape
    cpu = _problem(batch, steps, features, units)
    ref_out, ref_final = _reference(*cpu)
    configs = _triton_gru.candidates(batch, units, torch.cuda.get_device_properties(0).multi_processor_count)
    configs.append(_triton_gru.Config(_triton_gru.batch_block(batch), 16, 4, persistent=False))
    for cfg in configs:
        tensors = _on_gpu(cpu)
        out, final = _triton_gru.run(*tensors, cfg)
        close(out.double().cpu(), ref_out, f"{cfg}: outputs", 1e-5)
        close(final.double().cpu(), ref_final, f"{cfg}: final", 1e-5)
        got, (d_out, d_final) = _grads(out, final, tensors)
        want = torch.autograd.grad((ref_out * d_out.double().cpu()).sum() + (ref_final * d_final.double().cpu()).sum(),
                                   cpu, retain_graph=True)
        for name, a, b in zip(["x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"], got, want):
            close(a.double().cpu(), b, f"{cfg}: d{name}", 1e-4 * max(1.0, float(b.abs().max())))


def test_the_barrier_never_times_out_and_persistent_equals_one_launch_per_step():
    x, h0, w_ih, w_hh, b_ih, b_hh = (t.detach().cuda() for t in _problem(64, 30, 16, 256))
    gx = _triton_gru.project(x, w_ih, b_ih)
    stepwise = _triton_gru.forward(gx, h0, w_hh, b_hh, _triton_gru.Config(32, 16, 4, False), save=True)
    for _ in range(20):
        ws = _triton_gru.forward(gx, h0, w_hh, b_hh, _triton_gru.Config(32, 16, 4, True), save=True)
        assert ws.flag.item() == 0 and ws.counter.tolist() == [30 * 16, 30 * 16]
        close(ws.states, stepwise.states, "states", 1e-6)


def test_tf32_stays_within_its_documented_tolerance():
    torch.backends.cudnn.allow_tf32 = True
    cpu = _problem(32, 100, 64, 256)
    tensors = _on_gpu(cpu)
    out, _ = _triton_gru.run(*tensors, _triton_gru.Config(32, 16, 4))
    ref_out, _ = _reference(*cpu)
    close(out.double().cpu(), ref_out, "tf32 outputs after 100 steps", 2e-2)


def test_the_kernel_replays_inside_a_cuda_graph():
    x, h0, *weights = (t.detach().cuda() for t in _problem(8, 12, 4, 128))
    cfg = _triton_gru.Config(16, 16, 4)
    static_x = x.clone()
    with torch.no_grad():
        _triton_gru.run(static_x, h0, *weights, cfg)  # compile outside the capture
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out, _ = _triton_gru.run(static_x, h0, *weights, cfg)
        for seed in range(3):
            static_x.copy_(torch.randn(x.shape, generator=torch.Generator(device="cuda").manual_seed(seed),
                                       device="cuda"))
            graph.replay()
            expected, _ = _triton_gru.run(static_x, h0, *weights, cfg)
            close(static_out, expected, f"replay {seed}", 0.0)


def test_a_layer_measures_once_per_shape_and_reports_the_choice():
    layer = GRU(256, return_sequences=True).cuda()
    x = torch.randn(1, 200, 64, device="cuda")
    with torch.no_grad():
        out = layer(x)
    key = _gpu_gru.key(x, 256, False)
    decision = _gpu_gru.decisions()[key]
    assert "cudnn" in decision.timings and len(decision.timings) >= 2, decision.reason
    assert decision.reason in layer.last_path.reason
    expected = "gated-triton" if decision.choice == "fused" else "cuDNN"
    assert expected in layer.last_path.detail
    assert layer.last_path.kernel is (Kernel.TRITON if decision.choice == "fused" else Kernel.CUDNN)
    with torch.no_grad():  # the plan for a measured shape (and gradient mode) is its decision
        assert layer.dispatch(inputs=x) == layer.last_path
    reference = layer.to_torch().cuda()(x)[0]
    close(out, reference, "layer output vs torch.nn.GRU", 1e-5)
    with torch.no_grad():
        layer(x)
    assert len(_gpu_gru.decisions()) == 1  # the second call reused the decision


def test_fit_on_the_fused_kernel_equals_fit_on_cudnn(monkeypatch):
    torch.manual_seed(0)
    x = torch.randn(256, 10, 1).numpy()
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")
    real_choose = _gpu_gru.choose
    histories, weights = [], []
    for kernel in ("fused", "cudnn"):
        gated.utils.set_random_seed(0)
        model = gated.Sequential([GRU(128, return_sequences=True, input_shape=(10, 1)), GRU(64),
                                  Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cuda",
                      jit_compile=False)
        if kernel == "fused":  # every shape this fit sees decides for the fused kernel, whatever the timings
            monkeypatch.setattr(_gpu_gru, "choose", lambda timings, configs, dropped: real_choose(
                {k: (0.0 if k.startswith("fused") else 1.0) for k in timings}, configs, dropped))
        else:
            monkeypatch.setenv("GATED_GPU_KERNEL", "0")
        history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        monkeypatch.undo()
        _gpu_gru.forget()
        assert (model.layers[0].last_path.kernel is Kernel.TRITON) == (kernel == "fused"), model.layers[0].last_path
        histories.append(history.history)
        weights.append(model.get_weights())
    for key in histories[0]:
        assert histories[0][key] == pytest.approx(histories[1][key], abs=1e-5), key
    for a, b in zip(*weights):
        assert abs(a - b).max() < 1e-4
