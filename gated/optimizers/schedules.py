"""Learning-rate schedules with Keras's names, arguments, formulas and configs (``keras.optimizers.schedules``).

A schedule is a callable ``step -> learning rate``; pass one as any optimizer's ``learning_rate=``. The optimizer
calls it before each update with the number of updates done so far (``optimizer.iterations``: 0 for the first).
As in Keras each value is computed in float32 (the dtype Keras gives a Python-float learning rate), with the same
sequence of float32 operations, so the rates equal Keras's; ``__call__`` returns a Python float.

A schedule serializes like any gated object (``serialize`` / ``deserialize`` here, or ``gated.saving``), and an
optimizer's config holds its schedule in that form, so a saved model's optimizer comes back with its schedule.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from ..saving import _registry

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
           "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize"]


def _f32(value: Any) -> torch.Tensor:
    return torch.as_tensor(value, dtype=torch.float32)


def _positive(schedule: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{schedule} needs {name} > 0 (a number of optimizer steps); received {value!r}.")


def _step(schedule: "LearningRateSchedule", step: Any) -> torch.Tensor:
    if isinstance(step, torch.Tensor):
        step = step.detach().cpu()
    value = _f32(step)
    if value.numel() != 1:
        raise ValueError(f"{type(schedule).__name__} takes one step number; received {step!r}.")
    return value.reshape(())


class LearningRateSchedule:
    """Base class: override ``__call__(step)`` (returning the learning rate) and ``get_config()``."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError(f"Learning-rate schedule '{type(self).__name__}' must override __call__(step), "
                                  "returning the learning rate for that optimizer step.")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"Learning-rate schedule '{type(self).__name__}' must override get_config() to "
                                  "be serializable (a dict of its constructor's arguments).")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        try:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        except NotImplementedError:
            arguments = ""
        return f"{type(self).__name__}({arguments})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored when ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str = "ExponentialDecay"):
        _positive("ExponentialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps, self.decay_rate = initial_learning_rate, decay_steps, decay_rate
        self.staircase, self.name = staircase, name

    def __call__(self, step):
        p = _step(self, step) / _f32(self.decay_steps)
        if self.staircase:
            p = torch.floor(p)
        return float(_f32(self.initial_learning_rate) * torch.pow(_f32(self.decay_rate), p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` up to and including step ``boundaries[0]``, ``values[i]`` for steps in
    ``(boundaries[i-1], boundaries[i]]``, ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"PiecewiseConstantDecay needs one value more than boundaries (a value before the first "
                             f"boundary, between each pair and after the last); received {len(boundaries)} "
                             f"boundaries {list(boundaries)} and {len(values)} values {list(values)}.")
        if list(boundaries) != sorted(boundaries):
            raise ValueError(f"PiecewiseConstantDecay needs increasing boundaries; received {list(boundaries)}.")
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        step = float(_step(self, step))
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(_f32(value))
        return float(_f32(self.values[-1]))

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``:
    ``(initial - end) * (1 - step / decay_steps) ** power + end``, then ``end``; with ``cycle`` the decay restarts
    over the next multiple of ``decay_steps``."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay"):
        _positive("PolynomialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def __call__(self, step):
        initial, end = _f32(self.initial_learning_rate), _f32(self.end_learning_rate)
        step, decay_steps = _step(self, step), _f32(self.decay_steps)
        if self.cycle:
            multiplier = _f32(1.0) if float(step) == 0 else torch.ceil(step / self.decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = torch.minimum(step, decay_steps)
        p = step / decay_steps
        return float((initial - end) * torch.pow(1 - p, _f32(self.power)) + end)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio floored when ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str = "InverseTimeDecay"):
        _positive("InverseTimeDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps, self.decay_rate = initial_learning_rate, decay_steps, decay_rate
        self.staircase, self.name = staircase, name

    def __call__(self, step):
        p = _step(self, step) / _f32(self.decay_steps)
        if self.staircase:
            p = torch.floor(p)
        return float(_f32(self.initial_learning_rate) / (_f32(1.0) + _f32(self.decay_rate) * p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


def _cosine(fraction: torch.Tensor, alpha: float) -> torch.Tensor:
    """``(1 - alpha) * (1 + cos(pi * fraction)) / 2 + alpha``, in Keras's order of float32 operations."""
    decayed = 0.5 * (1.0 + torch.cos(_f32(math.pi) * fraction))
    return (1 - alpha) * decayed + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or from ``warmup_target`` after a linear warmup of
    ``warmup_steps`` steps from ``initial_learning_rate``) down to ``alpha`` times that rate at ``decay_steps``,
    then constant."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0, name: str = "CosineDecay",
                 warmup_target: float | None = None, warmup_steps: int = 0):
        _positive("CosineDecay", "decay_steps", decay_steps)
        if warmup_target is not None and not (isinstance(warmup_steps, numbers.Real) and warmup_steps >= 0):
            raise ValueError(f"CosineDecay needs warmup_steps >= 0 with warmup_target; received {warmup_steps!r}.")
        self.initial_learning_rate, self.decay_steps, self.alpha, self.name = (
            initial_learning_rate, decay_steps, alpha, name)
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        initial, decay_steps, step = _f32(self.initial_learning_rate), _f32(self.decay_steps), _step(self, step)
        if self.warmup_target is None:
            step = torch.minimum(step, decay_steps)
            return float(initial * _cosine(step / decay_steps, self.alpha))
        target, warmup_steps = _f32(self.warmup_target), _f32(self.warmup_steps)
        step = torch.minimum(step, decay_steps + warmup_steps)
        if bool(step < warmup_steps):
            return float((target - initial) * (step / warmup_steps) + initial)
        return float(target * _cosine((step - warmup_steps) / decay_steps, self.alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the first period lasts ``first_decay_steps``, each next one ``t_mul``
    times longer and starting from ``m_mul`` times the previous peak; ``alpha`` is the floor, as a fraction."""

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0, m_mul: float = 1.0,
                 alpha: float = 0.0, name: str = "SGDRDecay"):
        _positive("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self.t_mul, self.m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        alpha, t_mul, m_mul = _f32(self.alpha), _f32(self.t_mul), _f32(self.m_mul)
        fraction = _step(self, step) / _f32(self.first_decay_steps)
        if float(t_mul) == 1.0:
            restart = torch.floor(fraction)
            fraction = fraction - restart
        else:  # periods grow geometrically: find the restart from the sum of the periods before it
            restart = torch.floor(torch.log(1.0 - fraction * (1.0 - t_mul)) / torch.log(t_mul))
            done = (1.0 - torch.pow(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / torch.pow(t_mul, restart)
        decayed = 0.5 * torch.pow(m_mul, restart) * (1.0 + torch.cos(_f32(math.pi) * fraction))
        return float(_f32(self.initial_learning_rate) * ((1 - alpha) * decayed + alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
                                             InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}``, the form Keras writes."""
    return _registry.serialize(learning_rate_schedule)


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> LearningRateSchedule:
    """The schedule ``serialize`` (gated's or Keras's) described: a built-in schedule by class name, or a subclass
    registered with ``gated.saving.register_serializable`` or given in ``custom_objects``."""
    return _registry.deserialize(config, custom_objects, module_objects=_SCHEDULES, base=LearningRateSchedule)
