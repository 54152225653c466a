"""``from_keras``, ``load_keras_weights`` and ``to_keras``: moving models between Keras 3 and gated.

Importing never imports keras: a ``.keras`` file is a zip of ``config.json`` (the architecture, read by
``_keras_config``), ``metadata.json`` and ``model.weights.h5`` (read with h5py by ``_keras_weights``). A live
``keras.Model`` is read through its own ``get_config()`` and ``get_weights()``. ``to_keras`` does import keras,
since it builds a keras model.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

from ..layers._base import Layer
from . import _keras_config, _keras_weights

_H5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def from_keras(source: Any, *, model: Layer | None = None) -> Layer:
    """A gated model equal to a Keras 3 model: from a ``.keras`` file, a ``.weights.h5`` file, or a live model.

    * ``from_keras("model.keras")`` rebuilds the architecture from ``config.json`` with gated layers and loads
      ``model.weights.h5``; Sequential and functional models (several inputs and outputs, shared layers,
      ``initial_state`` links, masks) are supported.
    * ``from_keras("model.weights.h5", model=gated_model)`` loads Keras weights into ``gated_model`` (same layers,
      same order, same settings) and returns it; see ``load_keras_weights``.
    * ``from_keras(keras_model)`` converts a live ``keras.Model`` (via ``get_config`` and ``get_weights``).

    Supported layers: InputLayer, Dense, Embedding, Masking, Dropout, RepeatVector, Flatten, Activation,
    Concatenate, Add, Reshape, GRU, LSTM, SimpleRNN, Bidirectional, TimeDistributed. Anything else raises a
    ``ValueError`` naming every unsupported layer. Custom activations, initializers or regularizers cannot be
    rebuilt from a config (``ValueError``). Mixed-precision policies import as float32. Reading files needs h5py.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No Keras file at {path}.")
        if zipfile.is_zipfile(path):
            return _from_keras_file(path, model)
        if _is_h5(path):
            if model is None:
                raise ValueError(
                    f"{path} is a Keras weights file: it holds weights but no architecture. Build the same model "
                    "in gated and pass it: gated.interop.from_keras(path, model=model), or import the full "
                    "model from a .keras file (keras_model.save('model.keras'))."
                )
            load_keras_weights(model, path)
            return model
        raise ValueError(f"{path} is neither a .keras file (a zip archive) nor a Keras .weights.h5 file (HDF5).")
    if _is_keras_model(source):
        return _from_live(source, model)
    raise TypeError(
        f"from_keras takes a path to a .keras or .weights.h5 file, or a keras.Model; received "
        f"{type(source).__name__}."
    )


def load_keras_weights(model: Layer, filepath: str | os.PathLike) -> None:
    """Load a Keras 3 ``.weights.h5`` file (``keras_model.save_weights(path)``) into a gated model.

    Layers are matched as Keras matches them: by position among the layers of the same class. For a functional
    model whose layer names all appear in the file, they are matched by name instead (gated may list a
    functional model's layers in a different order than Keras). Every mismatch is listed before anything changes.
    """
    h5py = _keras_weights.require_h5py()
    path = os.fspath(filepath)
    if not _is_h5(path):
        raise ValueError(f"{path} is not a Keras .weights.h5 file (not HDF5).")
    with h5py.File(path, "r") as root:
        _load_from_h5(model, root, _positional_paths(model, root), path)


def _positional_paths(model: Layer, root: Any) -> dict[str, Layer]:
    layers = list(getattr(model, "layers", [model]))
    paths = _keras_config.keras_paths(layers)
    if getattr(model, "_graph", None) is not None:
        names = _keras_weights.stored_names(root)
        weighted = [layer for layer in layers if layer.weight_specs()]
        if weighted and all(layer.name in names for layer in weighted):
            return {names[layer.name]: layer for layer in weighted}
    return paths


def _load_from_h5(model: Layer, root: Any, paths: dict[str, Layer], source: str) -> None:
    pairs = _keras_weights.read_layers(root, paths, source)
    _keras_weights.assign(pairs, source)


def _is_h5(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == _H5_SIGNATURE


def _from_keras_file(path: str, model: Layer | None) -> Layer:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "config.json" not in names:
            raise ValueError(f"{path} is a zip archive without config.json, so it is not a Keras 3 .keras file.")
        metadata = json.loads(archive.read("metadata.json")) if "metadata.json" in names else {}
        version = str(metadata.get("keras_version", "3"))
        if not version.startswith("3"):
            raise ValueError(f"{path} was saved by Keras {version}; gated reads .keras files of Keras 3. Load it "
                             "in Keras 3 and save it again.")
        spec = json.loads(archive.read("config.json"))
        if "model.weights.h5" not in names:
            found = "model.weights.npz (weights_format='npz')" if "model.weights.npz" in names else "no weights"
            raise ValueError(f"{path} holds {found}; gated reads the default model.weights.h5. Save the model "
                             "again with keras_model.save(path).")
        weights = archive.read("model.weights.h5")
    if model is None:
        model, paths = _keras_config.build_model(spec.get("class_name", ""), spec.get("config", {}))
    else:
        paths = None
    h5py = _keras_weights.require_h5py()
    source = f"{path} (model.weights.h5)"
    with h5py.File(io.BytesIO(weights), "r") as root:
        _load_from_h5(model, root, paths if paths is not None else _positional_paths(model, root), source)
    return model


def _is_keras_model(obj: Any) -> bool:
    return type(obj).__module__.startswith("keras") or any(
        c.__module__.startswith("keras.") and c.__name__ == "Model" for c in type(obj).__mro__)


def _from_live(keras_model: Any, model: Layer | None) -> Layer:
    mro = [c.__name__ for c in type(keras_model).__mro__ if c.__module__.startswith("keras")]
    class_name = "Sequential" if "Sequential" in mro else "Functional" if "Functional" in mro else type(
        keras_model).__name__
    if model is None:
        model, _ = _keras_config.build_model(class_name, keras_model.get_config())
    weighted = [layer for layer in model.layers if layer.weight_specs()]
    by_name = {layer.name: layer for layer in keras_model.layers}
    if all(layer.name in by_name for layer in weighted):
        sources = [by_name[layer.name] for layer in weighted]
    else:  # a gated model built separately: match layers by position, as Keras's load_weights does
        sources = [layer for layer in keras_model.layers if layer.weights]
        if len(sources) != len(weighted):
            raise ValueError(
                f"Keras model '{keras_model.name}' has {len(sources)} layers with weights, the gated model "
                f"'{model.name}' has {len(weighted)}: {[layer.name for layer in weighted]}. Nothing was changed."
            )
    pairs = [(layer, source.get_weights()) for layer, source in zip(weighted, sources)]
    _keras_weights.assign(pairs, f"Keras model '{keras_model.name}'")
    return model
