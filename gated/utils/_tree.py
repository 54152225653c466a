"""Walking nested inputs and outputs: lists, tuples and dicts of tensors (or anything else), as Keras's ``tree``."""

from __future__ import annotations

from typing import Any, Callable


def flatten_structure(structure: Any) -> list[Any]:
    """The leaves of ``structure`` in order (dicts in key order); a non-container is its own single leaf."""
    if isinstance(structure, dict):
        return [leaf for key in structure for leaf in flatten_structure(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten_structure(item)]
    return [structure]


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """``structure`` with every leaf replaced by ``fn(leaf)``; lists stay lists and tuples tuples."""
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        mapped = [map_structure(fn, v) for v in structure]
        return mapped if isinstance(structure, list) else tuple(mapped)
    return fn(structure)
