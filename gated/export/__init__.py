"""Exporting gated models for deployment: ``export(model, path, format="onnx")``.

ONNX export needs the ``onnx`` package (``pip install 'gated[onnx]'``); it is imported only when exporting.
"""

from __future__ import annotations

import os
from typing import Any

from ._onnx import OPSET, describe, export_onnx

FORMATS = ("onnx",)


def export(model: Any, filepath: str | os.PathLike, format: str = "onnx", verbose: bool = False,
           **kwargs: Any) -> Any:
    """Write ``model`` to ``filepath`` in ``format`` (Keras's ``model.export`` spelling).

    Only ``format="onnx"`` exists (see ``export_onnx``); returns the ``onnx.ModelProto`` written. ``verbose``
    prints the file written with its inputs and outputs (name, dimensions, element type).
    """
    if not isinstance(verbose, bool):
        raise TypeError(f"export(verbose=...) takes True or False; received {verbose!r}.")
    if format not in FORMATS:
        hint = (" gated runs on PyTorch; for a TensorFlow SavedModel convert the model with "
                "gated.interop.to_keras(model) and use Keras's export." if format == "tf_saved_model" else "")
        raise ValueError(f"Unsupported export format {format!r}; supported formats: {', '.join(FORMATS)}.{hint}")
    if kwargs:
        raise TypeError(f"export(format='onnx') got unexpected keyword argument(s) {sorted(kwargs)}.")
    proto = export_onnx(model, filepath)
    if verbose:
        print(describe(proto, filepath))
    return proto


__all__ = ["FORMATS", "OPSET", "describe", "export", "export_onnx"]
