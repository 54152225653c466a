"""One timestep of a recurrent layer on numpy row buffers, for ``gated.deploy.Streamer``: numpy kernels for the
built-in cells, gated's C++ GRU step, and the cell's own torch step they must equal.

Every kernel reads and writes preallocated numpy buffers of shape (B, ...) and is a closure ``run()`` with its
buffers bound, so a step costs one Python call per layer and a handful of numpy calls with ``out=``.
At batch 1 the cost of a numpy call (about 0.5 µs) dominates everything but the recurrent matrix-vector product,
so the fast kernels are arranged to need as few calls as possible:

* a recurrent layer keeps ``v = [x_t, h, 1]`` in one row buffer and multiplies it by one stacked weight matrix:
  the input projection, the recurrent projection and both biases in a single ``np.dot``;
* sigmoids are computed as ``0.5 + 0.5 * tanh(a / 2)`` with the ``1/2`` folded into the weights, so the gates of
  a GRU or LSTM need one ``np.tanh`` call together;
* the GRU's ``r * (h U_h + b_hh)`` is rearranged so that the candidate needs three calls (see ``gru_kernel``).

``_dispatch.decide_step`` picks the kernel: ``STEP_KERNELS`` (numpy, by cell kind), ``CPU_STEP_KERNELS`` (C++), or
``torch_step_kernel``: ``layer.step_cell`` on torch views of the buffers, the reference (``cell.project`` +
``cell.step`` for the built-in cells, THE numerical reference, ``gated/layers/_cells.py``; the cell itself
otherwise). Shape legend: B batch (streams), F features, H units, G gates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from .. import activations
from ..saving._convert import CellKind
from . import _cpu_gru

Run = Callable[[], None]
TORCH_STEP = "torch: the cell's own step"


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


# ---------------------------------------------------------------------------------------------------- numpy kernels
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
        return numpy_softmax
    return None


def numpy_softmax(src: np.ndarray, dst: np.ndarray) -> None:
    """softmax over the last axis (``np.maximum.reduce`` is half the cost of ``np.max`` on small arrays)."""
    top = np.maximum.reduce(src, axis=-1, keepdims=True)
    np.subtract(src, top, out=dst)
    np.exp(dst, out=dst)
    np.divide(dst, np.add.reduce(dst, axis=-1, keepdims=True), out=dst)


# ---------------------------------------------------------------------------------------------------- the tables
def blockers(cell) -> list[str]:
    """Why no numpy kernel computes this built-in cell; empty when one does. Gated cells need the standard
    activations (tanh, and sigmoid gates: the kernels fold the sigmoid into one tanh); a cell without gates needs an
    activation numpy has."""
    gate = cell.spec.recurrent_activation
    if gate is None:
        if numpy_activation(cell.activation) is None:
            return [f"activation={activations.serialize(cell.activation)!r} (tanh, relu or linear needed)"]
        return []
    found = []
    if not activations.is_builtin(cell.activation, "tanh"):
        found.append(f"activation={activations.serialize(cell.activation)!r} (tanh needed)")
    if not activations.is_builtin(cell.recurrent_activation, gate):
        found.append(f"recurrent_activation={activations.serialize(cell.recurrent_activation)!r} ({gate} needed)")
    return found


@dataclass(frozen=True)
class StepKernel:
    """A numpy step kernel: ``build(cell, src, buffers) -> run`` and its description for ``streamer.paths``."""

    build: Callable[[Any, np.ndarray | None, RecurrentBuffers], Run]
    describe: Callable[[Any], str]


_ONE_DOT = "numpy: one np.dot for [x, h, 1]"
STEP_KERNELS = {  # cell kind -> numpy kernel
    CellKind.GRU: StepKernel(gru_kernel, lambda cell: f"{_ONE_DOT} reset_after={cell.reset_after}"),
    CellKind.LSTM: StepKernel(lstm_kernel, lambda cell: _ONE_DOT),
    CellKind.SIMPLE_RNN: StepKernel(simple_rnn_kernel, lambda cell: _ONE_DOT),
}
CPU_STEP_KERNELS = {CellKind.GRU: "C++: gated-cpu GRU step on [x, h, 1]"}  # cell kind -> gated's C++ step


def gated_cpu_gru_kernel(cell, src: np.ndarray | None, buf: RecurrentBuffers) -> Run:
    """gated's C++ GRU step (``_cpu_gru.stream_step``) on ``buf.v``, after copying ``src`` into ``buf.x``."""
    run = _cpu_gru.stream_step(cell, buf.v)
    if src is None:
        return run
    x = buf.x

    def copy_and_run() -> None:
        x[...] = src
        run()

    return copy_and_run


def torch_step_kernel(layer, src: np.ndarray, out: np.ndarray, states: list[np.ndarray]) -> Run:
    """One step of the layer's cell through its own code (``layer.step_cell``), on torch views of the buffers."""
    x_t = torch.from_numpy(src)
    out_t = torch.from_numpy(out)
    state_ts = [torch.from_numpy(s) for s in states]

    def run() -> None:  # called in torch.inference_mode by the engine
        output, new_states = layer.step_cell(x_t, list(state_ts), False)
        out_t.copy_(output)
        for s, n in zip(state_ts, new_states):
            s.copy_(n)

    return run
