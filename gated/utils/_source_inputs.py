"""``get_source_inputs``: the ``Input`` placeholders a symbolic tensor was computed from."""

from __future__ import annotations

from typing import Any

from ._tree import flatten_structure


def _is_placeholder(value: Any) -> bool:
    return hasattr(value, "node") and hasattr(value, "shape")


def get_source_inputs(tensor: Any) -> list[Any]:
    """The ``Input`` tensors (or tensors without a producing layer call) ``tensor`` depends on, each once, in the
    order the graph reaches them: ``get_source_inputs(model_output) == [input_a, input_b]``."""
    if not _is_placeholder(tensor):
        raise TypeError(f"get_source_inputs takes a symbolic tensor from gated.Input and layer calls; received "
                        f"{type(tensor).__name__} {tensor!r}.")
    sources: list[Any] = []
    seen: set[int] = set()
    stack, visited = [tensor], set()
    while stack:
        current = stack.pop()
        node = current.node
        parents = [] if node is None else [v for v in flatten_structure([list(node.args), node.kwargs])
                                           if _is_placeholder(v)]
        if not parents:
            if id(current) not in seen:
                seen.add(id(current))
                sources.append(current)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.extend(reversed(parents))
    return sources
