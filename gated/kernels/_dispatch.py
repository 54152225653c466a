"""Which implementation runs a recurrent layer, decided in one place and reported.

Two paths exist for the built-in cells:

* ``fused``: a fused kernel for the whole sequence. Runs when the layer computes what those kernels compute: the GRU
  in its reset_after=True form, tanh and sigmoid activations (tanh or relu for SimpleRNN), no recurrent dropout
  while training, and a mask (if any) whose valid steps are one contiguous block per row - right padding, left
  padding and fully masked rows included. The kernel is
  - for a GRU or an LSTM on the CPU in float32/float64: gated's own C++ kernels (``_cpu_gru``, ``_cpu_lstm``,
    kernel name ``gated-cpu ...``), forward and backward, masks applied inside. ``GATED_CPU_KERNEL=0`` turns them
    off; a failed build is reported once with a warning. Either way the reason of the path says why torch's kernel
    runs instead;
  - for a GRU on a CUDA GPU in float32 without a mask: cuDNN or gated's persistent Triton kernel (``_gpu_gru``,
    kernel name ``gated-triton GRU``), whichever was measured faster on the first call with that shape
    (``gpu_path``); ``GATED_GPU_KERNEL=0`` keeps cuDNN;
  - otherwise torch's fused RNN kernels (``torch._VF.gru`` / ``lstm`` / ``rnn_tanh`` / ``rnn_relu``): cuDNN on
    CUDA, ATen's implementation on CPU (for an LSTM, oneDNN's fused LSTM); masked rows are shifted and packed
    around the kernel.
* ``loop``: a Python loop over timesteps with the input projection for all timesteps hoisted into one matrix
  product, stepping the reference cell. Runs everything else.

Cells that are not built-in (custom cells, ``StackedRNNCells``) run ``cell-loop``: the cell is called per step.

``use_cudnn`` keeps Keras's meaning: "auto" picks the fused path when it applies, False never uses it, and True
requires it and raises ``ValueError`` with the reasons when it cannot run. Nothing here catches exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import activations
from . import _cpu_gru, _gpu_gru

CPU_GRU_KERNEL = "gated-cpu GRU (C++: one GEMM and one fused gate pass per step, forward and backward)"
CPU_LSTM_KERNEL = "gated-cpu LSTM (C++: one GEMM and one fused gate pass per step, forward and backward)"
CPU_KERNELS = {"gru": CPU_GRU_KERNEL, "lstm": CPU_LSTM_KERNEL}


@dataclass(frozen=True)
class MaskLayout:
    """What a (B, T) boolean mask looks like, in processing order.

    ``kind``: 'none' (all steps valid), 'right' (valid prefix per row), 'block' (one contiguous run of valid
    steps per row, anywhere), or 'gaps' (some row has masked steps between valid ones).
    ``starts`` / ``lengths``: (B,) int64 tensors describing the block of each row (for 'right' and 'block').
    """

    kind: str
    starts: torch.Tensor | None = None
    lengths: torch.Tensor | None = None


def analyse_mask(mask: torch.Tensor | None) -> MaskLayout:
    if mask is None:
        return MaskLayout("none")
    steps = mask.shape[1]
    lengths = mask.sum(dim=1)
    if bool((lengths == steps).all()):
        return MaskLayout("none")
    first = torch.argmax(mask.to(torch.uint8), dim=1)
    # Empty rows start at T so that every step reads as 'before the block'.
    starts = torch.where(lengths > 0, first, torch.full_like(first, steps))
    t = torch.arange(steps, device=mask.device)
    block = (t >= starts[:, None]) & (t < (starts + lengths)[:, None])
    if not bool((block == mask).all()):
        return MaskLayout("gaps")
    kind = "right" if bool(((starts == 0) | (lengths == 0)).all()) else "block"
    return MaskLayout(kind, starts, lengths)


@dataclass(frozen=True)
class Path:
    """The implementation a recurrent layer runs, and why."""

    name: str  # 'fused' | 'loop' | 'cell-loop'
    kernel: str
    reason: str

    @property
    def gated_cpu(self) -> bool:
        """Whether the path runs one of gated's C++ kernels (``_cpu_gru``, ``_cpu_lstm``)."""
        return self.kernel.startswith("gated-cpu")

    def __str__(self) -> str:
        return f"{self.name} ({self.kernel}): {self.reason}"


