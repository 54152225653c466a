"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""

from __future__ import annotations

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


def _rows(model) -> list[tuple[str, str, int, bool]]:
    from ._sequential import Sequential

    rows = []
    if isinstance(model, Sequential):
        shapes = model.output_shapes() or ["?"] * len(model.layers)
        for layer, shape in zip(model.layers, shapes):
            rows.append((f"{layer.name} ({type(layer).__name__})", _format_shape(shape),
                         layer.count_params() if layer.built else 0, layer.trainable))
    elif model._graph is not None:
        for tensor in model._graph.input_tensors:
            layer = tensor.node.layer
            rows.append((f"{layer.name} ({type(layer).__name__})", _format_shape(tensor.shape), 0, True))
        for node in model._graph.nodes:
            shapes = [t.shape for t in node.outputs]
            rows.append((f"{node.layer.name} ({type(node.layer).__name__})",
                         _format_shape(shapes[0] if len(shapes) == 1 else shapes),
                         node.layer.count_params() if node.layer.built else 0, node.layer.trainable))
    else:
        for layer in model.layers:
            rows.append((f"{layer.name} ({type(layer).__name__})", "?",
                         layer.count_params() if layer.built else 0, layer.trainable))
    return rows


def summary_text(model, line_length: int | None = None, show_trainable: bool = False) -> str:
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' is not built yet, so its layers have no weights to summarise. Pass input_shape= "
            "to the first layer, start with gated.layers.Input(shape=...), call model.build(input_shape), or call "
            "the model on data first."
        )
    rows = _rows(model)
    headers = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(headers[0]), *(len(r[0]) for r in rows)) + 2,
              max(len(headers[1]), *(len(r[1]) for r in rows)) + 2,
              max(len(headers[2]), *(len(f"{r[2]:,}") for r in rows)) + 2]
    if line_length:
        widths[0] = max(widths[0], line_length - widths[1] - widths[2] - 4)

    def line(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * w for w in widths) + right

    def row(cells: tuple[str, str, str]) -> str:
        return "│" + "│".join([f" {cells[0]:<{widths[0] - 1}}", f" {cells[1]:<{widths[1] - 1}}",
                               f"{cells[2]:>{widths[2] - 1}} "]) + "│"

    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━"),
           "┃" + "┃".join([f" {headers[0]:<{widths[0] - 1}}", f" {headers[1]:<{widths[1] - 1}}",
                           f"{headers[2]:>{widths[2] - 1}} "]) + "┃",
           line("┡", "╇", "┩", "━")]
    for i, r in enumerate(rows):
        out.append(row((r[0], r[1], f"{r[2]:,}")))
        out.append(line("├", "┼", "┤", "─") if i < len(rows) - 1 else line("└", "┴", "┘", "─"))
    specs = model.weight_specs()
    dtype = model.compute_dtype
    total = sum(int(s.get().numel()) for s in specs)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out.append(f" Total params: {total:,} ({_bytes(total, dtype)})")
    out.append(f" Trainable params: {trainable:,} ({_bytes(trainable, dtype)})")
    out.append(f" Non-trainable params: {total - trainable:,} ({_bytes(total - trainable, dtype)})")
    return "\n".join(out)
