"""Saving and loading: model files, weights files, and the Keras <-> torch weight layouts."""

from ._model_file import load_model, register_serializable, save_model

__all__ = ["load_model", "register_serializable", "save_model"]
