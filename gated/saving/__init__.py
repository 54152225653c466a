"""Saving and loading: model files, weights files, the Keras <-> torch weight layouts, and the serialization
registry (``register_serializable``, ``serialize`` / ``deserialize``, ``custom_object_scope``)."""

from ._model_file import load_model, save_model
from ._registry import (
    custom_object_scope, deserialize, get_registered_name, get_registered_object, register_keras_serializable,
    register_serializable, serialize,
)

__all__ = [
    "load_model", "save_model", "register_serializable", "register_keras_serializable", "serialize", "deserialize",
    "custom_object_scope", "get_registered_name", "get_registered_object",
]
