"""Recurrent layers against torch.nn.GRU / LSTM / RNN and against float64 loop references, in float64.

Every comparison covers outputs, final states and every gradient: inputs, initial states and each weight. Weight
gradients are compared in Keras's layout: gated's gradients (stored in torch layout) and torch's
``weight_ih_l0`` / ``weight_hh_l0`` / ``bias_*`` gradients are both mapped through ``gated.saving._convert``, so
a gate-order or bias-convention slip in the conversion shows up as a gradient mismatch, not only a forward one.
Both paths run: the default fused one and the step loop (``use_cudnn=False``); each test asserts which path ran.

Shape legend: B batch, T timesteps, F features, H units, D directions.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from gated.kernels._dispatch import Kernel
from gated.layers import GRU, LSTM, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from gated.saving import _convert

from .support import MASKS as BLOCK_MASKS
from .support import as_mask

try:  # tests/ is a namespace package under `python -m pytest`; its folder is on sys.path under bare `pytest`
    from tests import reference
except ImportError:
    import reference

ATOL = 1e-10
B, T, F, H = 3, 5, 4, 3
PATHS = {"fused": "auto", "loop": False}

KINDS = ["gru", "lstm", "rnn_tanh", "rnn_relu"]
LAYER_OF = {"gru": GRU, "lstm": LSTM, "rnn_tanh": SimpleRNN, "rnn_relu": SimpleRNN}


def _torch_module(kind: str, bias: bool = True, bidirectional: bool = False, **kwargs) -> nn.RNNBase:
    common = dict(bias=bias, batch_first=True, bidirectional=bidirectional, **kwargs)
    if kind == "gru":
        module = nn.GRU(F, H, **common)
    elif kind == "lstm":
        module = nn.LSTM(F, H, **common)
    else:
        module = nn.RNN(F, H, nonlinearity=kind.removeprefix("rnn_"), **common)
    return module.double()


def _leaf(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def _twin(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone().requires_grad_(True)


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str, atol: float = ATOL) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    diff = (actual.detach() - expected.detach()).abs().max().item()
    assert diff <= atol, f"{what}: max abs difference {diff:.3e} > {atol:.0e}"


def _gated_keras_grads(part) -> list[torch.Tensor]:
    """Gradients of a gated layer's weights in Keras's layout [kernel, recurrent_kernel, (bias)]."""
    cell = part.cell
    grads = [_convert.kernel_to_keras(cell.weight_ih.grad, cell.spec),
             _convert.kernel_to_keras(cell.weight_hh.grad, cell.spec)]
    if cell.bias_ih is not None:
        bias_hh = None if cell.bias_hh is None else cell.bias_hh.grad
        grads.append(_convert.bias_to_keras(cell.bias_ih.grad, bias_hh, cell.spec))
    return grads


def _torch_keras_grads(module: nn.RNNBase, direction: int, suffix_layer: int = 0) -> list[torch.Tensor]:
    """Gradients of one direction of a torch module in Keras's layout.

    For LSTM and RNN, Keras's single bias is torch's ``bias_ih + bias_hh``, so its gradient is the gradient of
    either torch bias (checked to be equal).
    """
    spec = {"GRU": GRUCell.spec, "LSTM": LSTMCell.spec}.get(module.mode, SimpleRNNCell.spec)
    suffix = f"_l{suffix_layer}" + ("_reverse" if direction == 1 else "")
    grads = [_convert.kernel_to_keras(getattr(module, "weight_ih" + suffix).grad, spec),
             _convert.kernel_to_keras(getattr(module, "weight_hh" + suffix).grad, spec)]
    if module.bias:
        g_ih = getattr(module, "bias_ih" + suffix).grad
        g_hh = getattr(module, "bias_hh" + suffix).grad
        if spec is GRUCell.spec:
            grads.append(_convert.bias_to_keras(g_ih, g_hh, spec))
        else:
            _close(g_ih, g_hh, "torch's two bias gradients")
            grads.append(_convert.bias_to_keras(g_ih, None, spec))
    return grads


def _parts(layer) -> list:
    return [layer.forward_layer, layer.backward_layer] if isinstance(layer, Bidirectional) else [layer]


def _assert_matches_torch(layer, module: nn.RNNBase, kind: str, expected_path: str,
                          lengths: list[int] | None = None) -> None:
    """Run both on the same inputs and initial states; compare outputs, final states and every gradient.

    ``lengths``: right padding; gated gets a mask, torch a packed sequence. Only valid steps are compared then.
    """
    directions = 2 if module.bidirectional else 1
    x, h0, c0 = _leaf(B, T, F), _leaf(directions, B, H), _leaf(directions, B, H)
    xg, h0g, c0g = _twin(x), _twin(h0), _twin(c0)

    # torch
    hx = (h0, c0) if kind == "lstm" else h0
    if lengths is None:
        y_torch, finals_torch = module(x, hx)
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        y_packed, finals_torch = module(packed, hx)
        y_torch, _ = pad_packed_sequence(y_packed, batch_first=True, total_length=T)
    h_n, c_n = finals_torch if kind == "lstm" else (finals_torch, None)
    states_torch = [s for d in range(directions) for s in ([h_n[d], c_n[d]] if kind == "lstm" else [h_n[d]])]

    # gated: states per direction, [h, (c)] forward then backward
    initial = [s for d in range(directions) for s in ([h0g[d], c0g[d]] if kind == "lstm" else [h0g[d]])]
    mask = None
    if lengths is not None:
        mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    y_gated, *states_gated = layer(xg, initial_state=initial, mask=mask)

    paths = [p.last_path.name for p in _parts(layer)]
    assert paths == [expected_path] * directions, paths
    fused = Kernel.GATED_CPU if kind in ("gru", "lstm") else Kernel.TORCH_FUSED  # on the CPU, one thread
    expected_kernel = Kernel.LOOP if expected_path == "loop" else fused
    assert [p.last_path.kernel for p in _parts(layer)] == [expected_kernel] * directions

    valid = torch.ones(B, T, 1, dtype=torch.bool) if mask is None else mask[:, :, None]
    _close(y_gated * valid, y_torch * valid, "outputs")
    assert len(states_gated) == len(states_torch)
    for i, (sg, st) in enumerate(zip(states_gated, states_torch)):
        _close(sg, st, f"final state {i}")

    # one scalar that depends on every output and state, with the same random weights on both sides
    y_weight = torch.randn(y_torch.shape, dtype=torch.float64) * valid
    s_weights = [torch.randn(s.shape, dtype=torch.float64) for s in states_torch]
    loss_torch = (y_torch * y_weight).sum() + sum((s * w).sum() for s, w in zip(states_torch, s_weights))
    loss_gated = (y_gated * y_weight).sum() + sum((s * w).sum() for s, w in zip(states_gated, s_weights))
    loss_torch.backward()
    loss_gated.backward()

    _close(xg.grad, x.grad, "d/d inputs")
    _close(h0g.grad, h0.grad, "d/d initial h")
    if kind == "lstm":
        _close(c0g.grad, c0.grad, "d/d initial c")
    names = ["kernel", "recurrent_kernel", "bias"]
    for direction, part in enumerate(_parts(layer)):
        ours, theirs = _gated_keras_grads(part), _torch_keras_grads(module, direction)
        assert len(ours) == len(theirs) == (3 if module.bias else 2)
        for name, g_ours, g_theirs in zip(names, ours, theirs):
            assert torch.count_nonzero(g_theirs) > 0, f"{name}: the test exercises no gradient"
            _close(g_ours, g_theirs, f"d/d {name} (direction {direction})")


# ---------------------------------------------------------------------------------------------- torch.nn parity
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("kind", KINDS)
def test_from_torch_matches_torch_module_outputs_states_and_gradients(kind, use_bias, bidirectional, path):
    module = _torch_module(kind, bias=use_bias, bidirectional=bidirectional)
    layer = LAYER_OF[kind].from_torch(module, return_sequences=True, return_state=True, use_cudnn=PATHS[path])
    if bidirectional:
        assert isinstance(layer, Bidirectional)
    assert layer.dtype == "float64"  # a float64 module gives a float64 layer
    _assert_matches_torch(layer, module, kind, path)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("kind", KINDS)
def test_to_torch_module_matches_layer_outputs_states_and_gradients(kind, use_bias, path):
    extra = {"activation": kind.removeprefix("rnn_")} if kind.startswith("rnn_") else {}
    layer = LAYER_OF[kind](H, use_bias=use_bias, return_sequences=True, return_state=True, dtype="float64",
                           use_cudnn=PATHS[path], **extra)
    layer(torch.zeros(1, 1, F, dtype=torch.float64))  # build
    with torch.no_grad():  # nonzero biases, and weights unlike any initializer's
        for p in layer.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    module = layer.to_torch()
    assert module.weight_ih_l0.dtype == torch.float64 and module.batch_first
    _assert_matches_torch(layer, module, kind, path)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_right_padded_mask_matches_torch_packed_sequence(kind, bidirectional, path):
    """A right-padded mask computes what torch computes on a packed sequence of each row's valid steps.

    With a bidirectional module this is the backward direction seeing left-padded (block) masks.
    """
    module = _torch_module(kind, bidirectional=bidirectional)
    layer = LAYER_OF[kind].from_torch(module, return_sequences=True, return_state=True, use_cudnn=PATHS[path])
    _assert_matches_torch(layer, module, kind, path, lengths=[T, 2, 4])


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_stacked_from_torch_layers_match_a_two_layer_torch_module(kind):
    module = _torch_module(kind, num_layers=2)
    first = LAYER_OF[kind].from_torch(module, layer=0, return_sequences=True)
    second = LAYER_OF[kind].from_torch(module, layer=1, return_sequences=True)
    x = _leaf(B, T, F)
    xg = _twin(x)
    y_torch, _ = module(x)
    y_gated = second(first(xg))
    _close(y_gated, y_torch, "outputs")
    y_torch.sum().backward()
    y_gated.sum().backward()
    _close(xg.grad, x.grad, "d/d inputs")
    for part, layer_index in ((first, 0), (second, 1)):
        for g_ours, g_theirs in zip(_gated_keras_grads(part), _torch_keras_grads(module, 0, layer_index)):
            _close(g_ours, g_theirs, f"weight gradient of layer {layer_index}")


def test_from_torch_ignores_batch_first_of_the_module():
    module = _torch_module("gru")
    module.batch_first = False
    layer = GRU.from_torch(module, return_sequences=True)
    x = torch.randn(B, T, F, dtype=torch.float64)
    _close(layer(x), module(x.transpose(0, 1))[0].transpose(0, 1), "outputs")


def test_to_torch_refuses_reset_after_false_with_the_reason():
    layer = GRU(H, reset_after=False, dtype="float64")
    layer(torch.zeros(1, 1, F, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"has no torch.nn equivalent: reset_after=False"):
        layer.to_torch()


def test_from_torch_refuses_a_module_of_another_kind():
    with pytest.raises(ValueError, match=r"GRU.from_torch received a torch LSTM module"):
        GRU.from_torch(_torch_module("lstm"))


# ------------------------------------------------------------------------------------- float64 loop references
MASKS = {**BLOCK_MASKS, "gaps": [[1, 0, 1, 0, 1], [1, 1, 0, 1, 1], [0, 1, 1, 1, 1]]}


def _mask(name: str) -> torch.Tensor | None:
    return as_mask(MASKS[name])


def _random_layer(layer_class, path: str, **kwargs):
    layer = layer_class(H, return_sequences=True, return_state=True, dtype="float64", use_cudnn=PATHS[path],
                        **kwargs)
    layer(torch.zeros(1, 1, F, dtype=torch.float64))
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    return layer


def _assert_matches_reference(layer, reference_fn, mask_name: str, go_backwards: bool, **ref_kwargs) -> None:
    """Compare a layer with a reference function of Keras-layout weights: outputs, states, every gradient."""
    num_states = len(layer.state_size)
    mask = _mask(mask_name)
    x = _leaf(B, T, F)
    states = [_leaf(B, H) for _ in range(num_states)]
    keras_weights = [torch.tensor(w, requires_grad=True) for w in layer.get_weights()]
    bias = keras_weights[2] if len(keras_weights) > 2 else None
    y_ref, finals_ref = reference_fn(x, keras_weights[0], keras_weights[1], bias, *states, mask=mask,
                                     go_backwards=go_backwards, zero_output_for_mask=layer.zero_output_for_mask,
                                     **ref_kwargs)

    xg, states_g = _twin(x), [_twin(s) for s in states]
    y, *finals = layer(xg, initial_state=states_g, mask=mask)
    _close(y, y_ref, "outputs")
    for i, (f_ours, f_ref) in enumerate(zip(finals, finals_ref)):
        _close(f_ours, f_ref, f"final state {i}")

    y_weight = torch.randn(y.shape, dtype=torch.float64)
    s_weights = [torch.randn(B, H, dtype=torch.float64) for _ in finals]
    ((y_ref * y_weight).sum() + sum((s * w).sum() for s, w in zip(finals_ref, s_weights))).backward()
    ((y * y_weight).sum() + sum((s * w).sum() for s, w in zip(finals, s_weights))).backward()
    _close(xg.grad, x.grad, "d/d inputs")
    for i, (s_ours, s_ref) in enumerate(zip(states_g, states)):
        _close(s_ours.grad, s_ref.grad, f"d/d initial state {i}")
    for name, g_ours, w_ref in zip(["kernel", "recurrent_kernel", "bias"], _gated_keras_grads(layer),
                                   keras_weights):
        _close(g_ours, w_ref.grad, f"d/d {name}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("mask_name", MASKS)
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])
def test_gru_matches_float64_loop_reference(reset_after, use_bias, mask_name, go_backwards, path):
    layer = _random_layer(GRU, path, reset_after=reset_after, use_bias=use_bias, go_backwards=go_backwards)
    _assert_matches_reference(layer, reference.gru, mask_name, go_backwards, reset_after=reset_after)
    fused_possible = reset_after and mask_name != "gaps" and path == "fused"
    assert layer.last_path.name == ("fused" if fused_possible else "loop")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("mask_name", MASKS)
def test_lstm_matches_float64_loop_reference(mask_name, go_backwards, path):
    layer = _random_layer(LSTM, path, go_backwards=go_backwards)
    _assert_matches_reference(layer, reference.lstm, mask_name, go_backwards)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("mask_name", MASKS)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_simple_rnn_matches_float64_loop_reference(activation, mask_name, path):
    layer = _random_layer(SimpleRNN, path, activation=activation)
    _assert_matches_reference(layer, reference.simple_rnn, mask_name, False, activation=activation)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("mask_name", ["right", "left", "empty_row", "gaps"])
@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_zero_output_for_mask_matches_float64_loop_reference(kind, mask_name, path):
    layer = _random_layer(LAYER_OF[kind], path, zero_output_for_mask=True)
    _assert_matches_reference(layer, {"gru": reference.gru, "lstm": reference.lstm}[kind], mask_name, False,
                              **({"reset_after": True} if kind == "gru" else {}))


@pytest.mark.parametrize("kind", KINDS)
def test_reference_itself_matches_torch_nn(kind):
    """The references are right independently of gated: with weights mapped by hand (not by gated's converter),
    reference.gru(reset_after=True) / lstm / simple_rnn compute torch.nn.GRU / LSTM / RNN."""
    module = _torch_module(kind)
    x, h0, c0 = (torch.randn(*shape, dtype=torch.float64) for shape in ((B, T, F), (1, B, H), (1, B, H)))
    w_ih, w_hh = module.weight_ih_l0.detach(), module.weight_hh_l0.detach()
    b_ih, b_hh = module.bias_ih_l0.detach(), module.bias_hh_l0.detach()
    if kind == "gru":
        def keras_blocks(w: torch.Tensor) -> torch.Tensor:  # torch gate blocks r, z, n -> Keras's z, r, h
            r, z, n = w.chunk(3, dim=0)
            return torch.cat([z, r, n], dim=0)

        bias = torch.stack([keras_blocks(b_ih), keras_blocks(b_hh)])
        y_ref, finals_ref = reference.gru(x, keras_blocks(w_ih).t(), keras_blocks(w_hh).t(), bias, h0[0],
                                          reset_after=True)
        y_torch, h_n = module(x, h0)
        finals_torch = [h_n[0]]
    elif kind == "lstm":  # same gate order; Keras's one bias is the sum of torch's two
        y_ref, finals_ref = reference.lstm(x, w_ih.t(), w_hh.t(), b_ih + b_hh, h0[0], c0[0])
        y_torch, (h_n, c_n) = module(x, (h0, c0))
        finals_torch = [h_n[0], c_n[0]]
    else:
        y_ref, finals_ref = reference.simple_rnn(x, w_ih.t(), w_hh.t(), b_ih + b_hh, h0[0],
                                                 activation=kind.removeprefix("rnn_"))
        y_torch, h_n = module(x, h0)
        finals_torch = [h_n[0]]
    _close(y_ref, y_torch, "outputs")
    for i, (a, b) in enumerate(zip(finals_ref, finals_torch)):
        _close(a, b, f"final state {i}")


# ------------------------------------------------------------------------------------------------------ gradcheck
def _gradcheck_layer(layer, x: torch.Tensor, initial: list[torch.Tensor], mask=None) -> None:
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for _, p in layer.named_parameters()]
    count = len(params)

    def fn(x, *rest):
        weights, states = rest[:count], list(rest[count:])
        out, *finals = functional_call(layer, dict(zip(names, weights)), (x,),
                                       {"initial_state": states, "mask": mask})
        return (out, *finals)

    assert torch.autograd.gradcheck(fn, (x, *params, *initial), eps=1e-6, atol=1e-8, rtol=1e-6)


def _tiny(layer_class, **kwargs):
    layer = layer_class(3, return_sequences=True, return_state=True, dtype="float64", **kwargs)
    layer(torch.zeros(1, 1, 2, dtype=torch.float64))
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    states = [_leaf(2, 3) for _ in layer.state_size]
    return layer, _leaf(2, 3, 2), states


def test_gradcheck_gru_fused_path():
    layer, x, states = _tiny(GRU)
    _gradcheck_layer(layer, x, states)
    assert layer.last_path.name == "fused"


def test_gradcheck_gru_loop_path_reset_after_false():
    layer, x, states = _tiny(GRU, reset_after=False)
    _gradcheck_layer(layer, x, states)
    assert layer.last_path.name == "loop"


@pytest.mark.parametrize("path", PATHS)
def test_gradcheck_lstm(path):
    layer, x, states = _tiny(LSTM, use_cudnn=PATHS[path])
    _gradcheck_layer(layer, x, states)
    assert layer.last_path.name == path


@pytest.mark.parametrize("cpu_kernel", ["1", "0"], ids=["gated_cpu", "torch_vf"])
@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_gradcheck_masked_fused_path_left_padded_and_fully_masked_row(kind, cpu_kernel, monkeypatch):
    monkeypatch.setenv("GATED_CPU_KERNEL", cpu_kernel)
    layer, x, states = _tiny(LAYER_OF[kind])
    mask = torch.tensor([[0, 1, 1], [0, 0, 0]], dtype=torch.bool)  # left-padded row, fully masked row
    _gradcheck_layer(layer, x, states, mask=mask)
    assert layer.last_path.name == "fused"
    assert layer.last_path.kernel is (Kernel.GATED_CPU if cpu_kernel == "1" else Kernel.TORCH_FUSED)
    # on the CPU gated's C++ kernels apply masks inside; torch's kernel (GATED_CPU_KERNEL=0) packs shifted rows
    expected = "masked steps carried" if cpu_kernel == "1" else "rows shifted and packed"
    assert expected in layer.last_path.detail
