"""Weights files: the model's weights in Keras's layout, keyed by layer path, in a safetensors file.

Loading reads tensors only (safetensors never executes code) and checks every name and shape before any weight
changes.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file

from ._model_file import atomic_save, weight_names


def save_weights(model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    names = [f"{i:04d}:{name}" for i, name in enumerate(weight_names(model))]
    arrays = {name: np.require(w, requirements="C") for name, w in zip(names, model.get_weights())}  # 0-d stays 0-d
    atomic_save(arrays, {"format": "gated.weights", "version": "1"}, filepath)


def load_weights(model, filepath: str | os.PathLike, skip_mismatch: bool = False) -> None:
    """Read weights written by ``save_weights``. Every mismatch is listed before anything changes; with
    ``skip_mismatch`` (Keras's option) each top-level layer whose weights in the file do not fit (missing, another
    count or other shapes) keeps its current weights instead, and a warning names it."""
    filepath = os.fspath(filepath)
    if not isinstance(skip_mismatch, bool):
        raise TypeError(f"load_weights(skip_mismatch=...) takes True or False; received {skip_mismatch!r}.")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No weights file at {filepath}.")
    try:
        arrays = load_file(filepath)
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{filepath} is not a readable gated weights file: {err}") from None
    stored = sorted(arrays, key=lambda k: int(k.split(":", 1)[0]) if ":" in k else -1)
    expected = weight_names(model)
    stored_names = [k.split(":", 1)[1] if ":" in k else k for k in stored]
    if skip_mismatch:
        values = _fitting_weights(model, filepath, [(n, arrays[k]) for n, k in zip(stored_names, stored)], expected)
    elif len(stored) != len(expected):
        raise ValueError(
            f"{filepath} holds {len(stored)} weights but model '{model.name}' has {len(expected)}.\n"
            f"  in the file: {stored_names}\n  in the model: {expected}\nNothing was changed."
        )
    else:
        values = [arrays[k] for k in stored]
    try:
        model.set_weights(values)
    except ValueError as err:
        raise ValueError(f"{filepath} does not fit model '{model.name}'. {err}") from None


def _fitting_weights(model, filepath: str, stored: list[tuple[str, np.ndarray]], expected: list[str]) -> list[Any]:
    """The model's weights with each top-level layer's replaced by the file's, where the file holds that layer
    (by name) with as many weights of the same shapes, in order (inner names may differ: they are numbered)."""
    def by_layer(names: list[str]) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            groups.setdefault(name.split("/", 1)[0], []).append(i)
        return groups

    current = model.get_weights()
    in_file = by_layer([name for name, _ in stored])
    values: list[Any] = list(current)
    skipped = []
    for layer, indices in by_layer(expected).items():
        found = [stored[j][1] for j in in_file.get(layer, [])]
        wanted = [tuple(np.shape(current[i])) for i in indices]
        if [tuple(a.shape) for a in found] == wanted:
            for i, array in zip(indices, found):
                values[i] = array
        else:
            skipped.append(f"layer '{layer}': the model has shapes {wanted}, the file "
                           f"{[tuple(a.shape) for a in found] if found else 'no such layer'}")
    if skipped:
        warnings.warn(f"load_weights({filepath!r}, skip_mismatch=True) kept the current weights of "
                      f"{len(skipped)} layer(s) whose weights do not fit:\n  " + "\n  ".join(skipped),
                      UserWarning, stacklevel=4)
    return values
