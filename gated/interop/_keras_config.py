"""Keras 3 model configs (``config.json`` of a ``.keras`` file, or ``model.get_config()``) -> gated models.

Nothing here imports keras: a config is plain JSON. Layer arguments keep Keras's names in gated, so most of the
work is translating the nested objects Keras serializes (dtype policies, initializers, regularizers, constraints,
wrapped layers) and replaying a functional graph's ``inbound_nodes``.

Keras records the masks it propagates as explicit ``mask=`` arguments computed by small operations
(``NotEqual`` for ``Embedding(mask_zero=True)``, ``NotEqual`` + ``Any`` for ``Masking``). gated propagates the
same masks on the tensors themselves, so those arguments and operations are dropped; any other operation in the
graph is reported as unsupported.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Callable

from .. import activations as _activations
from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import layers as _layers
from .. import regularizers as _regularizers
from ..layers._base import Layer
from ..layers._symbolic import SymbolicTensor
from ..models import Model, Sequential

_RNN_KEYS = (
    "units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
    "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed", "return_sequences",
    "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask", "use_cudnn",
)
# The arguments each supported Keras layer may carry (besides name, trainable, dtype); gated spells them the same.
LAYER_KEYS: dict[str, tuple[str, ...]] = {
    "Dense": ("units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
              "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"),
    "Embedding": ("input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer",
                  "activity_regularizer", "embeddings_constraint", "mask_zero"),
    "Masking": ("mask_value",),
    "Dropout": ("rate", "seed", "noise_shape"),
    "RepeatVector": ("n",),
    "Flatten": ("data_format",),
    "Activation": ("activation",),
    "Concatenate": ("axis",),
    "Add": (),
    "Reshape": ("target_shape",),
    "GRU": _RNN_KEYS + ("recurrent_activation", "reset_after"),
    "LSTM": _RNN_KEYS + ("recurrent_activation", "unit_forget_bias"),
    "SimpleRNN": _RNN_KEYS,
    "Bidirectional": ("merge_mode", "layer", "backward_layer"),
    "TimeDistributed": ("layer",),
}
SUPPORTED_LAYERS = ("InputLayer",) + tuple(LAYER_KEYS)
RECURRENT = ("GRU", "LSTM", "SimpleRNN")
# Settings newer Keras versions add; harmless at these values (None is always taken as "not set").
_HARMLESS = {"quantization_config": None, "lora_rank": None, "lora_alpha": None, "lora_enabled": False,
             "optional": False, "sparse": False, "ragged": False}


def supported_list() -> str:
    return ", ".join(SUPPORTED_LAYERS)


def describe(spec: dict) -> str:
    return f"'{spec.get('config', {}).get('name', spec.get('name', '?'))}' ({spec.get('class_name')})"


def is_operation(spec: dict) -> bool:
    """A keras.ops call recorded in a functional graph (``NotEqual``, ``Any``...), as opposed to a layer."""
    return str(spec.get("module", "")).startswith("keras.src.ops")


# ---------------------------------------------------------------------------------------------------- checks
def unsupported_layers(specs: list[dict], inside: str = "") -> list[str]:
    """Every layer in ``specs`` (and inside wrappers) that gated cannot import, as "'name' (Class)" strings."""
    found = []
    for spec in specs:
        if is_operation(spec):
            continue
        name = spec.get("class_name")
        where = f" inside {inside}" if inside else ""
        if name not in SUPPORTED_LAYERS:
            found.append(describe(spec) + where)
            continue
        config = spec.get("config", {})
        inner = [config[k] for k in ("layer", "backward_layer") if isinstance(config.get(k), dict)]
        found.extend(unsupported_layers(inner, describe(spec)))
    return found


def raise_unsupported(model_name: str, problems: list[str]) -> None:
    if problems:
        raise ValueError(
            f"Cannot import Keras model '{model_name}': gated does not support\n  - " + "\n  - ".join(problems)
            + f"\nSupported layers: {supported_list()}. Replace these layers in Keras and re-save, or rebuild the "
            "model in gated and load the weights of the supported layers with "
            "gated.interop.load_keras_weights."
        )


# ---------------------------------------------------------------------------------------------------- arguments
def _dtype(value: Any, where: str) -> str | None:
    if isinstance(value, dict):
        if "Quantized" in str(value.get("class_name", "")):
            raise ValueError(f"{where} is quantized ({value.get('class_name')}); gated imports float layers only.")
        value = value.get("config", {}).get("name")
    if value is None:
        return None
    if isinstance(value, str) and value.startswith("mixed_"):
        return "float32"  # mixed precision keeps float32 variables; gated computes in float32
    if value in ("float16", "bfloat16", "float32", "float64"):
        return value
    raise ValueError(f"{where} has dtype {value!r}; gated layers compute in float16, bfloat16, float32 or float64.")


def _custom(what: str, value: Any, where: str) -> ValueError:
    return ValueError(
        f"{where} uses a custom {what} ({value!r}), which cannot be imported from a config. Use a built-in "
        f"{what}, or rebuild the model in gated and load the weights with gated.interop.load_keras_weights."
    )


def _activation(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str):
        try:
            _activations.get(value)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        return value
    raise _custom("activation", value.get("config", value) if isinstance(value, dict) else value, where)


def _object(kind: str, module: Any, value: Any, where: str) -> Any:
    """An initializer / regularizer / constraint from Keras's serialized form."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict) or "class_name" not in value:
        raise _custom(kind, value, where)
    class_name = value["class_name"]
    config = dict(value.get("config") or {})
    registry = getattr(module, "_BY_CLASS", {})
    cls = registry.get(class_name)
    if cls is None:
        raise _custom(kind, class_name, where)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    extra = {k: v for k, v in config.items() if k not in accepted and v is not None}
    if extra:
        raise ValueError(f"{where}: the {kind} {class_name} has settings gated does not support: {extra}.")
    return {"class_name": class_name, "config": {k: v for k, v in config.items() if k in accepted}}


