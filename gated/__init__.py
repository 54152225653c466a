"""gated: GRU and LSTM sequence models with the Keras workflow, on PyTorch.

``import gated as keras`` gives Keras 3's public tree for sequence models: ``keras.Input``, ``keras.Model``,
``keras.Sequential``, ``keras.layers``, ``keras.models``, ``keras.saving``, ``keras.utils``, ``keras.callbacks``,
``keras.optimizers``, ``keras.losses``, ``keras.metrics``, ``keras.preprocessing``, ... (docs/KERAS_COMPATIBILITY.md
lists the names Keras has and gated does not).
"""

from ._version import __version__
from . import activations, callbacks, constraints, initializers, layers, losses, metrics, optimizers, regularizers
from . import applications, data, datasets, deploy, export, interop, models, preprocessing, recipes, saving, seq2seq
from . import backend, ops, random, utils
from .constraints import Constraint
from .initializers import Initializer
from .layers import Input, InputLayer, Layer
from .layers._symbolic import SymbolicTensor as KerasTensor
from .losses import Loss
from .metrics import Metric
from .models import Model, Sequential
from .optimizers import Optimizer
from .regularizers import Regularizer
from .saving import load_model
from .utils import tree


def _add_to_utils() -> None:
    """``keras.utils`` names whose code lives on higher floors than ``gated.utils`` (the registry in
    ``gated.saving``, the session helpers in ``gated.backend``): attached here, where both are importable."""
    for name in ("register_keras_serializable", "get_custom_objects", "custom_object_scope", "CustomObjectScope",
                 "serialize_keras_object", "deserialize_keras_object", "get_registered_name",
                 "get_registered_object"):
        setattr(utils, name, getattr(saving, name))
    for name in ("clear_session", "is_keras_tensor", "standardize_dtype"):
        setattr(utils, name, getattr(backend, name))
    utils.__all__ = [*utils.__all__, "register_keras_serializable", "get_custom_objects", "custom_object_scope",
                     "CustomObjectScope", "serialize_keras_object", "deserialize_keras_object",
                     "get_registered_name", "get_registered_object", "clear_session", "is_keras_tensor",
                     "standardize_dtype"]


_add_to_utils()


def version() -> str:
    """gated's version (``keras.version()``)."""
    return __version__


__all__ = [
    "__version__", "version", "Input", "InputLayer", "Layer", "Model", "Sequential", "load_model",
    "Constraint", "Initializer", "KerasTensor", "tree", "Loss", "Metric", "Optimizer", "Regularizer",
    "activations", "applications", "callbacks", "constraints", "initializers", "layers", "losses", "metrics",
    "models", "optimizers", "preprocessing", "backend", "ops", "random", "regularizers", "saving", "utils", "data", "datasets", "deploy", "export",
    "interop", "recipes", "seq2seq",
]
