"""One training step, written once, and the executors that run it.

``TrainStep`` is what one optimizer step on one batch does, part by part::

    inputs(batch, class_weight)  host    targets and sample weights in output order (class weights read labels)
    forward(inputs)              device  the model in training mode: its outputs
    loss(inputs, y_pred)         device  the total loss (weighted outputs + regularization), each output's loss
    backward(outputs)            device  the gradients
    update(scalars=None)         device  clip, decay, update: Optimizer.step(), or Optimizer.device_step(scalars)
                                         with the scalars of Optimizer.host_step() (a captured step)
    finish(inputs, outputs)      host    count the step, apply weight constraints, update the metrics

``device_part`` is forward, loss, backward and update with nothing read back to the host: what a captured CUDA
graph records. An executor runs the parts on each batch, returns a ``StepResult`` and says in ``model.last_step_path``
how the step ran (``StepPath``). Every executor has the ``StepExecutor`` interface:

* ``EagerExecutor`` (here): the parts in turn, with the host checks between them: the targets against the outputs
  on the first batch (before the loss), the loss finite on every rank before backward, the gradient all-reduce
  under torchrun.
* ``CapturedExecutor`` (``_graphs.py``): ``device_part`` inside one CUDA graph per batch signature, the host parts
  (inputs, the optimizer's host half, the finite check, ``finish``) around each replay.

* ``UserStepExecutor`` (here): the model's own ``train_step(data)`` (Keras's contract), whose returned logs the loop
  reports.

``_executors.choose_executor`` picks one per ``fit``; the loop only calls ``executor(batch, class_weight)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import torch

from . import _distributed
from ._batch import batch_size_of, check_model_targets, outputs_list, targets_and_weights


class NonFiniteLoss(Exception):
    """Raised by a step whose loss is NaN or infinite, before any weight changed; fit turns it into a clean stop."""

    def __init__(self, value: float):
        super().__init__(value)
        self.value = value


@dataclass(frozen=True)
class StepPath:
    """How the last training or prediction step ran (``model.last_step_path``), and why."""

    name: str  # 'captured' | 'eager'
    reason: str


class StepResult(NamedTuple):
    """What a step gives the loop: the total loss, each output's loss (0-d tensors, on the device) and the number
    of samples, for the loss trackers; or, from a step the user wrote (``Model.train_step``), the logs it returned,
    which the loop reports as they are."""

    loss: torch.Tensor
    per_output: list[torch.Tensor]
    size: int
    logs: dict[str, float] | None = None


@dataclass
class StepInputs:
    """A batch as the step reads it: inputs, then targets and sample weights as one list entry per output."""

    x: Any
    y_true: list[Any]
    weights: list[Any]
    size: int  # samples in the batch (0: this rank's slice of a short last global batch)


@dataclass
class StepOutputs:
    """What the forward and loss parts computed: the outputs as a list, the total loss and each output's loss."""

    y_pred: list[torch.Tensor]
    loss: torch.Tensor
    per_output: list[torch.Tensor]


