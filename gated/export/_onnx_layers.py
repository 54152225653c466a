"""ONNX conversion of gated's core layers and activations (recurrent layers are in ``_onnx_rnn.py``).

Each converter takes the builder, the layer, its positional inputs and keyword inputs (``Value``s), and returns
its outputs as a list of ``Value``s, carrying masks exactly as gated's ``compute_mask`` does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import activations as _activations
from ..layers import (
    Activation, Add, Concatenate, Dense, Dropout, Embedding, Flatten, InputLayer, Masking, RepeatVector, Reshape,
    TimeDistributed,
)
from ._graph import GraphBuilder, Value


def _unary(op: str, **attrs: Any):
    return lambda b, x, hint: b.op(op, [x], hint, **attrs)


def _times(inner):
    return lambda b, x, hint: b.op("Mul", [x, inner(b, x, hint)], hint)


def _gelu(b: GraphBuilder, x: str, hint: str) -> str:  # Keras's default: the exact erf form
    erf = b.op("Erf", [b.op("Div", [x, b.scalar(math.sqrt(2.0))], hint)], hint)
    return b.op("Mul", [b.op("Mul", [x, b.scalar(0.5)], hint), b.op("Add", [erf, b.scalar(1.0)], hint)], hint)


def _clip(low: float, high: float):
    return lambda b, x, hint: b.op("Clip", [x, b.scalar(low), b.scalar(high)], hint)


_hard_sigmoid = _unary("HardSigmoid", alpha=1.0 / 6.0, beta=0.5)  # relu6(x + 3) / 6
ELEMENTWISE = {
    "linear": lambda b, x, hint: x,
    "tanh": _unary("Tanh"),
    "sigmoid": _unary("Sigmoid"),
    "relu": _unary("Relu"),
    "relu6": _clip(0.0, 6.0),
    "leaky_relu": _unary("LeakyRelu", alpha=0.2),
    "elu": _unary("Elu", alpha=1.0),
    "selu": _unary("Selu"),
    "softplus": _unary("Softplus"),
    "softsign": _unary("Softsign"),
    "silu": _times(_unary("Sigmoid")),
    "gelu": _gelu,
    "exponential": _unary("Exp"),
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": _times(_hard_sigmoid),
    "hard_tanh": _clip(-1.0, 1.0),
    "mish": _times(lambda b, x, hint: b.op("Tanh", [b.op("Softplus", [x], hint)], hint)),
    "log_sigmoid": lambda b, x, hint: b.op("Neg", [b.op("Softplus", [b.op("Neg", [x], hint)], hint)], hint),
    "softmax": _unary("Softmax", axis=-1),
    "log_softmax": _unary("LogSoftmax", axis=-1),
}


def activation_name(fn: Any) -> str | None:
    """The Keras name of a built-in activation, or None for a custom callable."""
    name = _activations.serialize(fn)
    return name if isinstance(name, str) else None


def activation_problem(layer: Any, attr: str = "activation") -> str | None:
    name = activation_name(getattr(layer, attr))
    if name in ELEMENTWISE:
        return None
    return (f"{layer._describe()} has a custom {attr} {getattr(layer, attr)!r}; ONNX export supports the "
            f"built-in activations {', '.join(ELEMENTWISE)}")


def apply_activation(b: GraphBuilder, fn: Any, x: str, hint: str) -> str:
    return ELEMENTWISE[activation_name(fn)](b, x, hint)


# ---------------------------------------------------------------------------------------------------- layers
def _dense(b: GraphBuilder, layer: Dense, args: list[Value], kwargs: dict) -> list[Value]:
    x = args[0]
    hint = layer.name
    y = b.op("MatMul", [x.name, b.const(layer.kernel.detach().cpu().numpy(), f"{hint}/kernel",
                                        key=(id(layer), "kernel"))], hint)  # (B, ..., F) @ (F, H)
    if layer.use_bias:
        y = b.op("Add", [y, b.const(layer.bias.detach().cpu().numpy(), f"{hint}/bias", key=(id(layer), "bias"))],
                 hint)
    return [Value(apply_activation(b, layer.activation, y, hint), x.rank, b.FLOAT, x.mask)]


def _identity(b: GraphBuilder, layer: Any, args: list[Value], kwargs: dict) -> list[Value]:
    return [args[0]]


def _activation(b: GraphBuilder, layer: Activation, args: list[Value], kwargs: dict) -> list[Value]:
    x = args[0]
    return [Value(apply_activation(b, layer.activation, x.name, layer.name), x.rank, x.elem, x.mask)]


def _embedding(b: GraphBuilder, layer: Embedding, args: list[Value], kwargs: dict) -> list[Value]:
    x, hint = args[0], layer.name
    ids = x.name if x.elem == b.INT64 else b.op("Cast", [x.name], hint, to=b.INT64)
    table = b.const(layer.embeddings.detach().cpu().numpy(), f"{hint}/embeddings", key=(id(layer), "embeddings"))
    out = b.op("Gather", [table, ids], hint, axis=0)  # (B, T) -> (B, T, output_dim)
    mask = None
    if layer.mask_zero:
        mask = b.op("Not", [b.op("Equal", [ids, b.const(np.asarray(0, np.int64), "zero", key="i0")], hint)], hint)
    return [Value(out, x.rank + 1, b.FLOAT, mask)]


def _masking(b: GraphBuilder, layer: Masking, args: list[Value], kwargs: dict) -> list[Value]:
    x, hint = args[0], layer.name
    differs = b.op("Not", [b.op("Equal", [x.name, b.scalar(float(layer.mask_value))], hint)], hint)
    keep = b.op("ReduceMax", [b.op("Cast", [differs], hint, to=b.INT64)], hint, axes=[-1], keepdims=1)
    keep = b.op("Cast", [keep], hint, to=b.onnx.TensorProto.BOOL)  # (B, T, 1)
    out = b.op("Where", [keep, x.name, b.scalar(0.0)], hint)
    return [Value(out, x.rank, x.elem, b.op("Squeeze", [keep, b.ints([-1])], hint))]


def _repeat_vector(b: GraphBuilder, layer: RepeatVector, args: list[Value], kwargs: dict) -> list[Value]:
    x, hint = args[0], layer.name
    expanded = b.op("Unsqueeze", [x.name, b.ints([1])], hint)  # (B, 1, F)
    return [Value(b.op("Tile", [expanded, b.ints([1, layer.n, 1])], hint), 3, x.elem)]


def _flatten(b: GraphBuilder, layer: Flatten, args: list[Value], kwargs: dict) -> list[Value]:
    x, hint = args[0], layer.name
    name = x.name
    if layer.data_format == "channels_first" and x.rank > 2:
        name = b.op("Transpose", [name], hint, perm=[0] + list(range(2, x.rank)) + [1])
    return [Value(b.op("Reshape", [name, b.ints([0, -1])], hint), 2, x.elem)]


def _reshape(b: GraphBuilder, layer: Reshape, args: list[Value], kwargs: dict) -> list[Value]:
    x = args[0]
    target = b.ints([0] + list(layer.target_shape))
    return [Value(b.op("Reshape", [x.name, target], layer.name), 1 + len(layer.target_shape), x.elem)]


def _inputs(args: list[Any]) -> list[Value]:
    return list(args[0]) if isinstance(args[0], (list, tuple)) else list(args)


def _concatenate(b: GraphBuilder, layer: Concatenate, args: list[Value], kwargs: dict) -> list[Value]:
    xs = _inputs(args)
    if any(x.mask is not None for x in xs) and layer.axis % xs[0].rank != xs[0].rank - 1:
        raise ValueError(f"{layer._describe()} joins masked inputs along axis {layer.axis}; ONNX export "
                         "supports masks through Concatenate on the last axis only.")
    out = b.op("Concat", [x.name for x in xs], layer.name, axis=layer.axis)
    return [Value(out, xs[0].rank, xs[0].elem, _or_masks(b, xs, layer.name))]


def _add(b: GraphBuilder, layer: Add, args: list[Value], kwargs: dict) -> list[Value]:
    xs = _inputs(args)
    out = xs[0].name
    for x in xs[1:]:
        out = b.op("Add", [out, x.name], layer.name)
    return [Value(out, xs[0].rank, xs[0].elem, _or_masks(b, xs, layer.name))]


def _or_masks(b: GraphBuilder, xs: list[Value], hint: str) -> str | None:
    if any(x.mask is None for x in xs):
        return None  # gated: Add drops the mask; Concatenate's becomes all True, which masks nothing
    mask = xs[0].mask
    for x in xs[1:]:
        mask = b.op("Or", [mask, x.mask], hint)
    return mask


def _time_distributed(b: GraphBuilder, layer: TimeDistributed, args: list[Value], kwargs: dict) -> list[Value]:
    # The supported inner layers act on the last axis, so they apply to (B, T, ...) as they are.
    out = CONVERTERS[type(layer.layer)](b, layer.layer, args, {})[0]
    return [Value(out.name, out.rank, out.elem, args[0].mask)]


CONVERTERS = {
    Dense: _dense, Dropout: _identity, InputLayer: _identity, Activation: _activation, Embedding: _embedding,
    Masking: _masking, RepeatVector: _repeat_vector, Flatten: _flatten, Reshape: _reshape,
    Concatenate: _concatenate, Add: _add, TimeDistributed: _time_distributed,
}
TIME_DISTRIBUTABLE = (Dense, Activation, Dropout)


def layer_problems(layer: Any) -> list[str]:
    """What keeps a core layer from exporting (empty when it exports)."""
    if isinstance(layer, (Dense, Activation)):
        problem = activation_problem(layer)
        return [problem] if problem else []
    if isinstance(layer, TimeDistributed):
        if type(layer.layer) not in TIME_DISTRIBUTABLE:
            return [f"{layer._describe()} wraps {type(layer.layer).__name__}; ONNX export supports "
                    f"TimeDistributed around {', '.join(c.__name__ for c in TIME_DISTRIBUTABLE)}"]
        return layer_problems(layer.layer)
    return []
