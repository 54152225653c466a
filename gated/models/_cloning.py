"""``clone_model``, ``model_from_json`` and ``model_to_json``: a model's architecture as code, JSON, or a copy.

Keras's semantics: a clone has the same architecture and **new** weights (initialized afresh, never shared with
the original), and is not compiled. ``clone_function`` maps each layer to the layer that takes its place in the
clone (by default a fresh layer from its config); ``input_tensors`` gives the clone's inputs.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ..layers._base import Layer
from ..layers._core import Input, InputLayer
from ..layers._symbolic import SymbolicTensor
from ..saving import _registry
from ..utils._tree import flatten_structure, map_structure
from ._model import Model
from ._sequential import Sequential


def _fresh_layer(layer: Layer) -> Layer:
    """Keras's default clone of one layer: a new instance of its class from its config."""
    return type(layer).from_config(layer.get_config())


def _checked_clone(clone_function: Callable, layer: Layer) -> Layer:
    clone = clone_function(layer)
    if not isinstance(clone, Layer):
        raise TypeError(f"clone_model: clone_function must return a layer; for layer '{layer.name}' it returned "
                        f"{type(clone).__name__} {clone!r}.")
    return clone


def clone_model(model: Model, input_tensors: Any = None, clone_function: Callable[[Layer], Layer] | None = None,
                call_function: Callable | None = None, recursive: bool = False, **kwargs: Any) -> Model:
    """A new model with ``model``'s architecture and fresh weights (Keras's ``keras.models.clone_model``).

    Sequential and functional models clone layer by layer through ``clone_function`` (default: a new layer from
    each layer's config; pass ``lambda layer: layer`` to share layers); ``recursive=True`` clones nested
    Sequential and functional models with the same function instead of cloning them whole. ``call_function(layer,
    *args, **kwargs)`` replaces the call of each cloned layer in a functional clone. A subclassed model is cloned
    from its config, so it needs ``get_config``/``from_config``.
    """
    if kwargs:
        raise TypeError(f"clone_model got unexpected keyword argument(s) {', '.join(map(repr, sorted(kwargs)))}; "
                        "it takes input_tensors, clone_function, call_function and recursive.")
    if not isinstance(model, Model):
        raise TypeError(f"clone_model takes a gated Model or Sequential; received {type(model).__name__}.")
    function = clone_function or _fresh_layer
    if recursive:
        function = _recursive(function, call_function)
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, function)
    if model._graph is not None:
        return _clone_functional(model, input_tensors, function, call_function)
    if clone_function is not None or input_tensors is not None or call_function is not None:
        raise ValueError(f"clone_model: '{model.name}' is a subclassed model, so there are no layer calls to "
                         "re-wire; clone_function, input_tensors and call_function apply to Sequential and "
                         "functional models only. Call clone_model(model) alone to clone it from its config.")
    try:
        config = model.get_config()
    except NotImplementedError as err:
        raise ValueError(f"clone_model cannot clone subclassed model '{model.name}': {err}") from None
    return type(model).from_config(config)


def _recursive(function: Callable, call_function: Callable | None) -> Callable:
    def clone(layer: Layer) -> Layer:
        if isinstance(layer, Model) and (isinstance(layer, Sequential) or layer._graph is not None):
            return clone_model(layer, clone_function=function, call_function=call_function, recursive=True)
        return function(layer)
    return clone


def _clone_sequential(model: Sequential, input_tensors: Any, function: Callable) -> Sequential:
    layers = [_checked_clone(function, layer) for layer in model.layers]
    if input_tensors is not None:
        tensors = flatten_structure(input_tensors)
        if len(tensors) != 1 or not isinstance(tensors[0], SymbolicTensor):
            raise ValueError(f"clone_model: a Sequential model takes one input tensor from Input(...); received "
                             f"{input_tensors!r}.")
        return Sequential([tensors[0], *layers], name=model.name)
    if model._input_layer is not None:
        source = model._input_layer
        shape = source.batch_shape
        start = Input(batch_shape=shape, dtype=source._input_dtype, name=source.name)
        return Sequential([start, *layers], name=model.name)
    clone = Sequential(layers, name=model.name)
    if model.built and not clone.built and model._build_input_shape is not None:
        clone.build(model._build_input_shape)
    return clone


def _clone_functional(model: Model, input_tensors: Any, function: Callable, call_function: Callable | None) -> Model:
    graph = model._graph
    if input_tensors is None:
        new_inputs = []
        for tensor in graph.input_tensors:
            source = tensor.node.layer
            new_inputs.append(Input(batch_shape=source.batch_shape, dtype=source._input_dtype, name=source.name))
    else:
        new_inputs = flatten_structure(input_tensors)
        if len(new_inputs) != len(graph.input_tensors) or not all(isinstance(t, SymbolicTensor) for t in new_inputs):
            raise ValueError(f"clone_model: input_tensors must be {len(graph.input_tensors)} placeholder(s) from "
                             f"Input(...), one per model input; received {input_tensors!r}.")
    values: dict[int, Any] = {id(old): new for old, new in zip(graph.input_tensors, new_inputs)}
    clones: dict[int, Layer] = {}

    def resolve(structure: Any) -> Any:
        return map_structure(lambda leaf: values[id(leaf)] if isinstance(leaf, SymbolicTensor) else leaf, structure)

    for node in graph.nodes:
        if isinstance(node.layer, InputLayer):
            continue
        layer = clones.get(id(node.layer))
        if layer is None:
            layer = clones[id(node.layer)] = _checked_clone(function, node.layer)
        args, call_kwargs = resolve(list(node.args)), resolve(dict(node.kwargs))
        result = call_function(layer, *args, **call_kwargs) if call_function else layer(*args, **call_kwargs)
        produced = list(result) if isinstance(result, (list, tuple)) else [result]
        if len(produced) != len(node.outputs):
            raise ValueError(f"clone_model: the clone of layer '{node.layer.name}' returned {len(produced)} "
                             f"output(s) where the original returned {len(node.outputs)}.")
        for old, new in zip(node.outputs, produced):
            values[id(old)] = new
    inputs = map_structure(lambda leaf: values[id(leaf)], graph.inputs) if input_tensors is None else input_tensors
    return Model(inputs, resolve(graph.outputs), name=model.name)


def model_to_json(model: Model, **json_kwargs: Any) -> str:
    """The model's architecture as JSON (``model.to_json()``): what ``model_from_json`` rebuilds."""
    return json.dumps(_registry.serialize(model), **json_kwargs)


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Model:
    """A new model (fresh weights, not compiled) from ``model.to_json()``'s text."""
    try:
        spec = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"model_from_json takes the JSON text written by model.to_json(); it could not be parsed "
                         f"({err}).") from None
    model = _registry.deserialize(spec, custom_objects, base=Layer)
    if not isinstance(model, Model):
        raise ValueError(f"model_from_json: the JSON describes a {type(model).__name__}, not a model.")
    return model
