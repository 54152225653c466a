"""gated's fused CPU GRU: the C++ extension (``csrc/``) compiled on first use, its loader, and the GRU's wrapper.

torch's CPU GRU runs its backward as autograd over about fifteen small operations per timestep; for the shapes
recurrent models train on, dispatching those operations costs more than their arithmetic. This kernel runs a whole
reset-after GRU layer in C++: per step one GEMM and one fused elementwise pass, forwards and backwards, with the
weight gradients as a few large GEMMs per chunk of steps. It computes exactly what ``torch._VF.gru`` computes (and Keras's
masked recurrence for any mask), to rounding. The same extension holds the LSTM kernel (``csrc/lstm_cpu.cpp``),
wrapped by ``_cpu_lstm``, which shares this module's loader and ``status()``.

The extension is built with ``torch.utils.cpp_extension.load`` into torch's extension cache (``TORCH_EXTENSIONS_DIR``
or ``~/.cache/torch_extensions``) the first time a GRU or LSTM runs on the CPU; later processes load the cached
library. It is compiled for the machine it runs on (``-march=native``), so the cache name carries a hash of the CPU's
feature flags. ``status()`` tells whether it is in use and, when not, why: ``GATED_CPU_KERNEL=0`` in the
environment turns it off; a failed build is reported once, with a warning that says how to fix it, and the layers
fall back to torch's kernels (``torch._VF.gru`` / ``lstm``). The backward is itself not differentiable (no double
backward through the layer); ``GATED_CPU_KERNEL=0`` gives torch's kernel, whose backward is.

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.autograd.function import once_differentiable

KERNEL = "gated-cpu GRU (C++: one GEMM and one fused gate pass per step, forward and backward)"
SOURCES = [Path(__file__).parent / "csrc" / name for name in ("gru_cpu.cpp", "lstm_cpu.cpp")]
FLAGS = ["-O3", "-march=native"]
DTYPES = (torch.float32, torch.float64)

_module: Any = None
_build_error: str | None = None


def _cpu_tag() -> str:
    """A short hash of the CPU's identity and feature flags: a -march=native build is only valid on such a CPU."""
    flags = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            flags += next((line for line in f if line.startswith(("flags", "Features"))), "")
    except OSError:
        flags += platform.processor()
    return hashlib.sha1(flags.encode()).hexdigest()[:8]


def disabled_reason() -> str | None:
    """Why the kernel must not run in this process (the user's opt-out), or None."""
    if os.environ.get("GATED_CPU_KERNEL", "1").strip().lower() in ("0", "false", "no", "off"):
        return "GATED_CPU_KERNEL=0"
    return None


def load() -> Any:
    """The compiled module, building it on the first call; None (with the reason in ``status()``) if it failed."""
    global _module, _build_error
    if _module is not None or _build_error is not None:
        return _module
    from torch.utils import cpp_extension

    name = f"gated_cpu_rnn_{_cpu_tag()}"
    root = os.environ.get("TORCH_EXTENSIONS_DIR") or cpp_extension.get_default_build_root()
    if not any(Path(root).glob(f"*/{name}/{name}.so")):  # say why the first GRU call pauses
        sys.stderr.write("gated: compiling the CPU GRU and LSTM kernels for this machine (once; about 20 s)...\n")
    try:
        _module = cpp_extension.load(name=name, sources=[str(s) for s in SOURCES],
                                     extra_cflags=FLAGS, verbose=False)
    except (OSError, RuntimeError, ImportError, subprocess.SubprocessError) as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        cause = next((line for line in lines if "error" in line.lower()), lines[0])[:300]
        _build_error = f"the C++ GRU kernel failed to build ({type(error).__name__}: {cause})"
        warnings.warn(
            f"gated: {_build_error}. GRU and LSTM layers on the CPU fall back to torch._VF.gru / lstm (correct, "
            "slower). To fix it, "
            "install a C++ compiler (g++ or clang++) and ninja (`pip install ninja`), then restart Python; "
            "set GATED_CPU_KERNEL=0 to skip the build and this warning.",
            RuntimeWarning, stacklevel=3,
        )
    return _module


