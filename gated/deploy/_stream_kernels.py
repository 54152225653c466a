"""One-timestep kernels for ``Streamer``: fast numpy kernels and the reference kernels they must equal.

Every kernel reads and writes preallocated numpy buffers of shape (B, ...) and is a closure ``run()`` with its
buffers bound, so a step costs one Python call per layer and a handful of numpy calls with ``out=``.
At batch 1 the cost of a numpy call (about 0.5 µs) dominates everything but the recurrent matrix-vector product,
so the fast kernels are arranged to need as few calls as possible:

* a recurrent layer keeps ``v = [x_t, h, 1]`` in one row buffer and multiplies it by one stacked weight matrix:
  the input projection, the recurrent projection and both biases in a single ``np.dot``;
* sigmoids are computed as ``0.5 + 0.5 * tanh(a / 2)`` with the ``1/2`` folded into the weights, so the gates of
  a GRU or LSTM need one ``np.tanh`` call together;
* the GRU's ``r * (h U_h + b_hh)`` is rearranged so that the candidate needs three calls (see ``gru_kernel``);
* a ``Dense`` that reads a recurrent output takes ``[h, 1]`` and folds its bias into the product.

The reference kernels call the layer's own code on torch views of the same buffers: ``cell.project`` +
``cell.step`` for the built-in cells (THE numerical reference, ``gated/layers/_cells.py``), the cell itself for
custom cells, ``layer.forward`` for the rest. Shape legend: B batch (streams), F features, H units.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations

Run = Callable[[], None]


def np_dtype(dtype: torch.dtype) -> np.dtype:
    return torch.empty((), dtype=dtype).numpy().dtype


def _weights(cell) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``weight_ih`` (G*H, F), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh`` (G*H,) as float64 numpy arrays."""
    def get(t):
        return None if t is None else t.detach().cpu().double().numpy()

    w_ih, w_hh = get(cell.weight_ih), get(cell.weight_hh)
    gh = w_ih.shape[0]
    b_ih = get(cell.bias_ih) if cell.bias_ih is not None else np.zeros(gh)
    b_hh = get(cell.bias_hh) if getattr(cell, "bias_hh", None) is not None else np.zeros(gh)
    return w_ih, w_hh, b_ih, b_hh