def fused_blockers(cell, layout: MaskLayout, training: bool) -> list[str]:
    """Why the fused kernel cannot compute this call exactly; empty when it can."""
    blockers = []
    kind = getattr(cell, "kind", "")
    if kind not in ("gru", "lstm", "simple_rnn"):
        return [f"the cell {type(cell).__name__} is not a built-in GRU, LSTM or SimpleRNN cell"]
    if kind == "gru" and not cell.reset_after:
        blockers.append("reset_after=False (fused kernels implement the reset-after GRU only)")
    if kind == "simple_rnn":
        if not (activations.is_builtin(cell.activation, "tanh") or activations.is_builtin(cell.activation, "relu")):
            blockers.append(f"activation={activations.serialize(cell.activation)!r} (tanh or relu needed)")
    else:
        if not activations.is_builtin(cell.activation, "tanh"):
            blockers.append(f"activation={activations.serialize(cell.activation)!r} (tanh needed)")
        if not activations.is_builtin(cell.recurrent_activation, "sigmoid"):
            blockers.append(
                f"recurrent_activation={activations.serialize(cell.recurrent_activation)!r} (sigmoid needed)"
            )
    if training and 0.0 < cell.recurrent_dropout < 1.0:
        blockers.append(f"recurrent_dropout={cell.recurrent_dropout} while training")
    if layout.kind == "gaps":
        blockers.append("the mask has masked steps between valid ones (not one contiguous block per row)")
    if cell.weight_ih is not None and cell.weight_ih.dtype in (torch.float16, torch.bfloat16) \
            and cell.weight_ih.device.type == "cpu":
        blockers.append(f"{cell.weight_ih.dtype} on CPU")
    return blockers


def choose_path(cell, layout: MaskLayout, training: bool, use_cudnn: bool | str, layer_name: str) -> Path:
    """The path for one call. Raises ValueError when ``use_cudnn=True`` cannot be honoured."""
    if getattr(cell, "kind", "") == "":
        return Path("cell-loop", "python loop calling the cell each step",
                    f"{type(cell).__name__} is not a built-in cell")
    blockers = fused_blockers(cell, layout, training)
    if use_cudnn is True and blockers:
        raise ValueError(
            f"Layer '{layer_name}' was created with use_cudnn=True, but the fused kernel cannot run this call: "
            + "; ".join(blockers)
            + ". Pass use_cudnn='auto' to fall back to the step loop, or change those settings."
        )
    loop_kernel = "python loop, input projection hoisted"
    if use_cudnn is False:
        return Path("loop", loop_kernel, "use_cudnn=False")
    if blockers:
        return Path("loop", loop_kernel, "; ".join(blockers))
    device = cell.weight_ih.device
    reason = "eligible"
    if cell.kind == "lstm" and device.type == "cpu" and not torch.is_grad_enabled():
        # measured (benchmarks/cpu_gru_kernel.py): for LSTM inference torch's oneDNN kernel is as fast or faster
        reason = "eligible; inference without gradients: torch's oneDNN LSTM kernel (faster here than gated's)"
    elif cell.kind == "lstm" and device.type == "cpu" and torch.get_num_threads() > 1:
        # measured (benchmarks/bench.py, workload B LSTM): gated's kernel wins on one thread (1.14x), oneDNN's
        # parallel LSTM on two (gated 0.79x)
        reason = (f"eligible; {torch.get_num_threads()} threads: torch's oneDNN LSTM kernel (gated's LSTM kernel is "
                  "faster on one thread only)")
    elif cell.kind in CPU_KERNELS and device.type == "cpu":
        cpu_blockers = _cpu_gru.blockers(cell)
        if not cpu_blockers:
            return Path("fused", CPU_KERNELS[cell.kind] + ("" if layout.kind == "none" else ", masked steps carried"),
                        reason)
        reason = f"eligible; gated's C++ {cell.kind.upper()} kernel not used: {'; '.join(cpu_blockers)}"
    backend = "cuDNN" if device.type == "cuda" and torch.backends.cudnn.is_available() else f"ATen {device.type}"
    masked = {"none": "", "right": ", packed by lengths", "block": ", rows shifted and packed"}[layout.kind]
    return Path("fused", f"torch._VF.{_vf_name(cell)} ({backend}{masked})", reason)


def _vf_name(cell) -> str:
    if cell.kind == "simple_rnn":
        return "rnn_relu" if activations.is_builtin(cell.activation, "relu") else "rnn_tanh"
    return cell.kind


def gpu_path(cell, path: Path, x: torch.Tensor, h0: torch.Tensor,
             layout: MaskLayout) -> tuple[Path, _gpu_gru.Decision | None]:
    """For a fused GRU call on a CUDA GPU: cuDNN's path (the decision None) or gated's Triton kernel, by
    measurement (``_gpu_gru``). ``path`` is ``choose_path``'s answer for the call."""
    if path.name != "fused" or cell.kind != "gru" or x.device.type != "cuda":
        return path, None
    if x.shape[0] == 0 or x.shape[1] == 0 or torch.is_autocast_enabled("cuda"):
        return path, None
    # the layer has cast x to its weights' dtype: the weights say both
    blockers = _gpu_gru.blockers(cell.weight_ih.device, cell.weight_ih.dtype, layout.kind, cell.units)
    if blockers:
        return Path(path.name, path.kernel, f"{path.reason}; gated's GPU kernel not used: {'; '.join(blockers)}"), None
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in [x, h0, *cell.fused_weights()])
    decision = _gpu_gru.decide(cell, x, h0, needs_grad)
    if decision is None:
        return Path(path.name, path.kernel, f"{path.reason}; not measured during CUDA-graph capture: cuDNN"), None
    if decision.choice == "cudnn":
        return Path(path.name, path.kernel, f"{path.reason}; {decision.reason}"), None
    return Path("fused", f"{_gpu_gru.KERNEL}, {decision.config}", f"{path.reason}; {decision.reason}"), decision
