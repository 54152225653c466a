"""Keras 3 weights files (``model.weights.h5`` inside a ``.keras`` zip, or a ``.weights.h5``) -> gated layers.

Keras's layout, from ``keras/src/saving/saving_lib.py``: each layer of a model has a group
``layers/<class name in snake case>[_<n>]`` (numbered in ``model.layers`` order, per class); its variables are
the datasets ``vars/0``, ``vars/1``, ... in ``layer.weights`` order, and ``vars`` carries the layer's name as an
attribute. Sublayers are groups named after the attribute that holds them: ``cell`` for GRU/LSTM/SimpleRNN,
``forward_layer`` / ``backward_layer`` for Bidirectional, ``layer`` for TimeDistributed. The arrays are already
in Keras's layout, which is what ``Layer.set_weights`` takes; no gate reordering happens here.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..layers import Bidirectional, TimeDistributed
from ..layers._base import Layer
from ..layers._recurrent import RNN


def require_h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Reading Keras weights files (.keras, .weights.h5) needs h5py: pip install h5py "
            "(or pip install 'gated[keras-import]'). Importing a live keras.Model needs no h5py."
        ) from None
    return h5py


def _vars(group: Any) -> list[np.ndarray]:
    if "vars" not in group:
        return []
    variables = group["vars"]
    return [np.asarray(variables[key]) for key in sorted(variables, key=int)]


def _child(group: Any, key: str, path: str, problems: list[str]) -> Any:
    if key not in group:
        problems.append(f"'{path}' has no '{key}' group")
        return None
    return group[key]


def layer_arrays(group: Any, layer: Layer, path: str, problems: list[str]) -> list[np.ndarray]:
    """A layer's arrays in ``get_weights()`` order, read from its group."""
    arrays = _vars(group)
    children: list[tuple[str, Layer | None]] = []
    if isinstance(layer, Bidirectional):
        children = [("forward_layer", layer.forward_layer), ("backward_layer", layer.backward_layer)]
    elif isinstance(layer, TimeDistributed):
        children = [("layer", layer.layer)]
    elif isinstance(layer, RNN):
        children = [("cell", None)]
    for key, sublayer in children:
        child = _child(group, key, path, problems)
        if child is None:
            continue
        arrays += _vars(child) if sublayer is None else layer_arrays(child, sublayer, f"{path}/{key}", problems)
    return arrays


def stored_names(root: Any) -> dict[str, str]:
    """{layer name: group path} from the ``name`` attributes Keras writes on each ``vars`` group."""
    names = {}
    for key in root.get("layers", {}):
        variables = root["layers"][key].get("vars")
        name = None if variables is None else variables.attrs.get("name")
        if isinstance(name, bytes):
            name = name.decode()
        if name:
            names[str(name)] = f"layers/{key}"
    return names


def read_layers(root: Any, paths: dict[str, Layer], source: str) -> list[tuple[Layer, list[np.ndarray]]]:
    """Read every weighted layer's arrays from ``root`` (an open h5 file) at ``paths``; all problems at once."""
    problems: list[str] = []
    found = []
    for path, layer in paths.items():
        if not layer.weight_specs():
            continue
        if path not in root:
            problems.append(f"{layer._describe()} expects its weights at '{path}', which the file lacks")
            continue
        found.append((layer, layer_arrays(root[path], layer, path, problems)))
    if problems:
        raise ValueError(f"Cannot read the Keras weights in {source}:\n  - " + "\n  - ".join(problems)
                         + "\nNothing was changed.")
    return found


def assign(pairs: Sequence[tuple[Layer, Sequence[Any]]], source: str) -> None:
    """``layer.set_weights(arrays)`` for every pair, after checking all of them (nothing changes on an error)."""
    problems = []
    for layer, arrays in pairs:
        specs = layer.weight_specs()
        expected = [tuple(spec.get().shape) for spec in specs]
        received = [tuple(np.shape(a)) for a in arrays]
        if expected != received:
            names = [spec.name for spec in specs]
            problems.append(f"{layer._describe()} has weights {list(zip(names, expected))}, "
                            f"the source holds shapes {received}")
    if problems:
        raise ValueError(
            f"The weights in {source} do not fit the model:\n  - " + "\n  - ".join(problems)
            + "\nNothing was changed. The model must have the same layers, in the same order, with the same "
            "settings (units, reset_after, use_bias, ...) as the Keras model that saved the weights."
        )
    for layer, arrays in pairs:
        layer.set_weights(arrays)
