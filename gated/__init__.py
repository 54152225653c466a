"""gated: GRU and LSTM sequence models with the Keras workflow, on PyTorch."""

from ._version import __version__
from . import activations, callbacks, constraints, initializers, layers, losses, metrics, optimizers, regularizers
from . import data, datasets, deploy, export, interop, recipes, seq2seq, utils
from .models import Model, Sequential
from .saving import load_model

__all__ = [
    "__version__", "Model", "Sequential", "load_model",
    "activations", "callbacks", "constraints", "initializers", "layers", "losses", "metrics", "optimizers",
    "regularizers", "utils", "data", "datasets", "deploy", "export", "interop", "recipes", "seq2seq",
]
