"""One-timestep kernels for ``Streamer``'s other layers: fast numpy kernels and the reference kernels they must equal.

The recurrent layers' step kernels are ``gated.kernels._step`` (chosen by ``gated.kernels._dispatch.decide_step``).
Every kernel reads and writes preallocated numpy buffers of shape (B, ...) and is a closure ``run()`` with its
buffers bound, so a step costs one Python call per layer and a handful of numpy calls with ``out=``. A ``Dense``
that reads a recurrent output takes ``[h, 1]`` and folds its bias into the product; a sigmoid head gets its 1/2
folded into the weights.

The reference kernels call the layer's own forward on torch views of the same buffers. Shape legend: B batch
(streams), F features, H units.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations
from ..kernels._step import numpy_activation, numpy_softmax

Run = Callable[[], None]


def np_dtype(dtype: torch.dtype) -> np.dtype:
    return torch.empty((), dtype=dtype).numpy().dtype


def _softmax_kernel(out: np.ndarray) -> Callable[[np.ndarray, np.ndarray], None]:
    """softmax of ``out`` in place for a (B, C) buffer: the row sums come from one ``np.dot`` with ones."""
    if out.ndim != 2:
        return numpy_softmax
    top = np.empty((out.shape[0], 1), out.dtype)
    total = np.empty((out.shape[0], 1), out.dtype)
    ones = np.ones((out.shape[1], 1), out.dtype)
    maximum, sub, exp, dot, div = np.maximum.reduce, np.subtract, np.exp, np.dot, np.divide

    def softmax(_src: np.ndarray, dst: np.ndarray) -> None:
        maximum(dst, axis=-1, keepdims=True, out=top)
        sub(dst, top, out=dst)
        exp(dst, out=dst)
        dot(dst, ones, out=total)
        div(dst, total, out=dst)

    return softmax


def torch_activation(fn) -> Callable[[np.ndarray, np.ndarray], None]:
    """Any activation through torch on views of the numpy buffers (no autograd: the views need no gradient)."""
    def act(src: np.ndarray, dst: np.ndarray) -> None:
        torch.from_numpy(dst).copy_(fn(torch.from_numpy(src)))

    return act


def dense_kernel(layer, src: np.ndarray, src_with_one: np.ndarray | None, out: np.ndarray) -> Run:
    """``out = activation(src @ kernel + bias)``; with ``src_with_one`` = [src, 1] the bias rides in the product.

    A sigmoid head gets its 1/2 folded into the weights: sigmoid(a) = 0.5 + 0.5 * tanh(a / 2); a softmax over
    two units is computed as the sigmoid of the difference of the two logits, which it equals.
    """
    dt = out.dtype
    kernel = layer.kernel.detach().cpu().double().numpy()
    bias = layer.bias.detach().cpu().double().numpy() if layer.bias is not None else np.zeros(kernel.shape[1])
    dot, add = np.dot, np.add
    sigmoid = activations.is_builtin(layer.activation, "sigmoid")
    if activations.is_builtin(layer.activation, "softmax") and kernel.shape[1] == 2:
        # softmax over two classes is a sigmoid of their difference: no max, no sum
        kernel = np.stack([kernel[:, 0] - kernel[:, 1], kernel[:, 1] - kernel[:, 0]], axis=1)
        bias = np.array([bias[0] - bias[1], bias[1] - bias[0]])
        sigmoid = True
    scale = 0.5 if sigmoid else 1.0
    if activations.is_builtin(layer.activation, "linear"):
        act = None
    elif sigmoid:
        act = _sigmoid_of_half
    elif activations.is_builtin(layer.activation, "softmax"):
        act = _softmax_kernel(out)
    else:
        act = numpy_activation(layer.activation) or torch_activation(layer.activation)
    if src_with_one is not None:
        W = np.ascontiguousarray(scale * np.concatenate([kernel, bias[None, :]]), dtype=dt)

        def run() -> None:
            dot(src_with_one, W, out=out)
            if act is not None:
                act(out, out)

        return run
    W = np.ascontiguousarray(scale * kernel, dtype=dt)
    b = np.ascontiguousarray(scale * bias, dtype=dt)

    def run_biased() -> None:
        dot(src, W, out=out)
        add(out, b, out=out)
        if act is not None:
            act(out, out)

    return run_biased


def _sigmoid_of_half(_src: np.ndarray, dst: np.ndarray) -> None:
    """sigmoid(a) from dst = a / 2: 0.5 + 0.5 * tanh(a / 2), in place."""
    half = dst.dtype.type(0.5)
    np.tanh(dst, out=dst)
    np.multiply(dst, half, out=dst)
    np.add(dst, half, out=dst)


def embedding_kernel(layer, ids: np.ndarray, out: np.ndarray) -> Run:
    """``out = embeddings[ids]``; an index out of range raises the Embedding layer's own error."""
    table = np.ascontiguousarray(layer.embeddings.detach().cpu().numpy(), dtype=out.dtype)
    take = np.take

    def run() -> None:
        if ids.min() < 0:
            _embedding_error(layer, ids)
        try:
            take(table, ids, axis=0, out=out)
        except IndexError:
            _embedding_error(layer, ids)

    return run


def _embedding_error(layer, ids: np.ndarray) -> None:
    layer.validate_input(torch.from_numpy(ids.copy()))  # raises the explanatory ValueError
    raise AssertionError("unreachable: the ids were out of range")  # pragma: no cover


# ---------------------------------------------------------------------------------------------------- reference kernels
def reference_layer_kernel(layer, srcs: list[np.ndarray], out: np.ndarray, call: Callable[..., Any]) -> Run:
    """``out = call(*torch views of srcs)`` (the layer's own forward; the engine runs it in inference mode)."""
    src_ts = [torch.from_numpy(s) for s in srcs]
    out_t = torch.from_numpy(out)

    def run() -> None:
        out_t.copy_(call(*src_ts))

    return run


def dense_reference(layer) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: layer.activation(F.linear(x, layer.kernel.t(), layer.bias))
