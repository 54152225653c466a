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
from typing import Any, Callable, Iterable, NamedTuple

import numpy as np
import torch

from .saving import _registry
from .utils._naming import to_snake_case, unknown_name_error

Tensor = torch.Tensor
LearningRate = float | Callable[[int], float]
_KERAS_ONLY_DEFAULTS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                        "loss_scale_factor": None, "gradient_accumulation_steps": None}


# ---------------------------------------------------------------------------------------------------------------
# Keras's update rules as torch optimizers (keras/src/backend/torch/optimizers/)
# ---------------------------------------------------------------------------------------------------------------

class _KerasRule(torch.optim.Optimizer):
    """Shared step: count the iteration, apply decoupled weight decay, then the rule's ``_update``."""


    def __init__(self, params, **defaults):
        super().__init__(params, {"weight_decay": 0.0, **defaults, "step": 0})

    capturable = True  # the update runs with per-step scalars given as device tensors (CUDA-graph capture)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                group["step"] += 1
                continue
            self._device_step(group, params, self._host_step(group, scalar_type(params)))
        return loss

    def _host_step(self, group: dict, f: type) -> dict[str, float]:
        """The host half of a step: count it and compute this step's scalars (Python numbers, in Keras's dtype)."""
        group["step"] += 1
        scalars = self._scalars(group, f)
        if group["weight_decay"]:
            scalars["decay"] = float(f(1) - f(group["weight_decay"]) * f(group["lr"]))
        return scalars

    def _device_step(self, group: dict, params: list[Tensor], scalars: dict[str, Any]) -> None:
        """The device half: decay and update ``params`` with ``scalars`` given as Python numbers (eager) or as
        0-d tensors on the parameters' device (a captured step reads them from a buffer the host fills)."""
        grads = [p.grad.to(p.dtype) for p in params]
        if group["weight_decay"]:
            torch._foreach_mul_(params, scalars["decay"])
        slots = {name: [self._slot(p, name, group, init) for p in params] for name, init in self._slots(group)}
        self._update(group, params, grads, slots, scalars)

    def _scalars(self, group: dict, f: type) -> dict[str, float]:
        """This step's scalars, computed on the host. Keras computes step sizes in the variables' dtype (``f``);
        doing the same keeps float32 runs within an ulp of Keras (1 - beta_2**t alone loses 5 digits to
        cancellation in float32)."""
        return {"lr": float(f(group["lr"]))}

    def _slot(self, p: Tensor, name: str, group: dict, init: float | str) -> Tensor:
        state = self.state[p]
        if name not in state:
            value = group[init] if isinstance(init, str) else init
            state[name] = torch.full_like(p, value, memory_format=torch.preserve_format)
        return state[name]

    def _slots(self, group: dict) -> tuple[tuple[str, float | str], ...]:
        """Per-parameter state this group needs: (name, initial value or the hyperparameter holding it)."""
        return ()

    def _update(self, group: dict, params: list[Tensor], grads: list[Tensor], slots: dict[str, list[Tensor]],
                s: dict[str, Any]) -> None:
        """Update ``params`` in place with this step's scalars ``s`` (see ``_device_step``)."""
        raise NotImplementedError


def scalar_type(params: list[Tensor]) -> type:
    """The numpy type Keras computes step sizes in: the variables' dtype (float64 or float32)."""
    return np.float64 if params[0].dtype == torch.float64 else np.float32


def _add_scaled_(xs: list[Tensor], ys: list[Tensor], scale: float | Tensor) -> None:
    """``xs += scale * ys``. A Python ``scale`` keeps the single fused ``alpha=`` kernel of the eager step; a 0-d
    tensor (captured step) multiplies first, since ``alpha=`` takes only Python numbers."""
    if isinstance(scale, Tensor):
        torch._foreach_add_(xs, torch._foreach_mul(ys, scale))
    else:
        torch._foreach_add_(xs, ys, alpha=scale)


class _SGDRule(_KerasRule):
    def _slots(self, group):
        return (("momentum", 0.0),) if group["momentum"] != 0 else ()

    def _scalars(self, group, f):
        return {"neg_lr": -float(f(group["lr"]))}

    def _update(self, group, params, grads, slots, s):
        neg_lr, momentum = s["neg_lr"], group["momentum"]
        if momentum == 0:
            _add_scaled_(params, grads, neg_lr)
            return
        m = slots["momentum"]
        torch._foreach_mul_(m, momentum)  # m = momentum * m - lr * g
        _add_scaled_(m, grads, neg_lr)
        if group["nesterov"]:
            _add_scaled_(params, grads, neg_lr)
            torch._foreach_add_(params, m, alpha=momentum)
        else:
            torch._foreach_add_(params, m)


