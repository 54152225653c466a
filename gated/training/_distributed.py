"""Data-parallel fit / evaluate / predict under ``torchrun``: the same calls, N processes, one global batch.

When the process runs under torchrun (``WORLD_SIZE`` > 1 in the environment) or inside an initialised process
group, ``fit``, ``evaluate`` and ``predict`` shard the work:

- ``batch_size`` is the GLOBAL batch. Each global batch (the single-process batch, in the single-process order)
  is cut into contiguous per-rank slices; rank r takes rows ``bounds[r]:bounds[r+1]`` (the first ``B % N`` ranks
  one row more). With ``shuffle`` rank 0 draws the epoch's permutation from torch's global generator, as a single
  process would, and broadcasts it, so every rank cuts the same batches.
- Gradients are averaged explicitly after ``backward``: one flat float64 buffer holds, per parameter, the local
  gradient times the local slice size, a flag "this parameter has a gradient", and the slice size itself; one
  all-reduce (sum) and a division by the global batch size give exactly the gradient of the global batch's mean
  loss (for losses that average over samples), uneven last batches included. Not DistributedDataParallel: gated
  builds layers lazily on the first batch and a rank may receive an empty slice of the last batch (it cannot run
  the forward pass, but must still take part in the reduction); DDP needs a forward on every rank and hides the
  model behind a wrapper that ``save``/``get_weights``/callbacks would have to see through. Parameters are
  broadcast from rank 0 once the model is built, so ranks start identical without a shared seed.
- Loss and metric totals (``_LossMean`` sums and each metric's float64 ``_state``) stay per rank and are summed
  across ranks whenever logs are read, so every rank sees identical logs and takes the same callback decisions.
- ``predict`` gathers every rank's slices and returns them in the input order on every rank.
- Only rank 0 prints (progress bars, callback messages) and writes checkpoints and CSV logs.
"""

from __future__ import annotations

import atexit
import os
from contextlib import contextmanager
from typing import Any, Iterator

import torch
import torch.distributed as dist

from ..utils._processes import active, launched, rank, world_size

STATE_DTYPE = torch.float64


def setup(compiled: Any = None) -> None:
    """Join the process group torchrun describes (gloo on CPU, NCCL on CUDA) and pin the CUDA device per rank."""
    if not launched() and not active():
        return
    uses_cuda = compiled is not None and compiled.device.type == "cuda"
    if uses_cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        compiled.device = torch.device("cuda", local)
        torch.cuda.set_device(compiled.device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if uses_cuda else "gloo")
        # The group gated joined is left by gated, at exit: a group still alive when the interpreter shuts down
        # can abort the process ("terminate called without an active exception") after the work is done.
        atexit.register(_leave)


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _device(compiled: Any) -> torch.device:
    return compiled.device if compiled is not None and dist.get_backend() == "nccl" else torch.device("cpu")


def check_global_batch(batch_size: int) -> None:
    if active() and batch_size < world_size():
        raise ValueError(f"batch_size={batch_size} is the global batch, cut across {world_size()} processes; it must "
                         f"be at least the number of processes. Pass batch_size >= {world_size()}.")


def shard_bounds(start: int, stop: int) -> tuple[int, int]:
    """This rank's contiguous rows of the global batch ``[start, stop)``."""
    if not active():
        return start, stop
    size, r, n = stop - start, rank(), world_size()
    base, extra = divmod(size, n)
    lo = start + r * base + min(r, extra)
    return lo, lo + base + (1 if r < extra else 0)


def broadcast_order(order: torch.Tensor | None) -> torch.Tensor | None:
    """Rank 0's shuffle, on every rank."""
    if order is None or not active():
        return order
    device = order.device if dist.get_backend() == "nccl" else torch.device("cpu")
    buffer = order.to(device)
    dist.broadcast(buffer, src=0)
    return buffer.to(order.device)


def broadcast_parameters(model) -> None:
    """Rank 0's weights and buffers on every rank (the ranks may have been seeded differently)."""
    if not active():
        return
    tensors = [t for t in list(model.parameters()) + list(model.buffers()) if t.numel()]
    for tensor in tensors:
        device = tensor.device if dist.get_backend() == "nccl" else torch.device("cpu")
        buffer = tensor.detach().to(device)
        dist.broadcast(buffer, src=0)
        with torch.no_grad():
            tensor.copy_(buffer.to(tensor.device))


