"""Model files: one safetensors file holding the architecture, the weights and (optionally) the training state.

Layout (format version 1)::

    safetensors header metadata:
        format          "gated.model"
        format_version  "1"
        gated_version   the writer's version
        model           JSON: gated.saving.serialize(model), {"class_name": "Sequential" | "Model" | <registered>,
                        "config": {...}} with every nested layer in the same form (``_registry.py``)
        weight_names    JSON: ["gru/kernel", ...], in get_weights() order (Keras's layout)
        compile         JSON or "": the compile() arguments when they can be written as names and configs
        state           JSON or "": any other state (optimizer, training progress) with tensor references
    tensors:
        weights/0000 ... in get_weights() order
        state/...       tensors referenced from the JSON state

Loading parses JSON and raw tensors only - nothing is unpickled, so an untrusted file cannot run code. Custom
classes (layers, cells, models, losses, metrics) load through ``register_serializable`` or ``custom_objects``.
Writes go to a temporary file in the same folder and are renamed over the target, so a crash never leaves a damaged
file in place of the last good one.
"""

from __future__ import annotations

import inspect
import json
import os
import tempfile
from typing import Any, Callable

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from .._version import __version__
from . import _registry

FORMAT = "gated.model"
FORMAT_VERSION = 1


def weight_names(model) -> list[str]:
    """'<layer path>/<weight name>' for every weight, in get_weights() order (model files and weights files)."""
    names: list[str] = []

    def walk(layer, prefix: str) -> None:
        for spec in layer._own_weight_specs():
            names.append(f"{prefix}{layer.name}/{spec.name}")
        for sub in layer.sublayers():
            walk(sub, f"{prefix}{layer.name}/")

    for layer in model.sublayers():
        walk(layer, "")
    for spec in model._own_weight_specs():
        names.append(f"{model.name}/{spec.name}")
    return names


# ---------------------------------------------------------------------------------------------- state trees
def pack_state(tree: Any, prefix: str, tensors: dict[str, np.ndarray]) -> Any:
    """JSON-able copy of ``tree`` with every tensor / array moved into ``tensors`` and replaced by a reference."""
    if isinstance(tree, (torch.Tensor, np.ndarray)):
        key = f"{prefix}{len(tensors):05d}"
        if isinstance(tree, torch.Tensor):
            tensors[key] = tree.detach().cpu().contiguous().numpy().copy()
        else:
            tensors[key] = np.ascontiguousarray(tree).copy()
        return {"__tensor__": key, "torch": isinstance(tree, torch.Tensor)}
    if isinstance(tree, dict):
        if not all(isinstance(k, (str, int)) for k in tree):
            raise TypeError(f"Cannot save a dict with keys of type {[type(k).__name__ for k in tree]}.")
        return {"__dict__": [[k, pack_state(v, prefix, tensors)] for k, v in tree.items()]}
    if isinstance(tree, (list, tuple)):
        return {"__list__" if isinstance(tree, list) else "__tuple__": [pack_state(v, prefix, tensors) for v in tree]}
    if isinstance(tree, (np.integer, np.floating)):
        return tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"Cannot save a value of type {type(tree).__name__} in a model file.")


def unpack_state(tree: Any, tensors: Callable[[str], np.ndarray]) -> Any:
    if isinstance(tree, dict):
        if "__tensor__" in tree:
            array = tensors(tree["__tensor__"])
            return torch.from_numpy(array.copy()) if tree.get("torch", True) else array
        if "__dict__" in tree:
            return {k: unpack_state(v, tensors) for k, v in tree["__dict__"]}
        if "__list__" in tree:
            return [unpack_state(v, tensors) for v in tree["__list__"]]
        if "__tuple__" in tree:
            return tuple(unpack_state(v, tensors) for v in tree["__tuple__"])
        return {k: unpack_state(v, tensors) for k, v in tree.items()}
    return tree


# ---------------------------------------------------------------------------------------------- compile config
def _compile_config(model) -> dict[str, Any] | None:
    """The compile() arguments as names and serialized objects: gated's own losses, metrics and optimizers, and
    registered classes and functions. None when one of them is a Python object a loader could not find by name
    (the file then loads uncompiled)."""
    compiled = model.compiled
    if compiled is None:
        return None

    def plain(value: Any) -> Any:
        if value is None or isinstance(value, (str, int, float)):
            return value
        if isinstance(value, (list, tuple)):
            parts = [plain(v) for v in value]
            return None if any(p is _UNSAVED for p in parts) else parts
        if isinstance(value, dict):
            parts = {k: plain(v) for k, v in value.items()}
            return None if any(p is _UNSAVED for p in parts.values()) else parts
        if inspect.isclass(value):
            return _UNSAVED  # compile(loss=SomeLoss) would come back as an instance, named differently
        if _registry.loads_by_name(value) or _is_gated_object(value):
            return _registry.serialize(value)
        return _UNSAVED

    config = {
        "optimizer": plain(compiled.optimizer),
        "loss": plain(compiled.loss_spec),
        "loss_weights": plain(compiled.loss_weights_spec),
        "metrics": plain(compiled.metrics_spec),
        "weighted_metrics": plain(compiled.weighted_metrics_spec),
    }
    if any(v is _UNSAVED or (v is None and k == "loss") for k, v in config.items()):
        return None  # something was a Python object with no config: the file loads uncompiled
    return config


