"""Float64 loop references: Keras's recurrent equations written out step by step, in Keras's weight layout.

Nothing here is imported from gated. Weights are Keras's ``kernel`` (F, G*H), ``recurrent_kernel`` (H, G*H) and
``bias`` with gate blocks in Keras's order (GRU z, r, h; LSTM i, f, c, o), exactly as ``get_weights()`` returns
them. Every function loops over the batch rows and the timesteps in Python and updates one row's state vector at
a time, so the mask semantics are plain ``if`` statements rather than tensor tricks:

* a valid step updates the state and outputs the new ``h``;
* a masked step leaves the state unchanged and outputs the previous step's output (zeros before the first
  valid step), or zeros with ``zero_output_for_mask``;
* ``go_backwards`` processes the reversed sequence; outputs come back in processing order, as in Keras.

Written with torch ops so autograd gives reference gradients. Shape legend: B batch, T timesteps, F features,
H units.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

Tensor = torch.Tensor


def _run(step: Callable[[Tensor, list[Tensor]], list[Tensor]], x: Tensor, states: Sequence[Tensor],
         mask: Tensor | None, go_backwards: bool,
         zero_output_for_mask: bool) -> tuple[Tensor, list[Tensor]]:
    """Apply ``step(x_t (F,), states [(H,), ...]) -> new states`` row by row; the output is ``states[0]``."""
    batch, steps, _ = x.shape
    order = list(range(steps))[::-1] if go_backwards else list(range(steps))
    rows_out, rows_final = [], []
    for b in range(batch):
        row_states = [s[b] for s in states]
        previous = torch.zeros_like(row_states[0])
        outs = []
        for t in order:
            if mask is None or bool(mask[b, t]):
                row_states = step(x[b, t], row_states)
                out = row_states[0]
            else:
                out = torch.zeros_like(previous) if zero_output_for_mask else previous
            outs.append(out)
            previous = out
        rows_out.append(torch.stack(outs))  # (T, H), processing order
        rows_final.append(row_states)
    outputs = torch.stack(rows_out)  # (B, T, H)
    finals = [torch.stack([r[i] for r in rows_final]) for i in range(len(states))]
    return outputs, finals


def _activation(name: str) -> Callable[[Tensor], Tensor]:
    return {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[name]


def gru(x: Tensor, kernel: Tensor, recurrent_kernel: Tensor, bias: Tensor | None, h0: Tensor, *,
        reset_after: bool, mask: Tensor | None = None, go_backwards: bool = False,
        zero_output_for_mask: bool = False) -> tuple[Tensor, list[Tensor]]:
    """Keras's GRU. ``bias``: (2, 3H) with reset_after=True (input row, recurrent row), (3H,) otherwise."""
    units = recurrent_kernel.shape[0]
    w_z, w_r, w_h = kernel.split(units, dim=1)  # (F, H) each
    u_z, u_r, u_h = recurrent_kernel.split(units, dim=1)  # (H, H) each
    zeros = x.new_zeros(3 * units)
    if bias is None:
        b_in, b_rec = zeros, zeros
    elif reset_after:
        b_in, b_rec = bias[0], bias[1]
    else:
        b_in, b_rec = bias, zeros
    bi_z, bi_r, bi_h = b_in.split(units)
    br_z, br_r, br_h = b_rec.split(units)

    def step(x_t: Tensor, states: list[Tensor]) -> list[Tensor]:
        (h,) = states
        update = torch.sigmoid(x_t @ w_z + bi_z + h @ u_z + br_z)
        reset = torch.sigmoid(x_t @ w_r + bi_r + h @ u_r + br_r)
        if reset_after:
            candidate = torch.tanh(x_t @ w_h + bi_h + reset * (h @ u_h + br_h))
        else:
            candidate = torch.tanh(x_t @ w_h + bi_h + (reset * h) @ u_h)
        return [update * h + (1 - update) * candidate]

    return _run(step, x, [h0], mask, go_backwards, zero_output_for_mask)


def lstm(x: Tensor, kernel: Tensor, recurrent_kernel: Tensor, bias: Tensor | None, h0: Tensor, c0: Tensor, *,
         mask: Tensor | None = None, go_backwards: bool = False,
         zero_output_for_mask: bool = False) -> tuple[Tensor, list[Tensor]]:
    """Keras's LSTM (gates i, f, c, o); returns outputs and the final ``[h, c]``."""
    units = recurrent_kernel.shape[0]
    b = x.new_zeros(4 * units) if bias is None else bias

    def step(x_t: Tensor, states: list[Tensor]) -> list[Tensor]:
        h, c = states
        i, f, g, o = (x_t @ kernel + h @ recurrent_kernel + b).split(units)
        input_gate, forget_gate, output_gate = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
        cell = forget_gate * c + input_gate * torch.tanh(g)
        return [output_gate * torch.tanh(cell), cell]

    return _run(step, x, [h0, c0], mask, go_backwards, zero_output_for_mask)


def simple_rnn(x: Tensor, kernel: Tensor, recurrent_kernel: Tensor, bias: Tensor | None, h0: Tensor, *,
               activation: str = "tanh", mask: Tensor | None = None, go_backwards: bool = False,
               zero_output_for_mask: bool = False) -> tuple[Tensor, list[Tensor]]:
    """Keras's SimpleRNN: ``h' = activation(x W + h U + b)``."""
    act = _activation(activation)
    b = x.new_zeros(recurrent_kernel.shape[0]) if bias is None else bias

    def step(x_t: Tensor, states: list[Tensor]) -> list[Tensor]:
        return [act(x_t @ kernel + states[0] @ recurrent_kernel + b)]

    return _run(step, x, [h0], mask, go_backwards, zero_output_for_mask)
