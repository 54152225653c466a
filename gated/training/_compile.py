"""What ``compile`` resolves: the optimizer, one loss and metric list per output, loss weights, the device.

Losses and metrics are resolved against the first batch (Keras resolves ``'accuracy'`` from the shapes it sees).
Running totals stay on the device as tensors; ``results()`` reads them once, so a training step never waits on
the host.
"""

from __future__ import annotations

from typing import Any

import torch

from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from ..saving import _registry
from ..utils._tree import flatten_structure
from ._graphs import check_jit_compile
from ._step import overrides_step


def resolve_device(device: Any) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"compile(device='{device}') asks for CUDA, but torch sees no CUDA device here. "
                         "Use device='cpu', or leave device unset to pick CUDA only when it is available.")
    return device


def _per_output(spec: Any, names: list[str], what: str) -> list[Any]:
    """One entry per output from a single value, a list in output order, or a dict keyed by output name."""
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile({what}=...) names outputs {unknown} that the model does not have; its outputs "
                             f"are {names}.")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(f"compile({what}=...) has {len(spec)} entries for a model with {len(names)} outputs "
                             f"({', '.join(names)}). Give one per output, or a dict keyed by output name.")
        return list(spec)
    return [spec] * len(names)


def _revive(spec: Any, get: Any) -> Any:
    """``spec`` with every serialized object (``gated.saving.serialize``'s form) replaced by the object; a
    registered function comes back as the function, as compile() first received it."""
    if _registry.is_serialized(spec):
        return _registry.deserialize(spec) if spec["class_name"] == "function" else get(spec)
    if isinstance(spec, dict):
        return {k: _revive(v, get) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return type(spec)(_revive(v, get) for v in spec)
    return spec


def _missing_loss(model) -> str:
    return (f"compile() needs a loss for model '{model.name}', e.g. loss='binary_crossentropy' for two classes "
            "with a sigmoid output, 'categorical_crossentropy' for one-hot targets, "
            "'sparse_categorical_crossentropy' for integer class labels, or 'mse' for regression.")


def _may_add_loss(model) -> bool:
    """Whether the model holds a class defined outside gated (a user's layer or model), whose call may add its
    loss with add_loss(), as Keras allows compile() without a loss then."""
    return any(not type(m).__module__.startswith(("gated.", "torch.")) for m in model.modules())


class CompiledModel:
    """The training configuration of one model (``model.compiled``)."""

    def __init__(self, model, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                 metrics: Any = None, weighted_metrics: Any = None, device: Any = None, jit_compile: Any = "auto"):
        self.model = model
        self.device = resolve_device(device)
        check_jit_compile(jit_compile, self.device)
        self.jit_compile = jit_compile  # capture whole steps as CUDA graphs: 'auto', True (required) or False
        if loss is None and not (overrides_step(model, "train_step") or overrides_step(model, "compute_loss")
                                 or _may_add_loss(model)):
            raise ValueError(_missing_loss(model))
        # A saved model's compile settings hold serialized objects ({"class_name", "config"}); revive them here
        # so that they are not taken for dicts keyed by output name.
        loss, metrics, weighted_metrics = (_revive(loss, _losses.get), _revive(metrics, _metrics.get),
                                           _revive(weighted_metrics, _metrics.get))
        self.loss_spec, self.loss_weights_spec = loss, loss_weights
        self.metrics_spec, self.weighted_metrics_spec = metrics, weighted_metrics
        # Resolve names now so that typos fail at compile time, as in Keras.
        for entry in flatten_structure(loss if isinstance(loss, (list, tuple, dict)) else [loss]):
            if entry is not None:
                _losses.get(entry)
        for entry in flatten_structure([metrics, weighted_metrics]):
            if isinstance(entry, str) and entry.lower() not in ("accuracy", "acc"):
                _metrics.get(entry)  # 'accuracy' waits for the first batch's shapes
        self.optimizer = _optimizers.get(optimizer)
        model.optimizer = self.optimizer
        if model.built:
            model.to(self.device)
        self.built = False
        self.losses: list[Any] = []
        self.loss_weights: list[float] = []
        self.metrics: list[list[Any]] = []
        self.weighted_metrics: list[list[Any]] = []
        self.output_names: list[str] = []
        self.output_units: list[int | None] = []  # last axis of each output, for checks over whole target arrays
        self._has_constraints = False

    # ------------------------------------------------------------------ resolution on the first batch
    def build(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor]) -> None:
        model = self.model
        names = model.output_names if len(y_pred) > 1 else [model.output_names[0]]
        self.output_names = names
        self.output_units = [int(p.shape[-1]) if p.ndim > 1 else None for p in y_pred]
        self.losses = [None if spec is None else _losses.get(spec)
                       for spec in _per_output(self.loss_spec, names, "loss")]
        weights = self.loss_weights_spec
        self.loss_weights = [1.0 if w is None else float(w) for w in (
            _per_output(weights, names, "loss_weights") if weights is not None else [None] * len(names))]
        self.metrics = self._resolve_metrics(self.metrics_spec, y_true, y_pred)
        self.weighted_metrics = self._resolve_metrics(self.weighted_metrics_spec, y_true, y_pred)
        if not self.optimizer.built:
            self.optimizer.build([p for p in model.parameters() if p.requires_grad])
        self._has_constraints = any(spec.constraint is not None for spec in model.weight_specs())
        self.built = True

    def _resolve_metrics(self, spec: Any, y_true: list[torch.Tensor], y_pred: list[torch.Tensor]) -> list[list]:
        if spec is None:
            return [[] for _ in y_pred]
        names = self.output_names
        if isinstance(spec, dict) or (len(names) > 1 and isinstance(spec, (list, tuple))
                                      and all(isinstance(s, (list, tuple)) or s is None for s in spec)):
            per_output = _per_output(spec, names, "metrics")
        else:
            per_output = [spec] * len(names)
        resolved = []
        for entries, t, p, loss in zip(per_output, y_true, y_pred, self.losses):
            entries = [] if entries is None else (entries if isinstance(entries, (list, tuple)) else [entries])
            resolved.append([_metrics.get(e, y_true_shape=tuple(t.shape), y_pred_shape=tuple(p.shape), loss=loss)
                             for e in entries])
        return resolved

    # ------------------------------------------------------------------ losses
    def compute_loss(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor],
                     sample_weight: list[torch.Tensor | None]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Total loss (weighted outputs plus regularization) and each output's loss."""
        per_output = []
        total = None
        for loss_fn, weight, t, p, sw in zip(self.losses, self.loss_weights, y_true, y_pred, sample_weight):
            if loss_fn is None:
                continue
            value = loss_fn(t, p, sample_weight=sw, mask=getattr(p, "_keras_mask", None))
            per_output.append(value)
            total = value * weight if total is None else total + value * weight
        regularization = self.model.losses
        if regularization:
            dtype = torch.float32 if total is None else total.dtype
            extra = torch.stack([r.sum().to(dtype) for r in regularization]).sum()  # add_loss may add non-scalars
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError(_missing_loss(self.model) + " No layer added a loss with add_loss() either.")
        return total, per_output

    def build_optimizer(self) -> None:
        """Bind the optimizer to the model's trainable parameters on the compile device (before loading a saved
        optimizer state into it); nothing happens when it is bound already."""
        if not self.optimizer.built:
            self.model.to(self.device)
            self.optimizer.build([p for p in self.model.parameters() if p.requires_grad])

    def after_step(self) -> None:
        if self._has_constraints:
            self.model.apply_constraints()

    # ------------------------------------------------------------------ metrics
    def update_metrics(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor],
                       sample_weight: list[torch.Tensor | None]) -> None:
        for metrics, weighted, t, p, sw in zip(self.metrics, self.weighted_metrics, y_true, y_pred, sample_weight):
            mask = getattr(p, "_keras_mask", None)
            for metric in metrics:
                metric.update_state(t, p, sample_weight=_mask_weight(mask, None, p))
            for metric in weighted:
                metric.update_state(t, p, sample_weight=_mask_weight(mask, sw, p))

    def reset_metrics(self) -> None:
        for metric in self.all_metrics():
            metric.reset_state()

    def all_metrics(self) -> list[Any]:
        return [m for group in self.metrics + self.weighted_metrics for m in group]

    def metric_names(self) -> list[tuple[str, Any]]:
        """(log key, metric) in compile order, prefixed with the output name for multi-output models."""
        multi = len(self.output_names) > 1
        named = []
        for name, metrics, weighted in zip(self.output_names, self.metrics, self.weighted_metrics):
            for metric in metrics + weighted:
                named.append((f"{name}_{metric.name}" if multi else metric.name, metric))
        return named


def _mask_weight(mask: torch.Tensor | None, sample_weight: torch.Tensor | None,
                 y_pred: torch.Tensor) -> torch.Tensor | None:
    if mask is None:
        return sample_weight
    weight = mask.to(y_pred.dtype)
    if sample_weight is None:
        return weight
    sample_weight = sample_weight.to(y_pred.dtype)
    while sample_weight.ndim < weight.ndim:
        sample_weight = sample_weight.unsqueeze(-1)
    return weight * sample_weight
