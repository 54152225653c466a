"""Resumable training: what a checkpoint must hold for a killed ``fit`` to continue exactly.

A checkpoint written with ``ModelCheckpoint(save_training_state=True)`` is a model file (weights and optimizer
state) plus this progress: the epoch and the last completed batch, the random number generator states at the
start of that epoch (to redraw its shuffle) and at the moment of saving (for dropout and later epochs), the
history so far, every callback's state, and the running loss and metric totals of the epoch in progress.
``fit(..., resume_from=path)`` restores all of it and skips the batches already done, so the final weights are
those of an uninterrupted run (on CPU with the same seed and thread settings).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..saving._model_file import load_extra_state


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": list(np.random.get_state()),
             "python": list(random.getstate())}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [torch.cuda.get_rng_state(i) for i in range(torch.cuda.device_count())]
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(torch.as_tensor(state["torch"], dtype=torch.uint8))
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), int(position), int(has_gauss), float(cached)))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(int(v) for v in internal), gauss))
    for i, cuda_state in enumerate(state.get("cuda", [])):
        if i < torch.cuda.device_count():
            torch.cuda.set_rng_state(torch.as_tensor(cuda_state, dtype=torch.uint8), i)


@dataclass
class FitProgress:
    """Where a running ``fit`` is; ``model._fit_progress`` while it runs."""

    callbacks: Any
    epoch: int = 0
    step: int | None = None  # last completed batch of ``epoch``; None once the epoch has ended
    epoch_rng: dict[str, Any] | None = None
    losses: Any = None
    compiled: Any = None
    epoch_logs: dict[str, float] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        history = self.callbacks.history_callback()
        recorded = None
        if history is not None:
            recorded = {"history": {k: list(v) for k, v in history.history.items()}, "epoch": list(history.epoch)}
            if self.step is None and self.epoch not in recorded["epoch"]:
                # Saved from an epoch-end hook that runs before History's: record this epoch as History will.
                recorded["epoch"].append(self.epoch)
                for key, value in self.epoch_logs.items():
                    recorded["history"].setdefault(key, []).append(value)
        return {
            "kind": "gated.fit_progress",
            "epoch": self.epoch,
            "step": self.step,
            "epoch_rng": self.epoch_rng,
            "rng": rng_state(),
            "history": recorded,
            "callbacks": [[type(cb).__name__, cb.get_state()] for cb in self.callbacks.user_callbacks()],
            "losses": None if self.losses is None or self.step is None else self.losses.get_state(),
            "metrics": None if self.step is None else [dict(m._state) for m in self.compiled.all_metrics()],
        }


def training_state(model) -> dict[str, Any]:
    progress = getattr(model, "_fit_progress", None)
    if progress is None:
        raise ValueError(
            "save(path, training_state=True) records the progress of a running fit(); call it from a callback "
            "during training (ModelCheckpoint(save_training_state=True) does), or save without training_state."
        )
    return progress.snapshot()


def read_progress(path: str) -> dict[str, Any]:
    state = load_extra_state(path)
    if not isinstance(state, dict) or state.get("kind") != "gated.fit_progress":
        raise ValueError(
            f"{path} holds no training progress, so fit() cannot resume from it. Write resumable checkpoints with "
            "ModelCheckpoint(filepath, save_training_state=True)."
        )
    return state


def restore_callbacks(callbacks, state: dict[str, Any], path: str) -> None:
    saved = state["callbacks"]
    current = callbacks.user_callbacks()
    names = [type(cb).__name__ for cb in current]
    if [name for name, _ in saved] != names:
        raise ValueError(
            f"{path} was written with callbacks {[name for name, _ in saved]}, but this fit() has {names}. Resume "
            "with the same callbacks, in the same order, as the run that wrote the checkpoint."
        )
    for callback, (_, cb_state) in zip(current, saved):
        callback.set_state(cb_state)
    history = callbacks.history_callback()
    if history is not None and state["history"] is not None:
        history.history = {k: list(v) for k, v in state["history"]["history"].items()}
        history.epoch = list(state["history"]["epoch"])
        history.resumed = True  # on_train_begin keeps the restored epochs
