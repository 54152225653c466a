"""Which executor runs the training steps of a ``fit`` (see ``_step.py``), decided once, at the first step.

The captured executor when nothing rules capture out (CUDA, a capturable optimizer, no layer with a
``capture_blocker()``), else the eager one with every reason in ``model.last_step_path``; with
``compile(jit_compile=True)`` a reason is an error instead. A model that writes its own ``train_step`` gets the
``UserStepExecutor``. A new executor (a whole step compiled for the CPU) is chosen here.
"""

from __future__ import annotations

from . import _graphs
from ._step import EagerExecutor, StepExecutor, TrainStep, UserStepExecutor, overrides_step


def choose_executor(step: TrainStep) -> StepExecutor:
    """After the model and the optimizer are built: the model's own ``train_step`` when it writes one; else
    captured when it can be, else eager, and why."""
    compiled = step.compiled
    if overrides_step(step.model, "train_step"):
        if getattr(compiled, "jit_compile", "auto") is True:
            raise ValueError(f"compile(jit_compile=True) captures gated's own training step, but model "
                             f"'{step.model.name}' writes its own train_step(), which runs eagerly. Leave jit_compile "
                             "at 'auto' or False.")
        return UserStepExecutor(step)
    jit = getattr(compiled, "jit_compile", "auto")
    reasons = _graphs.blockers(step.model, compiled.device, jit, compiled.optimizer, compiled._has_constraints)
    if reasons and jit is True:
        raise ValueError(_graphs.required_message(reasons))
    if reasons:
        return EagerExecutor(step, "; ".join(reasons))
    return _graphs.CapturedExecutor(step)