class TrainStep:
    """The parts of one optimizer step of ``model`` (compiled as ``compiled``), for the executors to run; kept for
    one ``fit`` (or ``train_on_batch``) call, with what that call has seen."""

    def __init__(self, model, compiled):
        self.model, self.compiled = model, compiled
        self.steps_taken = 0  # optimizer steps of this call; none means a failed call changed no weight
        self.targets_checked = False
        self.outputs_masked = False  # the last eager step's outputs carried a mask

    # ------------------------------------------------------------------ host, before
    def inputs(self, batch: tuple, class_weight: dict | None) -> StepInputs:
        x, y, sample_weight = batch
        y_true, weights = targets_and_weights(self.model, y, sample_weight, class_weight)
        return StepInputs(x, y_true, weights, batch_size_of(x))

    def check_targets(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor]) -> None:
        """Targets against outputs and losses, once per call, with messages that say what to change."""
        check_model_targets(self.model, y_true, y_pred)
        self.targets_checked = True

    # ------------------------------------------------------------------ device
    def zero_grad(self) -> None:
        self.compiled.optimizer.zero_grad(set_to_none=True)

    def forward(self, inputs: StepInputs) -> list[torch.Tensor]:
        return outputs_list(self.model(inputs.x, training=True))

    def loss(self, inputs: StepInputs, y_pred: list[torch.Tensor]) -> StepOutputs:
        loss, per_output = self.compiled.compute_loss(inputs.y_true, y_pred, inputs.weights)
        return StepOutputs(y_pred, loss, per_output)

    def backward(self, outputs: StepOutputs) -> None:
        outputs.loss.backward()

    def update(self, scalars: list[dict[str, Any]] | None = None) -> None:
        """Clip, decay and update: ``Optimizer.step()`` (both halves, Python numbers), or with ``scalars`` from
        ``Optimizer.host_step()`` only its device half (the host half ran outside, before a replay)."""
        optimizer = self.compiled.optimizer
        if scalars is None:
            optimizer.step()
        else:
            optimizer.device_step(scalars)

    def device_part(self, inputs: StepInputs, scalars: list[dict[str, Any]]) -> StepOutputs:
        """Forward, loss, backward and update with no host sync and no Python-side state change: what a captured
        step records. ``zero_grad`` first (it launches nothing; backward then allocates the gradients)."""
        self.zero_grad()
        outputs = self.loss(inputs, self.forward(inputs))
        self.backward(outputs)
        self.update(scalars)
        return outputs

    # ------------------------------------------------------------------ host, after
    def check_outputs(self, inputs: StepInputs, y_pred: list[torch.Tensor]) -> None:
        """Host checks of an eager step's outputs, before the loss: whether they carry a mask, and the targets on
        the first batch of this call (fit's first build checked them already)."""
        self.outputs_masked = any(getattr(p, "_keras_mask", None) is not None for p in y_pred)
        if not self.targets_checked:
            self.check_targets(inputs.y_true, y_pred)

    def finish(self, inputs: StepInputs, outputs: StepOutputs) -> StepResult:
        """After the update: count the step, apply constraints, update the metrics; the losses for the trackers."""
        self.steps_taken += 1
        self.compiled.after_step()
        with torch.no_grad():
            self.compiled.update_metrics(inputs.y_true, outputs.y_pred, inputs.weights)  # no detach(): keeps masks
        return StepResult(outputs.loss.detach(), [v.detach() for v in outputs.per_output], inputs.size)

    def trainable(self) -> list[torch.Tensor]:
        """The weights whose gradients are all-reduced (under torchrun; none otherwise)."""
        return [p for p in self.model.parameters() if p.requires_grad] if _distributed.active() else []


class StepExecutor(Protocol):
    """Runs its ``TrainStep`` on a batch ``(x, y, sample_weight)``; sets ``model.last_step_path``."""

    step: TrainStep

    def __call__(self, batch: tuple, class_weight: dict | None) -> StepResult:
        ...


class EagerExecutor:
    """Every part of the step in turn, in Python, with the host checks between them."""

    def __init__(self, step: TrainStep, reason: str = ""):
        self.step = step
        self.path = StepPath("eager", reason)

    def __call__(self, batch: tuple, class_weight: dict | None) -> StepResult:
        self.step.model.last_step_path = self.path
        return self.run(self.step.inputs(batch, class_weight))

    def run(self, inputs: StepInputs) -> StepResult:
        """The step on prepared inputs (another executor's fallback sets ``last_step_path`` itself)."""
        step = self.step
        step.zero_grad()
        if inputs.size == 0:
            return self._join(step)
        y_pred = step.forward(inputs)
        step.check_outputs(inputs, y_pred)
        outputs = step.loss(inputs, y_pred)
        if _distributed.any_rank(not bool(torch.isfinite(outputs.loss))):
            raise NonFiniteLoss(float(outputs.loss.detach()))  # before any weight changes: the last good weights
        step.backward(outputs)
        _distributed.all_reduce_gradients(step.trainable(), inputs.size)
        step.update()
        return step.finish(inputs, outputs)

    @staticmethod
    def _join(step: TrainStep) -> StepResult:
        """This rank's slice of a short last global batch is empty: no forward, but the rank joins the other
        ranks' loss check and gradient all-reduce, and steps the optimizer as they do."""
        if _distributed.any_rank(False):
            raise NonFiniteLoss(float("nan"))
        _distributed.all_reduce_gradients(step.trainable(), 0)
        step.update()
        step.compiled.after_step()
        zero = torch.zeros((), device=step.compiled.device)
        return StepResult(zero, [zero for fn in step.compiled.losses if fn is not None], 0)