def all_reduce_gradients(parameters: list[torch.Tensor], size: int) -> None:
    """Replace each local gradient (of the mean loss over this rank's ``size`` rows) by the global batch's."""
    if not active():
        return
    device = next((p.device for p in parameters), torch.device("cpu")) if dist.get_backend() == "nccl" else \
        torch.device("cpu")
    parts = []
    for p in parameters:
        if p.grad is None:
            parts.append(torch.zeros(p.numel() + 1, dtype=STATE_DTYPE, device=device))
        else:
            parts.append(torch.cat([p.grad.detach().reshape(-1).to(device, STATE_DTYPE) * size,
                                    torch.ones(1, dtype=STATE_DTYPE, device=device)]))
    parts.append(torch.full((1,), float(size), dtype=STATE_DTYPE, device=device))
    flat = torch.cat(parts)
    dist.all_reduce(flat)
    total = flat[-1]
    offset = 0
    for p in parameters:
        n = p.numel()
        if flat[offset + n] > 0:  # some rank had a gradient for it (a parameter no loss reaches keeps None)
            grad = (flat[offset:offset + n] / total).reshape(p.shape).to(p.device, p.dtype)
            p.grad = grad
        offset += n + 1


def any_rank(flag: bool) -> bool:
    if not active():
        return flag
    value = torch.tensor([1.0 if flag else 0.0])
    if dist.get_backend() == "nccl":
        value = value.cuda()
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


@contextmanager
def summed_totals(compiled, losses) -> Iterator[None]:
    """Inside: every metric's ``_state`` and every loss tracker hold the sums over all ranks (restored after)."""
    if not active() or losses is None:
        yield
        return
    metrics = compiled.all_metrics()
    trackers = [losses.total, *losses.outputs.values()]
    local = [{k: tuple(v.shape) for k, v in m._state.items()} for m in metrics]
    gathered: list[Any] = [None] * world_size()
    dist.all_gather_object(gathered, local)  # a rank that saw no rows may lack lazily created accumulators
    keys = [sorted(set().union(*(g[i].items() for g in gathered))) for i in range(len(metrics))]
    device = _device(compiled)
    parts = []
    for metric, entries in zip(metrics, keys):
        for key, shape in entries:
            value = metric._state.get(key)
            parts.append(torch.zeros(shape, dtype=STATE_DTYPE, device=device).reshape(-1) if value is None
                         else value.detach().to(device, STATE_DTYPE).reshape(-1))
    for tracker in trackers:
        parts.append(torch.as_tensor(tracker.total, dtype=STATE_DTYPE).to(device).reshape(1))
        parts.append(torch.tensor([float(tracker.count)], dtype=STATE_DTYPE, device=device))
    flat = torch.cat(parts)
    dist.all_reduce(flat)
    saved_states = [m._state for m in metrics]
    saved_trackers = [(t.total, t.count) for t in trackers]
    offset = 0
    for metric, entries in zip(metrics, keys):
        state = {}
        for key, shape in entries:
            n = int(torch.Size(shape).numel())
            home = metric._state[key].device if key in metric._state else compiled.device
            state[key] = flat[offset:offset + n].reshape(shape).to(home)
            offset += n
        metric._state = state
    for tracker in trackers:
        tracker.total, tracker.count = flat[offset], int(flat[offset + 1].item())
        offset += 2
    try:
        yield
    finally:
        for metric, state in zip(metrics, saved_states):
            metric._state = state
        for tracker, (total, count) in zip(trackers, saved_trackers):
            tracker.total, tracker.count = total, count


def gather_chunks(chunks: list[Any]) -> list[Any]:
    """Every rank's per-batch prediction slices (``None`` for an empty slice), in the input order."""
    if not active():
        return [c for c in chunks if c is not None]
    gathered: list[Any] = [None] * world_size()
    dist.all_gather_object(gathered, chunks)
    return [part[i] for i in range(len(chunks)) for part in gathered if part[i] is not None]
