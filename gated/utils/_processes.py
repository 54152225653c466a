"""Which process this is: the process-group queries every floor may ask (rank 0 prints and writes files).

Outside torchrun (no initialised process group) there is one process, rank 0 of 1. The collective operations
themselves live with the training loop (``gated/training/_distributed.py``).
"""

from __future__ import annotations

import os

import torch.distributed as dist


def active() -> bool:
    """Whether this process is one of several in an initialised process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main_process() -> bool:
    """True for rank 0, and for a process that is not part of a group (before ``setup`` the launcher's RANK)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


def launched() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "MASTER_ADDR" in os.environ