class _RMSpropRule(_KerasRule):
    def _slots(self, group):
        return (("velocity", 0.0),) + ((("momentum", 0.0),) if group["momentum"] > 0 else ()) + (
            (("average_gradient", 0.0),) if group["centered"] else ())

    def _update(self, group, params, grads, slots, s):
        lr, rho, momentum = s["lr"], group["rho"], group["momentum"]
        velocity = slots["velocity"]
        torch._foreach_mul_(velocity, rho)
        torch._foreach_add_(velocity, torch._foreach_mul(grads, grads), alpha=1 - rho)
        denominators = torch._foreach_add(velocity, group["epsilon"])  # epsilon inside the square root
        if group["centered"]:
            average = slots["average_gradient"]
            torch._foreach_mul_(average, rho)
            torch._foreach_add_(average, grads, alpha=1 - rho)
            torch._foreach_add_(denominators, torch._foreach_mul(average, average), alpha=-1)
        torch._foreach_sqrt_(denominators)
        increments = torch._foreach_div(torch._foreach_mul(grads, lr), denominators)
        if momentum > 0:
            m = slots["momentum"]
            torch._foreach_mul_(m, momentum)
            torch._foreach_add_(m, increments)
            increments = m
        torch._foreach_add_(params, increments, alpha=-1)


class _AdagradRule(_KerasRule):
    def _slots(self, group):
        return (("accumulator", "initial_accumulator_value"),)

    def _update(self, group, params, grads, slots, s):
        accumulators = slots["accumulator"]
        torch._foreach_add_(accumulators, torch._foreach_mul(grads, grads))
        denominators = torch._foreach_sqrt(torch._foreach_add(accumulators, group["epsilon"]))
        torch._foreach_add_(params, torch._foreach_div(torch._foreach_mul(grads, s["lr"]), denominators), alpha=-1)


class _AdamRule(_KerasRule):
    def _slots(self, group):
        return (("momentum", 0.0), ("velocity", 0.0)) + ((("velocity_hat", 0.0),) if group["amsgrad"] else ())

    def _scalars(self, group, f):
        beta_1, beta_2, t = group["beta_1"], group["beta_2"], f(group["step"])
        # bias corrections folded into the step size
        return {"alpha": float(f(group["lr"]) * np.sqrt(f(1) - f(beta_2) ** t) / (f(1) - f(beta_1) ** t))}

    def _update(self, group, params, grads, slots, s):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_mul_(m, beta_1)
        torch._foreach_add_(m, grads, alpha=1 - beta_1)
        torch._foreach_mul_(v, beta_2)
        torch._foreach_add_(v, torch._foreach_mul(grads, grads), alpha=1 - beta_2)
        if group["amsgrad"]:
            torch._foreach_maximum_(slots["velocity_hat"], v)
            v = slots["velocity_hat"]
        denominators = torch._foreach_add(torch._foreach_sqrt(v), group["epsilon"])
        torch._foreach_add_(params, torch._foreach_div(torch._foreach_mul(m, s["alpha"]), denominators), alpha=-1)


class _NadamRule(_KerasRule):
    capturable = False  # its scalars divide (foreach division by a tensor scalar is not used here)

    def _slots(self, group):
        return (("momentum", 0.0), ("velocity", 0.0))

    def __init__(self, params, **defaults):
        super().__init__(params, **defaults, u_product=1.0)

    def _scalars(self, group, f):
        beta_1, beta_2, t = group["beta_1"], group["beta_2"], f(group["step"])
        u_t = f(beta_1) * (f(1) - f(0.5) * f(0.96) ** t)  # Keras's momentum schedule
        u_t_1 = f(beta_1) * (f(1) - f(0.5) * f(0.96) ** (t + f(1)))
        u_product_t = f(group["u_product"]) * u_t
        u_product_t_1 = u_product_t * u_t_1
        group["u_product"] = float(u_product_t)
        u_t, u_t_1, u_product_t, u_product_t_1 = (float(x) for x in (u_t, u_t_1, u_product_t, u_product_t_1))
        return {"u_t": u_t, "u_t_1": u_t_1, "u_product_t": u_product_t, "u_product_t_1": u_product_t_1,
                "v_correction": float(f(1) - f(beta_2) ** t), "lr": float(f(group["lr"]))}

    def _update(self, group, params, grads, slots, s):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        u_t, u_t_1, u_product_t, u_product_t_1 = s["u_t"], s["u_t_1"], s["u_product_t"], s["u_product_t_1"]
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_mul_(m, beta_1)
        torch._foreach_add_(m, grads, alpha=1 - beta_1)
        torch._foreach_mul_(v, beta_2)
        torch._foreach_add_(v, torch._foreach_mul(grads, grads), alpha=1 - beta_2)
        m_hat = torch._foreach_add(torch._foreach_div(torch._foreach_mul(m, u_t_1), 1 - u_product_t_1),
                                   torch._foreach_div(torch._foreach_mul(grads, 1 - u_t), 1 - u_product_t))
        v_hat = torch._foreach_div(v, s["v_correction"])
        denominators = torch._foreach_add(torch._foreach_sqrt(v_hat), group["epsilon"])
        torch._foreach_add_(params, torch._foreach_div(torch._foreach_mul(m_hat, s["lr"]), denominators), alpha=-1)


