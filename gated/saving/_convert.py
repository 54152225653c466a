"""The one place where gate order and bias conventions are translated, and the spec that says them for each cell.

Every built-in recurrent cell carries one ``CellSpec`` (``GRUCell.spec``, ...): its kind, its gate names in Keras's,
torch's and ONNX's block orders, the torch mode of its fused kernels and its number of states. The kernels,
the converters below, ONNX export, int8 quantization and streaming read the spec; none of them switches on a
cell's name.

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

Shape legend: F features, H units, G gates.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn


class CellKind(enum.Enum):
    """The family of a built-in recurrent cell."""

    GRU = "gru"
    LSTM = "lstm"
    SIMPLE_RNN = "simple_rnn"
    MIN_GRU = "min_gru"
    MIN_LSTM = "min_lstm"


@dataclass(frozen=True)
class CellSpec:
    """What the kernels, converters and exporters need to know about a built-in recurrent cell.

    ``keras_gates`` / ``torch_gates`` / ``onnx_gates``: the gate blocks of the weights in each layout's order
    (``onnx_gates`` empty: no ONNX recurrent operator computes the cell). ``torch_modes``: the ``(activation, mode)``
    pairs torch's fused kernels implement (``torch.nn.RNNBase.mode``; empty: none computes the cell), with
    ``recurrent_activation`` for the gates (None: the cell has no gate activation). ``states``: the state tensors
    (h; h and c for an LSTM). ``separate_recurrent_bias``: torch's ``bias_hh`` cannot be summed into ``bias_ih``
    (the reset-after GRU: ``b_hn`` is multiplied by the reset gate), so Keras's bias keeps both rows. ``linear``: the
    recurrence is linear in the state, ``h_t = a_t h_{t-1} + b_t``, so a parallel scan computes it (the cell
    provides ``log_coefficients``).
    """

    kind: CellKind
    keras_gates: tuple[str, ...]
    torch_gates: tuple[str, ...]
    onnx_gates: tuple[str, ...] = ()
    torch_modes: tuple[tuple[str, str], ...] = ()
    recurrent_activation: str | None = None
    states: int = 1
    separate_recurrent_bias: bool = False
    linear: bool = False

    def __post_init__(self) -> None:
        for name, order in (("torch_gates", self.torch_gates), ("onnx_gates", self.onnx_gates or self.keras_gates)):
            if sorted(order) != sorted(self.keras_gates):
                raise ValueError(f"CellSpec({self.kind}): {name} {order} must name the gates of keras_gates "
                                 f"{self.keras_gates}, each once.")

    @property
    def gate_count(self) -> int:
        return len(self.keras_gates)

    @property
    def torch_order(self) -> tuple[int, ...]:
        """For each torch gate block, the index of the Keras block it holds (a permutation, its own inverse for
        every built-in cell)."""
        return tuple(self.keras_gates.index(g) for g in self.torch_gates)

    @property
    def onnx_order(self) -> tuple[int, ...]:
        """For each ONNX gate block, the index of the Keras block it holds."""
        return tuple(self.keras_gates.index(g) for g in self.onnx_gates)

    @property
    def activations(self) -> tuple[str, ...]:
        """The activations torch's fused kernels implement for the cell's ``activation``."""
        return tuple(activation for activation, _ in self.torch_modes)

    def torch_mode(self, activation: str | None) -> str | None:
        """torch's mode for a cell with this ``activation`` (a Keras name), or None when torch has no such kernel."""
        return next((mode for name, mode in self.torch_modes if name == activation), None)


# ------------------------------------------------------------------------------------------ gate blocks
def _permute(blocks_axis_last: torch.Tensor, order: tuple[int, ...]) -> torch.Tensor:
    if order == tuple(range(len(order))):
        return blocks_axis_last
    chunks = blocks_axis_last.chunk(len(order), dim=-1)
    return torch.cat([chunks[i] for i in order], dim=-1)


def _to_torch_order(blocks_axis_last: torch.Tensor, spec: CellSpec) -> torch.Tensor:
    return _permute(blocks_axis_last, spec.torch_order)


def _to_keras_order(blocks_axis_last: torch.Tensor, spec: CellSpec) -> torch.Tensor:
    inverse = tuple(spec.torch_gates.index(g) for g in spec.keras_gates)
    return _permute(blocks_axis_last, inverse)


def keras_blocks_to_onnx(array: np.ndarray, spec: CellSpec) -> np.ndarray:
    """Reorder gate blocks on the last axis of a Keras-layout numpy array into ONNX's gate order."""
    blocks = np.split(array, spec.gate_count, axis=-1)
    return np.concatenate([blocks[i] for i in spec.onnx_order], axis=-1)


