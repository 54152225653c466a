"""gated's C++ GRU kernel for the CPU (``gated.kernels._cpu_gru``): exact, used where it should be, and optional.

* The extension builds here (a compiler is part of the test environment) and GRU layers on the CPU run it.
* Float64: outputs, final states and every gradient (inputs, initial state, kernel, recurrent kernel, bias) equal the
  float64 loop reference of Keras's equations (``tests/reference.py``) over return_sequences x masks x
  zero_output_for_mask x go_backwards x use_bias; ``torch.autograd.gradcheck`` on the raw autograd function.
* Float32: the kernel equals torch's own fused path (``GATED_CPU_KERNEL=0``) within 1e-5, forward and backward.
* The inference forward (no graph) equals the training forward bit for bit; a Streamer's C++ step equals the layer.
* Dispatch: a spy on the compiled module shows which entry point runs (training or inference forward) and that it
  does not run for reset_after=False, GATED_CPU_KERNEL=0 or use_cudnn=False; a build that fails (a compiler that
  does not work, in a subprocess) gives one warning saying how to fix it and a path reason naming the failure.

Edge shapes, the training call's entry points and the opt-out are checked for both cells in
test_cpu_kernels_both.py.

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import gated
from gated import layers as L
from gated.deploy import Streamer
from gated.kernels import _cpu_gru
from gated.kernels._dispatch import Kernel
from gated.layers import GRU
from gated.saving import _convert

from ..layers.support import MASKS, B, F, H, T, as_mask, close, random_layer

try:  # tests/ is a namespace package under `python -m pytest`; its folder is on sys.path under bare `pytest`
    from tests import reference
except ImportError:
    import reference


def _mask(name: str) -> torch.Tensor | None:
    return as_mask(MASKS[name])


def _layer(dtype=torch.float64, features=F, units=H, **kwargs) -> GRU:
    return random_layer(GRU, dtype, features, units, **kwargs)


def test_the_extension_builds_and_runs_gru_layers_on_the_cpu():
    assert _cpu_gru.status() is None, _cpu_gru.status()
    layer = _layer(torch.float32)
    layer(torch.randn(B, T, F))
    assert layer.last_path.kernel is Kernel.GATED_CPU and layer.last_path.reason == "eligible"
    assert layer.last_path.name == "fused" and layer.last_path.detail.startswith("gated-cpu GRU (C++")


# --------------------------------------------------------------------------------- float64 against the reference
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("zero_output_for_mask", [False, True], ids=["carry_output", "zero_output"])
@pytest.mark.parametrize("mask_name", MASKS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_kernel_equals_the_float64_reference_outputs_states_and_every_gradient(return_sequences, go_backwards,
                                                                               mask_name, zero_output_for_mask,
                                                                               use_bias):
    layer = _layer(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                   zero_output_for_mask=zero_output_for_mask, use_bias=use_bias)
    x = torch.randn(B, T, F, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    mask = _mask(mask_name)
    output, final = layer(x, initial_state=[h0], mask=mask)
    assert layer.last_path.kernel is Kernel.GATED_CPU, str(layer.last_path)

    kernel, recurrent, *bias = [torch.tensor(w, requires_grad=True) for w in layer.get_weights()]
    x_ref = x.detach().clone().requires_grad_(True)
    h0_ref = h0.detach().clone().requires_grad_(True)
    outputs_ref, (final_ref,) = reference.gru(x_ref, kernel, recurrent, bias[0] if bias else None, h0_ref,
                                              reset_after=True, mask=mask, go_backwards=go_backwards,
                                              zero_output_for_mask=zero_output_for_mask)
    output_ref = outputs_ref if return_sequences else outputs_ref[:, -1]
    close(output, output_ref, "output", 1e-12)
    close(final, final_ref, "final state", 1e-12)

    w_out, w_final = torch.randn_like(output), torch.randn_like(final)
    ((output * w_out).sum() + (final * w_final).sum()).backward()
    ((output_ref * w_out).sum() + (final_ref * w_final).sum()).backward()
    close(x.grad, x_ref.grad, "d/d inputs", 1e-12)
    close(h0.grad, h0_ref.grad, "d/d initial state", 1e-12)
    cell = layer.cell
    close(_convert.kernel_to_keras(cell.weight_ih.grad, cell.spec), kernel.grad, "d/d kernel", 1e-12)
    close(_convert.kernel_to_keras(cell.weight_hh.grad, cell.spec), recurrent.grad, "d/d recurrent_kernel", 1e-12)
    if use_bias:
        close(_convert.bias_to_keras(cell.bias_ih.grad, cell.bias_hh.grad, cell.spec), bias[0].grad, "d/d bias",
               1e-12)
    else:
        assert cell.bias_ih is None


@pytest.mark.parametrize("mask_name", ["none", "empty_row", "mid_block"])
@pytest.mark.parametrize("zero_output", [False, True], ids=["carry_output", "zero_output"])
def test_gradcheck_of_the_autograd_function(mask_name, zero_output):
    module = _cpu_gru.load()
    assert module is not None
    b, t, f, h = 3, 5, 2, 3
    inputs = [torch.randn(*shape, dtype=torch.float64, requires_grad=True)
              for shape in [(b, t, f), (b, h), (3 * h, f), (3 * h, h), (3 * h,), (3 * h,)]]
    mask = _mask(mask_name)
    mask = torch.empty(0, dtype=torch.bool) if mask is None else mask

    def fn(*args):
        return _cpu_gru._GRUFunction.apply(*args, mask, zero_output)

    assert torch.autograd.gradcheck(fn, inputs)


# ------------------------------------------------------------------------------- float32 against torch's kernel
@pytest.mark.parametrize("mask_name", ["none", "left", "empty_row"])
def test_float32_kernel_equals_torch_fused_path_forward_and_backward(mask_name, monkeypatch):
    b, t, f, h = 8, 20, 5, 32
    fast = _layer(torch.float32, features=f, units=h, return_sequences=True, return_state=True)
    x = torch.randn(b, t, f)
    h0 = torch.randn(b, h)
    mask = None if mask_name == "none" else torch.ones(b, t, dtype=torch.bool)
    if mask_name == "left":
        mask[:, :7] = False
    elif mask_name == "empty_row":
        mask[2] = False
    results = []
    for switch in ("1", "0"):
        monkeypatch.setenv("GATED_CPU_KERNEL", switch)
        for p in fast.parameters():
            p.grad = None
        xs, hs = x.clone().requires_grad_(True), h0.clone().requires_grad_(True)
        output, final = fast(xs, initial_state=[hs], mask=mask)
        assert (fast.last_path.kernel is Kernel.GATED_CPU) == (switch == "1"), str(fast.last_path)
        (output.square().sum() + final.sum()).backward()
        results.append([output, final, xs.grad, hs.grad] + [p.grad.clone() for p in fast.parameters()])
    names = ["outputs", "final state", "d/d inputs", "d/d initial state", "d/d weight_ih", "d/d weight_hh",
             "d/d bias_ih", "d/d bias_hh"]
    for name, ours, torchs in zip(names, *results):
        scale = max(1.0, torchs.abs().max().item())
        close(ours / scale, torchs / scale, name, 1e-5)


# -------------------------------------------------------------------------------------- inference and streaming
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("mask_name", ["none", "mid_block"])
def test_inference_forward_equals_training_forward(dtype, mask_name, kernel_spy):
    layer = _layer(dtype, return_sequences=True, return_state=True)
    kernel_spy.calls.clear()  # building the layer ran it once
    x = torch.randn(B, T, F, dtype=dtype)
    mask = _mask(mask_name)
    with torch.no_grad():
        inferred = layer(x, mask=mask)
    trained = layer(x, mask=mask)
    assert kernel_spy.calls == [("gru_forward", False), ("gru_forward", True)]
    assert trained[0].requires_grad and not inferred[0].requires_grad
    for a, b in zip(inferred, trained):
        assert torch.equal(a, b.detach())


@pytest.mark.parametrize("batch", [2, 9], ids=["axpy_rows", "blas_rows"])  # the kernel switches to GEMMs at 8
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_streaming_step_equals_the_layer(dtype, batch):
    torch.manual_seed(1)
    model = gated.Sequential([L.Input(shape=(None, 8)), L.GRU(16, return_sequences=True, dtype=dtype)])
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.5, 0.5)
    x = np.random.default_rng(0).standard_normal((batch, 7, 8))
    x = x.astype(np.float64 if dtype == torch.float64 else np.float32)
    streamer = Streamer(model, batch_size=batch)
    assert streamer.paths[0].kernel is Kernel.GATED_CPU
    assert streamer.paths[0].detail == "C++: gated-cpu GRU step on [x, h, 1]"
    expected = model(torch.as_tensor(x)).detach().numpy()
    steps = np.stack([streamer.step(x[:, t]) for t in range(x.shape[1])], axis=1)
    np.testing.assert_allclose(steps, expected, atol=1e-12 if dtype == torch.float64 else 1e-6, rtol=0)


def test_streaming_falls_back_to_numpy_when_the_kernel_is_switched_off(monkeypatch):
    monkeypatch.setenv("GATED_CPU_KERNEL", "0")
    model = gated.Sequential([L.Input(shape=(None, 3)), L.GRU(4)])
    (path,) = Streamer(model).paths
    assert path.kernel is Kernel.NUMPY and path.detail.startswith("numpy: one np.dot for [x, h, 1]")
    assert path.reason.endswith("(gated's C++ GRU step not used: GATED_CPU_KERNEL=0)")


# ------------------------------------------------------------------------------------------------------ dispatch
@pytest.mark.parametrize("case", ["reset_after_false", "use_cudnn_false", "mask_with_gaps", "opted_out"])
def test_kernel_does_not_run_where_it_must_not(case, kernel_spy, monkeypatch):
    kwargs = {"reset_after_false": {"reset_after": False}, "use_cudnn_false": {"use_cudnn": False}}.get(case, {})
    layer = _layer(torch.float32, **kwargs)
    kernel_spy.calls.clear()
    mask = torch.tensor([[1, 0, 1, 0, 1]] * B, dtype=torch.bool) if case == "mask_with_gaps" else None
    if case == "opted_out":
        monkeypatch.setenv("GATED_CPU_KERNEL", "0")
    layer(torch.randn(B, T, F), mask=mask)
    assert kernel_spy.calls == []
    assert layer.last_path.kernel is not Kernel.GATED_CPU
    expected = {"reset_after_false": (Kernel.LOOP, "reset_after=False"),
                "use_cudnn_false": (Kernel.LOOP, "use_cudnn=False"),
                "mask_with_gaps": (Kernel.LOOP, "masked steps between valid ones"),
                "opted_out": (Kernel.TORCH_FUSED, "gated's C++ GRU kernel not used: GATED_CPU_KERNEL=0")}[case]
    assert layer.last_path.kernel is expected[0] and expected[1] in layer.last_path.reason


def test_a_failed_build_warns_once_with_the_fix_and_names_the_failure_in_the_path(tmp_path):
    """A real build with a compiler that does not work, in a fresh process and an empty extension cache."""
    script = textwrap.dedent("""
        import json, warnings
        import torch
        from gated.layers import GRU
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer = GRU(4)
            first = layer(torch.randn(2, 3, 5))
            layer(torch.randn(2, 3, 5))
        print(json.dumps({"path": str(layer.last_path), "name": layer.last_path.name,
                          "kernel": layer.last_path.kernel.name,
                          "warnings": [str(w.message) for w in caught], "shape": list(first.shape)}))
    """)
    env = dict(os.environ, CXX=str(tmp_path / "no-such-compiler"), TORCH_EXTENSIONS_DIR=str(tmp_path / "cache"),
               GATED_CPU_KERNEL="1")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["name"] == "fused" and report["kernel"] == "TORCH_FUSED" and report["shape"] == [2, 4]
    assert "torch._VF.gru (ATen cpu)" in report["path"]
    assert "gated's C++ GRU kernel not used: the C++ GRU kernel failed to build" in report["path"]
    build_warnings = [w for w in report["warnings"] if "failed to build" in w]
    assert len(build_warnings) == 1
    assert "install a C++ compiler (g++ or clang++) and ninja" in build_warnings[0]
    assert "GATED_CPU_KERNEL=0" in build_warnings[0]
