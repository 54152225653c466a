"""The functional graph: ``Model(inputs, outputs)`` records the layer calls between placeholders and replays them.

Nodes are collected by walking back from the outputs; a layer called several times (shared weights) is one module
with several nodes. Call arguments may nest placeholders anywhere (``initial_state=[h, c]``), and masks flow on
the real tensors during replay exactly as they do in eager code.
"""

from __future__ import annotations

from typing import Any

import torch

from ..saving import _registry
from ..utils._tree import flatten_structure, map_structure
from ._base import Layer
from ._core import InputLayer
from ._symbolic import Node, SymbolicTensor


def resolve_placeholders(structure: Any, values: dict[int, Any]) -> Any:
    """``structure`` with every SymbolicTensor replaced by ``values[id(tensor)]`` (what a replay computed for it)."""
    return map_structure(lambda leaf: values[id(leaf)] if isinstance(leaf, SymbolicTensor) else leaf, structure)


class Graph:
    """The nodes between ``inputs`` and ``outputs`` in execution order, and the layers they use."""

    def __init__(self, inputs: Any, outputs: Any):
        self.inputs = inputs
        self.outputs = outputs
        self.input_tensors: list[SymbolicTensor] = _check_placeholders(flatten_structure(inputs), "inputs")
        self.output_tensors: list[SymbolicTensor] = _check_placeholders(flatten_structure(outputs), "outputs")
        for tensor in self.input_tensors:
            if tensor.node is None or not isinstance(tensor.node.layer, InputLayer):
                raise ValueError(f"Model inputs must come from gated.layers.Input(...); received {tensor!r}.")
        self.nodes = self._order_nodes()
        # called_layers: in the order of their first call (the order torch registers their parameters in);
        # layers: in Keras's order
        self.called_layers: list[Layer] = []
        for node in self.nodes:
            if node.layer not in self.called_layers and not isinstance(node.layer, InputLayer):
                self.called_layers.append(node.layer)
        # layers: in Keras's order, the InputLayers among them (Model.layers); without them for the weights
        self.all_layers: list[Layer] = self._order_layers()
        self.layers: list[Layer] = [layer for layer in self.all_layers if not isinstance(layer, InputLayer)]

    def _order_nodes(self) -> list[Node]:
        order: list[Node] = []
        state: dict[int, str] = {}
        input_ids = {id(t) for t in self.input_tensors}

        def visit(tensor: SymbolicTensor) -> None:
            node = tensor.node
            if id(tensor) in input_ids:
                return
            if node is None or isinstance(node.layer, InputLayer):
                raise ValueError(
                    f"The model's outputs depend on {tensor!r}, which is not among the model's inputs. "
                    "Pass every Input the outputs are computed from in Model(inputs=[...])."
                )
            mark = state.get(id(node))
            if mark == "done":
                return
            if mark == "active":
                raise ValueError("The layer graph has a cycle.")
            state[id(node)] = "active"
            for parent in flatten_structure((node.args, node.kwargs)):
                if isinstance(parent, SymbolicTensor):
                    visit(parent)
            state[id(node)] = "done"
            order.append(node)

        for tensor in self.output_tensors:
            visit(tensor)
        return order

    def _order_layers(self) -> list[Layer]:
        """The layers in Keras's order (which is also the order of ``get_weights``), InputLayers included: by
        depth - the longest path to an output - deepest first, ties broken by when a depth-first walk from the
        outputs first meets the layer; an input no output depends on comes last, at depth 0."""
        first_seen: dict[int, int] = {}
        input_nodes = [t.node for t in self.input_tensors]
        nodes = [n for i, n in enumerate(input_nodes) if n not in input_nodes[:i]] + self.nodes
        producers = {id(t): t.node for node in nodes for t in _produced(node)}

        walked: set[int] = set()

        def walk(node: Node) -> None:  # pre-order, as Keras numbers the layers
            if id(node) in walked:
                return
            walked.add(id(node))
            first_seen.setdefault(id(node.layer), len(first_seen))  # a shared layer: its first node numbers it
            for parent in flatten_structure((node.args, node.kwargs)):
                if isinstance(parent, SymbolicTensor) and id(parent) in producers:
                    walk(producers[id(parent)])

        for tensor in self.output_tensors:
            if id(tensor) in producers:
                walk(producers[id(tensor)])
        node_depth: dict[int, int] = {}
        layer_depth: dict[int, int] = {}
        for node in reversed(nodes):  # outputs first
            depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
            layer_depth[id(node.layer)] = node_depth[id(node)] = depth
            for parent in flatten_structure((node.args, node.kwargs)):
                if isinstance(parent, SymbolicTensor) and id(parent) in producers:
                    key = id(producers[id(parent)])
                    node_depth[key] = max(depth + 1, node_depth.get(key, 0))
        layers = []
        for node in nodes:
            if node.layer not in layers:
                layers.append(node.layer)
        return sorted(layers, key=lambda layer: (-layer_depth[id(layer)], first_seen.get(id(layer), -1)))

    def run(self, inputs: list[torch.Tensor], training: bool | None) -> list[torch.Tensor]:
        """Replay the graph on real tensors given in the order of ``input_tensors``."""
        values: dict[int, Any] = {id(t): x for t, x in zip(self.input_tensors, inputs)}
        for node in self.nodes:
            args = resolve_placeholders(node.args, values)
            kwargs = resolve_placeholders(node.kwargs, values)
            if "training" in node.layer._forward_params() and "training" not in kwargs:
                kwargs["training"] = training
            result = node.layer(*args, **kwargs)
            results = flatten_structure(result)
            for tensor in node.outputs:
                values[id(tensor)] = results[tensor.index]
                if tensor._keras_mask is not None:  # a later call may take the mask placeholder as an argument
                    values[id(tensor._keras_mask)] = getattr(results[tensor.index], "_keras_mask", None)
        return [values[id(t)] for t in self.output_tensors]


