"""The fused path equals the step loop, and the fused path runs exactly where it should.

* Fast equals slow: for GRU, LSTM and SimpleRNN over return_sequences x go_backwards x masks (none, right-padded,
  left-padded, a fully masked row, a block in the middle), ``use_cudnn='auto'`` (fused) and ``use_cudnn=False``
  (loop) with the same weights agree on outputs, final states and the gradients of inputs, initial states and
  every weight, in float64 and float32. Each case asserts that the fused side really ran fused.
* Dispatch: a spy on ``torch._VF`` (as ``gated.kernels._fused`` sees it) shows the fused kernel is called for
  eligible calls and never for the ones it cannot compute (a GRU or LSTM on the CPU runs gated's C++ kernel
  instead, or ``torch._VF.gru`` / ``lstm`` with ``GATED_CPU_KERNEL=0``); ``last_path.kernel`` (a ``Kernel``)
  names the kernel and ``last_path.reason`` the reason, and ``use_cudnn=True`` turns an ineligible call into a
  ValueError naming the blocker.
* ``dispatch()`` plans exactly what the call then runs (with ``go_backwards`` too), answers for an unbuilt layer
  given the input it would receive, and says how to build the layer otherwise.

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import re

import pytest
import torch

from gated.kernels import _fused
from gated.kernels._dispatch import Choice, Kernel
from gated.layers import GRU, LSTM, RNN, GRUCell, SimpleRNN

B, T, F, H = 3, 5, 4, 3
TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}

MASKS = {
    "none": None,
    "right": [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]],
    "left": [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 1]],
    "empty_row": [[1, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]],
    "mid_block": [[0, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 1, 0]],
}
GAPS = torch.tensor([[1, 0, 1, 0, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]], dtype=torch.bool)
LAYERS = {"gru": GRU, "lstm": LSTM, "simple_rnn": SimpleRNN}


def _mask(name: str) -> torch.Tensor | None:
    rows = MASKS[name]
    return None if rows is None else torch.tensor(rows, dtype=torch.bool)


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str, atol: float) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    diff = (actual.detach() - expected.detach()).abs().max().item()
    assert diff <= atol, f"{what}: max abs difference {diff:.3e} > {atol:.0e}"


def _pair(layer_class, dtype: torch.dtype, **kwargs):
    """Two layers with the same random weights: fused when eligible ('auto') and always-loop (False)."""
    fast = layer_class(H, dtype=dtype, use_cudnn="auto", **kwargs)
    slow = layer_class(H, dtype=dtype, use_cudnn=False, **kwargs)
    fast(torch.zeros(1, 1, F, dtype=dtype))
    slow(torch.zeros(1, 1, F, dtype=dtype))
    with torch.no_grad():
        for p in fast.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    slow.set_weights(fast.get_weights())
    return fast, slow


def _run(layer, x, states, mask, training=False):
    x = x.detach().clone().requires_grad_(True)
    states = [s.detach().clone().requires_grad_(True) for s in states]
    output, *finals = layer(x, initial_state=states, mask=mask, training=training)
    return x, states, output, finals


def _assert_same(fast, slow, x, states, mask, dtype, training=False):
    tol = TOLERANCE[dtype]
    xf, sf, yf, ff = _run(fast, x, states, mask, training)
    xs, ss, ys, fs = _run(slow, x, states, mask, training)
    assert fast.last_path.kernel.fused and fast.last_path.name == "fused", str(fast.last_path)
    assert slow.last_path.kernel is Kernel.LOOP and slow.last_path.name == "loop", str(slow.last_path)
    _close(yf, ys, "outputs", tol)
    for i, (a, b) in enumerate(zip(ff, fs)):
        _close(a, b, f"final state {i}", tol)
    y_weight = torch.randn(yf.shape, dtype=dtype)
    s_weights = [torch.randn(s.shape, dtype=dtype) for s in ff]
    for y, finals in ((yf, ff), (ys, fs)):
        ((y * y_weight).sum() + sum((s * w).sum() for s, w in zip(finals, s_weights))).backward()
    _close(xf.grad, xs.grad, "d/d inputs", tol)
    for i, (a, b) in enumerate(zip(sf, ss)):
        _close(a.grad, b.grad, f"d/d initial state {i}", tol)
    for (name, p_fast), p_slow in zip(fast.named_parameters(), slow.parameters()):
        _close(p_fast.grad, p_slow.grad, f"d/d {name}", tol)


# ------------------------------------------------------------------------------------------ fast equals slow
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("mask_name", MASKS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("kind", LAYERS)
def test_fused_path_equals_loop_outputs_states_and_gradients(kind, return_sequences, go_backwards, mask_name,
                                                             dtype):
    fast, slow = _pair(LAYERS[kind], dtype, return_sequences=return_sequences, return_state=True,
                       go_backwards=go_backwards)
    x = torch.randn(B, T, F, dtype=dtype)
    states = [torch.randn(B, H, dtype=dtype) for _ in fast.state_size]
    _assert_same(fast, slow, x, states, _mask(mask_name), dtype)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_simple_rnn_fused_path_equals_loop_for_both_activations(activation):
    fast, slow = _pair(SimpleRNN, torch.float64, activation=activation, return_sequences=True, return_state=True)
    x = torch.randn(B, T, F, dtype=torch.float64)
    _assert_same(fast, slow, x, [torch.randn(B, H, dtype=torch.float64)], _mask("left"), torch.float64)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_fused_path_equals_loop_with_zero_output_for_mask(kind):
    fast, slow = _pair(LAYERS[kind], torch.float64, return_sequences=True, return_state=True,
                       zero_output_for_mask=True)
    x = torch.randn(B, T, F, dtype=torch.float64)
    states = [torch.randn(B, H, dtype=torch.float64) for _ in fast.state_size]
    _assert_same(fast, slow, x, states, _mask("mid_block"), torch.float64)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_recurrent_dropout_in_inference_runs_fused_and_equals_loop(kind):
    fast, slow = _pair(LAYERS[kind], torch.float64, return_sequences=True, return_state=True,
                       dropout=0.4, recurrent_dropout=0.4)
    x = torch.randn(B, T, F, dtype=torch.float64)
    states = [torch.randn(B, H, dtype=torch.float64) for _ in fast.state_size]
    _assert_same(fast, slow, x, states, _mask("right"), torch.float64, training=False)
    assert fast.last_path.reason == "eligible"


def test_input_dropout_while_training_runs_fused_and_equals_loop_with_the_same_seed():
    """Input dropout alone is applied before the kernel; with one seed both paths drop the same inputs."""
    fast, slow = _pair(GRU, torch.float64, return_sequences=True, return_state=True, dropout=0.5, seed=7)
    x = torch.randn(B, T, F, dtype=torch.float64)
    _assert_same(fast, slow, x, [torch.randn(B, H, dtype=torch.float64)], None, torch.float64, training=True)
    # and dropout really happened: the result differs from inference
    assert not torch.allclose(fast(x, training=True)[0], fast(x, training=False)[0])


# ---------------------------------------------------------------------------------------------------- dispatch
class _VFSpy:
    """Stands in for ``torch._VF`` inside ``gated.kernels._fused``; records the name of every kernel called."""

    def __init__(self, real):
        self._real = real
        self.calls: list[str] = []

    def __getattr__(self, name):
        fn = getattr(self._real, name)

        def counted(*args, **kwargs):
            self.calls.append(name)
            return fn(*args, **kwargs)

        return counted


@pytest.fixture
def vf_spy(monkeypatch):
    spy = _VFSpy(_fused._VF)
    monkeypatch.setattr(_fused, "_VF", spy)
    return spy


def _built(layer):
    layer(torch.zeros(1, 1, F))
    return layer


ELIGIBLE = {
    "gru": (lambda: GRU(H), None, False, "gru", ""),
    "gru_right_padded": (lambda: GRU(H), "right", False, "gru", "packed by lengths"),
    "gru_left_padded": (lambda: GRU(H), "left", False, "gru", "rows shifted and packed"),
    "gru_fully_masked_row": (lambda: GRU(H), "empty_row", False, "gru", "rows shifted and packed"),
    "gru_training_without_dropout": (lambda: GRU(H), None, True, "gru", ""),
    "gru_recurrent_dropout_inference": (lambda: GRU(H, recurrent_dropout=0.3), None, False, "gru", ""),
    "gru_input_dropout_training": (lambda: GRU(H, dropout=0.3), None, True, "gru", ""),
    "gru_use_cudnn_true": (lambda: GRU(H, use_cudnn=True), "left", False, "gru", ""),
    "lstm": (lambda: LSTM(H), "mid_block", False, "lstm", ""),
    "simple_rnn_tanh": (lambda: SimpleRNN(H), None, False, "rnn_tanh", ""),
    "simple_rnn_relu": (lambda: SimpleRNN(H, activation="relu"), "right", False, "rnn_relu", ""),
    "rnn_of_a_gru_cell": (lambda: RNN(GRUCell(H)), None, False, "gru", ""),
}


@pytest.mark.parametrize("case", ELIGIBLE)
def test_fused_kernel_runs_when_eligible(case, vf_spy):
    make, mask_name, training, kernel, kernel_note = ELIGIBLE[case]
    layer = _built(make())
    vf_spy.calls.clear()
    mask = _mask(mask_name) if mask_name else None
    planned = layer.dispatch(mask, training=training)
    assert vf_spy.calls == []  # dispatch only plans
    assert isinstance(planned, Choice) and planned.kernel.fused and planned.reason == "eligible"
    layer(torch.randn(B, T, F), mask=mask, training=training)
    path = layer.last_path
    assert path == planned
    assert (path.name, path.reason) == ("fused", "eligible")
    if kernel in ("gru", "lstm"):  # on the CPU gated's C++ kernels run instead (tests/kernels/test_cpu_*.py)
        assert vf_spy.calls == []
        assert path.kernel is Kernel.GATED_CPU
        assert path.detail.startswith(f"gated-cpu {kernel.upper()}")
        return
    assert vf_spy.calls == [kernel]
    assert path.kernel is Kernel.TORCH_FUSED
    assert f"torch._VF.{kernel} (ATen cpu" in path.detail
    assert kernel_note in path.detail


@pytest.mark.parametrize("case", [c for c in ELIGIBLE if ELIGIBLE[c][3] in ("gru", "lstm")])
def test_gru_and_lstm_run_torch_fused_kernel_when_the_cpu_kernel_is_switched_off(case, vf_spy, monkeypatch):
    monkeypatch.setenv("GATED_CPU_KERNEL", "0")
    make, mask_name, training, kernel, kernel_note = ELIGIBLE[case]
    layer = _built(make())
    vf_spy.calls.clear()
    layer(torch.randn(B, T, F), mask=_mask(mask_name) if mask_name else None, training=training)
    assert vf_spy.calls == [kernel]
    path = layer.last_path
    assert path.kernel is Kernel.TORCH_FUSED and path.name == "fused"
    assert f"torch._VF.{kernel} (ATen cpu" in path.detail and kernel_note in path.detail
    assert path.reason == f"eligible; gated's C++ {kernel.upper()} kernel not used: GATED_CPU_KERNEL=0"


INELIGIBLE = {
    "reset_after_false": (lambda: GRU(H, reset_after=False), None, False,
                          r"reset_after=False \(fused kernels implement the reset-after GRU only\)"),
    "recurrent_dropout_training": (lambda: GRU(H, recurrent_dropout=0.3), None, True,
                                   r"recurrent_dropout=0.3 while training"),
    "lstm_recurrent_dropout_training": (lambda: LSTM(H, recurrent_dropout=0.25), None, True,
                                        r"recurrent_dropout=0.25 while training"),
    "gru_relu_activation": (lambda: GRU(H, activation="relu"), None, False, r"activation='relu' \(tanh needed\)"),
    "gru_hard_sigmoid": (lambda: GRU(H, recurrent_activation="hard_sigmoid"), None, False,
                         r"recurrent_activation='hard_sigmoid' \(sigmoid needed\)"),
    "simple_rnn_sigmoid": (lambda: SimpleRNN(H, activation="sigmoid"), None, False,
                           r"activation='sigmoid' \(tanh or relu needed\)"),
    "mask_with_gaps": (lambda: GRU(H), "gaps", False,
                       r"the mask has masked steps between valid ones \(not one contiguous block per row\)"),
    "lstm_mask_with_gaps": (lambda: LSTM(H), "gaps", False, r"the mask has masked steps between valid ones"),
}


@pytest.mark.parametrize("case", INELIGIBLE)
def test_fused_kernel_does_not_run_when_ineligible(case, vf_spy):
    make, mask_name, training, blocker = INELIGIBLE[case]
    layer = _built(make())
    vf_spy.calls.clear()
    mask = GAPS if mask_name == "gaps" else None
    planned = layer.dispatch(mask, training=training)
    assert planned.kernel is Kernel.LOOP and planned.name == "loop"
    layer(torch.randn(B, T, F), mask=mask, training=training)
    assert vf_spy.calls == []
    assert layer.last_path == planned
    assert layer.last_path.detail == "python loop, input projection hoisted"
    assert re.search(blocker, layer.last_path.reason), layer.last_path.reason


@pytest.mark.parametrize("case", INELIGIBLE)
def test_use_cudnn_true_raises_naming_the_blocker(case, vf_spy):
    make, mask_name, training, blocker = INELIGIBLE[case]
    layer = make()
    layer.use_cudnn = True
    mask = GAPS if mask_name == "gaps" else None
    name = layer.name
    with pytest.raises(ValueError, match=rf"Layer '{name}' was created with use_cudnn=True, but the fused kernel "
                                         rf"cannot run this call: (.*; )?{blocker}"):
        layer(torch.randn(B, T, F), mask=mask, training=training)
    with pytest.raises(ValueError, match=r"Pass use_cudnn='auto' to fall back to the step loop"):
        layer.dispatch(mask, training=training)
    assert vf_spy.calls == []


def test_use_cudnn_true_lists_every_blocker():
    layer = GRU(H, reset_after=False, recurrent_dropout=0.2, use_cudnn=True)
    with pytest.raises(ValueError, match=r"reset_after=False .*; recurrent_dropout=0.2 while training; "
                                         r"the mask has masked steps between valid ones"):
        layer(torch.randn(B, T, F), mask=GAPS, training=True)


def test_use_cudnn_false_never_calls_the_fused_kernel(vf_spy):
    layer = _built(GRU(H, use_cudnn=False))
    for mask in (None, _mask("right"), _mask("left")):
        layer(torch.randn(B, T, F), mask=mask)
        assert layer.last_path.kernel is Kernel.LOOP and layer.last_path.reason == "use_cudnn=False"
    assert vf_spy.calls == []


def test_stacked_cells_run_the_cell_loop(vf_spy):
    layer = RNN([GRUCell(H), GRUCell(H)])
    layer(torch.randn(B, T, F))
    assert vf_spy.calls == []
    assert layer.last_path.kernel is Kernel.CELL_LOOP and layer.last_path.name == "cell-loop"
    assert layer.last_path.reason == "StackedRNNCells is not a built-in cell"


def test_recurrent_dropout_switches_path_with_the_training_flag(vf_spy):
    layer = _built(GRU(H, recurrent_dropout=0.3))
    vf_spy.calls.clear()
    layer(torch.randn(B, T, F))  # layers start in inference mode, like Keras
    assert layer.last_path.kernel is Kernel.GATED_CPU
    layer.train()
    layer(torch.randn(B, T, F))
    assert layer.last_path.kernel is Kernel.LOOP and vf_spy.calls == []
    assert "recurrent_dropout=0.3 while training" in layer.last_path.reason


# ------------------------------------------------------------------------------------------ dispatch() itself
@pytest.mark.parametrize("mask_name", ["right", "left", "mid_block"])
def test_dispatch_plans_what_a_go_backwards_call_runs(mask_name, vf_spy, monkeypatch):
    """The plan flips the mask as the call does: a right-padded mask read backwards is a left-padded one."""
    monkeypatch.setenv("GATED_CPU_KERNEL", "0")
    layer = _built(GRU(H, go_backwards=True))
    mask = _mask(mask_name)
    planned = layer.dispatch(mask)
    layer(torch.randn(B, T, F), mask=mask)
    assert layer.last_path == planned and planned.kernel is Kernel.TORCH_FUSED
    backwards = "packed by lengths" if mask_name == "left" else "rows shifted and packed"
    assert planned.detail == f"torch._VF.gru (ATen cpu, {backwards})"


UNBUILT = {  # a layer, and the kernel it runs on the CPU (one thread, as every layer test)
    "gru": (lambda dtype: GRU(H, dtype=dtype), Kernel.GATED_CPU),
    "lstm": (lambda dtype: LSTM(H, dtype=dtype), Kernel.GATED_CPU),
    "simple_rnn": (lambda dtype: SimpleRNN(H, dtype=dtype, activation="relu"), Kernel.TORCH_FUSED),
    "gru_reset_before": (lambda dtype: GRU(H, dtype=dtype, reset_after=False), Kernel.LOOP),
    "rnn_of_a_gru_cell": (lambda dtype: RNN(GRUCell(H, dtype=dtype)), Kernel.GATED_CPU),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", UNBUILT)
def test_an_unbuilt_layer_answers_for_the_input_it_would_receive(case, dtype):
    make, kernel = UNBUILT[case]
    layer = make(dtype)
    x = torch.randn(B, T, F, dtype=dtype)
    planned = layer.dispatch(inputs=x)
    assert not layer.built  # planning builds nothing
    assert planned.kernel is kernel, str(planned)
    layer(x)
    assert layer.last_path == planned


@pytest.mark.parametrize("make", [lambda: GRU(3), lambda: LSTM(3), lambda: RNN(GRUCell(3))], ids=["gru", "lstm",
                                                                                                 "rnn"])
def test_an_unbuilt_layer_without_input_says_how_to_build_it(make):
    layer = make()
    with pytest.raises(ValueError, match=rf"Layer '{layer.name}' \({type(layer).__name__}, units=3\) is not built "
                                         r"yet, so the device and dtype of its weights, which decide the kernel, "
                                         r"are unknown\. Pass the input the call would receive, "
                                         r"layer\.dispatch\(inputs=x\), or build the layer first"):
        layer.dispatch()


def test_an_unbuilt_layer_of_custom_cells_answers_without_input():
    assert RNN([GRUCell(H), GRUCell(H)]).dispatch().kernel is Kernel.CELL_LOOP


def test_kernel_names_read_as_text_in_paths():
    layer = _built(GRU(H))
    layer(torch.randn(B, T, F))
    assert str(layer.last_path) == ("fused (gated-cpu GRU (C++: one GEMM and one fused gate pass per step, forward "
                                    "and backward)): eligible")
    assert f"{Kernel.GATED_CPU}" == str(Kernel.GATED_CPU) == "gated-cpu" and "gated-cpu" in layer.last_path.kernel
    assert [k for k in Kernel if k.fused] == [Kernel.TORCH_FUSED, Kernel.CUDNN, Kernel.GATED_CPU, Kernel.TRITON]