def _translate(key: str, value: Any, where: str) -> Any:
    if key.endswith("activation"):
        return _activation(value, where)
    if key.endswith("initializer"):
        return _object("initializer", _initializers, value, where)
    if key.endswith("regularizer"):
        return _object("regularizer", _regularizers, value, where)
    if key.endswith("constraint"):
        return _object("constraint", _constraints, value, where)
    if key in ("noise_shape", "target_shape") and value is not None:
        return tuple(value)
    return value


def layer_kwargs(spec: dict) -> dict[str, Any]:
    """gated constructor arguments for one supported Keras layer spec (wrapped layers not yet converted)."""
    class_name = spec["class_name"]
    config = dict(spec.get("config", {}))
    where = f"Keras layer {describe(spec)}"
    kwargs: dict[str, Any] = {"name": config.pop("name", None)}
    if "trainable" in config:
        kwargs["trainable"] = bool(config.pop("trainable"))
    dtype = _dtype(config.pop("dtype", None), where)
    if dtype is not None:
        kwargs["dtype"] = dtype
    allowed = LAYER_KEYS[class_name]
    unsupported = {}
    for key, value in config.items():
        if key in allowed:
            kwargs[key] = _translate(key, value, where)
        elif value is not None and _HARMLESS.get(key, object()) != value:
            unsupported[key] = value
    if unsupported:
        raise ValueError(
            f"{where} has settings gated does not support: "
            + ", ".join(f"{k}={v!r}" for k, v in unsupported.items()) + "."
        )
    if class_name == "SimpleRNN":
        kwargs.pop("recurrent_activation", None)
    return kwargs


def build_layer(spec: dict) -> Layer:
    """A gated layer (unbuilt) from a supported Keras layer spec ``{'class_name': ..., 'config': ...}``."""
    class_name = spec["class_name"]
    if class_name == "InputLayer":
        return input_layer(spec)
    kwargs = layer_kwargs(spec)
    cls = getattr(_layers, class_name)
    if class_name == "Bidirectional":
        backward = kwargs.pop("backward_layer", None)
        return cls(build_layer(kwargs.pop("layer")), backward_layer=None if backward is None else build_layer(backward),
                   **kwargs)
    if class_name == "TimeDistributed":
        return cls(build_layer(kwargs.pop("layer")), **kwargs)
    return cls(**kwargs)


