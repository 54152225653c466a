"""gated's C++ LSTM kernel for the CPU (``gated.kernels._cpu_lstm``): exact, used where it should be, and optional.

* LSTM layers on the CPU run it (the extension is ``_cpu_gru``'s, holding both kernels).
* Float64: outputs, both final states and every gradient (inputs, initial h and c, kernel, recurrent kernel, bias)
  equal the float64 loop reference of Keras's equations (``tests/reference.py``) over return_sequences x masks x
  zero_output_for_mask x go_backwards x use_bias; ``torch.autograd.gradcheck`` on the raw autograd function.
* Float32: the kernel equals torch's own fused path (``GATED_CPU_KERNEL=0``, ``torch._VF.lstm``) within 1e-5.
* The inference forward (no graph) equals the training forward bit for bit.
* Dispatch: a spy on the compiled module shows which entry point runs, and that it does not run for recurrent
  dropout while training, a mask with gaps, use_cudnn=False or GATED_CPU_KERNEL=0 (torch._VF.lstm runs then).

Edge shapes, the training call's entry points and the opt-out are checked for both cells in
test_cpu_kernels_both.py.

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import pytest
import torch

from gated.kernels import _cpu_gru, _cpu_lstm
from gated.kernels._dispatch import Kernel
from gated.layers import LSTM
from gated.saving import _convert

from ..layers.support import MASKS, B, F, H, T, as_mask, close, random_layer

try:  # tests/ is a namespace package under `python -m pytest`; its folder is on sys.path under bare `pytest`
    from tests import reference
except ImportError:
    import reference

GAPS = [[1, 0, 1, 0, 1], [1, 1, 0, 1, 1], [0, 1, 0, 1, 0]]  # the kernel handles these; dispatch sends them to the loop


def _layer(dtype=torch.float64, features=F, units=H, **kwargs) -> LSTM:
    return random_layer(LSTM, dtype, features, units, **kwargs)


def test_lstm_layers_on_the_cpu_run_the_extension():
    assert _cpu_gru.status() is None, _cpu_gru.status()
    layer = _layer(torch.float32)
    layer(torch.randn(B, T, F))
    assert layer.last_path.kernel is Kernel.GATED_CPU and layer.last_path.reason == "eligible"
    assert layer.last_path.name == "fused" and layer.last_path.detail.startswith("gated-cpu LSTM (C++")


# --------------------------------------------------------------------------------- float64 against the reference
def _against_reference(layer, x, h0, c0, mask, go_backwards, zero_output_for_mask, return_sequences, use_bias):
    output, h_final, c_final = layer(x, initial_state=[h0, c0], mask=mask)
    assert layer.last_path.kernel is Kernel.GATED_CPU, str(layer.last_path)

    kernel, recurrent, *bias = [torch.tensor(w, requires_grad=True) for w in layer.get_weights()]
    x_ref, h0_ref, c0_ref = [t.detach().clone().requires_grad_(True) for t in (x, h0, c0)]
    outputs_ref, (h_ref, c_ref) = reference.lstm(x_ref, kernel, recurrent, bias[0] if bias else None, h0_ref, c0_ref,
                                                 mask=mask, go_backwards=go_backwards,
                                                 zero_output_for_mask=zero_output_for_mask)
    output_ref = outputs_ref if return_sequences else outputs_ref[:, -1]
    close(output, output_ref, "output", 1e-12)
    close(h_final, h_ref, "final h", 1e-12)
    close(c_final, c_ref, "final c", 1e-12)

    w_out, w_h, w_c = torch.randn_like(output), torch.randn_like(h_final), torch.randn_like(c_final)
    ((output * w_out).sum() + (h_final * w_h).sum() + (c_final * w_c).sum()).backward()
    ((output_ref * w_out).sum() + (h_ref * w_h).sum() + (c_ref * w_c).sum()).backward()
    close(x.grad, x_ref.grad, "d/d inputs", 1e-12)
    close(h0.grad, h0_ref.grad, "d/d initial h", 1e-12)
    close(c0.grad, c0_ref.grad, "d/d initial c", 1e-12)
    cell = layer.cell
    close(_convert.kernel_to_keras(cell.weight_ih.grad, cell.spec), kernel.grad, "d/d kernel", 1e-12)
    close(_convert.kernel_to_keras(cell.weight_hh.grad, cell.spec), recurrent.grad, "d/d recurrent_kernel", 1e-12)
    if use_bias:
        assert cell.bias_hh is None  # Keras's LSTM has one bias; the kernel's second is a zero buffer
        close(cell.bias_ih.grad, bias[0].grad, "d/d bias", 1e-12)
    else:
        assert cell.bias_ih is None


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
    c0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    _against_reference(layer, x, h0, c0, as_mask(MASKS[mask_name]), go_backwards, zero_output_for_mask,
                       return_sequences, use_bias)


@pytest.mark.parametrize("zero_output_for_mask", [False, True], ids=["carry_output", "zero_output"])
def test_kernel_equals_the_reference_for_a_mask_with_gaps(zero_output_for_mask):
    """Dispatch sends gaps to the loop (torch's kernel cannot run them); the C++ kernel itself computes them exactly."""
    layer = _layer()
    mask = as_mask(GAPS)
    x, h0, c0 = [torch.randn(*shape, dtype=torch.float64, requires_grad=True) for shape in [(B, T, F), (B, H), (B, H)]]
    outputs, (h_final, c_final) = _cpu_lstm.run(layer.cell, x, h0, c0, mask, zero_output_for_mask)
    kernel, recurrent, bias = [torch.tensor(w, requires_grad=True) for w in layer.get_weights()]
    x_ref, h0_ref, c0_ref = [t.detach().clone().requires_grad_(True) for t in (x, h0, c0)]
    outputs_ref, (h_ref, c_ref) = reference.lstm(x_ref, kernel, recurrent, bias, h0_ref, c0_ref, mask=mask,
                                                 zero_output_for_mask=zero_output_for_mask)
    for ours, ref, what in [(outputs, outputs_ref, "outputs"), (h_final, h_ref, "final h"),
                            (c_final, c_ref, "final c")]:
        close(ours, ref, what, 1e-12)
    (outputs.sum() + h_final.sum() + 2 * c_final.sum()).backward()
    (outputs_ref.sum() + h_ref.sum() + 2 * c_ref.sum()).backward()
    for ours, ref, what in [(x.grad, x_ref.grad, "d/d inputs"), (h0.grad, h0_ref.grad, "d/d initial h"),
                            (c0.grad, c0_ref.grad, "d/d initial c"), (layer.cell.bias_ih.grad, bias.grad, "d/d bias"),
                            (_convert.kernel_to_keras(layer.cell.weight_hh.grad, layer.cell.spec), recurrent.grad,
                             "d/d recurrent_kernel")]:
        close(ours, ref, what, 1e-12)


@pytest.mark.parametrize("mask_name", ["none", "empty_row", "mid_block"])
@pytest.mark.parametrize("zero_output", [False, True], ids=["carry_output", "zero_output"])
def test_gradcheck_of_the_autograd_function(mask_name, zero_output):
    assert _cpu_gru.load() is not None
    b, t, f, h = 3, 5, 2, 3
    inputs = [torch.randn(*shape, dtype=torch.float64, requires_grad=True)
              for shape in [(b, t, f), (b, h), (b, h), (4 * h, f), (4 * h, h), (4 * h,), (4 * h,)]]
    mask = as_mask(MASKS[mask_name])
    mask = torch.empty(0, dtype=torch.bool) if mask is None else mask

    def fn(*args):
        return _cpu_lstm._LSTMFunction.apply(*args, mask, zero_output)

    assert torch.autograd.gradcheck(fn, inputs)


# ------------------------------------------------------------------------------- float32 against torch's kernel
@pytest.mark.parametrize("mask_name", ["none", "left", "empty_row"])
def test_float32_kernel_equals_torch_fused_path_forward_and_backward(mask_name, monkeypatch):
    b, t, f, h = 8, 20, 5, 32
    fast = _layer(torch.float32, features=f, units=h, return_sequences=True, return_state=True)
    x, h0, c0 = torch.randn(b, t, f), torch.randn(b, h), torch.randn(b, h)
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
        xs, hs, cs = [v.clone().requires_grad_(True) for v in (x, h0, c0)]
        output, h_final, c_final = fast(xs, initial_state=[hs, cs], mask=mask)
        assert (fast.last_path.kernel is Kernel.GATED_CPU) == (switch == "1"), str(fast.last_path)
        (output.square().sum() + h_final.sum() + (c_final * 0.5).sum()).backward()
        results.append([output, h_final, c_final, xs.grad, hs.grad, cs.grad]
                       + [p.grad.clone() for p in fast.parameters()])
    names = ["outputs", "final h", "final c", "d/d inputs", "d/d initial h", "d/d initial c", "d/d weight_ih",
             "d/d weight_hh", "d/d bias"]
    assert len(results[0]) == len(names)
    for name, ours, torchs in zip(names, *results):
        scale = max(1.0, torchs.abs().max().item())
        close(ours / scale, torchs / scale, name, 1e-5)


# ------------------------------------------------------------------------------------------------------ inference
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("mask_name", ["none", "mid_block"])
def test_inference_forward_equals_training_forward(dtype, mask_name, kernel_spy):
    layer = _layer(dtype, return_sequences=True, return_state=True)
    kernel_spy.calls.clear()  # building the layer ran it once
    x = torch.randn(B, T, F, dtype=dtype)
    mask = as_mask(MASKS[mask_name])
    h0, c0 = torch.zeros(B, H, dtype=dtype), torch.zeros(B, H, dtype=dtype)
    with torch.no_grad():
        inferred, inferred_states = _cpu_lstm.run(layer.cell, x, h0, c0, mask, False)
    trained, trained_states = _cpu_lstm.run(layer.cell, x, h0, c0, mask, False)
    assert kernel_spy.calls == [("lstm_forward", False), ("lstm_forward", True)]
    assert trained.requires_grad and not inferred.requires_grad
    for a, b in zip([inferred, *inferred_states], [trained, *trained_states]):
        assert torch.equal(a, b.detach())


def test_layer_inference_runs_torchs_onednn_kernel(kernel_spy):
    """Measured: without gradients torch's oneDNN LSTM is as fast or faster, so the layer takes it, and says so."""
    layer = _layer(torch.float32, return_sequences=True)
    kernel_spy.calls.clear()
    x = torch.randn(B, T, F)
    with torch.no_grad():
        inferred = layer(x)
    assert kernel_spy.calls == []
    assert layer.last_path.kernel is Kernel.TORCH_FUSED and layer.last_path.detail.startswith("torch._VF.lstm")
    assert "inference without gradients" in layer.last_path.reason
    trained = layer(x)
    assert kernel_spy.calls == [("lstm_forward", True)] and layer.last_path.kernel is Kernel.GATED_CPU
    torch.testing.assert_close(inferred, trained.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("case", ["recurrent_dropout_training", "use_cudnn_false", "mask_with_gaps", "opted_out"])
def test_kernel_does_not_run_where_it_must_not(case, kernel_spy, monkeypatch):
    kwargs = {"recurrent_dropout_training": {"recurrent_dropout": 0.25},
              "use_cudnn_false": {"use_cudnn": False}}.get(case, {})
    layer = _layer(torch.float32, **kwargs)
    kernel_spy.calls.clear()
    mask = as_mask(GAPS) if case == "mask_with_gaps" else None
    if case == "opted_out":
        monkeypatch.setenv("GATED_CPU_KERNEL", "0")
    layer(torch.randn(B, T, F), mask=mask, training=case == "recurrent_dropout_training")
    assert kernel_spy.calls == []
    assert layer.last_path.kernel is not Kernel.GATED_CPU
    expected = {"recurrent_dropout_training": (Kernel.LOOP, "recurrent_dropout=0.25 while training"),
                "use_cudnn_false": (Kernel.LOOP, "use_cudnn=False"),
                "mask_with_gaps": (Kernel.LOOP, "masked steps between valid ones"),
                "opted_out": (Kernel.TORCH_FUSED, "gated's C++ LSTM kernel not used: GATED_CPU_KERNEL=0")}[case]
    assert layer.last_path.kernel is expected[0] and expected[1] in layer.last_path.reason


def test_graphs_alive_at_once_keep_their_own_saved_buffers():
    """The kernel reuses the memory of saved gates and states once a graph is freed, never while one holds them."""
    layer = _layer(torch.float32, features=F, units=H, return_sequences=True)
    xs = [torch.randn(B, T, F) for _ in range(3)]
    expected = []
    for x in xs:  # one graph at a time
        layer.zero_grad(set_to_none=True)
        x = x.clone().requires_grad_(True)
        layer(x).square().sum().backward()
        expected.append([x.grad] + [p.grad.clone() for p in layer.parameters()])
    grads = []
    graphs = []
    for x in xs:  # three graphs alive, run backwards in reverse order
        x = x.clone().requires_grad_(True)
        graphs.append((x, layer(x).square().sum()))
    for x, loss in reversed(graphs):
        layer.zero_grad(set_to_none=True)
        loss.backward()
        grads.insert(0, [x.grad] + [p.grad.clone() for p in layer.parameters()])
    for ours, alone in zip(grads, expected):
        for a, b in zip(ours, alone):
            assert torch.equal(a, b)


def test_training_after_inference_mode_calls():
    """Buffers made under torch.inference_mode are never reused outside it (an error: inference tensors)."""
    layer = _layer(torch.float32, return_sequences=True)
    x = torch.randn(B, T, F)
    h0 = c0 = torch.zeros(B, H)
    with torch.inference_mode():
        inferred, _ = _cpu_lstm.run(layer.cell, x, h0, c0, None, False)
    for _ in range(2):
        layer.zero_grad(set_to_none=True)
        trained = layer(x)
        assert layer.last_path.kernel is Kernel.GATED_CPU
        trained.sum().backward()
        assert torch.equal(trained.detach(), inferred)
        assert layer.cell.weight_hh.grad.abs().sum() > 0
    with torch.inference_mode():
        assert torch.equal(_cpu_lstm.run(layer.cell, x, h0, c0, None, False)[0], inferred)

def test_with_several_threads_the_layer_runs_torchs_onednn_kernel(kernel_spy):
    layer = _layer(torch.float32, return_sequences=True)
    x = torch.randn(B, T, F)
    expected = layer(x)
    assert layer.last_path.kernel is Kernel.GATED_CPU
    kernel_spy.calls.clear()
    torch.set_num_threads(2)
    got = layer(x)
    assert kernel_spy.calls == []
    assert layer.last_path.kernel is Kernel.TORCH_FUSED and layer.last_path.detail.startswith("torch._VF.lstm")
    assert "2 threads: torch's oneDNN LSTM kernel" in layer.last_path.reason
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
