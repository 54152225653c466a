"""A batch's targets, sample weights and model outputs as per-output lists, in the model's output order.

Shared by every step that reads a batch: the training step (eager or captured), evaluation and the checks before
the first step. ``x``, ``y`` and ``sample_weight`` arrive as the user gave them (one array, a list in output order,
or a dict keyed by output name).
"""

from __future__ import annotations

from typing import Any

import torch

from ..utils._tree import flatten_structure
from ._targets import check_targets


def flat_outputs(y: Any) -> list[Any]:
    """One entry per output from a single value, a list or a dict (``[None]`` for no value)."""
    if y is None:
        return [None]
    if isinstance(y, (dict, list, tuple)):
        return flatten_structure(y)
    return [y]


def ordered_targets(model, y: Any) -> list[Any]:
    """The targets in the model's output order; a dict must be keyed by output name."""
    if isinstance(y, dict):
        names = model.output_names
        missing = [n for n in names if n not in y]
        if missing:
            raise ValueError(f"Targets are keyed by output name; missing {missing}. The outputs are {names}.")
        return [y[n] for n in names]
    return flat_outputs(y)


def outputs_list(y_pred: Any) -> list[torch.Tensor]:
    """The model's outputs as a list (a dict in its own order)."""
    if isinstance(y_pred, dict):
        return list(y_pred.values())
    return list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]


def class_weights(class_weight: dict, y: Any) -> torch.Tensor:
    """Per-sample (or per-timestep) weights from ``{class: weight}``, Keras's rule for one output."""
    targets = flat_outputs(y)
    if len(targets) != 1:
        raise ValueError("class_weight works for models with one output; use sample_weight for several.")
    t = targets[0].to(torch.uint8) if targets[0].dtype == torch.bool else targets[0]  # argmax takes no booleans
    labels = t.argmax(-1) if t.ndim > 1 and t.shape[-1] != 1 else (t.squeeze(-1) if t.ndim > 1 else t)
    labels = labels.round().long()
    present = sorted(int(v) for v in torch.unique(labels).tolist())
    missing = [c for c in present if c not in class_weight]
    if missing:
        raise ValueError(f"class_weight has no entry for class(es) {missing} found in the targets; it covers "
                         f"{sorted(class_weight)}. Give a weight for every class.")
    # present may be empty: this rank's slice of a short last batch under torchrun
    table = torch.zeros(max([*present, *(int(c) for c in class_weight)]) + 1, dtype=torch.float32,
                        device=labels.device)
    for cls, weight in class_weight.items():
        table[int(cls)] = float(weight)
    return table[labels]


def targets_and_weights(model, y: Any, sample_weight: Any,
                        class_weight: dict | None = None) -> tuple[list[Any], list[Any]]:
    """(targets, sample weights), one entry per output; ``class_weight`` replaces the sample weights (it reads the
    labels on the host)."""
    y_true = ordered_targets(model, y)
    weights = flat_outputs(sample_weight) if sample_weight is not None else [None] * len(y_true)
    if class_weight is not None:
        weights = [class_weights(class_weight, y)]
    return y_true, weights


def batch_size_of(x: Any) -> int:
    """The number of samples in a batch of inputs (the first input's leading axis)."""
    return int(flatten_structure(x)[0].shape[0])


def check_model_targets(model, y_true: list[torch.Tensor], y_pred: list[torch.Tensor]) -> None:
    """Targets against the outputs and the compiled losses (ValueError with what to change)."""
    compiled = model.compiled
    specs = compiled.loss_spec if isinstance(compiled.loss_spec, (list, tuple)) else [compiled.loss_spec] * len(y_pred)
    if isinstance(compiled.loss_spec, dict):
        specs = [compiled.loss_spec.get(n) for n in compiled.output_names]
    check_targets(model, compiled.losses, specs, y_true, y_pred)
