"""Saving and loading: model files, weights files, the Keras <-> torch weight layouts, and the serialization
registry (``register_serializable``, ``serialize`` / ``deserialize``, ``custom_object_scope``), with Keras's names
(``serialize_keras_object``, ``CustomObjectScope``, ``get_custom_objects``, ``save_weights(model, path)``)."""

from __future__ import annotations

import os
from typing import Any, Mapping

from ._model_file import load_model, save_model
from ._registry import get_registered_object as _registered_object
from ._registry import (
    _REGISTERED, custom_object_scope, deserialize, get_registered_name,
    register_keras_serializable, register_serializable, serialize,
)


class CustomObjectScope:
    """``with CustomObjectScope({'MyLayer': MyLayer}):`` Keras's class form of ``custom_object_scope``: every
    ``deserialize`` inside the block also resolves these names."""

    def __init__(self, *custom_objects: Mapping[str, Any] | None):
        self.custom_objects = custom_objects
        self._scope = None

    def __enter__(self) -> "CustomObjectScope":
        self._scope = custom_object_scope(*self.custom_objects)
        self._scope.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        scope, self._scope = self._scope, None
        scope.__exit__(*exc_info)


def get_registered_object(name: str, custom_objects: Mapping[str, Any] | None = None,
                          module_objects: Mapping[str, Any] | None = None, *, base: type | None = None,
                          function: bool | None = None) -> Any:
    """The class or function registered (or in ``custom_objects``) under ``name``, or None, as Keras's
    ``get_registered_object``; ``function=True`` or ``False`` asks for only one of the two."""
    kinds = (False, True) if function is None else (function,)
    for kind in kinds:
        found = _registered_object(name, custom_objects, module_objects, base=base, function=kind)
        if found is not None:
            return found
    return None


def get_custom_objects() -> dict[str, Any]:
    """The live dict of registered names -> classes and functions (``register_keras_serializable`` fills it);
    adding an entry makes that name loadable, as in Keras."""
    return _REGISTERED


_PLAIN = (str, int, float, bool, type(None))


def serialize_keras_object(obj: Any) -> Any:
    """Keras's name for ``serialize``: an object's ``{'class_name', 'config'}`` dict; plain values (None, numbers,
    strings) pass through and lists, tuples and dicts are serialized item by item."""
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(serialize_keras_object(item) for item in obj)
    if isinstance(obj, dict) and not hasattr(obj, "get_config"):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    return serialize(obj)


def deserialize_keras_object(config: Any, custom_objects: Mapping[str, Any] | None = None, safe_mode: bool = True,
                             **kwargs: Any) -> Any:
    """Keras's name for ``deserialize``: the object a ``{'class_name', 'config'}`` dict describes; None passes
    through. ``safe_mode`` is accepted for Keras's signature: gated never runs code from a config."""
    if config is None:
        return None
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects)
        if found is None:
            raise ValueError(f"Unknown object '{config}': it is not registered and not in custom_objects.")
        return found
    return deserialize(config, custom_objects)


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True, **kwargs: Any) -> None:
    """``model.save_weights(filepath)``, as Keras's function form."""
    model.save_weights(filepath, overwrite=overwrite, **kwargs)


def load_weights(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False, **kwargs: Any) -> None:
    """``model.load_weights(filepath)``, as Keras's function form."""
    model.load_weights(filepath, skip_mismatch=skip_mismatch, **kwargs)


__all__ = [
    "load_model", "save_model", "register_serializable", "register_keras_serializable", "serialize", "deserialize",
    "custom_object_scope", "get_registered_name", "get_registered_object", "CustomObjectScope",
    "get_custom_objects", "serialize_keras_object", "deserialize_keras_object", "save_weights", "load_weights",
]
