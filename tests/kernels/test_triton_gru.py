"""gated's fused GPU GRU kernel, its math checked on the CPU through Triton's interpreter, and the GPU dispatch
logic that needs no GPU. The compiled kernel on a GPU: tests/kernels/test_triton_gru_gpu.py."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton", reason="Triton ships for Linux x86-64 only (the test extra installs it there)")

from gated.kernels import _dispatch, _gpu_gru, _triton_gru  # noqa: E402
from gated.kernels._dispatch import Kernel  # noqa: E402
from gated.layers import GRU, GRUCell  # noqa: E402

from ..layers.support import close


def _reference(x, h0, w_ih, w_hh, b_ih, b_hh):
    """A float64 loop over torch's GRU equations (gate order r, z, n; reset after the recurrent product)."""
    x, h, w_ih, w_hh, b_ih, b_hh = (t.double() for t in (x, h0, w_ih, w_hh, b_ih, b_hh))
    outputs = []
    for t in range(x.shape[1]):
        xr, xz, xn = (x[:, t] @ w_ih.t() + b_ih).chunk(3, dim=1)
        hr, hz, hn = (h @ w_hh.t() + b_hh).chunk(3, dim=1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        outputs.append(h)
    return torch.stack(outputs, 1) if outputs else x.new_zeros(x.shape[0], 0, h.shape[1]), h


def _problem(batch, steps, features, units, seed=0):
    g = torch.Generator().manual_seed(seed)
    scale = units ** -0.5

    def rand(*shape, s=1.0):
        return (torch.randn(*shape, generator=g) * s).requires_grad_()

    return (rand(batch, steps, features), rand(batch, units, s=0.5), rand(3 * units, features, s=scale),
            rand(3 * units, units, s=scale), rand(3 * units, s=0.1), rand(3 * units, s=0.1))


CASES = {  # (B, T, F, H, block_j, persistent)
    "one program, persistent": (3, 6, 4, 16, 16, True),
    "three column programs with ragged H, one launch per step": (5, 4, 3, 40, 16, False),
    "two batch blocks, persistent": (40, 3, 5, 16, 16, True),
    "two batch blocks, two column programs per step": (33, 3, 2, 32, 16, False),
    "block_j 32 covering H 20": (2, 5, 3, 20, 32, True),
    "one step": (4, 1, 3, 16, 16, True),
    "one program holding all of H 100": (3, 4, 3, 100, 128, True),
}


@pytest.mark.parametrize("case", CASES)
def test_forward_and_every_gradient_match_a_float64_loop(case):
    batch, steps, features, units, block_j, persistent = CASES[case]
    tensors = _problem(batch, steps, features, units)
    cfg = _triton_gru.Config(_triton_gru.batch_block(batch), block_j, 4, persistent)
    out, final = _triton_gru.run(*tensors, cfg)
    ref_out, ref_final = _reference(*tensors)
    close(out.double(), ref_out, "outputs", 2e-6)
    close(final.double(), ref_final, "final state", 2e-6)
    g = torch.Generator().manual_seed(1)
    d_out, d_final = torch.randn(out.shape, generator=g), torch.randn(final.shape, generator=g)
    got = torch.autograd.grad((out * d_out).sum() + (final * d_final).sum(), tensors)
    want = torch.autograd.grad((ref_out * d_out.double()).sum() + (ref_final * d_final.double()).sum(), tensors)
    for name, a, b in zip(["x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"], got, want):
        close(a.double(), b, f"d{name}", 1e-5)


def test_matches_torchs_fp32_kernel():
    tensors = _problem(6, 7, 5, 24)
    out, final = _triton_gru.run(*tensors, _triton_gru.Config(16, 16, 4, False))
    torch_out, torch_final = torch._VF.gru(tensors[0], tensors[1][None], list(tensors[2:]), True, 1, 0.0, False,
                                           False, True)
    close(out, torch_out, "outputs", 1e-6)
    close(final, torch_final[0], "final state", 1e-6)


def test_inference_forward_equals_the_training_forward_bit_for_bit():
    tensors = _problem(5, 6, 3, 40)
    cfg = _triton_gru.Config(16, 16, 4, False)
    trained, trained_final = _triton_gru.run(*tensors, cfg)
    with torch.no_grad():
        inferred, inferred_final = _triton_gru.run(*tensors, cfg)
    assert torch.equal(trained.detach(), inferred) and torch.equal(trained_final.detach(), inferred_final)


def test_grid_barrier_counts_every_step_and_changes_nothing():
    x, h0, w_ih, w_hh, b_ih, b_hh = (t.detach() for t in _problem(20, 5, 3, 16))
    gx = torch.addmm(b_ih, x.reshape(-1, 3), w_ih.t()).view(20, 5, -1)
    cfg = _triton_gru.Config(16, 16, 4, True)
    plain = _triton_gru.forward(gx, h0, w_hh, b_hh, cfg, save=True)
    synced = _triton_gru.forward(gx, h0, w_hh, b_hh, cfg, save=True, grid_barrier=True)
    assert torch.equal(plain.states, synced.states) and torch.equal(plain.gates, synced.gates)
    assert synced.counter.tolist() == [5, 5] and synced.flag.item() == 0  # two batch blocks, five steps each
    d_out = torch.randn(20, 5, 16)
    d_final = torch.randn(20, 16)
    expected = _triton_gru.backward(d_out, d_final, plain, w_hh, cfg)
    actual = _triton_gru.backward(d_out, d_final, synced, w_hh, cfg, grid_barrier=True)
    for a, b in zip(actual, expected):
        assert torch.equal(a, b)


def test_zero_steps_return_the_initial_state_and_pass_its_gradient_through():
    x, h0, *weights = _problem(3, 0, 2, 16)
    out, final = _triton_gru.run(x, h0, *weights, _triton_gru.Config(16, 16))
    assert out.shape == (3, 0, 16)
    close(final, h0, "final state", 0.0)
    (grad,) = torch.autograd.grad(final.sum(), [h0])
    close(grad, torch.ones_like(h0), "dh0", 0.0)


def test_candidates_only_offer_splits_whose_programs_all_fit_at_once():
    for batch, units, limit in [(1, 256, 132), (256, 256, 132), (32, 128, 8), (1, 16, 1)]:
        found = _triton_gru.candidates(batch, units, limit)
        assert found, (batch, units, limit)
        for cfg in found:
            n_j, n_b = cfg.grid(batch, units)
            assert n_j * n_b <= limit and cfg.persistent
    assert _triton_gru.candidates(512, 256, 132) == []  # 16 batch blocks x 16 column blocks
    assert _triton_gru.candidates(32, 256, 8) == []
    assert _triton_gru.Config(16, 16, 8) == _triton_gru.Config(16, 16, 8)
    assert "persistent" in repr(_triton_gru.Config(16, 16)) and "per step" in repr(_triton_gru.Config(16, 16,
                                                                                                        persistent=False))


def test_choose_keeps_cudnn_unless_a_fused_split_was_measured_faster():
    fast, slow = _triton_gru.Config(16, 16), _triton_gru.Config(16, 32)
    configs = {"fused a": fast, "fused b": slow}
    decision = _gpu_gru.choose({"cudnn": 1.9, "fused a": 0.4, "fused b": 0.7}, configs, {})
    assert decision.choice == "fused" and decision.config is fast
    assert decision.reason.startswith("measured on the first call with this shape: fused a 0.400 ms, fused b 0.700")
    decision = _gpu_gru.choose({"cudnn": 0.3, "fused a": 0.4}, configs, {"fused c": "differs from cuDNN by 1e-1"})
    assert decision.choice == "cudnn" and decision.config is None
    assert "dropped: fused c (differs from cuDNN by 1e-1)" in decision.reason
    with pytest.raises(ValueError, match=r"needs cuDNN's timing to compare against, received \['fused a'\]"):
        _gpu_gru.choose({"fused a": 0.4}, configs, {})


def test_blockers_name_what_keeps_the_fused_gpu_kernel_off(monkeypatch):
    cuda = torch.device("cuda")
    assert _gpu_gru.blockers(cuda, torch.float32, "none", 256) == []
    assert _gpu_gru.blockers(cuda, torch.bfloat16, "right", 1024) == [
        "torch.bfloat16 (the fused GPU kernel computes in float32)", "a mask",
        "H=1024 > 256 (the recurrent weights no longer fit on chip)"]
    assert _gpu_gru.blockers(torch.device("cpu"), torch.float32, "none", 8) == ["weights on cpu"]
    monkeypatch.setenv("GATED_GPU_KERNEL", "0")
    assert _gpu_gru.blockers(cuda, torch.float32, "none", 256) == ["GATED_GPU_KERNEL=0"]


def test_a_layer_on_the_cpu_never_takes_the_gpu_path():
    layer = GRU(8)
    x = torch.randn(2, 3, 4)
    layer(x)
    decided = _dispatch.decide(layer, _dispatch.NO_MASK, False, x, torch.zeros(2, 8))
    assert decided == layer.last_path == layer.dispatch(inputs=x)
    assert decided.kernel is Kernel.GATED_CPU and "gated-triton" not in layer.last_path.kernel
    assert _gpu_gru.decisions() == {}  # nothing was measured
    assert Kernel.TRITON not in _dispatch.fused_kernels(GRUCell.spec, "cpu")
    assert _dispatch.fused_kernels(GRUCell.spec, "cuda") == (Kernel.TRITON, Kernel.CUDNN)


def test_the_module_imports_without_loading_triton():
    """Triton is optional: gated imports its kernel modules without it, and loads it only to compile a kernel."""
    import subprocess
    import sys

    script = ("import sys, gated, gated.kernels._triton_gru, gated.kernels._gpu_gru; "
              "print('triton' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"