def kernel_to_torch(kernel: torch.Tensor, spec: CellSpec) -> torch.Tensor:
    """Keras (F, G*H) in Keras gate order -> torch (G*H, F) in torch gate order."""
    return _to_torch_order(kernel, spec).t().contiguous()


def kernel_to_keras(weight: torch.Tensor, spec: CellSpec) -> torch.Tensor:
    """torch (G*H, F) -> Keras (F, G*H)."""
    return _to_keras_order(weight.t(), spec)


def bias_to_torch(bias: torch.Tensor, spec: CellSpec) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Keras bias -> (bias_ih, bias_hh or None). A (2, G*H) bias is the GRU reset_after=True form."""
    if bias.ndim == 2:
        return _to_torch_order(bias[0], spec).contiguous(), _to_torch_order(bias[1], spec).contiguous()
    return _to_torch_order(bias, spec).contiguous(), None


def bias_to_keras(bias_ih: torch.Tensor, bias_hh: torch.Tensor | None, spec: CellSpec) -> torch.Tensor:
    if bias_hh is None:
        return _to_keras_order(bias_ih, spec)
    return torch.stack([_to_keras_order(bias_ih, spec), _to_keras_order(bias_hh, spec)])


# ------------------------------------------------------------------------------------------ torch.nn modules
_TORCH_MODULES = {"GRU": (nn.GRU, {}), "LSTM": (nn.LSTM, {}), "RNN_TANH": (nn.RNN, {"nonlinearity": "tanh"}),
                  "RNN_RELU": (nn.RNN, {"nonlinearity": "relu"})}


def torch_module(mode: str, features: int, units: int, bias: bool) -> nn.RNNBase:
    """A batch-first ``torch.nn.GRU`` / ``LSTM`` / ``RNN`` of torch mode ``mode`` ('GRU', 'RNN_TANH', ...)."""
    module_class, extra = _TORCH_MODULES[mode]
    return module_class(features, units, bias=bias, batch_first=True, **extra)


def torch_rnn_to_keras(module: nn.RNNBase, spec: CellSpec, layer: int = 0,
                       direction: int = 0) -> list[torch.Tensor]:
    """Keras-layout ``[kernel, recurrent_kernel, (bias)]`` of one layer and direction of a torch RNN module.

    The module must be of one of ``spec``'s torch modes. Where the cell has one Keras bias (every cell but the
    reset-after GRU), torch's two biases are summed into it, which computes the same function.
    """
    if module.mode not in dict((m, a) for a, m in spec.torch_modes):
        modes = ", ".join(m for _, m in spec.torch_modes) or "none"
        raise ValueError(f"Cannot convert a torch {module.mode} module to a {spec.kind.value} cell (torch modes "
                         f"of that cell: {modes}).")
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
    arrays = [kernel_to_keras(w_ih, spec), kernel_to_keras(w_hh, spec)]
    if module.bias:
        b_ih = getattr(module, "bias_ih" + suffix).detach()
        b_hh = getattr(module, "bias_hh" + suffix).detach()
        arrays.append(bias_to_keras(b_ih, b_hh, spec) if spec.separate_recurrent_bias
                      else _to_keras_order(b_ih + b_hh, spec))
    return arrays


def keras_to_torch_rnn(arrays: Sequence[torch.Tensor], spec: CellSpec, module: nn.RNNBase, layer: int = 0,
                       direction: int = 0) -> None:
    """Write Keras-layout ``[kernel, recurrent_kernel, (bias)]`` into one layer and direction of a torch module."""
    suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
    kernel, recurrent = arrays[0], arrays[1]
    with torch.no_grad():
        getattr(module, "weight_ih" + suffix).copy_(kernel_to_torch(kernel, spec))
        getattr(module, "weight_hh" + suffix).copy_(kernel_to_torch(recurrent, spec))
        if module.bias:
            b_ih, b_hh = bias_to_torch(arrays[2], spec) if len(arrays) > 2 else (None, None)
            if b_ih is None:
                raise ValueError("The torch module has biases but the Keras weights have none; use bias=False.")
            if spec.separate_recurrent_bias and b_hh is None:
                raise ValueError(
                    "A GRU with reset_after=False has no torch.nn.GRU equivalent (torch applies the reset gate "
                    "after the recurrent product). Use reset_after=True."
                )
            getattr(module, "bias_ih" + suffix).copy_(b_ih)
            getattr(module, "bias_hh" + suffix).copy_(b_hh if b_hh is not None else torch.zeros_like(b_ih))