def _stacked(w_ih: np.ndarray, w_hh: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Rows for ``v = [x, h, 1]``: (F + H + 1, N) from (N, F), (N, H), (N,)."""
    return np.concatenate([w_ih.T, w_hh.T, bias[None, :]], axis=0)


class RecurrentBuffers:
    """A recurrent kernel's row buffer ``v = [x, h, 1]`` (B, F + H + 1) and its states."""

    def __init__(self, batch: int, features: int, units: int, dtype: np.dtype, extra_states: int = 0):
        self.v = np.zeros((batch, features + units + 1), dtype)
        self.v[:, -1] = 1
        self.x = self.v[:, :features]  # (B, F): where the input is copied (or written directly)
        self.h = self.v[:, features:features + units]  # (B, H): the output and first state
        self.h1 = self.v[:, features:]  # (B, H + 1): [h, 1], for a Dense head that folds its bias
        self.states = [self.h] + [np.zeros((batch, units), dtype) for _ in range(extra_states)]


# ---------------------------------------------------------------------------------------------------- fast kernels
def gru_kernel(cell, src: np.ndarray | None, buf: RecurrentBuffers) -> Run:
    """GRU step (tanh / sigmoid). ``src``: the input to copy into ``buf.x`` each step (None: already there).

    reset_after=True, with t_r = tanh(a_r / 2), t' = tanh(-a_z / 2) (so 1 - z = (1 + t') / 2) and
    C = (h U_n + b_hn) / 2, D = x W_n + b_in + C, all four from one product ``v @ W`` (B, 4H):
        h~ = tanh(x W_n + b_in + r * (h U_n + b_hn)) = tanh(D + t_r * C)
        h' = z * h + (1 - z) * h~ = h + (1 - z) * (h~ - h)
    reset_after=False: ``v @ W`` gives a_r / 2, -a_z / 2 and x W_n + b_n; then (r * h) U_n is a second product.
    """
    w_ih, w_hh, b_ih, b_hh = _weights(cell)
    u = cell.units
    dt = buf.v.dtype
    r, z, n = slice(0, u), slice(u, 2 * u), slice(2 * u, 3 * u)  # torch gate order r, z, n
    zeros_x = np.zeros_like(w_ih[n])
    zeros_h = np.zeros_like(w_hh[n])
    blocks = [
        0.5 * _stacked(w_ih[r], w_hh[r], b_ih[r] + b_hh[r]),
        -0.5 * _stacked(w_ih[z], w_hh[z], b_ih[z] + b_hh[z]),
    ]
    batch = buf.v.shape[0]
    h, x = buf.h, buf.x
    tmp = np.empty((batch, u), dt)
    if cell.reset_after:
        half_n = 0.5 * _stacked(zeros_x, w_hh[n], b_hh[n])
        blocks += [half_n, _stacked(w_ih[n], zeros_h, b_ih[n]) + half_n]
        W = np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=dt)  # (F + H + 1, 4H)
        g = np.empty((batch, 4 * u), dt)
        rz, t_r, t_z, c, d = g[:, :2 * u], g[:, :u], g[:, u:2 * u], g[:, 2 * u:3 * u], g[:, 3 * u:]
        v = buf.v
        half = dt.type(0.5)
        dot, tanh, mul, add, sub = np.dot, np.tanh, np.multiply, np.add, np.subtract

        def run() -> None:
            if src is not None:
                x[...] = src
            dot(v, W, out=g)
            tanh(rz, out=rz)  # t_r = tanh(a_r / 2), t_z = tanh(-a_z / 2)
            mul(t_r, c, out=tmp)
            add(d, tmp, out=d)
            tanh(d, out=d)  # d: the candidate h~
            sub(d, h, out=tmp)  # h~ - h
            mul(tmp, t_z, out=t_z)
            add(tmp, t_z, out=tmp)  # (1 + t_z) (h~ - h) = 2 (1 - z) (h~ - h)
            mul(tmp, half, out=tmp)
            add(h, tmp, out=h)

        return run
    blocks.append(_stacked(w_ih[n], zeros_h, b_ih[n]))
    W = np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=dt)  # (F + H + 1, 3H)
    U_n = np.ascontiguousarray(w_hh[n].T, dtype=dt)  # (H, H)
    g = np.empty((batch, 3 * u), dt)
    rz, t_r, t_z, d = g[:, :2 * u], g[:, :u], g[:, u:2 * u], g[:, 2 * u:]
    tmp2 = np.empty((batch, u), dt)
    v = buf.v
    one, half = dt.type(1), dt.type(0.5)
    dot, tanh, mul, add, sub = np.dot, np.tanh, np.multiply, np.add, np.subtract

    def run_before() -> None:
        if src is not None:
            x[...] = src
        dot(v, W, out=g)
        tanh(rz, out=rz)
        add(rz, one, out=rz)
        mul(rz, half, out=rz)  # t_r: r, t_z: 1 - z
        mul(t_r, h, out=tmp)
        dot(tmp, U_n, out=tmp2)
        add(d, tmp2, out=d)
        tanh(d, out=d)
        sub(d, h, out=tmp)
        mul(tmp, t_z, out=tmp)
        add(h, tmp, out=h)

    return run_before


def lstm_kernel(cell, src: np.ndarray | None, buf: RecurrentBuffers) -> Run:
    """LSTM step (tanh / sigmoid): one product gives a_i/2, a_f/2, a_o/2, a_g; one tanh gives all four gates."""
    w_ih, w_hh, b_ih, b_hh = _weights(cell)
    u = cell.units
    dt = buf.v.dtype
    i, f, g_, o = (slice(k * u, (k + 1) * u) for k in range(4))  # torch order i, f, g, o
    W = np.concatenate([0.5 * _stacked(w_ih[s], w_hh[s], b_ih[s] + b_hh[s]) for s in (i, f, o)]
                       + [_stacked(w_ih[g_], w_hh[g_], b_ih[g_] + b_hh[g_])], axis=1)
    W = np.ascontiguousarray(W, dtype=dt)  # (F + H + 1, 4H): columns i, f, o, g
    batch = buf.v.shape[0]
    gates = np.empty((batch, 4 * u), dt)
    ifo, in_gate, forget, out_gate, cand = (gates[:, :3 * u], gates[:, :u], gates[:, u:2 * u],
                                            gates[:, 2 * u:3 * u], gates[:, 3 * u:])
    tmp = np.empty((batch, u), dt)
    v, x, h, c = buf.v, buf.x, buf.h, buf.states[1]
    one, half = dt.type(1), dt.type(0.5)
    dot, tanh, mul, add = np.dot, np.tanh, np.multiply, np.add

    def run() -> None:
        if src is not None:
            x[...] = src
        dot(v, W, out=gates)
        tanh(gates, out=gates)
        add(ifo, one, out=ifo)
        mul(ifo, half, out=ifo)
        mul(c, forget, out=c)
        mul(in_gate, cand, out=tmp)
        add(c, tmp, out=c)
        tanh(c, out=tmp)
        mul(out_gate, tmp, out=h)

    return run


