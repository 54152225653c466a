"""``keras.tree``: nested structures of lists, tuples, namedtuples and dicts, walked as Keras walks them.

A plain dict's children come in sorted key order (an ``OrderedDict`` keeps its own order), ``None`` is a leaf,
and lists stay lists, tuples tuples and namedtuples their own class when a structure is rebuilt.
(``gated.utils._tree`` is the internal walker, which keeps a dict's insertion order.)
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Sequence

MAP_TO_NONE = object()  # returned by a traverse() function: replace this node by None


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a list, tuple, namedtuple or dict (an empty one included)."""
    return isinstance(structure, (list, tuple, dict))


def _keys(node: dict) -> list[Any]:
    return list(node) if isinstance(node, OrderedDict) else sorted(node)


def _children(node: Any) -> list[Any]:
    return [node[k] for k in _keys(node)] if isinstance(node, dict) else list(node)


def _rebuild(node: Any, children: Sequence[Any]) -> Any:
    """A node of ``node``'s kind holding ``children`` (in ``_children`` order)."""
    if isinstance(node, dict):
        return type(node)(zip(_keys(node), children))
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        return type(node)(*children)
    return type(node)(children)


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure`` in Keras's order: ``flatten({'b': 1, 'a': (2, [3])}) == [2, 3, 1]``."""
    if not is_nested(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def flatten_with_path(structure: Any) -> list[tuple[tuple[Any, ...], Any]]:
    """``(path, leaf)`` pairs, the path being the keys and indices from the top: ``(('a', 0), 2)``."""
    if not is_nested(structure):
        return [((), structure)]
    keys = _keys(structure) if isinstance(structure, dict) else range(len(structure))
    return [((key, *path), leaf) for key, child in zip(keys, _children(structure))
            for path, leaf in flatten_with_path(child)]


def _mismatch(a: Any, b: Any) -> str | None:
    """Why ``a`` and ``b`` differ in structure, or None when they agree."""
    if is_nested(a) != is_nested(b):
        return f"a {type(a).__name__} does not match a {type(b).__name__}"
    if not is_nested(a):
        return None
    if type(a) is not type(b):
        return f"node type mismatch: expected {type(a).__name__}, received {type(b).__name__}"
    if isinstance(a, dict) and set(a) != set(b):
        return f"dict keys mismatch: {sorted(map(str, a))} against {sorted(map(str, b))}"
    if len(a) != len(b):
        return f"node length mismatch: expected {len(a)}, received {len(b)}"
    for x, y in zip(_children(a), _children(b)):
        reason = _mismatch(x, y)
        if reason:
            return reason
    return None


def assert_same_structure(a: Any, b: Any, check_types: bool | None = None) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` nest the same way (same node types, lengths and keys)."""
    reason = _mismatch(a, b)
    if reason:
        raise ValueError(f"The structures do not match ({reason}): {a!r} and {b!r}.")


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same leaf paths (node types may differ)."""
    paths_a, paths_b = {p for p, _ in flatten_with_path(a)}, {p for p, _ in flatten_with_path(b)}
    if paths_a != paths_b:
        raise ValueError(f"The structures do not have the same paths: only in the first {sorted(paths_a - paths_b)}, "
                         f"only in the second {sorted(paths_b - paths_a)}.")


def map_structure(func: Callable[..., Any], *structures: Any, none_is_leaf: bool = True) -> Any:
    """The first structure with each leaf replaced by ``func`` of the matching leaves of all ``structures``.
    With ``none_is_leaf=False`` a ``None`` counts as an empty node and stays ``None``."""
    if not structures:
        raise TypeError("map_structure needs at least one structure.")
    for other in structures[1:]:
        assert_same_structure(structures[0], other)

    def walk(*nodes: Any) -> Any:
        first = nodes[0]
        if not none_is_leaf and first is None:
            return None
        if not is_nested(first):
            return func(*nodes)
        return _rebuild(first, [walk(*children) for children in zip(*(_children(n) for n in nodes))])

    return walk(*structures)


def map_structure_up_to(shallow_structure: Any, func: Callable[..., Any], *structures: Any) -> Any:
    """``map_structure`` down to the depth of ``shallow_structure``: what lies below its leaves goes to ``func``
    whole."""
    def walk(shallow: Any, *nodes: Any) -> Any:
        if not is_nested(shallow):
            return func(*nodes)
        for node in nodes:
            if not is_nested(node) or len(node) != len(shallow):
                raise ValueError(f"The structure {node!r} does not reach the shallow structure {shallow!r}.")
        return _rebuild(shallow, [walk(s, *children) for s, *children in
                                  zip(_children(shallow), *(_children(n) for n in nodes))])

    return walk(shallow_structure, *structures)


def pack_sequence_as(structure: Any, flat_sequence: Sequence[Any]) -> Any:
    """``structure``'s nesting filled with ``flat_sequence``'s items in ``flatten`` order."""
    flat = list(flat_sequence)
    count = len(flatten(structure))
    if len(flat) != count:
        raise ValueError(f"pack_sequence_as: the structure holds {count} leaves but received {len(flat)} values.")
    items = iter(flat)
    return map_structure(lambda _: next(items), structure)


def traverse(func: Callable[[Any], Any], structure: Any, top_down: bool = True) -> Any:
    """Call ``func`` on every node and leaf. Top down, a non-None result replaces that subtree (``MAP_TO_NONE``
    for None) and a None result walks on into it; bottom up, ``func`` sees each node rebuilt from its walked
    children and a None result keeps that node."""
    def result(value: Any, fallback: Any) -> Any:
        if value is MAP_TO_NONE:
            return None
        return fallback if value is None else value

    def down(node: Any) -> Any:
        value = func(node)
        if value is not None:
            return result(value, None)
        if not is_nested(node):
            return node
        return _rebuild(node, [down(child) for child in _children(node)])

    def up(node: Any) -> Any:
        if is_nested(node):
            node = _rebuild(node, [up(child) for child in _children(node)])
        return result(func(node), node)

    return down(structure) if top_down else up(structure)


def lists_to_tuples(structure: Any) -> Any:
    """``structure`` with every list made a tuple."""
    if not is_nested(structure):
        return structure
    rebuilt = _rebuild(structure, [lists_to_tuples(child) for child in _children(structure)])
    return tuple(rebuilt) if isinstance(rebuilt, list) else rebuilt


def map_shape_structure(func: Callable[[Any], Any], structure: Any) -> Any:
    """``func`` applied to each shape (a tuple or list of ints and Nones) in a nested structure of shapes."""
    def is_shape(node: Any) -> bool:
        return isinstance(node, (tuple, list)) and all(d is None or isinstance(d, int) for d in node)

    if is_shape(structure) or not is_nested(structure):
        return func(structure)
    return _rebuild(structure, [map_shape_structure(func, child) for child in _children(structure)])
