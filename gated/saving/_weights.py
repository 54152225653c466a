"""Weights files: the model's weights in Keras's layout, keyed by layer path, in a safetensors file.

Loading reads tensors only (safetensors never executes code) and checks every name and shape before any weight
changes.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file

from ._model_file import atomic_save


def weight_names(model) -> list[str]:
    """'<layer path>/<weight name>' for every weight, in get_weights() order."""
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


def save_weights(model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    names = [f"{i:04d}:{name}" for i, name in enumerate(weight_names(model))]
    arrays = {name: np.ascontiguousarray(w) for name, w in zip(names, model.get_weights())}
    atomic_save(arrays, {"format": "gated.weights", "version": "1"}, filepath)


def load_weights(model, filepath: str | os.PathLike) -> None:
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No weights file at {filepath}.")
    try:
        arrays = load_file(filepath)
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{filepath} is not a readable gated weights file: {err}") from None
    stored = sorted(arrays, key=lambda k: int(k.split(":", 1)[0]) if ":" in k else -1)
    expected = weight_names(model)
    stored_names = [k.split(":", 1)[1] if ":" in k else k for k in stored]
    if len(stored) != len(expected):
        raise ValueError(
            f"{filepath} holds {len(stored)} weights but model '{model.name}' has {len(expected)}.\n"
            f"  in the file: {stored_names}\n  in the model: {expected}\nNothing was changed."
        )
    values: list[Any] = [arrays[k] for k in stored]
    try:
        model.set_weights(values)
    except ValueError as err:
        raise ValueError(f"{filepath} does not fit model '{model.name}'. {err}") from None

