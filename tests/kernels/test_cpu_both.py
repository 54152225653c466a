"""What gated's C++ GRU and LSTM kernels share, checked for both cells: edge shapes against the step loop, the
training call's kernel entry points, and the opt-out to torch's fused kernels. Each cell's own checks:
test_cpu_kernel.py (GRU), test_cpu_kernel_lstm.py (LSTM)."""

from __future__ import annotations

import pytest
import torch

from gated.kernels._dispatch import Kernel
from gated.layers import GRU, LSTM

from ..layers.support import B, F, T, close, random_layer

CELLS = {"gru": GRU, "lstm": LSTM}


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("shape", [(0, 3, 2, 4), (2, 1, 3, 1), (5, 7, 33, 70)], ids=["empty_batch", "one_unit",
                                                                                   "odd_sizes"])
def test_edge_shapes_equal_the_step_loop(kind, shape):
    b, t, f, h = shape
    fast = random_layer(CELLS[kind], torch.float64, f, h, return_sequences=True)
    slow = CELLS[kind](h, return_sequences=True, dtype=torch.float64, use_cudnn=False)
    slow(torch.zeros(1, 1, f, dtype=torch.float64))
    slow.set_weights(fast.get_weights())
    x = torch.randn(b, t, f, dtype=torch.float64)
    results = []
    for layer in (fast, slow):
        xs = x.clone().requires_grad_(True)
        out = layer(xs)
        out.sum().backward()
        results.append((out, xs.grad, [p.grad for p in layer.parameters()]))
    assert fast.last_path.kernel is Kernel.GATED_CPU and slow.last_path.kernel is Kernel.LOOP
    assert results[0][0].shape == (b, t, h)
    close(results[0][0], results[1][0], "outputs", 1e-12)
    close(results[0][1], results[1][1], "d/d inputs", 1e-12)
    for ours, loops in zip(results[0][2], results[1][2]):
        close(ours, loops, "d/d weight", 1e-12)


@pytest.mark.parametrize("kind", CELLS)
def test_training_call_runs_the_training_forward_and_the_kernel_backward(kind, kernel_spy):
    layer = random_layer(CELLS[kind], torch.float32)
    kernel_spy.calls.clear()
    layer(torch.randn(B, T, F)).sum().backward()
    assert kernel_spy.calls == [(f"{kind}_forward", True), (f"{kind}_backward", None)]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())


@pytest.mark.parametrize("kind", CELLS)
def test_opting_out_runs_torch_fused_kernel(kind, monkeypatch, vf_calls):
    monkeypatch.setenv("GATED_CPU_KERNEL", "0")
    layer = random_layer(CELLS[kind], torch.float32)
    vf_calls.clear()
    layer(torch.randn(B, T, F))
    assert vf_calls == [kind] and layer.last_path.kernel is Kernel.TORCH_FUSED
    assert layer.last_path.detail == f"torch._VF.{kind} (ATen cpu)"
