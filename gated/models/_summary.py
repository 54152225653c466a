"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import re
from typing import Any

import torch


def _format_shape(shape: Any) -> str:
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return ", ".join(_format_shape(s) for s in shape)
    if isinstance(shape, (list, tuple)):
        inner = ", ".join("None" if d is None else str(d) for d in shape)
        return f"({inner},)" if len(shape) == 1 else f"({inner})"
    return "?"


def _bytes(count: int, dtype: torch.dtype) -> str:
    size = float(count * torch.empty((), dtype=dtype).element_size())
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _row(layer, shape: str, nested: int) -> tuple[str, str, Any, bool, Any]:
    name = f"{'   ' * nested}{'└ ' if nested else ''}{layer.name} ({type(layer).__name__})"
    return (name, shape, layer.count_params() if layer.built else None, layer.trainable, layer)


def _rows(model, expand_nested: bool = False, nested: int = 0) -> list[tuple[str, str, int, bool, Any]]:
    """One row per layer call (name (type), output shape, parameters, trainable, layer); with ``expand_nested``
    the rows of every nested model follow its own row, indented."""
    rows = []
    if getattr(model, "_stack", None) is not None:  # Sequential: one row per layer, shapes from the stack
        shapes = model.output_shapes() or ["?"] * len(model.layers)
        for layer, shape in zip(model.layers, shapes):
            rows.append(_row(layer, _format_shape(shape), nested))
            rows += _nested_rows(layer, expand_nested, nested)
    elif model._graph is not None:
        for tensor in model._graph.input_tensors:
            layer = tensor.node.layer
            rows.append((f"{'   ' * nested}{'└ ' if nested else ''}{layer.name} ({type(layer).__name__})",
                         _format_shape(tensor.shape), 0, True, layer))
        for node in model._graph.nodes:
            shapes = [t.shape for t in node.outputs]
            rows.append(_row(node.layer, _format_shape(shapes[0] if len(shapes) == 1 else shapes), nested))
            rows += _nested_rows(node.layer, expand_nested, nested)
    else:
        for layer in model.layers:
            rows.append(_row(layer, "?", nested))
            rows += _nested_rows(layer, expand_nested, nested)
    return rows


def _nested_rows(layer, expand_nested: bool, nested: int) -> list[tuple[str, str, int, bool, Any]]:
    if not expand_nested or not hasattr(layer, "compiled") or not getattr(layer, "layers", None):
        return []  # only models nest rows, as in Keras
    return _rows(layer, expand_nested, nested + 1)


def _select(rows: list, layer_range: Any, model) -> list:
    """Keras's ``layer_range=[first, last]``: the rows from the first layer whose name matches ``first`` (a name
    or a regular expression) to the last whose name matches ``last``, both included."""
    if layer_range is None:
        return rows
    if not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2 or \
            not all(isinstance(p, str) for p in layer_range):
        raise ValueError(f"summary(layer_range=...) takes a list of 2 layer names (or regular expressions), the "
                         f"first and the last layer to show; received {layer_range!r}.")
    names = [r[4].name for r in rows]
    starts = [i for i, n in enumerate(names) if re.match(layer_range[0], n)]
    ends = [i for i, n in enumerate(names) if re.match(layer_range[1], n)]
    if not starts or not ends:
        missing = layer_range[0] if not starts else layer_range[1]
        raise ValueError(f"summary(layer_range={list(layer_range)}): no layer of model '{model.name}' matches "
                         f"{missing!r}. Its layers are {names}.")
    if ends[-1] < starts[0]:
        raise ValueError(f"summary(layer_range={list(layer_range)}): the last layer ({names[ends[-1]]!r}) comes "
                         f"before the first ({names[starts[0]]!r}) in model '{model.name}'.")
    return rows[starts[0]:ends[-1] + 1]


