"""``export_onnx``: a gated model as an ONNX graph of standard operators.

Recurrent layers become ONNX's own ``GRU`` / ``LSTM`` / ``RNN`` operators (never an unrolled loop, ``Loop`` or
``Scan``), so runtimes use their fused kernels. The graph is built directly from the layers with ``onnx.helper``;
nothing is traced.

What is exported
    Sequential and functional models (several inputs and outputs, ``initial_state`` links, shared layers) of
    InputLayer, Dense, Dropout (identity), Embedding (``Gather``), Masking, RepeatVector, Flatten, Reshape,
    Activation, Concatenate, Add, TimeDistributed(Dense / Activation / Dropout), GRU (both ``reset_after``),
    LSTM, SimpleRNN and Bidirectional (every ``merge_mode``). Opset 17 (onnxruntime >= 1.13), float32 weights
    and float inputs whatever the model's dtype; integer inputs (token ids) keep their integer type.
    The batch axis is dynamic, and so is the time axis (axis 1 of 3-D float inputs and 2-D integer inputs)
    unless the model has Flatten or Reshape layers, which depend on it.

Masks (``Embedding(mask_zero=True)``, ``Masking``, an explicit ``mask=``)
    Exported as the recurrent operators' ``sequence_lens``, which can only express **right-padded** sequences
    (``pad_sequences(..., padding='post')``). A row whose mask is not a prefix of valid steps (left padding,
    holes) gets NaN outputs instead of silently wrong numbers. A fully masked row with an ``initial_state``
    returns zeros where gated returns the initial state.

Raised as ``ValueError`` before anything is written, every problem listed at once
    layers without a conversion (Lambda, custom layers, ``RNN(cell)``, nested models, ...), custom activation
    callables, recurrent activations ONNX's operators lack, stateful layers, Bidirectional with a differently
    configured backward layer, masks concatenated along a non-feature axis, subclassed models.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import torch

from .._version import __version__
from ..layers import Flatten, InputLayer, Reshape
from . import _onnx_layers, _onnx_rnn
from ..layers._graph import resolve_placeholders
from ..layers._structure import Structure, model_structure
from ._graph import GraphBuilder, Value, require_onnx

OPSET = 17
IR_VERSION = 8  # the IR version that opset 17 shipped with; readable by onnxruntime >= 1.13
CONVERTERS = {**_onnx_layers.CONVERTERS, **_onnx_rnn.CONVERTERS}


def export_onnx(model: Any, filepath: str | os.PathLike | None = None) -> Any:
    """Export ``model`` to ONNX; write it to ``filepath`` (atomically) if given. Returns the ``onnx.ModelProto``.

    The inputs are named after the model's ``Input`` layers (``'input'`` for a Sequential without one), the
    outputs after ``model.output_names``. See the module docstring for what is supported.
    """
    onnx = require_onnx()
    proto = _build(onnx, model)
    onnx.checker.check_model(proto, full_check=True)
    if filepath is not None:
        _write(onnx, proto, os.fspath(filepath))
    return proto


def describe(proto: Any, filepath: str | os.PathLike) -> str:
    """What an exported file holds, for ``export(..., verbose=True)``: its path, opset, inputs and outputs."""
    def values(items: Any) -> str:
        parts = []
        for value in items:
            tensor = value.type.tensor_type
            dims = ", ".join(d.dim_param or str(d.dim_value) for d in tensor.shape.dim)
            parts.append(f"{value.name} ({dims}) {_ELEM_NAMES.get(tensor.elem_type, tensor.elem_type)}")
        return "; ".join(parts)

    opset = max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=OPSET)
    return (f"Saved artifact at '{os.fspath(filepath)}' (ONNX, opset {opset}).\n"
            f"  inputs:  {values(proto.graph.input)}\n  outputs: {values(proto.graph.output)}")


_ELEM_NAMES = {1: "float32", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64", 9: "bool", 10: "float16",
               11: "float64", 16: "bfloat16"}


def _write(onnx: Any, proto: Any, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".gated-", suffix=".onnx.tmp", dir=directory)
    os.close(fd)
    try:
        onnx.save_model(proto, tmp)
        os.replace(tmp, path)  # a crash mid-write never leaves a damaged file in place of a good one
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ---------------------------------------------------------------------------------------------------- checks
def _supported() -> str:
    return ", ".join(sorted({cls.__name__ for cls in CONVERTERS}))


def problems(model: Any) -> list[str]:
    found = []
    for layer in model.layers:
        if type(layer) not in CONVERTERS:
            found.append(f"{layer._describe()}: no ONNX conversion for {type(layer).__name__} layers")
        elif type(layer) in _onnx_rnn.CONVERTERS:
            found.extend(_onnx_rnn.rnn_problems(layer))
        else:
            found.extend(_onnx_layers.layer_problems(layer))
    return found


def _check(model: Any) -> None:
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so its input shape is unknown. Call it on data, "
                         "pass input_shape= / an Input, or call model.build(shape) before exporting.")
    if model_structure(model) not in (Structure.SEQUENTIAL, Structure.FUNCTIONAL):
        raise ValueError(f"Model '{model.name}' is a subclassed model ({type(model).__name__}); ONNX export "
                         "converts Sequential and functional models, whose layer graph is known.")
    found = problems(model)
    if found:
        raise ValueError(f"Cannot export model '{model.name}' to ONNX:\n  - " + "\n  - ".join(found)
                         + f"\nLayers with an ONNX conversion: {_supported()}.")


# ---------------------------------------------------------------------------------------------------- graph
_ELEM = {torch.int8: "INT8", torch.uint8: "UINT8", torch.int16: "INT16", torch.int32: "INT32",
         torch.int64: "INT64", torch.bool: "BOOL"}


def _elem(onnx: Any, dtype: torch.dtype) -> int:
    return onnx.TensorProto.FLOAT if dtype.is_floating_point else getattr(onnx.TensorProto, _ELEM[dtype])


def _input_dims(name: str, shape: tuple, is_float: bool, dynamic_time: bool, several: bool) -> list:
    dims: list = []
    sequence = len(shape) == (3 if is_float else 2)
    for axis, size in enumerate(shape):
        if axis == 0:
            dims.append("batch")
        elif axis == 1 and sequence and (dynamic_time or size is None):
            dims.append(f"{name}_timesteps" if several else "timesteps")
        else:
            dims.append(size if size is not None else f"{name}_dim{axis}")
    return dims


def _build(onnx: Any, model: Any) -> Any:
    _check(model)
    helper = onnx.helper
    b = GraphBuilder(onnx)
    dynamic_time = not any(isinstance(layer, (Flatten, Reshape)) for layer in model.layers)
    if model_structure(model) is Structure.SEQUENTIAL:
        name = model._input_layer.name if model._input_layer is not None else "input"
        specs = [(name, tuple(model._build_input_shape), model._input_dtype())]
    else:
        specs = [(t.node.layer.name, tuple(t.node.layer.batch_shape), t.node.layer._input_dtype)
                 for t in model._graph.input_tensors]
    graph_inputs, values = [], []
    for name, shape, dtype in specs:
        b.reserve(name)
        elem = _elem(onnx, dtype)
        dims = _input_dims(name, shape, dtype.is_floating_point, dynamic_time, len(specs) > 1)
        graph_inputs.append(helper.make_tensor_value_info(name, elem, dims))
        values.append(Value(name, len(shape), elem))

    if model_structure(model) is Structure.SEQUENTIAL:
        x = values[0]
        for layer in model.layers:
            x = CONVERTERS[type(layer)](b, layer, [x], {})[0]
        outputs = [x]
        shape = model.output_shapes()[-1]
        shapes = [shape[0] if shape and isinstance(shape[0], (tuple, list)) else shape]
    else:
        outputs = _run_graph(b, model._graph, values)
        shapes = [t.shape for t in model._graph.output_tensors]

    graph_outputs = []
    for value, output_name, shape in zip(outputs, model.output_names, shapes):
        b.reserve(output_name)
        b.nodes.append(helper.make_node("Identity", [value.name], [output_name], name=b.fresh(f"{output_name}/out")))
        dims = ["batch"] + [None] * (value.rank - 2) + ([shape[-1]] if value.rank > 1 else [])
        graph_outputs.append(helper.make_tensor_value_info(output_name, value.elem, dims))
    graph = helper.make_graph(b.nodes, model.name, graph_inputs, graph_outputs, initializer=b.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="gated",
                              producer_version=__version__, ir_version=IR_VERSION,
                              doc_string=f"gated model '{model.name}'")
    return proto


def _run_graph(b: GraphBuilder, graph: Any, inputs: list[Value]) -> list[Value]:
    values: dict[int, Value] = {id(t): v for t, v in zip(graph.input_tensors, inputs)}

    def resolve(structure: Any) -> Any:
        return resolve_placeholders(structure, values)

    for node in graph.nodes:
        layer = node.layer
        if isinstance(layer, InputLayer):
            continue
        kwargs = {k: v for k, v in resolve(node.kwargs).items() if k != "training"}
        unknown = sorted(set(kwargs) - {"mask", "initial_state"})
        if unknown:
            raise ValueError(f"{layer._describe()} is called with {unknown}; ONNX export supports the call "
                             "arguments mask and initial_state.")
        if "initial_state" in kwargs and type(layer) not in _onnx_rnn.CONVERTERS:
            raise ValueError(f"{layer._describe()} received initial_state, which only recurrent layers take.")
        results = CONVERTERS[type(layer)](b, layer, resolve(list(node.args)), kwargs)
        for tensor in node.outputs:
            values[id(tensor)] = results[tensor.index]
    return [values[id(t)] for t in graph.output_tensors]