def input_layer(spec: dict) -> Layer:
    config = spec.get("config", {})
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if shape is None:
        raise ValueError(f"Keras InputLayer {describe(spec)} has no batch_shape in its config.")
    if config.get("sparse") or config.get("ragged"):
        raise ValueError(f"Keras InputLayer {describe(spec)} is sparse or ragged; gated takes dense padded inputs.")
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name")
    return _layers.InputLayer(batch_shape=tuple(shape), dtype=dtype, name=config.get("name", spec.get("name")))


# ---------------------------------------------------------------------------------------------------- models
def build_model(class_name: str, config: dict) -> tuple[Layer, dict[str, Layer]]:
    """A gated ``Sequential`` or functional ``Model`` from a Keras model config.

    Returns the model and, in Keras's saving order, ``{h5 path: layer}`` for every layer (the paths under which
    Keras's ``model.weights.h5`` stores each layer's variables).
    """
    specs = list(config.get("layers", []))
    name = config.get("name", "model")
    if class_name == "Sequential":
        raise_unsupported(name, unsupported_layers(specs))
        built = [build_layer(spec) for spec in specs]
        model = Sequential(built, name=name)
        if not model.built and config.get("build_input_shape") is not None:
            model.build(tuple(config["build_input_shape"]))
        ordered = [layer for layer in built if not isinstance(layer, _layers.InputLayer)]
        return model, keras_paths(ordered)
    if class_name in ("Functional", "Model"):
        return _functional(name, config, specs)
    raise ValueError(
        f"Cannot import a Keras model of class '{class_name}': gated imports Sequential and functional models. "
        "A subclassed keras.Model has no config to rebuild it from; rebuild it in gated and load the weights "
        "with gated.interop.load_keras_weights."
    )


def keras_paths(layers_in_keras_order: list[Layer]) -> dict[str, Layer]:
    """Keras names each layer's h5 group after its class, in snake case, numbered within the model."""
    used: dict[str, int] = {}
    paths = {}
    for layer in layers_in_keras_order:
        base = _snake_case(type(layer).__name__)
        if base in used:
            used[base] += 1
            base = f"{base}_{used[base]}"
        else:
            used[base] = 0
        paths[f"layers/{base}"] = layer
    return paths


def _snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_ref(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str) \
        and all(isinstance(v, int) for v in value[1:])


def _tensor_refs(structure: Any, path: tuple = ()) -> list[tuple[tuple, list]]:
    """(path, keras_history) for every ``__keras_tensor__`` nested in call arguments."""
    if isinstance(structure, dict):
        if structure.get("class_name") == "__keras_tensor__":
            return [(path, structure["config"]["keras_history"])]
        return [r for k, v in structure.items() for r in _tensor_refs(v, path + (k,))]
    if isinstance(structure, (list, tuple)):
        return [r for i, v in enumerate(structure) for r in _tensor_refs(v, path + (i,))]
    return []