def status() -> str | None:
    """None when the kernel can run here (building it if needed); otherwise why it cannot."""
    reason = disabled_reason()
    if reason is not None:
        return reason
    load()
    return _build_error


def blockers(device: torch.device, dtype: torch.dtype) -> list[str]:
    """Why a fused call computing in ``dtype`` on ``device`` cannot run on the C++ kernels (beyond the fused
    path's own conditions)."""
    if device.type != "cpu":
        return [f"weights on {device.type}"]
    if dtype not in DTYPES:
        return [f"{dtype} (float32 or float64 needed)"]
    reason = status()
    return [] if reason is None else [reason]


class _GRUFunction(torch.autograd.Function):
    """A whole GRU layer: (x, h0, weights) -> (outputs (B, T, H), final state (B, H))."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, mask, zero_output):
        outputs, final, states, gates, x_tm = _module.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, mask, zero_output,
                                                                   True)
        ctx.save_for_backward(x_tm, w_ih, w_hh, states, gates, mask)
        ctx.zero_output = zero_output
        return outputs, final

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_outputs, grad_final):
        x_tm, w_ih, w_hh, states, gates, mask = ctx.saved_tensors
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = _module.gru_backward(
            grad_outputs, grad_final, x_tm, w_ih, w_hh, states, gates, mask, ctx.zero_output,
            ctx.needs_input_grad[0])
        needs = ctx.needs_input_grad
        grads = [dx, dh0, dw_ih, dw_hh, db_ih, db_hh]
        return (*[g if need else None for g, need in zip(grads, needs)], None, None)


def weights(cell) -> list[torch.Tensor]:
    """``[w_ih, w_hh, b_ih, b_hh]`` in torch's layout, zero biases for ``use_bias=False`` (the kernels take four)."""
    tensors = list(cell.fused_weights())
    if len(tensors) == 2:
        tensors += [tensors[0].new_zeros(tensors[0].shape[0])] * 2
    return tensors


def arguments(cell, x: torch.Tensor, states: list[torch.Tensor],
              mask: torch.Tensor | None) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, bool]:
    """The kernels' tensor arguments ``(x, *states, w_ih, w_hh, b_ih, b_hh)`` in the weights' dtype, the mask
    argument (empty for none), and whether autograd needs a graph through the call."""
    w = weights(cell)
    tensors = (x.to(w[0].dtype), *[s.to(w[0].dtype) for s in states], *w)
    mask_arg = torch.empty(0, dtype=torch.bool) if mask is None else mask
    return tensors, mask_arg, torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def run(cell, x: torch.Tensor, h0: torch.Tensor, mask: torch.Tensor | None,
        zero_output_for_mask: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs (B, T, H) in processing order and ``[final h]``, with Keras's mask semantics for any mask."""
    tensors, mask_arg, graph = arguments(cell, x, [h0], mask)
    if graph:
        outputs, final = _GRUFunction.apply(*tensors, mask_arg, zero_output_for_mask)
    else:  # inference: nothing is saved for a backward pass
        outputs, final, *_ = _module.gru_forward(*tensors, mask_arg, zero_output_for_mask, False)
    return outputs, [final]


def stream_step(cell, v: np.ndarray) -> Callable[[], None]:
    """One GRU step on a Streamer's row buffer ``v = [x, h, 1]`` (B, F + H + 1), in place; ``v`` must outlive it."""
    if v.dtype not in (np.float32, np.float64) or not v.flags.c_contiguous:
        raise ValueError(f"stream_step needs a C-contiguous float32/float64 buffer, received {v.dtype}.")
    tensors = [w.detach().cpu() for w in weights(cell)]
    kind = _module.StreamStepFloat if v.dtype == np.float32 else _module.StreamStepDouble
    return kind(*tensors, v.ctypes.data, v.shape[0]).run  # the bound method keeps the kernel alive