_UNSAVED = object()


def _is_gated_object(value: Any) -> bool:
    """One of gated's built-in losses, metrics and optimizers (their modules resolve them by class name) that comes
    back from its config; a torch optimizer or a wrapped Python function does not, and is not written."""
    if not (hasattr(value, "get_config") and type(value).__module__.startswith("gated.")):
        return False
    try:
        type(value).from_config(value.get_config())
    except (TypeError, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------------------------- saving
def atomic_save(tensors: dict[str, np.ndarray], metadata: dict[str, str], filepath: str) -> None:
    directory = os.path.dirname(os.path.abspath(filepath)) or "."
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Cannot save to {filepath}: the folder {directory} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=".gated-", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # the permissions a plain open() would give, not mkstemp's 0600
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_model(model, filepath: str | os.PathLike, overwrite: bool = True, include_optimizer: bool = True,
               extra_state: Any = None) -> None:
    """Write ``model`` (architecture, weights, compile settings, optimizer state) to one file."""
    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    class_name = type(model).__name__
    if not _registry.loads_by_name(model):
        raise ValueError(
            f"Model '{model.name}' is a {class_name}; register the class to save it whole "
            f"(@gated.saving.register_serializable() on {class_name}, with get_config/from_config), or save its "
            "weights with save_weights()."
        )
    tensors: dict[str, np.ndarray] = {}
    for i, array in enumerate(model.get_weights()):
        tensors[f"weights/{i:04d}"] = np.require(array, requirements="C")  # keeps 0-d weights 0-d
    state: dict[str, Any] = {}
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and getattr(optimizer, "built", False):
        state["optimizer"] = optimizer.state_dict()
    if extra_state is not None:
        state["extra"] = extra_state
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "gated_version": __version__,
        "model": _dumps(_registry.serialize(model), model),
        "weight_names": json.dumps(weight_names(model)),
        "compile": json.dumps(_compile_config(model)) if include_optimizer else "null",
        "state": json.dumps(pack_state(state, "state/", tensors)) if state else "null",
    }
    atomic_save(tensors, metadata, filepath)


def _dumps(config: Any, model) -> str:
    try:
        return json.dumps(config)
    except TypeError as err:
        raise ValueError(
            f"Model '{model.name}' cannot be saved whole: a layer's configuration holds a Python object ({err}). "
            "Use names for activations, initializers and regularizers (or register custom classes with "
            "gated.saving.register_serializable()), or save the weights with save_weights()."
        ) from None


# ---------------------------------------------------------------------------------------------- loading
def _sniff(filepath: str) -> str:
    with open(filepath, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"PK"):
        return " It is a zip archive - a Keras .keras file? Import it with gated.interop.from_keras(path)."
    if head.startswith(b"\x89HDF"):
        return " It is an HDF5 file - Keras weights? Import them with gated.interop.from_keras(path, model=...)."
    if not head:
        return " The file is empty."
    return ""


def read_file(filepath: str | os.PathLike) -> tuple[dict[str, str], Callable[[str], np.ndarray], list[str]]:
    """(metadata, tensor getter, tensor keys) of a model file, with every problem named."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No model file at {filepath}.")
    try:
        handle = safe_open(filepath, framework="np")
        metadata = handle.metadata() or {}
        keys = list(handle.keys())
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{filepath} is not a readable gated model file ({err}).{_sniff(filepath)}") from None
    if metadata.get("format") != FORMAT:
        found = metadata.get("format")
        raise ValueError(
            f"{filepath} is a safetensors file but not a gated model file (format={found!r}). "
            + ("It holds weights only: build the model and call model.load_weights(path)."
               if found == "gated.weights" else "")
        )

    def tensor(key: str) -> np.ndarray:
        try:
            return handle.get_tensor(key)
        except (SafetensorError, OSError, ValueError) as err:
            raise ValueError(f"{filepath}: tensor {key!r} cannot be read ({err}); the file is damaged.") from None

    return metadata, tensor, keys


def _migrate(metadata: dict[str, str], filepath: str) -> dict[str, str]:
    """Bring an older file's metadata up to the current format version."""
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise ValueError(f"{filepath}: format_version {metadata.get('format_version')!r} is not a number; the file "
                         "is damaged.") from None
    if version > FORMAT_VERSION:
        raise ValueError(f"{filepath} was written by gated {metadata.get('gated_version')} in model format "
                         f"{version}; this gated ({__version__}) reads formats up to {FORMAT_VERSION}. Upgrade gated.")
    # Version 1 is the first format; later versions add their migrations here, oldest first.
    return metadata


