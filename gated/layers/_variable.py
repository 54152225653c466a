"""Weights as Keras programs use them: ``Variable`` (what ``Layer.add_weight`` returns) and ``WeightView`` (what
``layer.weights`` lists for a weight that gated stores in another layout).

A ``Variable`` is a ``torch.nn.Parameter``, so torch operations take it as it is (``x @ self.w``,
``ops.matmul(x, self.w)``), and it has Keras's ``Variable`` surface: ``assign``, ``assign_add``, ``assign_sub``,
``numpy()``, ``value``, ``name``, ``path``, ``trainable``, ``regularizer``, ``constraint``.

A built-in layer declares its weights as ``WeightSpec`` getters in Keras's layout (a GRU keeps torch's gate order
and reads Keras's kernel through a view). ``layer.weights`` lists each as a ``WeightView``: a tensor holding the
weight's values in Keras's layout, with the same surface. Its ``value`` is the stored parameter itself when the
layouts agree (so ``value.grad`` is the parameter's gradient); otherwise ``value`` is the view, whose ``grad``
is the stored parameters' gradient translated into Keras's layout. ``Optimizer.apply(grads, weights)`` takes the
views and updates the stored parameters (``WeightView.parameter_gradients`` translates each gradient back).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

_DISABLED = torch._C._disabled_torch_function_impl


def _as_value(value: Any, like: torch.Tensor, what: str) -> torch.Tensor:
    if isinstance(value, WeightView):
        value = value.value
    tensor = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value.detach())
    if tuple(tensor.shape) != tuple(like.shape):
        raise ValueError(f"{what} has shape {tuple(like.shape)}; the value to assign has shape "
                         f"{tuple(tensor.shape)}. Assign a value of the variable's shape.")
    return tensor.to(dtype=like.dtype, device=like.device)


class Variable(nn.Parameter):
    """A weight created by ``layer.add_weight(...)``: a torch parameter with Keras's ``Variable`` surface.

    ``trainable=False`` makes a parameter without gradients, left out of the optimizer (Keras's non-trainable
    state: counters, moving statistics); ``assign`` changes it in place.
    """

    __torch_function__ = _DISABLED  # results of operations are plain tensors, as with any parameter

    def __new__(cls, data: torch.Tensor, trainable: bool = True, name: str = "variable", path: str | None = None):
        trainable = bool(trainable) and data.is_floating_point()
        variable = super().__new__(cls, data, requires_grad=trainable)
        variable._keras_name = name
        variable._keras_path = path or name
        variable._trainable = bool(trainable)
        variable.regularizer = None
        variable.constraint = None
        return variable

    def __deepcopy__(self, memo: dict) -> "Variable":
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self._trainable, self._keras_name, self._keras_path)
        result.requires_grad_(self.requires_grad)
        result.regularizer = copy.deepcopy(self.regularizer, memo)
        result.constraint = copy.deepcopy(self.constraint, memo)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_variable, (self.data, self._trainable, self.requires_grad, self._keras_name,
                                    self._keras_path, self.regularizer, self.constraint))

    @property
    def name(self) -> str:
        return self._keras_name

    @property
    def path(self) -> str:
        return self._keras_path

    @property
    def value(self) -> "Variable":
        return self

    @property
    def trainable(self) -> bool:
        return self._trainable and self.requires_grad

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self.requires_grad_(self._trainable and self.is_floating_point())

    def numpy(self) -> np.ndarray:
        return self.detach().cpu().numpy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def assign(self, value: Any) -> "Variable":
        with torch.no_grad():
            self.copy_(_as_value(value, self, f"Variable '{self.path}'"))
        return self

    def assign_add(self, value: Any) -> "Variable":
        with torch.no_grad():
            self.add_(_as_value(value, self, f"Variable '{self.path}'"))
        return self

    def assign_sub(self, value: Any) -> "Variable":
        with torch.no_grad():
            self.sub_(_as_value(value, self, f"Variable '{self.path}'"))
        return self

    def __repr__(self) -> str:
        return (f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={str(self.dtype).replace('torch.', '')}"
                f", value={self.numpy()}>")


def _rebuild_variable(data, trainable, requires_grad, name, path, regularizer, constraint) -> Variable:
    variable = Variable(data, trainable, name, path)
    variable.requires_grad_(requires_grad)
    variable.regularizer, variable.constraint = regularizer, constraint
    return variable


class WeightView(torch.Tensor):
    """One weight of a built-in layer in Keras's layout, as ``layer.weights`` lists it (see the module docstring).

    The view's values are a snapshot taken when ``layer.weights`` was read; ``value`` and ``numpy()`` read the
    weight again, ``assign`` writes it."""

    __torch_function__ = _DISABLED

    @staticmethod
    def __new__(cls, current: torch.Tensor, spec: Any, path: str, trainable: bool):
        view = torch.Tensor._make_subclass(cls, current.detach(), False)
        view._spec, view._keras_path, view._trainable = spec, path, trainable
        return view

    def __deepcopy__(self, memo: dict) -> torch.Tensor:
        return self.detach().clone()

    def __reduce_ex__(self, protocol):
        return (torch.as_tensor, (self.numpy(),))

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def path(self) -> str:
        return self._keras_path

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def regularizer(self) -> Callable | None:
        return self._spec.regularizer

    @property
    def constraint(self) -> Callable | None:
        return self._spec.constraint

    def _stored(self) -> tuple[torch.Tensor, list[nn.Parameter]]:
        """The weight read again (differentiable) and the parameters it is read from."""
        with torch.enable_grad():
            current = self._spec.get()
        return current, _leaf_parameters(current)

    @property
    def value(self) -> torch.Tensor:
        """The stored parameter when it is kept in Keras's layout; else the weight now, with ``grad`` the stored
        parameters' gradient in Keras's layout (None when none has one)."""
        current, params = self._stored()
        if isinstance(current, nn.Parameter):
            return current
        view = current.detach()
        if any(p.grad is not None for p in params):
            view.grad = _forward_gradient(current, params)
        return view

    def numpy(self) -> np.ndarray:
        return self._spec.get().detach().cpu().numpy().copy()

    def assign(self, value: Any) -> "WeightView":
        current = self._spec.get()
        with torch.no_grad():
            self._spec.set(_as_value(value, current, f"Weight '{self.path}'"))
            self.copy_(self._spec.get().detach())
        return self

    def assign_add(self, value: Any) -> "WeightView":
        current = self._spec.get().detach()
        return self.assign(current + _as_value(value, current, f"Weight '{self.path}'"))

    def assign_sub(self, value: Any) -> "WeightView":
        current = self._spec.get().detach()
        return self.assign(current - _as_value(value, current, f"Weight '{self.path}'"))

    def parameter_gradients(self, grad: Any) -> list[tuple[nn.Parameter, torch.Tensor | None]]:
        """``grad`` (Keras's layout, this weight's shape) as gradients of the stored parameters it is read from."""
        current, params = self._stored()
        if grad is None:
            return [(p, None) for p in params]
        grad = torch.as_tensor(grad, device=current.device, dtype=current.dtype)
        if tuple(grad.shape) != tuple(current.shape):
            raise ValueError(f"Weight '{self.path}' has shape {tuple(current.shape)}; received a gradient of shape "
                             f"{tuple(grad.shape)}. Each gradient has its weight's shape.")
        if isinstance(current, nn.Parameter):
            return [(current, grad)]
        if not params:
            raise ValueError(f"Weight '{self.path}' is not read from any trainable parameter (its layer computes it "
                             "without gradients), so an optimizer cannot update it. Leave it out of the variables "
                             "passed to optimizer.apply().")
        grads = torch.autograd.grad(current, params, grad, allow_unused=True)
        return list(zip(params, grads))

    def __repr__(self) -> str:
        return f"<WeightView path={self.path}, shape={tuple(self.shape)}>"


def _leaf_parameters(tensor: torch.Tensor) -> list[nn.Parameter]:
    """The parameters a differentiable tensor was computed from, in the order autograd reaches them."""
    if tensor.grad_fn is None:
        return [tensor] if isinstance(tensor, nn.Parameter) else []
    found: list[nn.Parameter] = []
    seen: set[int] = set()
    stack = [tensor.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        variable = getattr(fn, "variable", None)
        if variable is not None:
            if all(variable is not p for p in found):
                found.append(variable)
            continue
        stack.extend(next_fn for next_fn, _ in reversed(fn.next_functions))
    return found


def _forward_gradient(current: torch.Tensor, params: list[nn.Parameter]) -> torch.Tensor:
    """The parameters' gradients carried into Keras's layout: the Jacobian of the layout map times the gradients
    (a double backward; exact for any differentiable map, a permutation for the layouts gated stores)."""
    with torch.enable_grad():
        probe = torch.zeros_like(current, requires_grad=True)
        pulled = torch.autograd.grad(current, params, probe, create_graph=True, allow_unused=True)
        pairs = [(g, p.grad) for g, p in zip(pulled, params) if g is not None and p.grad is not None]
        pushed = torch.autograd.grad([g for g, _ in pairs], probe, [t for _, t in pairs], allow_unused=True)[0]
    return torch.zeros_like(current.detach()) if pushed is None else pushed.detach()