def simple_rnn_kernel(cell, src: np.ndarray | None, buf: RecurrentBuffers) -> Run:
    """SimpleRNN step: ``h' = activation(v @ W)`` with activation tanh, relu or linear."""
    w_ih, w_hh, b_ih, b_hh = _weights(cell)
    dt = buf.v.dtype
    W = np.ascontiguousarray(_stacked(w_ih, w_hh, b_ih + b_hh), dtype=dt)  # (F + H + 1, H)
    tmp = np.empty((buf.v.shape[0], cell.units), dt)
    v, x, h = buf.v, buf.x, buf.h
    act = numpy_activation(cell.activation)
    dot = np.dot

    def run() -> None:
        if src is not None:
            x[...] = src
        dot(v, W, out=tmp)
        act(tmp, h)

    return run


def fast_recurrent_blockers(cell) -> list[str]:
    """Why no fast numpy kernel computes this cell; empty when one does."""
    kind = getattr(cell, "kind", "")
    if kind not in ("gru", "lstm", "simple_rnn"):
        return [f"the cell {type(cell).__name__} is not a built-in GRU, LSTM or SimpleRNN cell"]
    if kind == "simple_rnn":
        if numpy_activation(cell.activation) is None:
            return [f"activation={activations.serialize(cell.activation)!r} (tanh, relu or linear needed)"]
        return []
    blockers = []
    if not activations.is_builtin(cell.activation, "tanh"):
        blockers.append(f"activation={activations.serialize(cell.activation)!r} (tanh needed)")
    if not activations.is_builtin(cell.recurrent_activation, "sigmoid"):
        blockers.append(f"recurrent_activation={activations.serialize(cell.recurrent_activation)!r} "
                        "(sigmoid needed)")
    return blockers


FAST_RECURRENT = {"gru": gru_kernel, "lstm": lstm_kernel, "simple_rnn": simple_rnn_kernel}


def numpy_activation(fn) -> Callable[[np.ndarray, np.ndarray], None] | None:
    """``act(src, dst)`` writing ``fn(src)`` into ``dst`` (which may be ``src``), or None if not in numpy."""
    if activations.is_builtin(fn, "linear"):
        return lambda src, dst: None if src is dst else np.copyto(dst, src)
    if activations.is_builtin(fn, "tanh"):
        return lambda src, dst: np.tanh(src, out=dst)
    if activations.is_builtin(fn, "relu"):
        return lambda src, dst: np.maximum(src, 0, out=dst)
    if activations.is_builtin(fn, "sigmoid"):
        def sigmoid(src: np.ndarray, dst: np.ndarray) -> None:
            half = dst.dtype.type(0.5)
            np.multiply(src, half, out=dst)
            np.tanh(dst, out=dst)
            np.multiply(dst, half, out=dst)
            np.add(dst, half, out=dst)

        return sigmoid
    if activations.is_builtin(fn, "softmax"):
        return _softmax
    return None


def _softmax(src: np.ndarray, dst: np.ndarray) -> None:
    """softmax over the last axis (``np.maximum.reduce`` is half the cost of ``np.max`` on small arrays)."""
    top = np.maximum.reduce(src, axis=-1, keepdims=True)
    np.subtract(src, top, out=dst)
    np.exp(dst, out=dst)
    np.divide(dst, np.add.reduce(dst, axis=-1, keepdims=True), out=dst)


def _softmax_kernel(out: np.ndarray) -> Callable[[np.ndarray, np.ndarray], None]:
    """softmax of ``out`` in place for a (B, C) buffer: the row sums come from one ``np.dot`` with ones."""
    if out.ndim != 2:
        return _softmax
    top = np.empty((out.shape[0], 1), out.dtype)
    total = np.empty((out.shape[0], 1), out.dtype)
    ones = np.ones((out.shape[1], 1), out.dtype)
    maximum, sub, exp, dot, div = np.maximum.reduce, np.subtract, np.exp, np.dot, np.divide

    def softmax(_src: np.ndarray, dst: np.ndarray) -> None:
        maximum(dst, axis=-1, keepdims=True, out=top)
        sub(dst, top, out=dst)
        exp(dst, out=dst)
        dot(dst, ones, out=total)
        div(dst, total, out=dst)

    return softmax


def torch_activation(fn) -> Callable[[np.ndarray, np.ndarray], None]:
    """Any activation through torch on views of the numpy buffers (no autograd: the views need no gradient)."""
    def act(src: np.ndarray, dst: np.ndarray) -> None:
        torch.from_numpy(dst).copy_(fn(torch.from_numpy(src)))

    return act


