"""Optimizers with Keras's names, defaults and update rules, stepping torch parameters.

An optimizer is configured first and bound to parameters later, as in Keras::

    opt = optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)   # unbound
    opt.build(model.parameters())                             # what compile/fit do
    loss.backward(); opt.step(); opt.zero_grad()

``step()`` does what Keras's ``apply_gradients`` does, in Keras's order: clip the gradients (``clipnorm`` per
tensor, ``global_clipnorm`` over all of them, or ``clipvalue`` elementwise), decay the weights
(``p -= p * weight_decay * lr``), then apply the update rule. The rules are Keras's own, written as
``torch.optim.Optimizer`` subclasses, because torch's optimizers of the same names differ from Keras's: epsilon
inside or outside the square root (RMSprop, Adagrad), epsilon scaled by the bias correction (Adam), Nadam's momentum
schedule, Adamax's epsilon, and momentum buffers that scale with the current rather than the past learning rates
(SGD, RMSprop). Hyperparameters are Python numbers, so a step never waits for the device.

A step has a host half and a device half, public for executors that run the update elsewhere:
``host_step()`` advances the step counters and the schedule and returns this step's scalars (such as Adam's
bias-corrected step size) as Python numbers; ``device_step(scalars)`` clips and updates. A captured CUDA-graph step
(gated/training/_graphs.py) runs ``device_step`` once inside the graph with the scalars as 0-d device tensors that
the host refills before each replay; ``host_state()`` / ``restore_host_state()`` undo a step abandoned on a
non-finite loss, ``state_tensors()`` are what the graph backs up, and ``capture_blocker()`` says why an optimizer
cannot be captured (Nadam, torch optimizers). The eager ``step()`` runs both halves with Python numbers. With tensor
scalars, the updates that add ``lr * g`` with one fused ``alpha=`` kernel eagerly (SGD, Adadelta) multiply and then
add: within an ulp per step of the eager update; the others are bit for bit the same.

``get`` also accepts a ``torch.optim.Optimizer`` (or its class), so clipping and the learning-rate handle work with
any torch optimizer.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import numpy as np
import torch

from ..saving import _registry
from ..utils._naming import to_snake_case, unknown_name_error
from . import schedules as _schedules
from ._rules import (_AdadeltaRule, _AdafactorRule, _AdagradRule, _AdamaxRule, _AdamRule, _clip_gradients, _FtrlRule,
                     _KerasRule, _LambRule, _LionRule, _NadamRule, _RMSpropRule, _SGDRule, scalar_type)

Tensor = torch.Tensor
LearningRate = float | Callable[[int], float]
_KERAS_ONLY_DEFAULTS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                        "loss_scale_factor": None, "gradient_accumulation_steps": None}


# ---------------------------------------------------------------------------------------------------------------
# The optimizer the user configures
# ---------------------------------------------------------------------------------------------------------------

class HostState(NamedTuple):
    """What ``Optimizer.host_step()`` changes, as ``Optimizer.host_state()`` saw it."""

    iterations: int
    groups: list[dict[str, Any]]  # each param group's counters and hyperparameters, without its parameters


class Optimizer:
    """Keras's optimizer surface over a torch optimizer: configure, ``build(params)``, then ``step()``.

    Args shared by every optimizer:
        learning_rate: a float, or a callable ``step -> learning rate`` (a ``gated.optimizers.schedules``
            schedule, a Keras ``LearningRateSchedule``, a function), evaluated before each step at the number of
            steps taken so far.
        weight_decay: decoupled weight decay, ``p -= p * weight_decay * learning_rate`` before each update.
        clipnorm: clip each gradient tensor to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: scale all gradients together so that their joint L2 norm is at most this.
    """

    _rule: type[_KerasRule] | None = None

    def __init__(self, learning_rate: LearningRate = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None):
        clip_args = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clip_args.values()) > 1:
            raise ValueError(
                f"Only one of clipnorm, clipvalue and global_clipnorm can be set; received "
                f"{', '.join(f'{k}={v}' for k, v in clip_args.items())}."
            )
        self.name = name or to_snake_case(type(self).__name__)
        self.weight_decay, self.clipnorm, self.clipvalue, self.global_clipnorm = (
            weight_decay, clipnorm, clipvalue, global_clipnorm)
        self._schedule: Callable[[int], float] | None = None
        self._lr: float | None = None
        self.learning_rate = learning_rate
        self._torch: torch.optim.Optimizer | None = None
        self._iterations = 0

    # -- binding -----------------------------------------------------------------------------------------------
    def build(self, params: Iterable[Tensor] | Iterable[dict] | torch.nn.Module) -> "Optimizer":
        """Bind to ``params`` (tensors, torch param groups, or a module's parameters); returns ``self``."""
        if self._torch is not None:
            raise ValueError(f"Optimizer '{self.name}' is already built on a set of parameters; create a new "
                             "optimizer for another model.")
        params = list(params.parameters() if isinstance(params, torch.nn.Module) else params)
        if not params:
            raise ValueError(f"Optimizer '{self.name}' received an empty list of parameters to optimize. Build the "
                             "model (call it once, or give it an input shape) before compiling.")
        self._torch = self._create(params)
        return self

    def _create(self, params: list) -> torch.optim.Optimizer:
        return self._rule(params, lr=self._current_learning_rate(), weight_decay=self.weight_decay or 0.0,
                          **self._hyperparameters())

    def _hyperparameters(self) -> dict[str, Any]:
        return {}

    @property
    def built(self) -> bool:
        return self._torch is not None

    @property
    def torch_optimizer(self) -> torch.optim.Optimizer:
        """The underlying ``torch.optim.Optimizer`` (for torch LR schedulers and the like)."""
        self._check_built("torch_optimizer")
        return self._torch

    def _check_built(self, what: str) -> None:
        if self._torch is None:
            raise ValueError(f"Optimizer '{self.name}' is not built yet, so it has no {what}. Call "
                             "optimizer.build(model.parameters()) first (compile and fit do).")

    # -- stepping ----------------------------------------------------------------------------------------------
    def step(self) -> None:
        """Clip the gradients in ``.grad``, then decay and update every parameter that has a gradient."""
        self._check_built("parameters to step")
        grads = [p.grad for group in self._torch.param_groups for p in group["params"] if p.grad is not None]
        _clip_gradients(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)
        if self._schedule is not None:
            self._write_learning_rate(self._current_learning_rate())
        self._torch.step()
        self._iterations += 1

    # -- Keras's functional form: gradients given, not read from .grad -----------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> int:
        """Keras's ``apply_gradients(zip(grads, variables))``; see ``apply``."""
        pairs = list(grads_and_vars)
        for pair in pairs:
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"Optimizer '{self.name}'.apply_gradients takes (gradient, variable) pairs, as "
                                f"zip(grads, variables) gives them; received an element {pair!r}.")
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Tensor] | None = None) -> int:
        """One update with the given gradients (tensors or arrays; None skips its variable), as Keras's
        ``optimizer.apply(grads, trainable_variables)``: the first call builds the optimizer on the variables
        (torch tensors or parameters, updated in place); later calls may pass those variables or a subset of them,
        or none for all of them in build order. The variables' own ``.grad`` are left as they were. Returns the
        number of updates applied so far (``iterations``)."""
        grads = list(grads)
        if trainable_variables is not None:  # layer.weights' views of weights stored in another layout
            grads, trainable_variables = _stored_parameters(grads, list(trainable_variables))
        if trainable_variables is None:
            self._check_built("variables to apply gradients to (pass trainable_variables)")
            trainable_variables = [p for group in self._torch.param_groups for p in group["params"]]
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"Optimizer '{self.name}' received {len(grads)} gradients for {len(variables)} "
                             "variables; pass one gradient per variable, in the same order.")
        for i, v in enumerate(variables):
            if not isinstance(v, Tensor):
                raise TypeError(f"Optimizer '{self.name}' updates torch tensors in place; variable {i} is "
                                f"{type(v).__name__}. Pass torch.nn.Parameter objects (model.parameters()).")
        if self._torch is None:
            self.build(variables)
        built = [p for group in self._torch.param_groups for p in group["params"]]
        known = {id(p) for p in built}
        strangers = [i for i, v in enumerate(variables) if id(v) not in known]
        if strangers:
            raise ValueError(f"Optimizer '{self.name}' was built on {len(built)} other variables; variable(s) at "
                             f"position {strangers} are not among them. An optimizer updates the variables it was "
                             "built on (for a compiled model, model.parameters(); its trainable_weights are copies "
                             "in Keras's layout): pass those, or create another optimizer for these.")
        saved = [p.grad for p in built]
        given = {id(v): g for v, g in zip(variables, grads)}
        try:
            for p in built:
                g = given.get(id(p))
                if g is not None and tuple(np.shape(g)) != tuple(p.shape):
                    raise ValueError(f"Optimizer '{self.name}': a gradient of shape {tuple(np.shape(g))} was given "
                                     f"for a variable of shape {tuple(p.shape)}; each gradient has its variable's "
                                     "shape.")
                p.grad = None if g is None else torch.as_tensor(g).detach().to(p.device, p.dtype).clone()
            self.step()
        finally:
            for p, g in zip(built, saved):
                p.grad = g
        return self._iterations

    # -- step() in two halves, for an executor that runs the update elsewhere (a captured CUDA graph) ----------------
    def capture_blocker(self) -> str | None:
        """Why ``device_step`` cannot run inside a captured CUDA graph for this optimizer, or None when it can."""
        if self._torch is None:
            return f"optimizer '{self.name}' is not built"
        if not isinstance(self._torch, _KerasRule):
            return (f"optimizer '{self.name}' wraps a torch optimizer ({type(self._torch).__name__}), whose step "
                    "reads its hyperparameters as Python numbers")
        if not self._torch.capturable:
            return (f"optimizer {type(self).__name__} has no captured update (captured: SGD, RMSprop, Adagrad, Adam, "
                    "AdamW, Adamax, Adadelta, Lion)")
        return None

    def host_step(self) -> list[dict[str, float]]:
        """The host half of ``step()``, in its order: the schedule's learning rate, each param group's step count
        and this step's scalars (Python numbers, computed as ``step()`` computes them, e.g. Adam's bias-corrected
        step size), the iteration count. Returns one dict of scalars per param group, for ``device_step``.

        It advances the counters, so call it once per step; ``host_state()`` before it and
        ``restore_host_state()`` after it undo a step that is abandoned (a non-finite loss)."""
        rule = self._split_rule("host_step")
        if self._schedule is not None:
            self._write_learning_rate(self._current_learning_rate())
        scalars = [rule._host_step(group, scalar_type(group["params"])) for group in rule.param_groups]
        self._iterations += 1
        return scalars

    def device_step(self, scalars: list[dict[str, Any]]) -> None:
        """The device half of ``step()``: clip the gradients, then decay and update every parameter that has one,
        with each param group's ``scalars`` from ``host_step()``, as Python numbers or as 0-d tensors on the
        parameters' device (a captured graph reads them from a buffer refilled before each replay). It launches
        kernels only, reading nothing back to the host: capture-safe. With tensor scalars the updates that add
        ``lr * g`` in one fused kernel eagerly (SGD, Adadelta) multiply, then add: within an ulp of ``step()``."""
        rule = self._split_rule("device_step")
        grads = [p.grad for group in rule.param_groups for p in group["params"] if p.grad is not None]
        _clip_gradients(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)
        with torch.no_grad():
            for group, group_scalars in zip(rule.param_groups, scalars):
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    rule._device_step(group, params, group_scalars)

    def host_state(self) -> HostState:
        """A snapshot of what ``host_step()`` changes: the iteration count and each param group's counters and
        hyperparameters (not the parameters, not the slots)."""
        self._check_built("host state")
        return HostState(self._iterations, [{k: v for k, v in g.items() if k != "params"}
                                            for g in self._torch.param_groups])

    def restore_host_state(self, state: HostState) -> None:
        """Put back a ``host_state()`` snapshot (undoes the ``host_step()`` calls made since)."""
        self._check_built("host state to restore")
        self._iterations = state.iterations
        for group, saved in zip(self._torch.param_groups, state.groups):
            group.update(saved)

    def state_tensors(self) -> list[Tensor]:
        """What ``device_step`` writes: every parameter, then every slot tensor (momentum, velocity, ...),
        parameter by parameter. A captured step backs them up and restores them after a non-finite loss."""
        rule = self._split_rule("state_tensors")
        params = [p for group in rule.param_groups for p in group["params"]]
        return params + [t for p in params for t in rule.state[p].values() if isinstance(t, Tensor)]

    def missing_slot(self) -> str | None:
        """The name of a slot the next update would still have to create (for a weight that has had no gradient
        yet), or None. Creating a slot allocates memory, which a captured update must not do."""
        rule = self._split_rule("missing_slot")
        for group in rule.param_groups:
            for p in group["params"]:
                for name, _ in rule._slots(group):
                    if name not in rule.state[p]:
                        return name
        return None

    def _split_rule(self, what: str) -> _KerasRule:
        self._check_built(f"{what}()")
        if not isinstance(self._torch, _KerasRule):
            raise TypeError(f"Optimizer '{self.name}' wraps a torch optimizer ({type(self._torch).__name__}), whose "
                            f"step cannot be split into host_step() and device_step(), so it has no {what}(). Call "
                            "step(), which runs the whole update.")
        return self._torch

    def zero_grad(self, set_to_none: bool = True) -> None:
        self._check_built("gradients to reset")
        self._torch.zero_grad(set_to_none=set_to_none)

    @property
    def iterations(self) -> int:
        """How many steps were applied (Keras's ``optimizer.iterations``)."""
        return self._iterations

    # -- learning rate -----------------------------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step; settable (ReduceLROnPlateau) unless it is a schedule."""
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        if callable(value):
            self._schedule, self._lr = value, None
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Real) and not (
                isinstance(value, Tensor) and value.numel() == 1):
            raise TypeError(f"Optimizer '{self.name}' needs learning_rate as a float or a callable step -> learning "
                            f"rate; received {type(value).__name__} {value!r}.")
        if self._schedule is not None:
            raise TypeError(f"Optimizer '{self.name}' was created with a learning-rate schedule, so its learning "
                            "rate is not settable. Create it with a float learning_rate to change it during training.")
        self._lr = float(value)
        if getattr(self, "_torch", None) is not None:
            self._write_learning_rate(self._lr)

    def _current_learning_rate(self) -> float:
        if self._schedule is not None:
            return float(self._schedule(self._iterations))
        return self._lr

    def _write_learning_rate(self, value: float) -> None:
        for group in self._torch.param_groups:
            group["lr"] = value

    # -- state ---------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        self._check_built("state")
        return {"iterations": self._iterations, "learning_rate": self._lr, "torch": self._torch.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._check_built("state to load into")
        self._torch.load_state_dict(state["torch"])
        self._iterations = int(state["iterations"])
        if state.get("learning_rate") is not None and self._schedule is None:
            self.learning_rate = state["learning_rate"]

    def get_config(self) -> dict[str, Any]:
        learning_rate = self._schedule if self._schedule is not None else self._lr
        if hasattr(learning_rate, "get_config"):  # a schedule, gated's or Keras's, in Keras's serialized form
            learning_rate = _registry.serialize(learning_rate)
        return {"name": self.name, "learning_rate": learning_rate, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                **self._hyperparameters()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Optimizer":
        """From a gated or a Keras config; Keras-only options must be at their defaults."""
        config = dict(config)
        for key, default in _KERAS_ONLY_DEFAULTS.items():
            value = config.pop(key, default)
            if value != default:
                raise ValueError(f"Optimizer option {key}={value!r} is not supported by gated (Keras-only); remove it.")
        if isinstance(config.get("learning_rate"), dict):  # a serialized schedule (gated's or Keras's)
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        state = "built" if self.built else "unbuilt"
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self.learning_rate:g} {state}>"


def _check_range(optimizer: str, name: str, value: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{optimizer} needs {name} in [{low}, {high}]; received {value!r}.")
    return float(value)


class SGD(Optimizer):
    """``m = momentum * m - lr * g``; ``p += m`` (Nesterov: ``p += momentum * m - lr * g``)."""

    _rule = _SGDRule

    def __init__(self, learning_rate: LearningRate = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.momentum = _check_range("SGD", "momentum", momentum, 0.0, 1.0)
        self.nesterov = nesterov

    def _hyperparameters(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """``v = rho * v + (1 - rho) * g**2``; ``p -= lr * g / sqrt(v + epsilon)`` (centered: ``v - mean(g)**2``)."""

    _rule = _RMSpropRule

    def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _hyperparameters(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """``a += g**2``; ``p -= lr * g / sqrt(a + epsilon)``, with ``a`` starting at ``initial_accumulator_value``."""

    _rule = _AdagradRule

    def __init__(self, learning_rate: LearningRate = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _hyperparameters(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}


class Adam(Optimizer):
    """``p -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)``."""

    _rule = _AdamRule

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004)."""

    def __init__(self, learning_rate: LearningRate = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        if weight_decay is None:
            raise ValueError("AdamW needs weight_decay as a float; received None. Use Adam for no weight decay.")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name)


class _Moments(Optimizer):
    """An optimizer with Adam's two moment rates and epsilon, and Keras's defaults for them."""

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(_Moments):
    """Adam with Nesterov momentum and Keras's momentum schedule ``beta_1 * (1 - 0.5 * 0.96**t)``."""

    _rule = _NadamRule


class Adamax(_Moments):
    """``u = max(beta_2 * u, |g|)``; ``p -= lr * m / ((1 - beta_1**t) * (u + epsilon))``."""

    _rule = _AdamaxRule


class Adadelta(Optimizer):
    """Adadelta with Keras's defaults (learning_rate 0.001, rho 0.95, epsilon 1e-7)."""

    _rule = _AdadeltaRule

    def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.rho, self.epsilon = rho, epsilon

    def _hyperparameters(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Lion(Optimizer):
    """``p -= lr * sign(beta_1 * m + (1 - beta_1) * g)``, then ``m = beta_2 * m + (1 - beta_2) * g``."""

    _rule = _LionRule

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        if not 0 < beta_1 <= 1:
            raise ValueError(f"Lion needs beta_1 in (0, 1] (otherwise it degenerates to SignSGD); received "
                             f"beta_1={beta_1!r}.")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.beta_1, self.beta_2 = beta_1, beta_2

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}


class Lamb(_Moments):
    """Adam's bias-corrected direction ``u``, scaled per tensor by the trust ratio ``||p|| / ||u||`` (1 when either
    norm is 0): ``p -= ratio * lr * u``."""

    _rule = _LambRule


class Ftrl(Optimizer):
    """Follow The Regularized Leader (McMahan et al., 2013) with L1, L2 and L2-shrinkage regularization, as Keras
    writes it (``beta`` adds ``beta / (2 * lr)`` to the L2 strength)."""

    _rule = _FtrlRule

    def __init__(self, learning_rate: LearningRate = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float = 0.0, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        checks = {"initial_accumulator_value": initial_accumulator_value,
                  "l1_regularization_strength": l1_regularization_strength,
                  "l2_regularization_strength": l2_regularization_strength,
                  "l2_shrinkage_regularization_strength": l2_shrinkage_regularization_strength}
        for key, value in checks.items():
            if value < 0.0:
                raise ValueError(f"Ftrl needs {key} >= 0; received {key}={value!r}.")
        if learning_rate_power > 0.0:
            raise ValueError(f"Ftrl needs learning_rate_power <= 0; received learning_rate_power="
                             f"{learning_rate_power!r}.")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.learning_rate_power, self.initial_accumulator_value = learning_rate_power, initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _hyperparameters(self):
        return {"learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern, 2018): second moments factored over the last two axes of each weight of rank
    >= 2, the update clipped to RMS ``clip_threshold`` and scaled by ``max(epsilon_2, rms(p)) * min(lr, 1/sqrt(t))``.
    """

    _rule = _AdafactorRule

    def __init__(self, learning_rate: LearningRate = 0.001, beta_2_decay: float = -0.8, epsilon_1: float = 1e-30,
                 epsilon_2: float = 1e-3, clip_threshold: float = 1.0, relative_step: bool = True,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def _hyperparameters(self):
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}


class LossScaleOptimizer(Optimizer):
    """Keras's dynamic loss scaling around ``inner_optimizer``.

    ``scale_loss(loss)`` multiplies a loss by the current scale, and ``apply(grads)`` divides the gradients of such
    a loss by it, as in Keras. A step with a non-finite gradient is skipped and halves the scale; after
    ``dynamic_growth_steps`` finite steps in a row the scale doubles. ``step()`` (what ``fit`` calls) takes the
    gradients in ``.grad`` as they are: gated's ``fit`` does not scale the loss, so a float32 model gets the inner
    optimizer's update, as Keras's scaled-then-unscaled gradients give it up to rounding.
    """

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 2.0**15, dynamic_growth_steps: int = 2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer supports only dynamic=True (as Keras 3); for a fixed scale, leave "
                             "the loss unscaled.")
        for key in ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue", *_KERAS_ONLY_DEFAULTS):
            if kwargs.get(key, _KERAS_ONLY_DEFAULTS.get(key)) != _KERAS_ONLY_DEFAULTS.get(key):
                raise ValueError(f"LossScaleOptimizer does not take {key}={kwargs[key]!r}; set it on the "
                                 "inner_optimizer.")
            kwargs.pop(key, None)
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not take the arguments {sorted(kwargs)}.")
        if isinstance(inner_optimizer, dict):
            inner_optimizer = deserialize(inner_optimizer)
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"LossScaleOptimizer wraps a gated optimizer; received inner_optimizer of type "
                            f"{type(inner_optimizer).__name__}.")
        super().__init__(0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale, self.dynamic_growth_steps = float(initial_scale), int(dynamic_growth_steps)
        self.dynamic_scale = float(initial_scale)
        self.step_counter = 0

    def build(self, params):
        self.inner_optimizer.build(params)
        self._torch = self.inner_optimizer._torch
        return self

    def scale_loss(self, loss):
        """``loss`` times the current scale."""
        return loss * self.dynamic_scale

    def apply(self, grads, trainable_variables=None):
        """Keras's ``apply`` for the gradients of a scaled loss: divided by the scale, then ``step()``."""
        scale = self.dynamic_scale
        grads = [None if g is None else torch.as_tensor(g) / scale for g in grads]
        return super().apply(grads, trainable_variables)

    def step(self) -> None:
        """The inner optimizer's step when every gradient is finite (the scale doubles after
        ``dynamic_growth_steps`` of them in a row); otherwise no update and half the scale."""
        self._check_built("parameters to step")
        grads = [p.grad for group in self._torch.param_groups for p in group["params"] if p.grad is not None]
        finite = all(bool(torch.isfinite(g).all()) for g in grads)
        if finite:
            self.inner_optimizer.step()
            if self.step_counter == self.dynamic_growth_steps - 1:
                self.step_counter, self.dynamic_scale = 0, self.dynamic_scale * 2.0
            else:
                self.step_counter += 1
        else:
            self.step_counter, self.dynamic_scale = 0, self.dynamic_scale * 0.5
        self._iterations = self.inner_optimizer.iterations

    def capture_blocker(self):
        return "LossScaleOptimizer decides on the host whether to skip a step with non-finite gradients"

    @property
    def learning_rate(self) -> float:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if hasattr(self, "inner_optimizer"):
            self.inner_optimizer.learning_rate = value
        else:  # Optimizer.__init__ sets a placeholder before the inner optimizer is known
            self._schedule, self._lr = None, float(value)

    def state_dict(self):
        return {**self.inner_optimizer.state_dict(), "dynamic_scale": self.dynamic_scale,
                "step_counter": self.step_counter}

    def load_state_dict(self, state):
        state = dict(state)
        self.dynamic_scale = float(state.pop("dynamic_scale", self.initial_scale))
        self.step_counter = int(state.pop("step_counter", 0))
        self.inner_optimizer.load_state_dict(state)
        self._iterations = self.inner_optimizer.iterations

    def get_config(self):
        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        inner = config.pop("inner_optimizer")
        if isinstance(inner, dict):
            inner = deserialize(inner)
        return cls(inner, **config)


class TorchOptimizer(Optimizer):
    """Any ``torch.optim.Optimizer`` behind gated's surface: clipping, ``learning_rate``, ``iterations``.

    Give an optimizer already built on parameters, or a factory ``params -> optimizer`` (such as
    ``torch.optim.AdamW`` or ``functools.partial(torch.optim.SGD, lr=0.1)``) to be built by ``build``. Weight decay
    and the update rule are the torch optimizer's own.
    """

    def __init__(self, optimizer: torch.optim.Optimizer | Callable[[list], torch.optim.Optimizer],
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        built = isinstance(optimizer, torch.optim.Optimizer)
        factory_name = type(optimizer).__name__ if built else getattr(optimizer, "__name__", "torch_optimizer")
        super().__init__(0.0, None, clipnorm, clipvalue, global_clipnorm, name or to_snake_case(factory_name))
        self._lr = None
        self._factory = None if built else optimizer
        self._torch = optimizer if built else None

    def _create(self, params):
        optimizer = self._factory(params)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"The optimizer factory returned {type(optimizer).__name__}, not a torch.optim.Optimizer.")
        if self._lr is not None:  # set before building
            for group in optimizer.param_groups:
                group["lr"] = self._lr
        return optimizer

    def _current_learning_rate(self):
        if self._schedule is not None:
            return float(self._schedule(self._iterations))
        if self._torch is not None:
            return float(self._torch.param_groups[0]["lr"])
        if self._lr is None:
            raise ValueError(f"Optimizer '{self.name}' is not built yet; its learning rate is the torch optimizer's.")
        return self._lr

    def get_config(self):
        return {"name": self.name, "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue}

    def __repr__(self):
        return f"<TorchOptimizer name={self.name!r} {'built' if self.built else 'unbuilt'}>"


# ---------------------------------------------------------------------------------------------------------------
# Resolution of compile(optimizer=...)
# ---------------------------------------------------------------------------------------------------------------

_CLASSES = {cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adagrad, Adam, AdamW, Nadam, Adamax, Adadelta, Lion,
                                                  Lamb, Ftrl, Adafactor, LossScaleOptimizer)}


def get(identifier: Any, params: Iterable | torch.nn.Module | None = None) -> Optimizer | None:
    """Resolve ``compile(optimizer=...)`` and, given ``params``, build it on them.

    Accepts a name (``'adam'``, ``'Adam'``, ``'rmsprop'`` ..., with Keras's defaults), a gated optimizer, a Keras
    optimizer or its serialized dict (converted through its config), a ``torch.optim.Optimizer`` instance, or a
    ``torch.optim.Optimizer`` class (built with torch's defaults).
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier.lower() not in _CLASSES:
            raise unknown_name_error("optimizer", identifier, _CLASSES,
                                     hint=" Or pass an optimizer object, such as a torch.optim.Optimizer.")
        optimizer = _CLASSES[identifier.lower()]()
    elif isinstance(identifier, dict):  # a serialized gated or Keras optimizer, or a registered custom one
        optimizer = deserialize(identifier)
    elif isinstance(identifier, Optimizer):
        optimizer = identifier
    elif isinstance(identifier, torch.optim.Optimizer) or (
            inspect.isclass(identifier) and issubclass(identifier, torch.optim.Optimizer)):
        optimizer = TorchOptimizer(identifier)
    elif inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        optimizer = identifier()
    elif type(identifier).__module__.startswith("keras") and hasattr(identifier, "get_config"):
        optimizer = _from_keras_config(type(identifier).__name__, identifier.get_config())
    else:
        raise TypeError(f"An optimizer must be a name, a gated or Keras optimizer or a torch.optim.Optimizer; "
                        f"received {type(identifier).__name__} {identifier!r}.")
    if params is not None and not optimizer.built:
        optimizer.build(params)
    return optimizer


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """The serialized form ``{'class_name': ..., 'config': ...}`` (``gated.saving.serialize``)."""
    return _registry.serialize(optimizer)


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    """The optimizer ``serialize`` described, or one from a Keras optimizer's serialized form: a built-in class by
    name (any case: ``'Adam'``, ``'adam'``), or a class registered with ``gated.saving.register_serializable`` or
    given in ``custom_objects`` (``gated.saving.deserialize``)."""
    name = config.get("class_name") if isinstance(config, dict) else None
    builtin = {name: _CLASSES[name.lower()]} if isinstance(name, str) and name.lower() in _CLASSES else None
    try:
        return _registry.deserialize(config, custom_objects, module_objects=builtin, base=Optimizer)
    except _registry.UnknownClassError:
        raise unknown_name_error("optimizer", str(name), _CLASSES,
                                 hint=" A custom optimizer class loads when registered with "
                                      "@gated.saving.register_serializable() or passed in custom_objects.") from None


def _from_keras_config(class_name: str, config: dict[str, Any]) -> Optimizer:
    if class_name.lower() not in _CLASSES:
        raise unknown_name_error("optimizer", class_name, _CLASSES)
    return _CLASSES[class_name.lower()].from_config(config)


def _stored_parameters(grads: list[Any], variables: list[Any]) -> tuple[list[Any], list[Any]]:
    """``layer.weights`` lists a weight that a layer stores in another layout (a GRU's gates in torch's order) as a
    view with ``parameter_gradients(grad)``; each such (gradient, view) pair becomes the stored parameters and their
    gradients, which this optimizer updates. Other variables pass as they are."""
    if len(grads) != len(variables) or not any(hasattr(v, "parameter_gradients") for v in variables):
        return grads, variables
    out_grads: list[Any] = []
    out_vars: list[Any] = []
    index: dict[int, int] = {}
    for grad, variable in zip(grads, variables):
        pairs = variable.parameter_gradients(grad) if hasattr(variable, "parameter_gradients") else [(variable, grad)]
        for param, g in pairs:
            if id(param) in index:  # two views of one parameter: their gradients add up
                i = index[id(param)]
                out_grads[i] = g if out_grads[i] is None else (out_grads[i] if g is None else out_grads[i] + g)
                continue
            index[id(param)] = len(out_vars)
            out_vars.append(param)
            out_grads.append(g)
    return out_grads, out_vars
