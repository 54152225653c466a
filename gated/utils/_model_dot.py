"""``model_to_dot`` and ``plot_model``: a model's layers and their connections as a graphviz graph.

pydot (``pip install pydot``) builds the graph; writing a picture also needs graphviz's ``dot`` program
(``apt install graphviz``, ``brew install graphviz`` or ``conda install graphviz``). A ``.dot`` file needs only
pydot. Both are imported when a function is called, never by ``import gated``.

The model is read through what every gated model has: ``layers`` (a ``Sequential`` stacks them in order), and for
a functional model the recorded calls (``model._graph``: each node's layer, its input and output placeholders).
A subclassed model draws its layers without edges (its connections are Python code).
"""

from __future__ import annotations

import os
from typing import Any

from ._tree import flatten_structure

INSTALL_HINT = "pip install pydot, and install graphviz (apt install graphviz, brew install graphviz or conda " \
               "install graphviz)"


def _pydot():
    try:
        import pydot
    except ImportError as err:
        raise ImportError(f"plot_model and model_to_dot draw with pydot, which is not installed ({err}). Install "
                          f"it: {INSTALL_HINT}.") from err
    return pydot


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return ", ".join(_shape_text(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _label(layer: Any, shape: Any, show_shapes: bool, show_dtype: bool, show_layer_names: bool,
           show_layer_activations: bool, show_trainable: bool) -> str:
    kind = type(layer).__name__
    lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        lines.append(f"activation: {getattr(activation, '__name__', str(activation))}")
    if show_shapes:
        lines.append(f"output: {_shape_text(shape)}")
    if show_dtype:
        lines.append(f"dtype: {str(getattr(layer, 'dtype', '?')).replace('torch.', '')}")
    if show_trainable:
        lines.append(f"trainable: {getattr(layer, 'trainable', True)}")
    return "\\n".join(lines)


def _layers_and_edges(model: Any) -> tuple[list[tuple[Any, Any]], list[tuple[int, int]]]:
    """``[(layer, output shape)]`` and edges ``(from, to)`` between their positions."""
    graph = getattr(model, "_graph", None)
    if getattr(model, "_stack", None) is not None:  # Sequential
        layers = list(model.layers)
        shapes = model.output_shapes() if hasattr(model, "output_shapes") else None
        shapes = shapes or [None] * len(layers)
        return list(zip(layers, shapes)), [(i, i + 1) for i in range(len(layers) - 1)]
    if graph is not None:  # functional: one box per placeholder input and per layer call
        boxes: list[tuple[Any, Any]] = []
        produced_by: dict[int, int] = {}
        for tensor in graph.input_tensors:
            produced_by[id(tensor)] = len(boxes)
            boxes.append((tensor.node.layer, tuple(tensor.shape)))
        edges = []
        for node in graph.nodes:
            position = len(boxes)
            shapes = [tuple(t.shape) for t in node.outputs]
            boxes.append((node.layer, shapes[0] if len(shapes) == 1 else shapes))
            for arg in flatten_structure([list(node.args), dict(node.kwargs)]):
                if id(arg) in produced_by and (produced_by[id(arg)], position) not in edges:
                    edges.append((produced_by[id(arg)], position))
            for tensor in node.outputs:
                produced_by[id(tensor)] = position
        return boxes, edges
    return [(layer, None) for layer in getattr(model, "layers", [])], []


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False, **kwargs: Any):
    """A ``pydot.Dot`` graph of the model: one box per layer (per call, for a functional model), an arrow per
    connection. ``rankdir``: 'TB' (top to bottom) or 'LR' (left to right). ``expand_nested`` is accepted; nested
    models are drawn as one box."""
    if not hasattr(model, "layers"):
        raise TypeError(f"model_to_dot expects a gated model (Sequential or Model); received "
                        f"{type(model).__name__}.")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' (top to bottom) or 'LR' (left to right); received {rankdir!r}.")
    pydot = _pydot()
    dot = pydot.Cluster(graph_name=model.name, label=model.name) if subgraph else pydot.Dot()
    dot.set("rankdir", rankdir)
    dot.set("dpi", dpi)
    dot.set_node_defaults(shape="record")
    boxes, edges = _layers_and_edges(model)
    for i, (layer, shape) in enumerate(boxes):
        dot.add_node(pydot.Node(str(i), label=_label(layer, shape, show_shapes, show_dtype, show_layer_names,
                                                     show_layer_activations, show_trainable)))
    for start, end in edges:
        dot.add_edge(pydot.Edge(str(start), str(end)))
    return dot


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, **kwargs: Any):
    """Draw ``model_to_dot(model, ...)`` into ``to_file`` (its suffix picks the format: .png, .svg, .pdf, or .dot
    for the graph source, which needs no graphviz). Returns the path written."""
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    to_file = os.fspath(to_file)
    fmt = os.path.splitext(to_file)[1].lstrip(".").lower() or "png"
    folder = os.path.dirname(os.path.abspath(to_file))
    os.makedirs(folder, exist_ok=True)
    if fmt in ("dot", "gv"):
        with open(to_file, "w") as f:
            f.write(dot.to_string())
        return to_file
    try:
        dot.write(to_file, format=fmt)
    except FileNotFoundError as err:  # pydot runs graphviz's dot program
        raise ImportError(f"plot_model needs graphviz's dot program to write {to_file!r} ({err}). Install "
                          f"graphviz, or write the graph source with to_file='model.dot'. {INSTALL_HINT}.") from err
    return to_file
