"""gated's fused CPU LSTM (``csrc/lstm_cpu.cpp``): the autograd wrapper and the layer-facing ``run``.

torch's CPU LSTM, like its GRU, runs the backward as autograd over many small operations per timestep. This kernel
runs a whole LSTM layer in C++: per step one GEMM ``h @ W_hh^T`` and one fused elementwise pass (gates i, f, g, o,
both new states, the output), forwards; per step one fused elementwise pass and one GEMM for ``dh_{t-1}``,
backwards, with the weight, bias and input gradients as a few large GEMMs per chunk of steps. It computes what
``torch._VF.lstm`` computes (and Keras's masked recurrence for any mask), to rounding. The extension, its build,
``status()`` and ``blockers()`` are ``_cpu_gru``'s: one library holds both kernels.

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import _cpu_gru

KERNEL = "gated-cpu LSTM (C++: one GEMM and one fused gate pass per step, forward and backward)"


class _LSTMFunction(torch.autograd.Function):
    """A whole LSTM layer: (x, h0, c0, weights) -> (outputs (B, T, H), final h (B, H), final c (B, H))."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, zero_output):
        outputs, h_final, c_final, h_states, c_states, gates, x_tm = _cpu_gru._module.lstm_forward(
            x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, zero_output, True)
        ctx.save_for_backward(x_tm, w_ih, w_hh, h_states, c_states, gates, mask)
        ctx.zero_output = zero_output
        return outputs, h_final, c_final

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_outputs, grad_h, grad_c):
        x_tm, w_ih, w_hh, h_states, c_states, gates, mask = ctx.saved_tensors
        dx, dh0, dc0, dw_ih, dw_hh, db = _cpu_gru._module.lstm_backward(
            grad_outputs, grad_h, grad_c, x_tm, w_ih, w_hh, h_states, c_states, gates, mask, ctx.zero_output,
            ctx.needs_input_grad[0])
        grads = [dx, dh0, dc0, dw_ih, dw_hh, db, db]  # b_ih and b_hh enter as one sum
        return (*[g if need else None for g, need in zip(grads, ctx.needs_input_grad)], None, None)


def run(cell, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, mask: torch.Tensor | None,
        zero_output_for_mask: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs (B, T, H) in processing order and ``[final h, final c]``, with Keras's mask semantics for any mask."""
    tensors, mask_arg, graph = _cpu_gru.arguments(cell, x, [h0, c0], mask)
    if graph:
        outputs, h_final, c_final = _LSTMFunction.apply(*tensors, mask_arg, zero_output_for_mask)
    else:  # inference: nothing is saved for a backward pass
        outputs, h_final, c_final, *_ = _cpu_gru._module.lstm_forward(*tensors, mask_arg, zero_output_for_mask,
                                                                       False)
    return outputs, [h_final, c_final]
