"""Symbolic tensors: what ``Input`` returns and what layers return when called on one.

A ``SymbolicTensor`` records its shape (``None`` for unknown sizes), dtype and the call that produced it,
so that a functional model can later replay the graph on real tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

Shape = tuple[int | None, ...]


@dataclass(eq=False)
class Node:
    """One layer call in a graph: ``layer(*args, **kwargs)`` produced ``outputs``."""

    layer: Any
    args: tuple
    kwargs: dict
    outputs: list["SymbolicTensor"] = field(default_factory=list)


@dataclass(eq=False)
class SymbolicTensor:
    shape: Shape
    dtype: torch.dtype | str = torch.float32  # str: 'string', an Input(dtype='string')
    node: Node | None = None
    index: int = 0  # position among the node's outputs
    name: str | None = None
    # A mask placeholder (``x._keras_mask``) names the output whose mask it is: a replay reads that output's mask.
    mask_of: "SymbolicTensor | None" = field(default=None, repr=False)
    _keras_mask: "SymbolicTensor | None" = field(default=None, repr=False)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        if self.mask_of is not None:
            return f"<SymbolicTensor mask shape={self.shape} of {self.mask_of!r}>"
        origin = f" from '{self.node.layer.name}'" if self.node is not None else ""
        return f"<SymbolicTensor shape={self.shape} dtype={str(self.dtype).replace('torch.', '')}{origin}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"{self!r} is a placeholder from gated.layers.Input and holds no values. Build a model with "
            "gated.Model(inputs, outputs) and call it on real arrays."
        )


def is_symbolic(structure: Any) -> bool:
    """Whether a (possibly nested) call argument holds a SymbolicTensor."""
    if isinstance(structure, SymbolicTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(is_symbolic(s) for s in structure)
    if isinstance(structure, dict):
        return any(is_symbolic(s) for s in structure.values())
    return False


def shape_of(structure: Any) -> Any:
    """Shapes of a nested structure of tensors or symbolic tensors; batch and unknown sizes as None."""
    if isinstance(structure, SymbolicTensor):
        return tuple(structure.shape)
    if isinstance(structure, (torch.Tensor, np.ndarray)):  # numpy: an array of strings for the text layers
        return tuple(structure.shape)
    if isinstance(structure, (list, tuple)):
        return [shape_of(s) for s in structure]
    raise TypeError(f"Cannot take the shape of {type(structure).__name__}.")
