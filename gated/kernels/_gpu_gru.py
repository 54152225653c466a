"""On a CUDA GPU, which kernel runs a GRU layer: cuDNN or gated's fused Triton kernel, chosen by measurement.

Neither kernel wins everywhere. cuDNN is bound by per-step latency for small batches and hidden sizes and is
fast when the products are large; gated's persistent kernel (``_triton_gru``) removes the per-step latency but
holds the recurrent weights in registers, which stops paying as H and B grow. So the choice is measured, as
``torch.backends.cudnn.benchmark`` measures convolution algorithms: the first call with a new
(B, T, F, H, dtype, training, precision) runs cuDNN and each candidate split of the fused kernel on the call's own
inputs, checks that the fused result agrees with cuDNN's, times them with CUDA events, and keeps the fastest. Later
calls with that key reuse the decision, and ``layer.last_path`` reports it with the timings. A candidate that fails
to compile, disagrees with cuDNN, or trips its barrier's failure flag is dropped with the reason recorded, so the
choice is never slower than cuDNN on the shapes seen (up to timing noise) and never wrong.

The fused kernel runs only where it computes exactly the cuDNN call: float32, no mask, torch's reset-after GRU
(the fused path's own conditions, ``_dispatch.fused_blockers``), H <= 256, and a split whose programs all fit on
the GPU at once. ``GATED_GPU_KERNEL=0`` turns it off; so does a missing Triton (then cuDNN runs, and the reason says
so). Measuring is skipped while a CUDA graph is being captured (the decision must exist by then: gated's captured
training step runs its first batches eagerly); such a call runs cuDNN.

Decisions live in this process (``decisions()``), keyed by shape; ``forget()`` clears them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch

from . import _cpu_gru, _triton_gru

KERNEL = "gated-triton GRU (persistent: the whole time loop in one launch, W_hh held on chip)"
MAX_UNITS = 256  # H = 512 ran out of shared memory on an H200 (benchmarks/measured/gpu_kernels.json)
REPEATS = 5

_decisions: dict[tuple, "Decision"] = {}


@dataclass
class Decision:
    """The kernel chosen for one key: ``'cudnn'`` or ``'fused'`` (with its ``config``), the timings behind the
    choice in ms (``{'cudnn': .., 'fused block_b=..': ..}``) and why candidates were dropped."""

    choice: str
    config: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        parts = [f"{name} {ms:.3f} ms" for name, ms in sorted(self.timings.items(), key=lambda kv: kv[1])]
        text = "measured on the first call with this shape: " + (", ".join(parts) if parts else "nothing timed")
        if self.dropped:
            text += "; dropped: " + "; ".join(f"{name} ({why})" for name, why in self.dropped.items())
        return text


def disabled_reason() -> str | None:
    if os.environ.get("GATED_GPU_KERNEL", "1").strip().lower() in ("0", "false", "no", "off"):
        return "GATED_GPU_KERNEL=0"
    try:
        import triton  # noqa: F401
    except ImportError:
        return "Triton is not installed (pip install triton)"
    return None


def blockers(device: torch.device, dtype: torch.dtype, mask_kind: str, units: int) -> list[str]:
    """Why the fused GPU kernel cannot run a call that cuDNN can; empty when it is a candidate."""
    found = []
    if device.type != "cuda":
        found.append(f"weights on {device.type}")
    if dtype != torch.float32:
        found.append(f"{dtype} (the fused GPU kernel computes in float32)")
    if mask_kind != "none":
        found.append("a mask")
    if units > MAX_UNITS:
        found.append(f"H={units} > {MAX_UNITS} (the recurrent weights no longer fit on chip)")
    if not found:
        reason = disabled_reason()
        if reason:
            found.append(reason)
    return found


def key(x: torch.Tensor, units: int, training: bool) -> tuple:
    return (*x.shape, units, x.dtype, training, x.device.index, _triton_gru._precision(x.device))


def choose(timings: dict[str, float], configs: dict[str, Any], dropped: dict[str, str]) -> Decision:
    """The fastest of the timed kernels; cuDNN unless a fused candidate was measured faster."""
    if "cudnn" not in timings:
        raise ValueError(f"choose() needs cuDNN's timing to compare against, received {sorted(timings)}.")
    best = min(timings, key=timings.get)
    return Decision("cudnn" if best == "cudnn" else "fused", configs.get(best), dict(timings), dict(dropped))


def decisions() -> dict[tuple, Decision]:
    return dict(_decisions)


def forget() -> None:
    _decisions.clear()


def decide(cell, x: torch.Tensor, h0: torch.Tensor, training: bool) -> Decision | None:
    """The decision for this call, measuring on first sight; None when measuring is impossible right now
    (a CUDA graph is being captured): cuDNN runs."""
    units = cell.units
    k = key(x, units, training)
    if k in _decisions:
        return _decisions[k]
    if torch.cuda.is_current_stream_capturing():
        return None
    decision = _measure(cell, x.detach(), h0.detach(), training)
    _decisions[k] = decision
    return decision


def _cudnn(x, h0, weights, training):
    out, h = torch._VF.gru(x, h0[None], weights, len(weights) == 4, 1, 0.0, training, False, True)
    return out, h[0]


def _timed(fn, repeats: int = REPEATS) -> float:
    """Median ms of ``repeats`` timings with CUDA events, after one untimed call (compilation, allocation)."""
    fn()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def _measure(cell, x: torch.Tensor, h0: torch.Tensor, training: bool) -> Decision:
    # detached views of the layer's own tensors: cuDNN wants its weights in their one flattened buffer
    native = [w.detach().requires_grad_(training) for w in cell.fused_weights()]
    weights = native if len(native) == 4 else [*native, *[native[0].new_zeros(native[0].shape[0])] * 2]
    x = x.clone().requires_grad_(training)
    h0 = h0.clone().requires_grad_(training)
    leaves = [x, h0, *native]

    def run_cudnn():
        with torch.enable_grad() if training else torch.no_grad():
            out, h = _cudnn(x, h0, native, training)
            if training:
                torch.autograd.grad((out, h), leaves, (torch.ones_like(out), torch.ones_like(h)))
        return out

    def run_fused(cfg):
        def go():
            with torch.enable_grad() if training else torch.no_grad():
                out, h = _triton_gru.run(x, h0, *weights, cfg)
                if training:
                    torch.autograd.grad((out, h), leaves, (torch.ones_like(out), torch.ones_like(h)))
            return out
        return go

    timings = {"cudnn": _timed(run_cudnn)}
    with torch.no_grad():
        reference = _cudnn(x, h0, native, False)[0]
    tolerance = 2e-2 if _triton_gru._precision(x.device) == "tf32" else 1e-4
    configs, dropped = {}, {}
    sm_count = torch.cuda.get_device_properties(x.device).multi_processor_count
    for cfg in _triton_gru.candidates(x.shape[0], cell.units, sm_count):
        name = f"fused {cfg}"
        try:
            with torch.no_grad():
                ws = _triton_gru.forward(_triton_gru.project(x, weights[0], weights[2]), h0, weights[1], weights[3],
                                         cfg, save=False)
                error = float((ws.states[1:].transpose(0, 1) - reference).abs().max())
                tripped = int(ws.flag.item())
            if tripped:
                dropped[name] = "its grid barrier timed out"
                continue
            if not error <= tolerance:
                dropped[name] = f"differs from cuDNN by {error:.2e} > {tolerance:g}"
                continue
            timings[name] = _timed(run_fused(cfg))
            configs[name] = cfg
        except Exception as failure:  # a split that does not compile or launch here is simply not a candidate
            lines = str(failure).strip().splitlines() or [""]
            dropped[name] = f"{type(failure).__name__}: {lines[0][:160]}"
    return choose(timings, configs, dropped)


def run(cell, x: torch.Tensor, h0: torch.Tensor, decision: Decision) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs (B, T, H) and ``[final h]`` through the fused kernel with the decided split."""
    outputs, final = _triton_gru.run(x, h0, *_cpu_gru.weights(cell), decision.config)
    return outputs, [final]
