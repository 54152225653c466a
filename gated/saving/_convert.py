"""The one place where gate order and bias conventions are translated.

Keras stores a recurrent cell as ``kernel`` (F, G*H), ``recurrent_kernel`` (H, G*H) and ``bias``, with gate blocks
in the order **z, r, h** (GRU) or **i, f, c, o** (LSTM). gated stores the layout torch's fused kernels consume:
``weight_ih`` (G*H, F), ``weight_hh`` (G*H, H), ``bias_ih`` / ``bias_hh`` (G*H,), gate order **r, z, n** (GRU) or
i, f, g, o (LSTM). Bias conventions:

========================  ===========================  ===============================================
cell                       Keras ``bias``               gated / torch
========================  ===========================  ===============================================
GRU, reset_after=True      (2, 3H): input, recurrent    ``bias_ih`` = row 0, ``bias_hh`` = row 1
GRU, reset_after=False     (3H,)                        ``bias_ih`` only (no torch equivalent exists)
LSTM                       (4H,)                        ``bias_ih``; torch's second bias is summed in
SimpleRNN                  (H,)                         ``bias_ih``; torch's second bias is summed in
========================  ===========================  ===============================================

All torch functions are differentiable, so regularizers and constraints can act on the Keras view. ONNX's
recurrent operators take Keras's GRU order (z, r, h) but order LSTM gates i, o, f, c (``keras_blocks_to_onnx``).
"""

from __future__ import annotations

from typing import Sequence

import torch

# torch block i holds Keras block _PERMUTATION[kind][i]; each permutation is its own inverse.
_PERMUTATION = {"gru": (1, 0, 2), "lstm": (0, 1, 2, 3), "simple_rnn": (0,)}


# ONNX gate block i holds Keras gate block _ONNX_ORDER[kind][i]: GRU z, r, h as Keras; LSTM i, o, f, c.
_ONNX_ORDER = {"gru": (0, 1, 2), "lstm": (0, 3, 1, 2), "simple_rnn": (0,)}


def keras_blocks_to_onnx(array, kind: str):
    """Reorder gate blocks on the last axis of a Keras-layout numpy array into ONNX's gate order."""
    import numpy as np

    blocks = np.split(array, len(_ONNX_ORDER[kind]), axis=-1)
    return np.concatenate([blocks[i] for i in _ONNX_ORDER[kind]], axis=-1)


def gate_count(kind: str) -> int:
    return len(_PERMUTATION[kind])


def _reorder(blocks_axis_last: torch.Tensor, kind: str) -> torch.Tensor:
    perm = _PERMUTATION[kind]
    if perm == tuple(range(len(perm))):
        return blocks_axis_last
    chunks = blocks_axis_last.chunk(len(perm), dim=-1)
    return torch.cat([chunks[i] for i in perm], dim=-1)


def kernel_to_torch(kernel: torch.Tensor, kind: str) -> torch.Tensor:
    """Keras (F, G*H) in Keras gate order -> torch (G*H, F) in torch gate order."""
    return _reorder(kernel, kind).t().contiguous()


def kernel_to_keras(weight: torch.Tensor, kind: str) -> torch.Tensor:
    """torch (G*H, F) -> Keras (F, G*H)."""
    return _reorder(weight.t(), kind)


def bias_to_torch(bias: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Keras bias -> (bias_ih, bias_hh or None). A (2, G*H) bias is the GRU reset_after=True form."""
    if bias.ndim == 2:
        return _reorder(bias[0], kind).contiguous(), _reorder(bias[1], kind).contiguous()
    return _reorder(bias, kind).contiguous(), None


def bias_to_keras(bias_ih: torch.Tensor, bias_hh: torch.Tensor | None, kind: str) -> torch.Tensor:
    if bias_hh is None:
        return _reorder(bias_ih, kind)
    return torch.stack([_reorder(bias_ih, kind), _reorder(bias_hh, kind)])


def torch_rnn_to_keras(module: torch.nn.RNNBase, layer: int = 0, direction: int = 0) -> tuple[str, list[torch.Tensor]]:
    """Keras-layout ``[kernel, recurrent_kernel, (bias)]`` of one layer and direction of a torch RNN module.

    Returns the cell kind ('gru', 'lstm' or 'simple_rnn') and the arrays. For LSTM and RNN modules torch's two
    biases are summed into Keras's single bias, which computes the same function.
    """
    kind = {"GRU": "gru", "LSTM": "lstm", "RNN_TANH": "simple_rnn", "RNN_RELU": "simple_rnn"}.get(module.mode)
    if kind is None:
        raise ValueError(f"Cannot convert torch RNN mode {module.mode!r}; expected GRU, LSTM or RNN.")
    if getattr(module, "proj_size", 0):
        raise ValueError("LSTM modules with proj_size > 0 have no Keras equivalent.")
    if not 0 <= layer < module.num_layers:
        raise ValueError(f"layer={layer} is out of range for a module with num_layers={module.num_layers}.")
    directions = 2 if module.bidirectional else 1
    if not 0 <= direction < directions:
        raise ValueError(f"direction={direction} is out of range for a module with {directions} direction(s).")
    suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
    w_ih = getattr(module, "weight_ih" + suffix).detach()
    w_hh = getattr(module, "weight_hh" + suffix).detach()
    arrays = [kernel_to_keras(w_ih, kind), kernel_to_keras(w_hh, kind)]
    if module.bias:
        b_ih = getattr(module, "bias_ih" + suffix).detach()
        b_hh = getattr(module, "bias_hh" + suffix).detach()
        arrays.append(bias_to_keras(b_ih, b_hh, kind) if kind == "gru" else _reorder(b_ih + b_hh, kind))
    return kind, arrays


def keras_to_torch_rnn(arrays: Sequence[torch.Tensor], kind: str, module: torch.nn.RNNBase, layer: int = 0,
                       direction: int = 0) -> None:
    """Write Keras-layout ``[kernel, recurrent_kernel, (bias)]`` into one layer and direction of a torch module."""
    suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
    kernel, recurrent = arrays[0], arrays[1]
    with torch.no_grad():
        getattr(module, "weight_ih" + suffix).copy_(kernel_to_torch(kernel, kind))
        getattr(module, "weight_hh" + suffix).copy_(kernel_to_torch(recurrent, kind))
        if module.bias:
            b_ih, b_hh = bias_to_torch(arrays[2], kind) if len(arrays) > 2 else (None, None)
            if b_ih is None:
                raise ValueError("The torch module has biases but the Keras weights have none; use bias=False.")
            if kind == "gru" and b_hh is None:
                raise ValueError(
                    "A GRU with reset_after=False has no torch.nn.GRU equivalent (torch applies the reset gate "
                    "after the recurrent product). Use reset_after=True."
                )
            getattr(module, "bias_ih" + suffix).copy_(b_ih)
            getattr(module, "bias_hh" + suffix).copy_(b_hh if b_hh is not None else torch.zeros_like(b_ih))