class _AdamaxRule(_KerasRule):
    def _slots(self, group):
        return (("momentum", 0.0), ("norm", 0.0))

    def _scalars(self, group, f):
        return {"correction": float(f(1) - f(group["beta_1"]) ** f(group["step"])), "lr": float(f(group["lr"]))}

    def _update(self, group, params, grads, slots, s):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        m, u = slots["momentum"], slots["norm"]
        torch._foreach_mul_(m, beta_1)
        torch._foreach_add_(m, grads, alpha=1 - beta_1)
        torch._foreach_mul_(u, beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominators = torch._foreach_mul(torch._foreach_add(u, group["epsilon"]), s["correction"])
        torch._foreach_add_(params, torch._foreach_div(torch._foreach_mul(m, s["lr"]), denominators), alpha=-1)


class _AdadeltaRule(_KerasRule):
    def _slots(self, group):
        return (("accumulated_grad", 0.0), ("accumulated_delta_var", 0.0))

    def _update(self, group, params, grads, slots, s):
        rho, eps = group["rho"], group["epsilon"]
        acc_grads, acc_deltas = slots["accumulated_grad"], slots["accumulated_delta_var"]
        torch._foreach_mul_(acc_grads, rho)
        torch._foreach_add_(acc_grads, torch._foreach_mul(grads, grads), alpha=1 - rho)
        rms_deltas = torch._foreach_sqrt(torch._foreach_add(acc_deltas, eps))
        rms_grads = torch._foreach_sqrt(torch._foreach_add(acc_grads, eps))
        deltas = torch._foreach_mul(torch._foreach_div(torch._foreach_mul(rms_deltas, grads), rms_grads), -1)
        torch._foreach_mul_(acc_deltas, rho)
        torch._foreach_add_(acc_deltas, torch._foreach_mul(deltas, deltas), alpha=1 - rho)
        _add_scaled_(params, deltas, s["lr"])


# ---------------------------------------------------------------------------------------------------------------
# Clipping (keras/src/optimizers/base_optimizer.py)
# ---------------------------------------------------------------------------------------------------------------

def _clip_gradients(grads: list[Tensor], clipnorm, global_clipnorm, clipvalue) -> None:
    """Clip in place, as Keras's ``_clip_gradients`` does (at most one of the three is set)."""
    if not grads:
        return
    if clipnorm and clipnorm > 0:  # each tensor to norm <= clipnorm
        norms = torch._foreach_norm(grads)
        torch._foreach_mul_(grads, [clipnorm / torch.clamp(n, min=clipnorm) for n in norms])
    elif global_clipnorm and global_clipnorm > 0:  # all tensors by one factor, to global norm <= global_clipnorm
        device = grads[0].device
        norm = torch.linalg.vector_norm(torch.stack([n.to(device) for n in torch._foreach_norm(grads)]))
        scale = global_clipnorm * torch.clamp(1.0 / norm, max=1.0 / global_clipnorm) + (norm - norm)  # NaN stays NaN
        for g in grads:
            g.mul_(scale.to(g.device, g.dtype))
    elif clipvalue and clipvalue > 0:
        torch._foreach_clamp_min_(grads, -clipvalue)
        torch._foreach_clamp_max_(grads, clipvalue)


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
        learning_rate: a float, or a callable ``step -> learning rate`` (for instance a Keras
            ``LearningRateSchedule``), evaluated before each step at the number of steps taken so far.
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
                    "AdamW, Adamax, Adadelta)")
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
        if hasattr(learning_rate, "get_config"):
            learning_rate = {"class_name": type(learning_rate).__name__, "config": learning_rate.get_config()}
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
        if isinstance(config.get("learning_rate"), dict):
            raise ValueError("A serialized learning-rate schedule cannot be restored by gated; pass the schedule "
                             "object (a callable step -> learning rate) as learning_rate.")
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


class Nadam(Optimizer):
    """Adam with Nesterov momentum and Keras's momentum schedule ``beta_1 * (1 - 0.5 * 0.96**t)``."""

    _rule = _NadamRule

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """``u = max(beta_2 * u, |g|)``; ``p -= lr * m / ((1 - beta_1**t) * (u + epsilon))``."""

    _rule = _AdamaxRule

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta with Keras's defaults (learning_rate 0.001, rho 0.95, epsilon 1e-7)."""

    _rule = _AdadeltaRule

    def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.rho, self.epsilon = rho, epsilon

    def _hyperparameters(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


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

_CLASSES = {cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adagrad, Adam, AdamW, Nadam, Adamax, Adadelta)}


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
