"""A model as a flat list of layer calls, for the inference engines in ``gated.deploy``.

``trace(model)`` turns a ``Sequential``, a functional ``Model`` or any nesting of the two into a ``Program``:
the model's input placeholders, every layer call in execution order (nested models inlined), and the output
structure. Values are ``SymbolicTensor`` placeholders; an engine maps each one to whatever holds its value.
Subclassed models have no recorded graph and are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers._base import Layer
from ..layers._core import InputLayer
from ..layers._structure import Structure, model_structure
from ..layers._symbolic import SymbolicTensor
from ..utils._tree import flatten_structure, map_structure


@dataclass(eq=False)
class Call:
    """``layer(*args, **kwargs)`` produced ``outputs`` (one placeholder per returned tensor)."""

    layer: Layer
    args: tuple
    kwargs: dict
    outputs: list[SymbolicTensor]

    def tensor_args(self) -> list[SymbolicTensor]:
        """The placeholders among the positional arguments (the layer's inputs)."""
        return [t for t in flatten_structure(list(self.args)) if isinstance(t, SymbolicTensor)]

    def tensor_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that carry placeholders (``initial_state=``, ``mask=``, ...)."""
        return {k: v for k, v in self.kwargs.items()
                if any(isinstance(t, SymbolicTensor) for t in flatten_structure(v))}


@dataclass(eq=False)
class Program:
    inputs: list[SymbolicTensor]
    calls: list[Call] = field(default_factory=list)
    outputs: Any = None  # a placeholder, or a list / tuple / dict of them

    @property
    def output_list(self) -> list[SymbolicTensor]:
        return flatten_structure(self.outputs)

    def consumers(self) -> dict[int, list[Call]]:
        """``id(placeholder) -> calls that take it``."""
        users: dict[int, list[Call]] = {}
        for call in self.calls:
            for t in flatten_structure((call.args, call.kwargs)):
                if isinstance(t, SymbolicTensor):
                    users.setdefault(id(t), []).append(call)
        return users


def trace(model: Layer, what: str) -> Program:
    """The layer calls of ``model``; ``what`` names the caller in error messages ('streaming', 'int8 ...')."""
    if model_structure(model) is None:
        raise TypeError(f"{what} takes a gated model (Sequential or functional Model); received "
                        f"{type(model).__name__}.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights for {what}. Train it, call "
                         "it on data, or call model.build(input_shape) first.")
    inputs = [SymbolicTensor(t.shape, t.dtype, name=t.name) for t in _input_placeholders(model, what)]
    program = Program(inputs)
    program.outputs = _inline(model, inputs, program, what)
    return program


def _input_placeholders(model, what: str) -> list[SymbolicTensor]:
    if model_structure(model) is Structure.SEQUENTIAL:
        shape = model._build_input_shape
        return [SymbolicTensor((None,) + tuple(shape)[1:], model._input_dtype(), name="input")]
    if model._graph is None:
        raise ValueError(f"Model '{model.name}' ({type(model).__name__}) is a subclassed model: its computation is "
                         f"Python code with no recorded layer graph, so {what} cannot read it. Build it as a "
                         "Sequential or a functional Model(inputs, outputs).")
    return list(model._graph.input_tensors)


def _inline(model, inputs: list[SymbolicTensor], program: Program, what: str) -> Any:
    """Append ``model``'s calls on ``inputs`` to ``program``; returns the output structure."""
    if model_structure(model) is Structure.SEQUENTIAL:
        x = inputs[0]
        for layer in model.layers:
            outs = _call(layer, (x,), {}, program, what)
            x = outs[0]  # a layer with return_state passes on its output only, as in Keras
        return x
    if model._graph is None:
        _input_placeholders(model, what)  # raises the subclassed-model error
    graph = model._graph
    values: dict[int, Any] = {id(t): x for t, x in zip(graph.input_tensors, inputs)}

    def resolve(leaf: Any) -> Any:
        return values[id(leaf)] if isinstance(leaf, SymbolicTensor) else leaf

    for node in graph.nodes:
        if isinstance(node.layer, InputLayer):
            continue
        outs = _call(node.layer, map_structure(resolve, tuple(node.args)), map_structure(resolve, dict(node.kwargs)),
                     program, what)
        for tensor, out in zip(node.outputs, outs):
            values[id(tensor)] = out
    return map_structure(resolve, graph.outputs)


def _call(layer: Layer, args: tuple, kwargs: dict, program: Program, what: str) -> list[SymbolicTensor]:
    if model_structure(layer) is not None:
        if kwargs:
            raise ValueError(f"Model '{layer.name}' is called inside another model with {sorted(kwargs)}; {what} "
                             "inlines nested models called on their inputs only.")
        inner = [t for t in flatten_structure(list(args)) if isinstance(t, SymbolicTensor)]
        out = _inline(layer, inner, program, what)
        return flatten_structure(out)
    result = layer(*args, **kwargs)  # a symbolic call: records shapes only, computes nothing
    outs = flatten_structure(result) if isinstance(result, (list, tuple)) else [result]
    program.calls.append(Call(layer, args, kwargs, outs))
    return outs