def dense_kernel(layer, src: np.ndarray, src_with_one: np.ndarray | None, out: np.ndarray) -> Run:
    """``out = activation(src @ kernel + bias)``; with ``src_with_one`` = [src, 1] the bias rides in the product.

    A sigmoid head gets its 1/2 folded into the weights: sigmoid(a) = 0.5 + 0.5 * tanh(a / 2); a softmax over
    two units is computed as the sigmoid of the difference of the two logits, which it equals.
    """
    dt = out.dtype
    kernel = layer.kernel.detach().cpu().double().numpy()
    bias = layer.bias.detach().cpu().double().numpy() if layer.bias is not None else np.zeros(kernel.shape[1])
    dot, add = np.dot, np.add
    sigmoid = activations.is_builtin(layer.activation, "sigmoid")
    if activations.is_builtin(layer.activation, "softmax") and kernel.shape[1] == 2:
        # softmax over two classes is a sigmoid of their difference: no max, no sum
        kernel = np.stack([kernel[:, 0] - kernel[:, 1], kernel[:, 1] - kernel[:, 0]], axis=1)
        bias = np.array([bias[0] - bias[1], bias[1] - bias[0]])
        sigmoid = True
    scale = 0.5 if sigmoid else 1.0
    if activations.is_builtin(layer.activation, "linear"):
        act = None
    elif sigmoid:
        act = _sigmoid_of_half
    elif activations.is_builtin(layer.activation, "softmax"):
        act = _softmax_kernel(out)
    else:
        act = numpy_activation(layer.activation) or torch_activation(layer.activation)
    if src_with_one is not None:
        W = np.ascontiguousarray(scale * np.concatenate([kernel, bias[None, :]]), dtype=dt)

        def run() -> None:
            dot(src_with_one, W, out=out)
            if act is not None:
                act(out, out)

        return run
    W = np.ascontiguousarray(scale * kernel, dtype=dt)
    b = np.ascontiguousarray(scale * bias, dtype=dt)

    def run_biased() -> None:
        dot(src, W, out=out)
        add(out, b, out=out)
        if act is not None:
            act(out, out)

    return run_biased


def _sigmoid_of_half(_src: np.ndarray, dst: np.ndarray) -> None:
    """sigmoid(a) from dst = a / 2: 0.5 + 0.5 * tanh(a / 2), in place."""
    half = dst.dtype.type(0.5)
    np.tanh(dst, out=dst)
    np.multiply(dst, half, out=dst)
    np.add(dst, half, out=dst)


def embedding_kernel(layer, ids: np.ndarray, out: np.ndarray) -> Run:
    """``out = embeddings[ids]``; an index out of range raises the Embedding layer's own error."""
    table = np.ascontiguousarray(layer.embeddings.detach().cpu().numpy(), dtype=out.dtype)
    take = np.take

    def run() -> None:
        if ids.min() < 0:
            _embedding_error(layer, ids)
        try:
            take(table, ids, axis=0, out=out)
        except IndexError:
            _embedding_error(layer, ids)

    return run


def _embedding_error(layer, ids: np.ndarray) -> None:
    layer.validate_input(torch.from_numpy(ids.copy()))  # raises the explanatory ValueError
    raise AssertionError("unreachable: the ids were out of range")  # pragma: no cover


# ---------------------------------------------------------------------------------------------------- reference kernels
def reference_recurrent_kernel(layer, src: np.ndarray, out: np.ndarray, states: list[np.ndarray]) -> Run:
    """One step of ``layer.cell`` through its own code, on torch views of the buffers."""
    from ..layers._recurrent import _call_cell, _flatten, _unflatten

    cell = layer.cell
    x_t = torch.from_numpy(src)
    out_t = torch.from_numpy(out)
    state_ts = [torch.from_numpy(s) for s in states]
    builtin = getattr(cell, "kind", "") in ("gru", "lstm", "simple_rnn")
    nested = not isinstance(cell.state_size, int)

    def run() -> None:  # called in torch.inference_mode by the engine
        if builtin:
            output, new_states = cell.step(cell.project(x_t), list(state_ts))
        else:
            structured = _unflatten(list(state_ts), cell.state_size) if nested else state_ts[0]
            output, new = _call_cell(cell, x_t, structured, False)
            new_states = _flatten(new)
        out_t.copy_(output)
        for s, n in zip(state_ts, new_states):
            s.copy_(n)

    return run


def reference_layer_kernel(layer, srcs: list[np.ndarray], out: np.ndarray, call: Callable[..., Any]) -> Run:
    """``out = call(*torch views of srcs)`` (the layer's own forward; the engine runs it in inference mode)."""
    src_ts = [torch.from_numpy(s) for s in srcs]
    out_t = torch.from_numpy(out)

    def run() -> None:
        out_t.copy_(call(*src_ts))

    return run


def dense_reference(layer) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: layer.activation(F.linear(x, layer.kernel.t(), layer.bias))