def _functional(name: str, config: dict, specs: list[dict]) -> tuple[Layer, dict[str, Layer]]:
    by_name = {spec.get("name", spec.get("config", {}).get("name")): spec for spec in specs}
    ops = {n for n, spec in by_name.items() if is_operation(spec)}
    # An operation is fine when everything it feeds is a mask that gated derives itself (or another such
    # operation); Keras records those when a layer's input carries a mask from Embedding or Masking.
    feeds_data: set[str] = set()
    op_consumers: dict[str, set[str]] = {n: set() for n in ops}
    for n, spec in by_name.items():
        for node in spec.get("inbound_nodes", []):
            for path, history in _tensor_refs(node):
                source = history[0]
                if source not in ops:
                    continue
                if n in ops:
                    op_consumers[source].add(n)
                elif path[:2] != ("kwargs", "mask") or not _carries_mask(node.get("args"), by_name):
                    feeds_data.add(source)
    for output in _flatten_refs(config.get("output_layers")):
        if output[0] in ops:
            feeds_data.add(output[0])
    changed = True
    while changed:
        changed = False
        for op, consumers in op_consumers.items():
            if op not in feeds_data and consumers & feeds_data:
                feeds_data.add(op)
                changed = True
    problems = unsupported_layers(specs) + [f"{describe(by_name[op])}, a keras.ops operation in the graph"
                                            for op in sorted(feeds_data)]
    raise_unsupported(name, problems)

    layers: dict[str, Layer] = {}
    outputs: dict[tuple[str, int], list[Any]] = {}
    ordered: list[Layer] = []
    for spec in specs:
        if is_operation(spec):
            continue
        layer = build_layer(spec)
        layer_name = spec.get("name", layer.name)
        layers[layer_name] = layer
        ordered.append(layer)
        if isinstance(layer, _layers.InputLayer):
            outputs[(layer_name, 0)] = [layer.output]
    pending = [(n, i, node) for spec in specs if not is_operation(spec)
               for n in [spec.get("name", spec.get("config", {}).get("name"))]
               for i, node in enumerate(spec.get("inbound_nodes", []))]
    while pending:
        remaining = []
        for layer_name, index, node in pending:
            refs = [h for p, h in _tensor_refs(node) if h[0] not in ops]
            if not all((h[0], h[1]) in outputs for h in refs):
                remaining.append((layer_name, index, node))
                continue
            args = _resolve(node.get("args", []), outputs, ops)
            kwargs = {k: _resolve(v, outputs, ops) for k, v in node.get("kwargs", {}).items()
                      if k != "training" and not (k == "mask" and _only_ops(v, ops))}
            result = layers[layer_name](*args, **kwargs)
            outputs[(layer_name, index)] = list(result) if isinstance(result, (list, tuple)) else [result]
        if len(remaining) == len(pending):
            missing = sorted({h[0] for _, _, node in remaining for _, h in _tensor_refs(node)})
            raise ValueError(f"Cannot import Keras model '{name}': its graph refers to {missing}, which it does "
                             "not define. The config.json is incomplete or damaged.")
        pending = remaining

    def tensor(ref: list) -> SymbolicTensor:
        return outputs[(ref[0], ref[1])][ref[2]]

    model = Model(_map_refs(config.get("input_layers"), tensor), _map_refs(config.get("output_layers"), tensor),
                  name=name)
    return model, keras_paths(ordered)


_KEEPS_MASK = ("Dense", "Dropout", "Activation", "TimeDistributed", "Concatenate", "Add", "Masking")


def _carries_mask(args: Any, by_name: dict[str, dict], seen: frozenset = frozenset()) -> bool:
    """Whether gated's own mask propagation gives the inputs in ``args`` a mask, as Keras's did."""
    return any(_source_carries_mask(history[0], by_name, seen) for _, history in _tensor_refs(args))


def _source_carries_mask(source: str, by_name: dict[str, dict], seen: frozenset) -> bool:
    spec = by_name.get(source, {})
    config = spec.get("config", {})
    kind = spec.get("class_name")
    if source in seen or is_operation(spec):
        return False
    if kind == "Embedding":
        return bool(config.get("mask_zero"))
    if kind == "Masking":
        return True
    if kind in RECURRENT + ("Bidirectional",):
        if not config.get("layer", {}).get("config", config).get("return_sequences"):
            return False
    elif kind not in _KEEPS_MASK:
        return False
    return any(_carries_mask(node.get("args"), by_name, seen | {source}) for node in spec.get("inbound_nodes", []))


def _only_ops(value: Any, ops: set[str]) -> bool:
    refs = _tensor_refs(value)
    return bool(refs) and all(h[0] in ops for _, h in refs)


def _resolve(structure: Any, outputs: dict, ops: set[str]) -> Any:
    if isinstance(structure, dict):
        if structure.get("class_name") == "__keras_tensor__":
            history = structure["config"]["keras_history"]
            return outputs[(history[0], history[1])][history[2]]
        return {k: _resolve(v, outputs, ops) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_resolve(v, outputs, ops) for v in structure]
    return structure


def _flatten_refs(structure: Any) -> list[list]:
    if _is_ref(structure):
        return [list(structure)]
    if isinstance(structure, dict):
        return [r for v in structure.values() for r in _flatten_refs(v)]
    if isinstance(structure, (list, tuple)):
        return [r for v in structure for r in _flatten_refs(v)]
    return []


def _map_refs(structure: Any, fn: Callable[[list], Any]) -> Any:
    if _is_ref(structure):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: _map_refs(v, fn) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_map_refs(v, fn) for v in structure]
    raise ValueError(f"Unexpected entry {structure!r} among a Keras model's input/output layers.")
