"""Keras's update rules as ``torch.optim.Optimizer`` subclasses, and Keras's gradient clipping.

Each rule's step has a host half (``_host_step``: count the step, compute its scalars as Python numbers in the
variables' dtype) and a device half (``_device_step``: decay and update with those scalars, given as numbers or as
0-d device tensors for a captured step). ``Optimizer`` (``_optimizers.py``) drives them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor


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
# Lion, Lamb, Ftrl and Adafactor (keras/src/optimizers/): per-parameter updates
# ---------------------------------------------------------------------------------------------------------------

class _LionRule(_KerasRule):
    def _slots(self, group):
        return (("momentum", 0.0),)

    def _scalars(self, group, f):
        return {"neg_lr": -float(f(group["lr"]))}

    def _update(self, group, params, grads, slots, s):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        m = slots["momentum"]
        directions = torch._foreach_add(torch._foreach_mul(m, beta_1), torch._foreach_mul(grads, 1 - beta_1))
        torch._foreach_sign_(directions)
        _add_scaled_(params, directions, s["neg_lr"])
        torch._foreach_mul_(m, beta_2)  # m = beta_2 * m + (1 - beta_2) * g, after the update
        torch._foreach_add_(m, grads, alpha=1 - beta_2)


class _LambRule(_KerasRule):
    capturable = False

    def _slots(self, group):
        return (("momentum", 0.0), ("velocity", 0.0))

    def _scalars(self, group, f):
        t = f(group["step"])
        return {"lr": float(f(group["lr"])), "m_correction": float(f(1) - f(group["beta_1"]) ** t),
                "v_correction": float(f(1) - f(group["beta_2"]) ** t)}

    def _update(self, group, params, grads, slots, s):
        for p, g, m, v in zip(params, grads, slots["momentum"], slots["velocity"]):
            m.add_((g - m) * (1 - group["beta_1"]))
            v.add_((torch.square(g) - v) * (1 - group["beta_2"]))
            update = (m / s["m_correction"]) / (torch.sqrt(v / s["v_correction"]) + group["epsilon"])
            w_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(update)
            ratio = torch.where((w_norm > 0) & (g_norm > 0), w_norm / g_norm, torch.ones_like(w_norm))
            p.sub_(ratio * s["lr"] * update)


class _FtrlRule(_KerasRule):
    capturable = False

    def _slots(self, group):
        return (("accumulator", "initial_accumulator_value"), ("linear", 0.0))

    def _update(self, group, params, grads, slots, s):
        lr, power = s["lr"], group["learning_rate_power"]
        l1 = group["l1_regularization_strength"]
        l2 = group["l2_regularization_strength"] + group["beta"] / (2.0 * lr)
        shrinkage = group["l2_shrinkage_regularization_strength"]
        for p, g, accumulator, linear in zip(params, grads, slots["accumulator"], slots["linear"]):
            new_accumulator = accumulator + torch.square(g)
            linear.add_(g + 2 * shrinkage * p
                        - (torch.pow(new_accumulator, -power) - torch.pow(accumulator, -power)) / lr * p)
            quadratic = torch.pow(new_accumulator, -power) / lr + 2 * l2
            p.copy_((torch.clamp(linear, -l1, l1) - linear) / quadratic)
            accumulator.copy_(new_accumulator)


def _rms(x: Tensor) -> Tensor:
    return torch.sqrt(torch.mean(torch.square(x)))


class _AdafactorRule(_KerasRule):
    """Factored second moments for parameters of rank >= 2 (rows ``r`` over the last axis, columns ``c`` over the
    one before), a full one (``v``) below."""

    capturable = False

    def _scalars(self, group, f):
        t = f(group["step"])
        rho = min(f(group["lr"]), f(1) / np.sqrt(t))
        return {"rho": float(rho), "beta_2": float(f(1) - t ** f(group["beta_2_decay"]))}

    def _update(self, group, params, grads, slots, s):
        rho, beta_2 = s["rho"], s["beta_2"]
        for p, g in zip(params, grads):
            state = self.state[p]
            if "velocity" not in state:
                state["velocity"] = torch.zeros_like(p)
                if p.ndim >= 2:
                    state["row"] = p.new_zeros(p.shape[:-1])
                    state["column"] = p.new_zeros(p.shape[:-2] + p.shape[-1:])
            v = state["velocity"]
            alpha = torch.clamp(_rms(p), min=group["epsilon_2"]) * rho
            squared = torch.square(g) + group["epsilon_1"]
            if p.ndim >= 2:
                r, c = state["row"], state["column"]
                r.copy_(beta_2 * r + (1 - beta_2) * torch.mean(squared, dim=-1))
                c.copy_(beta_2 * c + (1 - beta_2) * torch.mean(squared, dim=-2))
                v.copy_((r / torch.mean(r, dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
            else:
                v.copy_(beta_2 * v + (1 - beta_2) * squared)
            u = g / torch.sqrt(v)
            u = u / torch.clamp(_rms(u) / group["clip_threshold"], min=1.0)
            p.sub_(alpha * u)
