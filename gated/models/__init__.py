"""Models: ``Sequential`` and the functional ``Model(inputs, outputs)``, each a ``torch.nn.Module`` that trains;
``load_model`` / ``save_model``, ``clone_model`` and ``model_from_json`` as ``keras.models`` has them."""

from ..saving import load_model, save_model
from ._cloning import clone_model, model_from_json, model_to_json
from ._model import Model
from ._sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "model_to_json", "save_model"]
