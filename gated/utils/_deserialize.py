"""What the ``deserialize`` of initializers, regularizers and constraints share: a class that ``custom_objects``
names, and the check that the config is a name or a dict."""

from __future__ import annotations

from typing import Any, Callable


def deserialize_with(get: Callable[[Any], Any], config: Any, custom_objects: dict[str, Any] | None,
                     kind: str) -> Any:
    """``custom_objects``'s class for a Keras config dict (by its registered or class name), else ``get(config)``
    for a name or dict; anything else is a TypeError naming ``kind``."""
    if isinstance(config, dict) and custom_objects:
        cls = custom_objects.get(config.get("registered_name") or "") or custom_objects.get(config.get("class_name"))
        if cls is not None:
            return cls.from_config(dict(config.get("config", {})))
    if not isinstance(config, (str, dict)):
        raise TypeError(f"deserialize takes {kind} name or config dict; received {type(config).__name__} "
                        f"{config!r}.")
    return get(config)
