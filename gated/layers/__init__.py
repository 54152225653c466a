"""Layers with Keras's names, arguments and defaults; each one a ``torch.nn.Module``."""

from ._base import Layer, WeightSpec
from ._symbolic import SymbolicTensor

__all__ = ["Layer", "WeightSpec", "SymbolicTensor"]