def read_section(metadata: dict[str, str], key: str, filepath: str) -> Any:
    """The JSON section ``key`` of a model file's header (None when absent); a damaged one names the file."""
    try:
        return json.loads(metadata.get(key, "null"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{filepath}: the '{key}' section is not valid JSON ({err}); the file is damaged.") from None


def load_model(filepath: str | os.PathLike, custom_objects: dict[str, Any] | None = None, compile: bool = True):
    """Load a model written by ``model.save``; with ``compile`` the optimizer and its state come back too.

    Classes and functions the file names are found in ``custom_objects`` (``{'MyLayer': MyLayer}``), then among
    those registered with ``gated.saving.register_serializable()``, then among gated's own; ``custom_objects``
    applies to every nested config (a wrapped layer, an RNN's cell, the compile settings)."""
    filepath = os.fspath(filepath)
    metadata, tensor, keys = read_file(filepath)
    metadata = _migrate(metadata, filepath)
    spec = read_section(metadata, "model", filepath)
    names = read_section(metadata, "weight_names", filepath)
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) or not isinstance(names, list):
        raise ValueError(f"{filepath}: the model description is missing or malformed; the file is damaged.")
    with _registry.custom_object_scope(custom_objects):
        model = _rebuild(spec, filepath)
        weight_keys = sorted(k for k in keys if k.startswith("weights/"))
        if len(weight_keys) != len(names):
            raise ValueError(f"{filepath} lists {len(names)} weights but stores {len(weight_keys)}; the file is "
                             "damaged.")
        arrays = _in_model_order([tensor(k) for k in weight_keys], names, weight_names(model))
        try:
            model.set_weights(arrays)
        except ValueError as err:
            raise ValueError(f"{filepath}: the stored weights do not fit the model it describes; the file is "
                             f"damaged. {err}") from None
        compile_config = read_section(metadata, "compile", filepath) if compile else None
        if compile_config is not None:
            without = "gated.load_model(path, compile=False) loads the model without them."
            try:
                _restore_training(model, compile_config, read_section(metadata, "state", filepath), tensor)
            except _registry.UnknownClassError as err:
                raise ValueError(f"{filepath}: the compile settings cannot be restored: {err} {without}") from None
            except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as err:
                raise ValueError(f"{filepath}: the compile settings or the optimizer state cannot be restored "
                                 f"({type(err).__name__}: {err}); the file is damaged or was edited. "
                                 f"{without}") from None
    return model


def _rebuild(spec: dict[str, Any], filepath: str) -> Any:
    """The model (unweighted) from the file's description, with every problem named."""
    name = spec.get("registered_name") or spec["class_name"]
    if _registry.get_registered_object(name) is None and _registry.get_registered_object(spec["class_name"]) is None:
        raise ValueError(f"{filepath} holds a model of class '{name}', which is not registered. Pass "
                         f"custom_objects={{'{spec['class_name']}': {spec['class_name']}}} or register it with "
                         "gated.saving.register_serializable().")
    try:
        return _registry.deserialize(spec)
    except _registry.UnknownClassError as err:
        raise ValueError(f"{filepath}: {err}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        raise ValueError(f"{filepath}: the model description cannot be rebuilt ({type(err).__name__}: {err}); the "
                         "file is damaged or was edited.") from None


def _restore_training(model, compile_config: Any, state: Any, tensor: Callable[[str], np.ndarray]) -> None:
    """compile() with the saved arguments, then the optimizer's saved state."""
    if not isinstance(compile_config, dict):
        raise TypeError(f"the compile section is a {type(compile_config).__name__}, not a dict")
    model.compile(**compile_config)
    state = unpack_state(state, tensor) or {}
    if "optimizer" in state:
        model.compiled.build_optimizer()
        model.optimizer.load_state_dict(state["optimizer"])


def _in_model_order(arrays: list[np.ndarray], names: list[str], current: list[str]) -> list[np.ndarray]:
    """The stored weights in the model's order. Files written before functional models listed their layers in
    Keras's order hold the same layers' weights in another layer order: regroup them by top-level layer name
    (within a layer the order never changed)."""
    def by_layer(items: list[str]) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(items):
            groups.setdefault(name.split("/", 1)[0], []).append(i)
        return groups

    if not all(isinstance(name, str) for name in names):
        return arrays  # a damaged list; set_weights reports what does not fit
    saved, wanted = by_layer(names), by_layer(current)
    if list(saved) == list(wanted) or {k: len(v) for k, v in saved.items()} != {k: len(v) for k, v in wanted.items()}:
        return arrays
    return [arrays[i] for layer in wanted for i in saved[layer]]


def load_extra_state(filepath: str | os.PathLike) -> Any:
    """The ``extra_state`` saved with a model (training progress in checkpoints), or None."""
    metadata, tensor, _ = read_file(filepath)
    state = unpack_state(read_section(metadata, "state", os.fspath(filepath)), tensor) or {}
    return state.get("extra")