def _produced(node: Node) -> list[SymbolicTensor]:
    """A node's outputs and their mask placeholders."""
    return list(node.outputs) + [t._keras_mask for t in node.outputs if t._keras_mask is not None]


def _check_placeholders(tensors: list[Any], what: str) -> list[SymbolicTensor]:
    for t in tensors:
        if not isinstance(t, SymbolicTensor):
            raise TypeError(
                f"Model({what}=...) takes placeholders from gated.layers.Input and layer calls on them; "
                f"received {type(t).__name__}."
            )
    return tensors


# ---------------------------------------------------------------------------------------------- config round trip
def graph_config(graph: Graph) -> dict[str, Any]:
    """A JSON-able description: every layer once, then every call in execution order with tensor references."""
    input_nodes = [t.node for t in graph.input_tensors]
    nodes = input_nodes + [n for n in graph.nodes if n not in input_nodes]
    node_index = {id(n): i for i, n in enumerate(nodes)}
    layers, seen = [], set()
    for node in nodes:
        if id(node.layer) not in seen:
            seen.add(id(node.layer))
            # The name at the top level too, as Keras writes it: the calls refer to the layer by it, and a custom
            # layer's get_config() need not carry it.
            layers.append({**_registry.serialize(node.layer), "name": node.layer.name})

    def ref(leaf: Any) -> Any:
        if isinstance(leaf, SymbolicTensor) and leaf.mask_of is not None:
            return {"__tensor__": [node_index[id(leaf.node)], leaf.mask_of.index, "mask"]}
        if isinstance(leaf, SymbolicTensor):
            return {"__tensor__": [node_index[id(leaf.node)], leaf.index]}
        if isinstance(leaf, torch.Tensor):
            raise ValueError("A functional model whose layer calls take constant tensors cannot be serialized.")
        return leaf

    calls = [{"layer": node.layer.name, "args": map_structure(ref, list(node.args)),
              "kwargs": map_structure(ref, dict(node.kwargs))} for node in nodes[len(input_nodes):]]
    return {"layers": layers, "input_nodes": [node_index[id(n)] for n in input_nodes], "calls": calls,
            "inputs": map_structure(ref, graph.inputs), "outputs": map_structure(ref, graph.outputs)}


def rebuild_graph(config: dict[str, Any], custom_objects: dict | None = None) -> tuple[Any, Any]:
    """Recreate the layers and replay the calls on new placeholders; returns (inputs, outputs)."""
    layers: dict[str, Layer] = {}
    for spec in config["layers"]:
        layer = _registry.deserialize(spec, custom_objects, base=Layer)
        # Keyed by the saved name, as Keras keys them: a custom layer whose __init__ does not pass ``name`` on to
        # Layer comes back with a new automatic name, and the calls still find it.
        inner = spec.get("config") if isinstance(spec.get("config"), dict) else {}
        layers[spec.get("name") or inner.get("name") or layer.name] = layer
    # The input layers come first, in the order of the input nodes the calls refer to.
    produced: list[list[SymbolicTensor]] = [[layer.output] for layer in layers.values()
                                            if isinstance(layer, InputLayer)]

    def resolve(leaf: Any) -> Any:
        if isinstance(leaf, dict) and set(leaf) == {"__tensor__"}:
            node, index, *mask = leaf["__tensor__"]
            return produced[node][index]._keras_mask if mask else produced[node][index]
        return leaf

    def resolve_structure(structure: Any) -> Any:
        if isinstance(structure, dict) and set(structure) == {"__tensor__"}:
            return resolve(structure)
        if isinstance(structure, dict):
            return {k: resolve_structure(v) for k, v in structure.items()}
        if isinstance(structure, list):
            return [resolve_structure(v) for v in structure]
        return structure

    for call in config["calls"]:
        layer = layers[call["layer"]]
        result = layer(*resolve_structure(call["args"]), **resolve_structure(call["kwargs"]))
        produced.append(flatten_structure(result))
    return resolve_structure(config["inputs"]), resolve_structure(config["outputs"])
