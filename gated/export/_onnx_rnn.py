"""GRU, LSTM, SimpleRNN and Bidirectional as ONNX's own ``GRU`` / ``LSTM`` / ``RNN`` operators.

Weights come from the cells' Keras-layout views (``cell.kernel``, ``recurrent_kernel``, ``bias``, translated from
gated's storage by ``gated.saving._convert``) and are reordered into the ONNX gate order of the cell's spec
(Keras's GRU blocks z, r, h are already ONNX's order; the LSTM's Keras blocks i, f, c, o become ONNX's i, o, f, c).
``OPERATORS`` (keyed by cell class) says which operator computes a cell, which cell activations fill its
``activations`` attribute, and its other attributes: ONNX's GRU computes Keras's ``reset_after=True`` with
``linear_before_reset=1`` and ``reset_after=False`` with ``linear_before_reset=0`` and a zero recurrent bias.

ONNX runs time-major (onnxruntime rejects ``layout=1``): X (T, B, F) -> Y (T, D, B, H), Y_h (D, B, H).
Keras's conventions handled here:

* ``go_backwards``: ONNX ``direction='reverse'`` leaves Y in input order; Keras returns outputs in processing
  order, so Y is reversed along time.
* masks become ``sequence_lens`` (right-padded masks only; other rows give NaN, see ``GraphBuilder.mask_lengths``).
  ONNX outputs zeros at padded steps; Keras repeats the last output there unless ``zero_output_for_mask``
  (which ``Bidirectional`` sets), so a forward layer's padded steps are filled with its final output.
* ``Bidirectional`` becomes one operator with ``direction='bidirectional'``; ONNX's reverse half is in input
  order, as Keras's merged backward output is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..layers import GRU, LSTM, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from ..layers._cells import RecurrentCell
from ..saving._convert import keras_blocks_to_onnx
from ._graph import GraphBuilder, Value
from ._onnx_layers import activation_name


@dataclass(frozen=True)
class Operator:
    """The ONNX recurrent operator of a cell: its name, the cell attributes that give its ``activations`` (in the
    operator's order), and its other attributes."""

    name: str
    activations: tuple[str, ...]
    attributes: Callable[[Any], dict[str, Any]] = lambda cell: {}


OPERATORS = {  # cell class -> its ONNX operator
    GRUCell: Operator("GRU", ("recurrent_activation", "activation"),
                      lambda cell: {"linear_before_reset": int(cell.reset_after)}),
    LSTMCell: Operator("LSTM", ("recurrent_activation", "activation", "activation")),
    SimpleRNNCell: Operator("RNN", ("activation",)),
}
# Keras activation -> (ONNX recurrent-operator activation, alpha, beta)
RNN_ACTIVATIONS = {
    "tanh": ("Tanh", None, None), "sigmoid": ("Sigmoid", None, None), "relu": ("Relu", None, None),
    "hard_sigmoid": ("HardSigmoid", 1.0 / 6.0, 0.5), "linear": ("Affine", 1.0, 0.0),
    "leaky_relu": ("LeakyRelu", 0.2, None), "elu": ("Elu", 1.0, None), "softsign": ("Softsign", None, None),
    "softplus": ("Softplus", None, None),
}
RECURRENT_TYPES = (GRU, LSTM, SimpleRNN)
_INT64_MIN = np.iinfo(np.int64).min


def operator(cell: Any) -> Operator | None:
    """The ONNX operator of a cell (looked up along its class's MRO), or None."""
    return next((OPERATORS[c] for c in type(cell).__mro__ if c in OPERATORS), None)


def _weights(cell: RecurrentCell) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ONNX W (G*H, F), R (G*H, H), B (2*G*H,) of one direction."""
    spec = cell.spec
    kernel = cell.kernel.detach().cpu().numpy()  # Keras (F, G*H)
    recurrent = cell.recurrent_kernel.detach().cpu().numpy()  # Keras (H, G*H)
    width = kernel.shape[1]
    if cell.use_bias:
        bias = cell.bias.detach().cpu().numpy()
        input_bias, recurrent_bias = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros(width, bias.dtype))
    else:
        input_bias = recurrent_bias = np.zeros(width, kernel.dtype)
    return (keras_blocks_to_onnx(kernel, spec).T, keras_blocks_to_onnx(recurrent, spec).T,
            np.concatenate([keras_blocks_to_onnx(input_bias, spec), keras_blocks_to_onnx(recurrent_bias, spec)]))


def _cell_activations(cell: RecurrentCell) -> list[str]:
    return [activation_name(getattr(cell, attr)) for attr in operator(cell).activations]


def _activation_attrs(cells: list[RecurrentCell]) -> dict[str, Any]:
    names, alphas, betas = [], [], []
    for cell in cells:
        for keras_name in _cell_activations(cell):
            onnx_name, alpha, beta = RNN_ACTIVATIONS[keras_name]
            names.append(onnx_name)
            if alpha is not None:
                alphas.append(alpha)
            if beta is not None:
                betas.append(beta)
    attrs: dict[str, Any] = {"activations": names}
    if alphas:
        attrs["activation_alpha"] = alphas
    if betas:
        attrs["activation_beta"] = betas
    return attrs


def _run(b: GraphBuilder, owner: Any, cells: list[RecurrentCell], x: Value, direction: str, mask: str | None,
         initial: list[list[Value]] | None) -> list[str]:
    """The ONNX operator over x (B, T, F): returns [Y (T, D, B, H), Y_h (D, B, H)(, Y_c)]."""
    hint = owner.name
    op = operator(cells[0])
    parts = [_weights(cell) for cell in cells]
    key = id(owner)
    w = b.const(np.stack([p[0] for p in parts]), f"{hint}/W", key=(key, "W"))
    r = b.const(np.stack([p[1] for p in parts]), f"{hint}/R", key=(key, "R"))
    bias = b.const(np.stack([p[2] for p in parts]), f"{hint}/B", key=(key, "B"))
    inputs = [b.op("Transpose", [x.name], hint, perm=[1, 0, 2]), w, r, bias]  # X (T, B, F)
    inputs.append(b.mask_lengths(mask)[0] if mask is not None else "")
    if initial is not None:
        for k in range(len(initial[0])):  # h (and c): (B, H) per direction -> (D, B, H)
            states = [b.op("Unsqueeze", [d[k].name, b.ints([0])], hint) for d in initial]
            inputs.append(states[0] if len(states) == 1 else b.op("Concat", states, hint, axis=0))
    while inputs[-1] == "":
        inputs.pop()
    attrs = {"hidden_size": cells[0].units, "direction": direction, **_activation_attrs(cells),
             **op.attributes(cells[0])}
    return b.op(op.name, inputs, hint, outputs=1 + cells[0].spec.states, **attrs)


def _initial(kwargs: dict, count: int, directions: int) -> list[list[Value]] | None:
    state = kwargs.get("initial_state")
    if state is None:
        return None
    flat = list(state) if isinstance(state, (list, tuple)) else [state]
    return [flat[d * count:(d + 1) * count] for d in range(directions)]


def _mask(b: GraphBuilder, x: Value, kwargs: dict, hint: str) -> str | None:
    given = kwargs.get("mask")
    if isinstance(given, (list, tuple)):
        given = given[0]
    if isinstance(given, Value):
        return b.as_bool_mask(given, hint)
    return x.mask


def _finish(b: GraphBuilder, names: list[str], ranks: list[int], mask: str | None, hint: str) -> list[str]:
    if mask is None:
        return names
    ok = b.mask_lengths(mask)[1]
    return [b.nan_unless(ok, n, r, hint) for n, r in zip(names, ranks)]


def convert_recurrent(b: GraphBuilder, layer: Any, args: list[Value], kwargs: dict) -> list[Value]:
    x, hint, cell = args[0], layer.name, layer.cell
    mask = _mask(b, x, kwargs, hint)
    outputs = _run(b, layer, [cell], x, "reverse" if layer.go_backwards else "forward", mask,
                   _initial(kwargs, cell.num_states, 1))
    states = [b.op("Squeeze", [s, b.ints([0])], hint) for s in outputs[1:]]  # (B, H) each
    if layer.return_sequences:
        output = b.op("Transpose", [b.op("Squeeze", [outputs[0], b.ints([1])], hint)], hint, perm=[1, 0, 2])
        if layer.go_backwards:  # Keras returns the outputs in processing order
            output = b.op("Slice", [output, b.ints([-1]), b.ints([_INT64_MIN]), b.ints([1]), b.ints([-1])], hint)
        elif mask is not None and not layer.zero_output_for_mask:  # Keras repeats the last output at padded steps
            output = b.op("Where", [b.op("Unsqueeze", [mask, b.ints([2])], hint), output,
                                    b.op("Unsqueeze", [states[0], b.ints([1])], hint)], hint)
        rank = 3
    else:
        output, rank = states[0], 2
    names = _finish(b, [output] + (states if layer.return_state else []), [rank] + [2] * len(states), mask, hint)
    values = [Value(names[0], rank, b.FLOAT, mask if layer.return_sequences else None)]
    return values + [Value(n, 2, b.FLOAT) for n in names[1:]]


def convert_bidirectional(b: GraphBuilder, layer: Bidirectional, args: list[Value], kwargs: dict) -> list[Value]:
    x, hint = args[0], layer.name
    forward, backward = layer.forward_layer, layer.backward_layer
    mask = _mask(b, x, kwargs, hint)
    count = forward.cell.num_states
    outputs = _run(b, layer, [forward.cell, backward.cell], x, "bidirectional", mask, _initial(kwargs, count, 2))
    if layer.return_sequences:
        both = b.op("Transpose", [outputs[0]], hint, perm=[2, 0, 1, 3])  # (B, T, 2, H)
        axis, rank = 2, 3
    else:
        both = b.op("Transpose", [outputs[1]], hint, perm=[1, 0, 2])  # (B, 2, H)
        axis, rank = 1, 2
    if layer.merge_mode == "concat":
        merged = [b.op("Reshape", [both, b.ints([0] * (rank - 1) + [-1])], hint)]
    elif layer.merge_mode is None:
        merged = [b.op("Gather", [both, b.const(np.asarray(d, np.int64), f"index{d}", key=("i", d))], hint,
                       axis=axis) for d in (0, 1)]
    else:
        reduce = {"sum": "ReduceSum", "ave": "ReduceMean", "mul": "ReduceProd"}[layer.merge_mode]
        merged = [b.op(reduce, [both, b.ints([axis])], hint, keepdims=0) if reduce == "ReduceSum"
                  else b.op(reduce, [both], hint, axes=[axis], keepdims=0)]
    states = []
    if layer.return_state:  # forward h (, c), then backward h (, c)
        for d in (0, 1):
            for s in outputs[1:]:
                states.append(b.op("Gather", [s, b.const(np.asarray(d, np.int64), f"index{d}", key=("i", d))],
                                   hint, axis=0))
    names = _finish(b, merged + states, [rank] * len(merged) + [2] * len(states), mask, hint)
    out_mask = mask if layer.return_sequences else None
    return [Value(n, rank, b.FLOAT, out_mask) for n in names[:len(merged)]] + \
        [Value(n, 2, b.FLOAT) for n in names[len(merged):]]


def _cell_problems(owner: Any, cell: RecurrentCell) -> list[str]:
    op = operator(cell)
    if op is None:
        return [f"{owner._describe()} runs cell {type(cell).__name__}, which no ONNX recurrent operator computes"]
    problems = []
    for attr in [a for a in ("activation", "recurrent_activation") if a in op.activations]:
        name = activation_name(getattr(cell, attr))
        if name not in RNN_ACTIVATIONS:
            problems.append(f"{owner._describe()} has {attr}={name or getattr(cell, attr)!r}; ONNX's recurrent "
                            f"operators support {', '.join(RNN_ACTIVATIONS)}")
    return problems


def rnn_problems(layer: Any) -> list[str]:
    """What keeps a recurrent layer or Bidirectional from exporting (empty when it exports)."""
    if isinstance(layer, Bidirectional):
        forward, backward = layer.forward_layer, layer.backward_layer
        if type(forward) not in RECURRENT_TYPES or type(backward) is not type(forward):
            return [f"{layer._describe()} wraps {type(forward).__name__} / {type(backward).__name__}; ONNX export "
                    "supports Bidirectional around GRU, LSTM or SimpleRNN with a backward layer of the same class"]
        problems = rnn_problems(forward) + rnn_problems(backward)
        keys = ("units", "use_bias", "reset_after", "activation", "recurrent_activation")
        differ = [k for k in keys if getattr(forward.cell, k, None) != getattr(backward.cell, k, None)]
        if differ or forward.go_backwards or not backward.go_backwards:
            problems.append(f"{layer._describe()} has a custom backward_layer (differs in "
                            f"{differ or ['go_backwards']}); ONNX's bidirectional operator runs one configuration "
                            "in both directions")
        return problems
    problems = _cell_problems(layer, layer.cell)
    if layer.stateful:
        problems.append(f"{layer._describe()} is stateful; an exported graph cannot keep states between runs. "
                        "Export a copy with stateful=False and pass the states with initial_state in a functional "
                        "model")
    return problems


CONVERTERS = {GRU: convert_recurrent, LSTM: convert_recurrent, SimpleRNN: convert_recurrent,
              Bidirectional: convert_bidirectional}
