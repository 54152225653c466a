"""Which kernel runs a recurrent layer, decided in one place and reported.

``decide(layer, layout, training, ...)`` answers for a call over a whole sequence, ``decide_step(layer, fast)``
for one streamed timestep (``gated.deploy.Streamer``). Both return a ``Choice``: the ``Kernel`` (an enum), the
callable that runs it, and the reason in words. A layer runs ``choice.run`` and keeps the choice as
``layer.last_path``; ``layer.dispatch(...)`` returns the same choice without running anything. The decision reads
the cell's ``spec`` (``gated.saving._convert.CellSpec``) and the cell's own ``torch_blockers()``, never its name.

For a call over a sequence:

* ``CELL_LOOP``: cells without a spec (custom cells, ``StackedRNNCells``): a Python loop calling the cell per step.
* ``SCAN`` / ``LOOP`` for cells whose recurrence is linear in the state (``MinGRU``, ``MinLSTM``): the parallel
  log-space scan, or with ``parallel=False`` the step loop (``_scan``).
* A fused kernel for the whole sequence when the layer computes what those kernels compute: the cell's
  ``torch_blockers()`` are empty (a GRU in its reset_after=True form, tanh and sigmoid activations; tanh or relu
  for SimpleRNN), no recurrent dropout while training, and a mask (if any) whose valid steps are one contiguous
  block per row - right padding, left padding and fully masked rows included. The kernel is
  - ``GATED_CPU``: for a cell kind in ``CPU_KERNELS`` (GRU, LSTM) on the CPU in float32/float64, gated's own C++
    kernels (``_cpu_gru``, ``_cpu_lstm``), forward and backward, masks applied inside. ``GATED_CPU_KERNEL=0`` turns
    them off; a failed build is reported once with a warning. Either way the reason says why torch's kernel runs
    instead. For the LSTM torch's oneDNN kernel is preferred where it was measured faster (inference without
    gradients, more than one thread);
  - ``TRITON`` or ``CUDNN``: for a cell kind in ``GPU_KERNELS`` (GRU) on a CUDA GPU in float32 without a mask,
    cuDNN or gated's persistent Triton kernel (``_gpu_gru``), whichever was measured faster on the first call with
    that shape; ``GATED_GPU_KERNEL=0`` keeps cuDNN;
  - otherwise ``CUDNN`` (on CUDA) or ``TORCH_FUSED`` (ATen's implementation on CPU, for an LSTM oneDNN's):
    torch's fused RNN kernels (``torch._VF.gru`` / ``lstm`` / ``rnn_tanh`` / ``rnn_relu``, from the cell's torch
    mode); masked rows are shifted and packed around the kernel (``_fused``).
* ``LOOP``: everything else: a Python loop over timesteps with the input projection for all timesteps hoisted
  into one matrix product, stepping the reference cell (``_loop``).

``use_cudnn`` keeps Keras's meaning: "auto" picks the fused path when it applies, False never uses it, and True
requires it and raises ``ValueError`` with the reasons when it cannot run. Nothing here catches exceptions.

Every ``run`` takes ``(layer, x, states, mask, layout, training)`` - x (B, T, F) in processing order, the initial
states, the (B, T) mask or None and its ``MaskLayout`` - and returns ``(outputs (B, T, H) or None, last output
(B, H), final states)``; the loops leave ``outputs`` None when the layer does not return sequences.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ..saving._convert import CellKind
from . import _cpu_gru, _cpu_lstm, _fused, _gpu_gru, _loop, _scan, _step


class Kernel(str, enum.Enum):
    """What computes a recurrent layer's call (or a streamed timestep). The value is its short name in paths."""

    LOOP = "loop"  # a Python loop over timesteps stepping the reference cell
    CELL_LOOP = "cell-loop"  # a Python loop calling a custom cell each step
    SCAN = "scan"  # the parallel log-space scan of a linear recurrence (MinGRU, MinLSTM)
    TORCH_FUSED = "torch-fused"  # torch's fused RNN kernel on ATen (the CPU, or a GPU without cuDNN)
    CUDNN = "cuDNN"  # torch's fused RNN kernel on cuDNN
    GATED_CPU = "gated-cpu"  # gated's C++ GRU / LSTM kernels (and the C++ GRU step when streaming)
    TRITON = "gated-triton"  # gated's persistent Triton GRU kernel on a CUDA GPU
    NUMPY = "numpy"  # streaming: numpy kernels on preallocated buffers
    TORCH = "torch"  # streaming: the layer's or cell's own torch code, one timestep
    IDENTITY = "identity"  # streaming: nothing to compute (dropout at inference)

    @property
    def fused(self) -> bool:
        """Whether one kernel call computes the whole sequence (and its backward)."""
        return self in (Kernel.TORCH_FUSED, Kernel.CUDNN, Kernel.GATED_CPU, Kernel.TRITON)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