def _widths(natural: list[int], line_length: int | None, positions: Any) -> list[int]:
    """Column widths: what the cells need, stretched to ``line_length``, or Keras's ``positions`` (the right end
    of each column, as fractions of the line length when all are <= 1, else in characters)."""
    if positions is None:
        widths = list(natural)
        if line_length:
            widths[0] = max(widths[0], line_length - sum(widths[1:]) - len(widths) - 1)
        return widths
    if not isinstance(positions, (list, tuple)) or len(positions) != len(natural) or \
            not all(isinstance(p, (int, float)) and not isinstance(p, bool) and p > 0 for p in positions):
        raise ValueError(f"summary(positions=...) takes {len(natural)} increasing positive numbers, the right end "
                         f"of each column ({len(natural)} columns here), as fractions of line_length or in "
                         f"characters; received {positions!r}.")
    length = line_length or sum(natural) + len(natural) + 1  # the whole line, borders included
    ends = [p * length if all(q <= 1 for q in positions) else p for p in positions]
    bounds = [0] + [int(round(e)) for e in ends]
    widths = [b - a - 1 for a, b in zip(bounds, bounds[1:])]  # each column ends on its right border
    widths[0] -= 1  # the left border
    if any(w < 3 for w in widths):
        raise ValueError(f"summary(positions={list(positions)}) leaves a column narrower than 3 characters "
                         f"(widths {widths}); the positions must increase.")
    return widths


def summary_text(model, line_length: int | None = None, positions: Any = None, expand_nested: bool = False,
                 show_trainable: bool = False, layer_range: Any = None) -> str:
    unbuilt = not model.built and getattr(model, "_stack", None) is not None  # Keras lists its layers with '?'
    if not model.built and not unbuilt:
        raise ValueError(
            f"Model '{model.name}' is not built yet, so its layers have no weights to summarise. Pass input_shape= "
            "to the first layer, start with gated.layers.Input(shape=...), call model.build(input_shape), or call "
            "the model on data first."
        )
    rows = _select(_rows(model, expand_nested), layer_range, model)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])
    # Keras marks layers without weights '-' in the trainable column
    cells = [[r[0], r[1], "0 (unbuilt)" if r[2] is None else f"{r[2]:,}"]
             + (["-" if not r[2] else "Y" if r[3] else "N"] if show_trainable else []) for r in rows]
    natural = [max(len(h), *(len(c[i]) for c in cells)) + 2 for i, h in enumerate(headers)]
    widths = _widths(natural, line_length, positions)
    right = {2}  # parameter counts align right; the trainable flag is centred

    def fit(text: str, i: int, align: str) -> str:
        width = widths[i] - 1
        text = text if len(text) <= width else text[:max(width - 1, 0)] + "…"
        if align == ">":
            return f"{text:>{width}} "
        if align == "^":
            return f"{text:^{width + 1}}"
        return f" {text:<{width}}"

    def align(i: int) -> str:
        return ">" if i in right else "^" if i == 3 else "<"

    def line(left: str, mid: str, end: str, fill: str) -> str:
        return left + mid.join(fill * w for w in widths) + end

    def row(values: list[str], bar: str = "│") -> str:
        return bar + bar.join(fit(v, i, align(i)) for i, v in enumerate(values)) + bar

    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━"), row(headers, "┃"), line("┡", "╇", "┩", "━")]
    for i, values in enumerate(cells):
        out.append(row(values))
        out.append(line("├", "┼", "┤", "─") if i < len(cells) - 1 else line("└", "┴", "┘", "─"))
    if not cells:
        out.append(line("└", "┴", "┘", "─"))
    if unbuilt:
        empty = _bytes(0, model.compute_dtype)
        return "\n".join(out + [f" Total params: 0 ({empty})", f" Trainable params: 0 ({empty})",
                                f" Non-trainable params: 0 ({empty})"])
    specs = model.weight_specs()
    dtype = model.compute_dtype
    total = sum(int(s.get().numel()) for s in specs)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out.append(f" Total params: {total:,} ({_bytes(total, dtype)})")
    out.append(f" Trainable params: {trainable:,} ({_bytes(trainable, dtype)})")
    out.append(f" Non-trainable params: {total - trainable:,} ({_bytes(total - trainable, dtype)})")
    return "\n".join(out)