# ---------------------------------------------------------------------------------------------- a step the user wrote
def overrides_step(model, name: str) -> bool:
    """Whether ``model``'s class writes its own ``train_step`` / ``test_step`` (Keras's default ones are marked)."""
    method = getattr(type(model), name, None)
    return method is not None and not getattr(method, "keras_default", False)


def keras_data(batch: tuple) -> Any:
    """A batch as Keras hands it to ``train_step(data)``: ``(x, y)``, ``(x, y, sample_weight)``, or ``(x,)``."""
    x, y, sample_weight = batch
    if y is None:
        return (x,)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def python_logs(logs: Any, where: str) -> dict[str, Any]:
    """A step's returned logs as numbers (Keras's ``pythonify_logs``): tensors read once, nested dicts (a metric
    whose result is a dict) flattened into the top level."""
    if not isinstance(logs, dict):
        raise TypeError(f"{where} must return a dict of logs, such as {{m.name: m.result() for m in self.metrics}}; "
                        f"it returned {type(logs).__name__} {logs!r}.")
    out: dict[str, Any] = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out.update(python_logs(value, where))
            continue
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            value = float(value) if value.numel() == 1 else value.numpy()
        elif hasattr(value, "item") and getattr(value, "size", 2) == 1:
            value = float(value.item())
        out[key] = value
    return out


def detach_metric_states(model) -> None:
    """A step that updates a metric with its (differentiable) loss, as Keras's guides do, leaves the metric's
    running totals in the autograd graph; they are cut loose after each step so that the graphs of earlier batches
    are freed."""
    for metric in getattr(model, "metrics", []):
        state = getattr(metric, "_state", None)
        if isinstance(state, dict):
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and value.requires_grad:
                    state[key] = value.detach()


class CompileMetrics:
    """The metrics given to ``compile`` as one metric (Keras's ``compile_metrics`` in ``model.metrics``):
    ``update_state(y, y_pred, sample_weight)`` updates each, ``result()`` is the dict of their results."""

    name = "compile_metrics"

    def __init__(self, model, compiled):
        self.model, self.compiled = model, compiled

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        targets, weights = targets_and_weights(self.model, y_true, sample_weight)
        outputs = outputs_list(y_pred)
        if not self.compiled.built:
            self.compiled.build(targets, outputs)
        with torch.no_grad():
            self.compiled.update_metrics(targets, outputs, weights)

    def result(self) -> dict[str, torch.Tensor]:
        return {name: metric.result() for name, metric in self.compiled.metric_names()}

    def reset_state(self) -> None:
        self.compiled.reset_metrics()

    def __repr__(self) -> str:
        return "<CompileMetrics name=compile_metrics>"


class UserStepExecutor:
    """Runs the model's own ``train_step(data)`` (or ``test_step``) on each batch, as Keras's ``fit`` does: the step
    computes, updates and returns its logs; weight constraints are applied after it."""

    def __init__(self, step: TrainStep, method: str = "train_step"):
        self.step = step
        self.method = method
        self.path = StepPath("user", f"the model writes its own {method}(), which runs as it is, eagerly")
        self._constrained = any(spec.constraint is not None for spec in step.model.weight_specs())

    def __call__(self, batch: tuple, class_weight: dict | None) -> StepResult:
        model = self.step.model
        model.last_step_path = self.path
        if class_weight is not None:
            raise ValueError(f"fit(class_weight=...) is applied by Keras's own train_step; model '{model.name}' "
                             f"writes its own {self.method}(), so turn the class weights into sample weights there "
                             "(or pass sample_weight= to fit).")
        logs = python_logs(getattr(model, self.method)(keras_data(batch)), f"{type(model).__name__}.{self.method}()")
        detach_metric_states(model)
        if self.method == "train_step":
            self.step.steps_taken += 1
            if self._constrained:
                model.apply_constraints()
        zero = torch.zeros(())
        return StepResult(zero, [], batch_size_of(batch[0]), logs)