@dataclass(frozen=True)
class Choice:
    """The kernel that runs a call, the implementation in words (``detail``), and why; ``run`` runs it.

    Two choices are equal when kernel, detail and reason are (``run`` is not compared), so a planned choice
    (``layer.dispatch(...)``) equals the one the call then records (``layer.last_path``).
    """

    kernel: Kernel
    detail: str
    reason: str
    run: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The family of the path: 'fused', 'loop', 'cell-loop' or 'scan'."""
        return "fused" if self.kernel.fused else self.kernel.value

    def __str__(self) -> str:
        return f"{self.name} ({self.detail}): {self.reason}"


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


NO_MASK = MaskLayout("none")


def analyse_mask(mask: torch.Tensor | None) -> MaskLayout:
    if mask is None:
        return NO_MASK
    steps = mask.shape[1]
    lengths = mask.sum(dim=1)
    if bool((lengths == steps).all()):
        return NO_MASK
    first = torch.argmax(mask.to(torch.uint8), dim=1)
    # Empty rows start at T so that every step reads as 'before the block'.
    starts = torch.where(lengths > 0, first, torch.full_like(first, steps))
    t = torch.arange(steps, device=mask.device)
    block = (t >= starts[:, None]) & (t < (starts + lengths)[:, None])
    if not bool((block == mask).all()):
        return MaskLayout("gaps")
    kind = "right" if bool(((starts == 0) | (lengths == 0)).all()) else "block"
    return MaskLayout(kind, starts, lengths)


# ------------------------------------------------------------------------------------------ kernel tables
def _dropped_inputs(cell, x: torch.Tensor, training: bool) -> torch.Tensor:
    """Input dropout, applied before a fused kernel (one (B, F) mask for every step, as Keras draws it)."""
    input_masks, _ = cell.dropout_masks(x.shape[0], x, training)
    return x if input_masks is None else x * input_masks[:, None, :]


def _torch_fused(layer, x, states, mask, layout, training):
    x = _dropped_inputs(layer.cell, x, training)
    outputs, finals = _fused.run_fused(layer.cell, x, states, mask, layout, layer.zero_output_for_mask)
    return outputs, outputs[:, -1], finals


class _sequence_kernel:
    """A C++ kernel's ``run(cell, x, *states, mask, zero_output_for_mask)`` as a layer runner (masks inside).

    A class, not a closure, so that a layer whose ``last_path`` holds it still pickles.
    """

    def __init__(self, run: Callable[..., Any]):
        self.run = run

    def __call__(self, layer, x, states, mask, layout, training):
        x = _dropped_inputs(layer.cell, x, training)
        outputs, finals = self.run(layer.cell, x, *states, None if layout.kind == "none" else mask,
                                   layer.zero_output_for_mask)
        return outputs, outputs[:, -1], finals


def _triton(layer, x, states, mask, layout, training, decision):
    x = _dropped_inputs(layer.cell, x, training)
    outputs, finals = _gpu_gru.run(layer.cell, x, states[0], decision)
    return outputs, outputs[:, -1], finals


def _onednn_lstm_preferred() -> str | None:
    """Where torch's oneDNN LSTM was measured faster than gated's C++ LSTM, why; None elsewhere."""
    if not torch.is_grad_enabled():
        # measured (benchmarks/cpu_gru_kernel.py): for LSTM inference torch's oneDNN kernel is as fast or faster
        return "inference without gradients: torch's oneDNN LSTM kernel (faster here than gated's)"
    if torch.get_num_threads() > 1:
        # measured (benchmarks/bench.py, workload B LSTM): gated's kernel wins on one thread (1.14x), oneDNN's
        # parallel LSTM on two (gated 0.79x)
        return (f"{torch.get_num_threads()} threads: torch's oneDNN LSTM kernel (gated's LSTM kernel is faster on "
                "one thread only)")
    return None


@dataclass(frozen=True)
class CpuKernel:
    """One of gated's C++ sequence kernels: its runner, its description, and where torch's is preferred."""

    run: Callable[..., Any]
    detail: str
    torch_preferred: Callable[[], str | None] = lambda: None


CPU_KERNELS = {  # cell kind -> gated's C++ kernel for the whole sequence
    CellKind.GRU: CpuKernel(_sequence_kernel(_cpu_gru.run), _cpu_gru.KERNEL),
    CellKind.LSTM: CpuKernel(_sequence_kernel(_cpu_lstm.run), _cpu_lstm.KERNEL, _onednn_lstm_preferred),
}
GPU_KERNELS = frozenset({CellKind.GRU})  # cell kinds with a gated GPU kernel (_gpu_gru), chosen by measurement

LOOP = "python loop, input projection hoisted"
CELL_LOOP = "python loop calling the cell each step"


def fused_kernels(spec, device_type: str) -> tuple[Kernel, ...]:
    """The fused kernels that can run a cell of ``spec`` on a device type ('cpu' or 'cuda'), preferred first
    (before the conditions of a particular call: activations, masks, dtypes)."""
    found = []
    if device_type == "cpu" and spec.kind in CPU_KERNELS:
        found.append(Kernel.GATED_CPU)
    if device_type == "cuda" and spec.kind in GPU_KERNELS:
        found.append(Kernel.TRITON)
    if spec.torch_modes:
        found.append(Kernel.CUDNN if device_type == "cuda" else Kernel.TORCH_FUSED)
    return tuple(found)


# ------------------------------------------------------------------------------------------ the decision
def fused_blockers(cell, layout: MaskLayout, training: bool, device: torch.device,
                   dtype: torch.dtype) -> list[str]:
    """Why a fused kernel cannot compute this call exactly; empty when it can."""
    blockers = cell.torch_blockers()
    if training and 0.0 < cell.recurrent_dropout < 1.0:
        blockers.append(f"recurrent_dropout={cell.recurrent_dropout} while training")
    if layout.kind == "gaps":
        blockers.append("the mask has masked steps between valid ones (not one contiguous block per row)")
    if dtype in (torch.float16, torch.bfloat16) and device.type == "cpu":
        blockers.append(f"{dtype} on CPU")
    return blockers


def decide(layer, layout: MaskLayout, training: bool, x: torch.Tensor | None = None,
           h0: torch.Tensor | None = None, *, device: torch.device | None = None, dtype: torch.dtype | None = None,
           measure: bool = True) -> Choice:
    """The kernel for one call of ``layer`` over a sequence. Raises ValueError when ``use_cudnn=True`` cannot be
    honoured.

    ``layer``: the recurrent layer (``cell``, ``use_cudnn``, ``name``, ``zero_output_for_mask``,
    ``return_sequences``; ``parallel`` for a linear recurrence; ``step_cell`` for a cell without a spec).
    ``x`` / ``h0``: the call's input (B, T, F) and first initial state, which a GPU decision measures on; without
    them (planning) a shape not measured yet is reported as cuDNN. ``device`` / ``dtype``: where and how the call
    computes (default: the cell's weights). ``measure=False`` never runs anything.
    """
    cell = layer.cell
    spec = getattr(cell, "spec", None)
    if spec is None:
        return Choice(Kernel.CELL_LOOP, CELL_LOOP, f"{type(cell).__name__} is not a built-in cell", _loop.run_cell_loop)
    if spec.linear:
        if getattr(layer, "parallel", True):
            return Choice(Kernel.SCAN, _scan.SCAN, "parallel=True", _scan.run_scan)
        return Choice(Kernel.LOOP, _scan.STEPS, "parallel=False", _scan.run_steps)
    if device is None:
        if cell.weight_ih is None:
            raise ValueError(
                f"{layer._describe()} is not built yet, so the device and dtype of its weights, which decide the "
                "kernel, are unknown. Pass the input the call would receive, layer.dispatch(inputs=x), or build "
                "the layer first: call it on data, or create it with input_shape=(timesteps, features)."
            )
        device, dtype = cell.weight_ih.device, cell.weight_ih.dtype
    blockers = fused_blockers(cell, layout, training, device, dtype)
    if layer.use_cudnn is True and blockers:
        raise ValueError(
            f"Layer '{layer.name}' was created with use_cudnn=True, but the fused kernel cannot run this call: "
            + "; ".join(blockers)
            + ". Pass use_cudnn='auto' to fall back to the step loop, or change those settings."
        )
    if layer.use_cudnn is False:
        return Choice(Kernel.LOOP, LOOP, "use_cudnn=False", _loop.run_loop)
    if blockers:
        return Choice(Kernel.LOOP, LOOP, "; ".join(blockers), _loop.run_loop)
    reason = "eligible"
    if device.type == "cpu" and spec.kind in CPU_KERNELS:
        cpu = CPU_KERNELS[spec.kind]
        preferred = cpu.torch_preferred()
        if preferred is not None:
            reason = f"eligible; {preferred}"
        else:
            cpu_blockers = _cpu_gru.blockers(device, dtype)
            if not cpu_blockers:
                masked = "" if layout.kind == "none" else ", masked steps carried"
                return Choice(Kernel.GATED_CPU, cpu.detail + masked, reason, cpu.run)
            reason = f"eligible; gated's C++ {spec.kind.name} kernel not used: {'; '.join(cpu_blockers)}"
    elif device.type == "cuda" and spec.kind in GPU_KERNELS:
        gpu = _gpu_choice(cell, layout, reason, device, dtype, x, h0, measure)
        if isinstance(gpu, Choice):
            return gpu
        reason = gpu
    cudnn = device.type == "cuda" and torch.backends.cudnn.is_available()
    backend = "cuDNN" if cudnn else f"ATen {device.type}"
    masked = {"none": "", "right": ", packed by lengths", "block": ", rows shifted and packed"}[layout.kind]
    return Choice(Kernel.CUDNN if cudnn else Kernel.TORCH_FUSED,
                  f"torch._VF.{_fused.vf_name(cell)} ({backend}{masked})", reason, _torch_fused)


def _gpu_choice(cell, layout: MaskLayout, reason: str, device: torch.device, dtype: torch.dtype,
                x: torch.Tensor | None, h0: torch.Tensor | None, measure: bool) -> Choice | str:
    """gated's Triton kernel when it was measured faster than cuDNN for this shape; otherwise cuDNN's reason."""
    if x is None:
        return f"{reason}; gated's GPU kernel is chosen by measuring a call's input (dispatch(inputs=x) reports it)"
    if x.shape[0] == 0 or x.shape[1] == 0 or torch.is_autocast_enabled("cuda"):
        return reason
    blockers = _gpu_gru.blockers(device, dtype, layout.kind, cell.units)
    if blockers:
        return f"{reason}; gated's GPU kernel not used: {'; '.join(blockers)}"
    grads = [x, *cell.fused_weights()] + ([] if h0 is None else [h0])
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in grads)
    if measure:
        decision = _gpu_gru.decide(cell, x, h0, needs_grad)
        if decision is None:
            return f"{reason}; not measured during CUDA-graph capture: cuDNN"
    else:
        decision = _gpu_gru.decisions().get(_gpu_gru.key(x, cell.units, needs_grad))
        if decision is None:
            return f"{reason}; not measured yet: the first call with this shape times cuDNN against gated's GPU kernel"
    if decision.choice == "cudnn":
        return f"{reason}; {decision.reason}"
    return Choice(Kernel.TRITON, f"{_gpu_gru.KERNEL}, {decision.config}", f"{reason}; {decision.reason}",
                  functools.partial(_triton, decision=decision))


# ------------------------------------------------------------------------------------------ one streamed step
def decide_step(layer, fast: bool = True) -> Choice:
    """The kernel for one streamed timestep of a recurrent layer (``gated.deploy.Streamer``).

    ``NUMPY`` / ``GATED_CPU`` choices run ``run(cell, src, buffers)`` on a ``_step.RecurrentBuffers``; ``TORCH``
    runs ``run(layer, src, out, states)``, the layer's own step on torch views of the buffers (the reference).
    """
    if not fast:
        return Choice(Kernel.TORCH, _step.TORCH_STEP, "fast=False", _step.torch_step_kernel)
    cell = layer.cell
    spec = getattr(cell, "spec", None)
    if spec is None or spec.kind not in _step.STEP_KERNELS:
        return Choice(Kernel.TORCH, _step.TORCH_STEP,
                      f"the cell {type(cell).__name__} is not a built-in GRU, LSTM or SimpleRNN cell",
                      _step.torch_step_kernel)
    blockers = _step.blockers(cell)
    if blockers:
        return Choice(Kernel.TORCH, _step.TORCH_STEP, "; ".join(blockers), _step.torch_step_kernel)
    reason = f"built-in {type(cell).__name__} with standard activations"
    if spec.kind in _step.CPU_STEP_KERNELS:
        cpu_blockers = cell.torch_blockers() or [b for b in [_cpu_gru.status()] if b is not None]
        if not cpu_blockers:
            return Choice(Kernel.GATED_CPU, _step.CPU_STEP_KERNELS[spec.kind], reason, _step.gated_cpu_gru_kernel)
        reason += f" (gated's C++ {spec.kind.name} step not used: {'; '.join(cpu_blockers)})"
    numpy = _step.STEP_KERNELS[spec.kind]
    return Choice(Kernel.NUMPY, numpy.describe(cell), reason, numpy.build)
