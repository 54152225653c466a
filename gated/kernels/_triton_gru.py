"""gated's fused GPU GRU: the whole time loop of a reset-after GRU layer in one Triton launch, forward and backward.

On a GPU, cuDNN's GRU is bound by per-step latency for the shapes recurrent models train on (a step's arithmetic
takes well under a microsecond; cuDNN spends 15 µs per step at batch 1, H=256). This kernel keeps the recurrent
weights on chip for the whole sequence, after the persistent RNN kernels of Diamos et al. (2016):

* The input projection of every timestep, ``x @ W_ih^T + b_ih``, is one cuBLAS GEMM before the loop (hoisted).
* The hidden units are split into column blocks of ``block_j`` units; one program owns a block for a block of
  ``block_b`` batch rows, loads its three (H, block_j) slices of ``W_hh`` into registers once, and then runs every
  timestep: read the whole previous state from L2, three tensor-core products, the gate arithmetic, write its
  slice of the new state.
* The programs of one batch block meet at a grid barrier after each step (a counter in global memory: release
  increment, acquire spin). That needs every program resident at once, so the launch never has more programs than
  the GPU has multiprocessors (``fits``), and a spin that waits implausibly long gives up and raises a flag instead of
  hanging the GPU (``check``).
* The backward pass is the same loop in reverse (BPTT): each step computes its block's gate gradients, meets the
  others at the barrier, then finishes ``dh_{t-1}`` for its units with ``W_hh``'s column slices. Weight gradients
  are a few large GEMMs afterwards.

``persistent=False`` runs the same programs one timestep per launch (the launch boundary is the barrier). That is
the mode the CPU tests drive through Triton's interpreter (programs there run one after another, so a barrier
between them would never open), and a fallback that needs no co-residency.

Precision: the recurrent products run in TF32 when ``torch.backends.cudnn.allow_tf32`` is set (torch's default,
as for the cuDNN kernel this replaces), in IEEE fp32 otherwise; gate arithmetic and state are fp32.

Layouts (time-major, contiguous): states ``S`` (T + 1, B, H) with ``S[0] = h0``; saved gates ``G`` (T, 4, B, H):
r, z, n and ``W_hn h + b_hn``; gate gradients (T, B, 3H) in torch's gate order (r, z, n).

Triton is optional: the kernels below are plain Python functions until ``_kernels`` imports Triton and compiles
copies of them (or wraps them for its interpreter), so this module imports without Triton and the package never
loads it unless a GPU GRU call (or the interpreter tests) needs it. The ``tl`` the kernel bodies name is bound then.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import torch
from torch.autograd.function import once_differentiable

SPIN_LIMIT = 1 << 24  # about a second of polling: far beyond any real step, so only a broken barrier reaches it


def _gru_forward(gx, s_ws, g_ws, w_hh, b_hh, counter, flag,
                 B, T, sgx_b, sgx_t, t_begin, t_end, n_sync,
                 H: tl.constexpr, HP: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr,
                 SAVE: tl.constexpr, SYNC: tl.constexpr, TF32: tl.constexpr):
    pid_j = tl.program_id(0)
    pid_b = tl.program_id(1)
    j = pid_j * BLOCK_J + tl.arange(0, BLOCK_J)
    b = pid_b * BLOCK_B + tl.arange(0, BLOCK_B)
    k = tl.arange(0, HP)
    jm = j < H
    bm = b < B
    km = k < H
    # W_hh^T column blocks (HP, BLOCK_J) for the r, z and n gates, held for the whole sequence.
    wmask = km[:, None] & jm[None, :]
    w_r = tl.load(w_hh + j[None, :] * H + k[:, None], mask=wmask, other=0.0)
    w_z = tl.load(w_hh + (H + j[None, :]) * H + k[:, None], mask=wmask, other=0.0)
    w_n = tl.load(w_hh + (2 * H + j[None, :]) * H + k[:, None], mask=wmask, other=0.0)
    b_r = tl.load(b_hh + j, mask=jm, other=0.0)
    b_z = tl.load(b_hh + H + j, mask=jm, other=0.0)
    b_n = tl.load(b_hh + 2 * H + j, mask=jm, other=0.0)
    tile = bm[:, None] & jm[None, :]
    full = bm[:, None] & km[None, :]
    row = b[:, None] * H
    gx_row = gx + b[:, None] * sgx_b
    # What a step reads that does not depend on the other programs - its input projection and its own units'
    # previous state - is loaded before the barrier that precedes it; only the whole state is read after.
    first = tile & (j[None, :] * 0 + t_begin < t_end)  # (a scalar condition as a tensor: the interpreter needs it)
    x_r = tl.load(gx_row + t_begin * sgx_t + j[None, :], mask=first, other=0.0).to(tl.float32)
    x_z = tl.load(gx_row + t_begin * sgx_t + H + j[None, :], mask=first, other=0.0).to(tl.float32)
    x_n = tl.load(gx_row + t_begin * sgx_t + 2 * H + j[None, :], mask=first, other=0.0).to(tl.float32)
    h_own = tl.load(s_ws + t_begin * B * H + row + j[None, :], mask=first, other=0.0, cache_modifier=".cg")
    for t in range(t_begin, t_end):
        # the whole previous state, read past L1 (other programs wrote it)
        h_all = tl.load(s_ws + t * B * H + row + k[None, :], mask=full, other=0.0, cache_modifier=".cg")
        gh_r = tl.dot(h_all, w_r, allow_tf32=TF32) + b_r[None, :]
        gh_z = tl.dot(h_all, w_z, allow_tf32=TF32) + b_z[None, :]
        gh_n = tl.dot(h_all, w_n, allow_tf32=TF32) + b_n[None, :]
        r = 1.0 / (1.0 + tl.exp(-(x_r + gh_r)))
        z = 1.0 / (1.0 + tl.exp(-(x_z + gh_z)))
        n = 2.0 / (1.0 + tl.exp(-2.0 * (x_n + r * gh_n))) - 1.0  # tanh, without overflow at either end
        h = (1.0 - z) * n + z * h_own
        tl.store(s_ws + (t + 1) * B * H + row + j[None, :], h, mask=tile)
        if SAVE:
            g_t = g_ws + t * 4 * B * H + row + j[None, :]
            tl.store(g_t, r, mask=tile)
            tl.store(g_t + B * H, z, mask=tile)
            tl.store(g_t + 2 * B * H, n, mask=tile)
            tl.store(g_t + 3 * B * H, gh_n, mask=tile)
        following = tile & (j[None, :] * 0 + t + 1 < t_end)
        x_next = gx_row + (t + 1) * sgx_t
        x_r = tl.load(x_next + j[None, :], mask=following, other=0.0).to(tl.float32)
        x_z = tl.load(x_next + H + j[None, :], mask=following, other=0.0).to(tl.float32)
        x_n = tl.load(x_next + 2 * H + j[None, :], mask=following, other=0.0).to(tl.float32)
        h_own = h
        if SYNC == 1:  # one program per batch block: its own threads must see each other's writes
            tl.debug_barrier()
        if SYNC == 2:
            _barrier(counter + pid_b, flag, (t - t_begin + 1) * n_sync)


def _gru_backward(d_out, d_carry, s_ws, g_ws, w_hh, dgx, dgh, counter, flag,
                  B, T, sdo_b, sdo_t, i_begin, i_end, n_sync,
                  H: tl.constexpr, HP: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr,
                  SYNC: tl.constexpr, TF32: tl.constexpr):
    """Iteration i handles timestep t = T - 1 - i: first it finishes the state gradient that step t + 1 sends back
    through W_hh (all programs' gate gradients of step t + 1 are in ``dgh``), then it computes step t's gate
    gradients. Iteration T only finishes: ``d_carry`` then holds dL/dh0. Between iterations ``d_carry`` holds, per
    program's own units, either dL/dh_T (before the first) or ``dh_{t+1} * z_{t+1}``."""
    pid_j = tl.program_id(0)
    pid_b = tl.program_id(1)
    j = pid_j * BLOCK_J + tl.arange(0, BLOCK_J)
    b = pid_b * BLOCK_B + tl.arange(0, BLOCK_B)
    k = tl.arange(0, HP)
    jm = j < H
    bm = b < B
    km = k < H
    # W_hh row blocks, as (HP, BLOCK_J) tiles: column j of each gate's (H, H) block.
    wmask = km[:, None] & jm[None, :]
    v_r = tl.load(w_hh + k[:, None] * H + j[None, :], mask=wmask, other=0.0)
    v_z = tl.load(w_hh + (H + k[:, None]) * H + j[None, :], mask=wmask, other=0.0)
    v_n = tl.load(w_hh + (2 * H + k[:, None]) * H + j[None, :], mask=wmask, other=0.0)
    tile = bm[:, None] & jm[None, :]
    full = bm[:, None] & km[None, :]
    row = b[:, None] * H
    row3 = b[:, None] * (3 * H)
    # As in the forward kernel, a step's own inputs (its output gradient, saved gates and previous state) are
    # loaded before the barrier that precedes it; the running gradient of the program's units stays in registers.
    carry = tl.load(d_carry + row + j[None, :], mask=tile, other=0.0)
    t = T - 1 - i_begin
    now = tile & (j[None, :] * 0 + t >= 0) & (j[None, :] * 0 + i_begin < i_end)
    d_o = tl.load(d_out + b[:, None] * sdo_b + t * sdo_t + j[None, :], mask=now, other=0.0).to(tl.float32)
    g_t = g_ws + t * 4 * B * H + row + j[None, :]
    r = tl.load(g_t, mask=now, other=0.0)
    z = tl.load(g_t + B * H, mask=now, other=0.0)
    n = tl.load(g_t + 2 * B * H, mask=now, other=0.0)
    hn = tl.load(g_t + 3 * B * H, mask=now, other=0.0)
    h_prev = tl.load(s_ws + t * B * H + row + j[None, :], mask=now, other=0.0)
    for i in range(i_begin, i_end):
        t = T - 1 - i
        if i > 0:  # step t + 1's contribution through the recurrent weights
            d_next = dgh + (t + 1) * B * 3 * H + row3
            d_r = tl.load(d_next + k[None, :], mask=full, other=0.0, cache_modifier=".cg")
            d_z = tl.load(d_next + H + k[None, :], mask=full, other=0.0, cache_modifier=".cg")
            d_n = tl.load(d_next + 2 * H + k[None, :], mask=full, other=0.0, cache_modifier=".cg")
            carry += tl.dot(d_r, v_r, allow_tf32=TF32)
            carry += tl.dot(d_z, v_z, allow_tf32=TF32)
            carry += tl.dot(d_n, v_n, allow_tf32=TF32)
        if t >= 0:
            dh = carry + d_o
            d_an = dh * (1.0 - z) * (1.0 - n * n)
            d_ar = d_an * hn * r * (1.0 - r)
            d_az = dh * (h_prev - n) * z * (1.0 - z)
            x_t = dgx + t * B * 3 * H + row3 + j[None, :]
            tl.store(x_t, d_ar, mask=tile)
            tl.store(x_t + H, d_az, mask=tile)
            tl.store(x_t + 2 * H, d_an, mask=tile)
            h_t = dgh + t * B * 3 * H + row3 + j[None, :]
            tl.store(h_t, d_ar, mask=tile)
            tl.store(h_t + H, d_az, mask=tile)
            tl.store(h_t + 2 * H, d_an * r, mask=tile)
            carry = dh * z
        tl.store(d_carry + row + j[None, :], carry, mask=tile)
        before = tile & (j[None, :] * 0 + t >= 1)  # step t - 1's own inputs
        d_o = tl.load(d_out + b[:, None] * sdo_b + (t - 1) * sdo_t + j[None, :], mask=before, other=0.0).to(tl.float32)
        g_t = g_ws + (t - 1) * 4 * B * H + row + j[None, :]
        r = tl.load(g_t, mask=before, other=0.0)
        z = tl.load(g_t + B * H, mask=before, other=0.0)
        n = tl.load(g_t + 2 * B * H, mask=before, other=0.0)
        hn = tl.load(g_t + 3 * B * H, mask=before, other=0.0)
        h_prev = tl.load(s_ws + (t - 1) * B * H + row + j[None, :], mask=before, other=0.0)
        if SYNC == 1:
            tl.debug_barrier()
        if SYNC == 2:
            _barrier(counter + pid_b, flag, (i - i_begin + 1) * n_sync)


def _barrier(counter, flag, target):
    """Wait until ``target`` arrivals are counted: this block's writes are released first, the others' acquired."""
    tl.debug_barrier()
    tl.atomic_add(counter, 1, sem="release", scope="gpu")
    seen = tl.atomic_add(counter, 0, sem="acquire", scope="gpu")
    spins = 0
    while (seen < target) & (spins < SPIN_LIMIT):
        seen = tl.atomic_add(counter, 0, sem="acquire", scope="gpu")
        spins += 1
    if seen < target:
        tl.atomic_max(flag, 1)
    tl.debug_barrier()


@functools.cache
def _kernels(interpret: bool):
    """The two kernels, compiled for the GPU or (``interpret``) run by Triton's interpreter on CPU tensors."""
    import triton
    import triton.language as tl

    if interpret:
        from triton.runtime.interpreter import InterpretedFunction

        wrap = InterpretedFunction
    else:
        wrap = triton.jit
    namespace = {"tl": tl, "SPIN_LIMIT": tl.constexpr(SPIN_LIMIT)}
    namespace["_barrier"] = wrap(_with_globals(_barrier, namespace))
    forward = _with_globals(_gru_forward, namespace)
    backward = _with_globals(_gru_backward, namespace)
    return wrap(forward), wrap(backward)


def _with_globals(fn, namespace):
    """A copy of ``fn`` that resolves ``_barrier`` to the compiled (or interpreted) helper."""
    import types

    glob = dict(fn.__globals__)
    glob.update(namespace)
    copy = types.FunctionType(fn.__code__, glob, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__doc__, copy.__module__, copy.__qualname__ = fn.__doc__, fn.__module__, fn.__qualname__
    copy.__annotations__, copy.__kwdefaults__ = dict(fn.__annotations__), fn.__kwdefaults__  # tl.constexpr marks
    return copy


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _next_power_of_2(n: int) -> int:
    return 1 << max(0, n - 1).bit_length()


@dataclass(frozen=True)
class Config:
    """How a call is split: ``block_b`` batch rows and ``block_j`` hidden units per program, ``warps`` per
    program, and whether one launch runs the whole loop (``persistent``) or one timestep per launch."""

    block_b: int
    block_j: int
    warps: int = 4
    persistent: bool = True

    def grid(self, batch: int, units: int) -> tuple[int, int]:
        return _cdiv(units, self.block_j), _cdiv(batch, self.block_b)

    def __repr__(self) -> str:  # how decisions and paths name the split
        mode = "persistent" if self.persistent else "one launch per step"
        return f"block_b={self.block_b}, block_j={self.block_j}, warps={self.warps}, {mode}"


def batch_block(batch: int) -> int:
    """Rows per program: tensor-core products need at least 16; past 32 rows more programs share the batch
    (a (32, H) state tile and three (H, block_j) weight slices already fill a program's registers at H = 512)."""
    return 16 if batch <= 16 else 32


def candidates(batch: int, units: int, programs_limit: int) -> list[Config]:
    """The splits worth timing for (B, H): persistent ones whose programs all fit on the GPU at once.

    Measured on an H200 (benchmarks/gpu_kernels.py, benchmarks/measured/gpu_kernels.json): 16 units and 4 warps per
    program was the fastest split at every shape of the grid (B = 1 to 64, H = 128 to 256), ahead of 16 units with 8
    warps, 32 units with 8 warps, and one or two programs holding all of H = 128; so it is the only one timed (each
    candidate costs a Triton compilation on first use).
    """
    cfg = Config(batch_block(batch), 16, 4)
    n_j, n_b = cfg.grid(batch, units)
    return [cfg] if n_j * n_b <= programs_limit else []


def _precision(device: torch.device) -> str:
    if device.type != "cuda":
        return "ieee"
    return "tf32" if torch.backends.cudnn.allow_tf32 else "ieee"


class Workspace:
    """The state sequence ``S`` (T + 1, B, H), the saved gates ``G`` (T, 4, B, H) and the barrier's counters and
    failure flag of one forward call."""

    def __init__(self, steps: int, batch: int, units: int, n_b: int, save: bool, device: torch.device):
        self.states = torch.empty(steps + 1, batch, units, device=device, dtype=torch.float32)
        self.gates = torch.empty(steps if save else 0, 4, batch, units, device=device, dtype=torch.float32)
        sync = torch.zeros(n_b + 1, device=device, dtype=torch.int32)  # one allocation, one memset
        self.counter, self.flag = sync[:n_b], sync[n_b:]


def _on(device: torch.device):
    """Triton launches on the current CUDA device: make it the tensors' (a model on cuda:1 in a cuda:0 process)."""
    return torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()


def _sync(n_j: int, grid_barrier: bool | None) -> int:
    """The kernels' SYNC: 0 none (one launch per step), 1 the program's own threads, 2 the grid barrier.
    ``grid_barrier=True`` forces the grid barrier even for one program (so the interpreter runs its code)."""
    return 2 if (grid_barrier if grid_barrier is not None else n_j > 1) else 1


def forward(gx: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor, cfg: Config,
            save: bool, grid_barrier: bool | None = None) -> Workspace:
    """Run the recurrence over ``gx`` (B, T, 3H), the hoisted input projection (b_ih included)."""
    batch, steps, three_h = gx.shape
    units = three_h // 3
    n_j, n_b = cfg.grid(batch, units)
    ws = Workspace(steps, batch, units, n_b, save, gx.device)
    ws.states[0].copy_(h0)
    interpret = gx.device.type != "cuda"
    kernel = _kernels(interpret)[0]
    args = dict(H=units, HP=max(16, _next_power_of_2(units)), BLOCK_B=cfg.block_b, BLOCK_J=cfg.block_j,
                SAVE=save, TF32=_precision(gx.device) == "tf32")
    if not interpret:
        args["num_warps"] = cfg.warps
    common = (gx, ws.states, ws.gates, w_hh, b_hh, ws.counter, ws.flag, batch, steps, gx.stride(0), gx.stride(1))
    with _on(gx.device):
        if cfg.persistent:
            kernel[(n_j, n_b)](*common, 0, steps, n_j, SYNC=_sync(n_j, grid_barrier), **args)
        else:
            for t in range(steps):
                kernel[(n_j, n_b)](*common, t, t + 1, n_j, SYNC=0, **args)
    return ws


def backward(d_out: torch.Tensor, d_final: torch.Tensor, ws: Workspace, w_hh: torch.Tensor,
             cfg: Config, grid_barrier: bool | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gate gradients for the input side and the recurrent side, (T, B, 3H) each, and dL/dh0 (B, H)."""
    steps, batch, units = ws.states.shape[0] - 1, ws.states.shape[1], ws.states.shape[2]
    n_j, n_b = cfg.grid(batch, units)
    d_out = d_out if d_out.stride(-1) == 1 else d_out.contiguous()
    d_carry = d_final.to(torch.float32).contiguous().clone()
    dgx = torch.empty(steps, batch, 3 * units, device=d_out.device, dtype=torch.float32)
    dgh = torch.empty_like(dgx)
    counter = torch.zeros(n_b, device=d_out.device, dtype=torch.int32)
    interpret = d_out.device.type != "cuda"
    kernel = _kernels(interpret)[1]
    args = dict(H=units, HP=max(16, _next_power_of_2(units)), BLOCK_B=cfg.block_b, BLOCK_J=cfg.block_j,
                TF32=_precision(d_out.device) == "tf32")
    if not interpret:
        args["num_warps"] = cfg.warps
    common = (d_out, d_carry, ws.states, ws.gates, w_hh, dgx, dgh, counter, ws.flag, batch, steps,
              d_out.stride(0), d_out.stride(1))
    with _on(d_out.device):
        if cfg.persistent:
            kernel[(n_j, n_b)](*common, 0, steps + 1, n_j, SYNC=_sync(n_j, grid_barrier), **args)
        else:
            for i in range(steps + 1):
                kernel[(n_j, n_b)](*common, i, i + 1, n_j, SYNC=0, **args)
    return dgx, dgh, d_carry


class _GRUFunction(torch.autograd.Function):
    """A whole GRU layer: (x, h0, weights) -> (outputs (B, T, H), final state (B, H)), float32."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, cfg):
        steps = x.shape[1]
        ws = forward(project(x, w_ih, b_ih), h0, w_hh, b_hh, cfg, save=True)
        ctx.save_for_backward(x, w_ih, w_hh)
        ctx.ws, ctx.cfg = ws, cfg
        return ws.states[1:].transpose(0, 1), ws.states[steps].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, d_outputs, d_final):
        x, w_ih, w_hh = ctx.saved_tensors
        ws = ctx.ws
        batch, steps, features = x.shape
        units = w_hh.shape[1]
        dgx, dgh, dh0 = backward(d_outputs, d_final, ws, w_hh, ctx.cfg)
        dgx2, dgh2 = dgx.view(steps * batch, 3 * units), dgh.view(steps * batch, 3 * units)
        needs = ctx.needs_input_grad
        dx = torch.mm(dgx2, w_ih).view(steps, batch, features).transpose(0, 1) if needs[0] else None
        dw_ih = torch.mm(dgx2.t(), x.transpose(0, 1).reshape(steps * batch, features)) if needs[2] else None
        dw_hh = torch.mm(dgh2.t(), ws.states[:steps].reshape(steps * batch, units)) if needs[3] else None
        db_ih = dgx2.sum(0) if needs[4] else None
        db_hh = dgh2.sum(0) if needs[5] else None
        ctx.ws = None
        return dx, dh0 if needs[1] else None, dw_ih, dw_hh, db_ih, db_hh, None


def run(x: torch.Tensor, h0: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor,
        b_hh: torch.Tensor, cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs (B, T, H) and the final state (B, H) of a reset-after GRU layer, torch's weight layout."""
    tensors = (x, h0, w_ih, w_hh, b_ih, b_hh)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return _GRUFunction.apply(*tensors, cfg)
    ws = forward(project(x, w_ih, b_ih), h0, w_hh, b_hh, cfg, save=False)
    return ws.states[1:].transpose(0, 1), ws.states[x.shape[1]]


def project(x: torch.Tensor, w_ih: torch.Tensor, b_ih: torch.Tensor) -> torch.Tensor:
    """The input projection of every timestep at once: (B, T, F) -> (B, T, 3H), ``b_ih`` included."""
    batch, steps, features = x.shape
    return torch.addmm(b_ih, x.reshape(batch * steps, features), w_ih.t()).view(batch, steps, w_ih.shape[0])
