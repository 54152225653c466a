"""gated: GRU and LSTM sequence models with the Keras workflow, on PyTorch."""

from ._version import __version__
from . import activations, constraints, initializers, layers, regularizers

__all__ = ["__version__", "activations", "constraints", "initializers", "layers", "regularizers"]
