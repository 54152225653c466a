"""``to_keras``: a live Keras 3 model computing what a gated model computes (needs keras installed)."""

from __future__ import annotations

from typing import Any

from ..layers import InputLayer
from ..layers._base import Layer
from ..layers._graph import resolve_placeholders
from ..models import Sequential
from . import _keras_config

# gated-only settings, absent from Keras's layer signatures.
_GATED_ONLY = ("batch_input_shape", "use_cudnn")


def _require_keras() -> Any:
    try:
        import keras
    except ImportError:
        raise ImportError("to_keras builds a Keras model and needs keras: pip install keras.") from None
    return keras


def _clean(config: dict, where: str) -> dict:
    out = {}
    for key, value in config.items():
        if key in _GATED_ONLY:
            continue
        if callable(value) and not isinstance(value, type):
            raise ValueError(f"{where} has a custom {key} ({value!r}), which Keras cannot rebuild from a config.")
        if isinstance(value, dict) and "class_name" in value and "config" in value and key in ("layer",
                                                                                               "backward_layer"):
            value = {"module": "keras.layers", "class_name": value["class_name"],
                     "config": _clean(value["config"], where)}
        out[key] = value
    return out


def _keras_layer(keras: Any, layer: Layer) -> Any:
    name = type(layer).__name__
    if name not in _keras_config.LAYER_KEYS:
        raise ValueError(f"{layer._describe()} has no Keras counterpart that to_keras can build. Supported: "
                         f"{_keras_config.supported_list()}.")
    config = _clean(layer.get_config(), layer._describe())
    return keras.layers.deserialize({"module": "keras.layers", "class_name": name, "config": config})


def to_keras(model: Layer) -> Any:
    """A ``keras.Model`` (Sequential or functional) with the same layers, settings and weights as ``model``.

    Supports the layers ``from_keras`` supports; custom activations or other callables in a config raise
    ``ValueError``. The Keras model computes in float32 under Keras's default dtype policy.
    """
    keras = _require_keras()
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet; call it on data or build it first.")
    pairs: list[tuple[Layer, Any]] = []
    if isinstance(model, Sequential):
        shape = model._build_input_shape
        dtype = "int32" if not model._input_dtype().is_floating_point else "float32"
        stack = [keras.Input(batch_shape=tuple(shape), dtype=dtype)]
        for layer in model.layers:
            pairs.append((layer, _keras_layer(keras, layer)))
            stack.append(pairs[-1][1])
        result = keras.Sequential(stack, name=model.name)
    elif getattr(model, "_graph", None) is not None:
        result = _functional(keras, model, pairs)
    else:
        raise ValueError(f"Model '{model.name}' is a subclassed model; to_keras converts Sequential and "
                         "functional models.")
    for layer, keras_layer in pairs:
        keras_layer.set_weights(layer.get_weights())
    return result


def _functional(keras: Any, model: Any, pairs: list) -> Any:
    graph = model._graph
    values: dict[int, Any] = {}
    for tensor in graph.input_tensors:
        layer = tensor.node.layer
        dtype = layer.dtype if layer.dtype.startswith(("float", "int", "bool")) else None
        values[id(tensor)] = keras.Input(batch_shape=layer.batch_shape, dtype=dtype, name=layer.name)
    made: dict[int, Any] = {}

    def resolve(structure: Any) -> Any:
        return resolve_placeholders(structure, values)

    for node in graph.nodes:
        layer = node.layer
        if isinstance(layer, InputLayer):
            continue
        if id(layer) not in made:
            made[id(layer)] = _keras_layer(keras, layer)
            pairs.append((layer, made[id(layer)]))
        result = made[id(layer)](*resolve(node.args), **resolve(node.kwargs))
        results = list(result) if isinstance(result, (list, tuple)) else [result]
        for tensor in node.outputs:
            values[id(tensor)] = results[tensor.index]
    return keras.Model(resolve(graph.inputs), resolve(graph.outputs), name=model.name)
