"""The serialization registry: the names a saved config gives its objects, and the one ``serialize`` /
``deserialize`` pair every nested config goes through (a model's layers, a wrapper's layer, an RNN's cell, the
losses, metrics and optimizer of ``compile``).

A config names an object Keras's way, ``{"class_name": "GRU", "config": {...}}``, with ``"registered_name"`` added
when a class was registered under another name (``register_serializable(package="my_pkg")`` gives
``"my_pkg>MyLayer"``); a registered function is ``{"class_name": "function", "config": "<registered name>"}``.

``deserialize`` resolves a name in this order, first match wins:

1. ``custom_objects``: the argument, then the enclosing ``custom_object_scope`` blocks, innermost first
   (``load_model(path, custom_objects=...)`` opens one around the whole load, so nested configs see it too);
2. classes and functions registered with ``register_serializable``;
3. the caller's own table of built-ins (``module_objects``: ``gated.losses.get`` passes its loss classes);
4. gated's own layers and models, which register themselves when their class is defined
   (``Layer.__init_subclass__``), so a new built-in layer needs no edit anywhere else.

With ``base`` only classes of that kind count (a loss named ``MeanSquaredError`` never answers for the metric of
that name). Names are only looked up, never imported, so a file cannot make the loader run code.
"""

from __future__ import annotations

import inspect
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from ..utils._naming import closest_name

_REGISTERED: dict[str, Any] = {}  # registered name -> class or function (register_serializable)
_NAMES: dict[Any, str] = {}  # class or function -> its registered name
_BUILTIN: dict[str, type] = {}  # gated's own layers and models, by class name
_SCOPES = threading.local()  # .stack: the custom_objects of the enclosing custom_object_scope blocks
_SERIALIZED_KEYS = frozenset({"class_name", "config", "module", "registered_name"})
_KINDS = {"Layer": "layer", "Loss": "loss", "Metric": "metric", "Optimizer": "optimizer"}


class UnknownClassError(ValueError):
    """A config names a class (or function) that is neither gated's, nor registered, nor in ``custom_objects``."""


# ---------------------------------------------------------------------------------------------- registering
def register_serializable(cls: Any = None, *, package: str | None = None, name: str | None = None) -> Any:
    """Make a custom class (a layer, cell, model, loss, metric, optimizer) or function loadable by name.

    ``@gated.saving.register_serializable()`` on the class, or ``register_serializable(MyLayer)``. Keras's spelling
    works too: ``@register_serializable(package="my_pkg", name="MyLayer")`` (or the package as the first argument)
    registers it as ``"my_pkg>MyLayer"``. A class needs ``get_config`` (and ``from_config`` when its constructor does
    not take its config as keyword arguments). Registering a name again replaces the earlier entry.
    """
    if isinstance(cls, str):  # Keras's positional form: register_keras_serializable("my_pkg")
        cls, package = None, cls
    for argument, value in (("package", package), ("name", name)):
        if value is not None and not (isinstance(value, str) and value):
            raise TypeError(f"register_serializable({argument}=...) takes a non-empty string; received {value!r}.")

    def register(obj: Any) -> Any:
        if inspect.isclass(obj):
            if not hasattr(obj, "get_config"):
                raise TypeError(
                    f"register_serializable() received class {obj.__name__}, which has no get_config() method, so "
                    "its configuration cannot be saved. Define get_config() returning the constructor's arguments."
                )
        elif not callable(obj):
            raise TypeError(f"register_serializable() registers classes and functions; received "
                            f"{type(obj).__name__} {obj!r}.")
        key = name or getattr(obj, "__name__", None)
        if not key:
            raise TypeError(f"register_serializable() cannot name {obj!r}; pass name='...'.")
        key = f"{package}>{key}" if package else key
        _REGISTERED[key] = obj
        _NAMES[obj] = key
        return obj

    return register(cls) if cls is not None else register


register_keras_serializable = register_serializable  # Keras's name, for ported scripts


def register_builtin(cls: type) -> None:
    """Record one of gated's own classes (called by ``Layer.__init_subclass__`` for every layer and model class).

    Only public classes defined at module level in gated's own modules count; user subclasses register through
    ``register_serializable``. Two of gated's classes may not share a name: a config could not tell them apart.
    """
    module, name = cls.__module__, cls.__name__
    if not (module == "gated" or module.startswith("gated.")) or name.startswith("_") or "<locals>" in cls.__qualname__:
        return
    existing = _BUILTIN.get(name)
    if existing is not None and (existing.__module__, existing.__qualname__) != (module, cls.__qualname__):
        raise TypeError(f"gated defines two serializable classes named '{name}' ({existing.__module__} and "
                        f"{module}); a saved config names classes by name alone, so rename one of them.")
    _BUILTIN[name] = cls


def get_registered_name(obj: Any) -> str:
    """The name a config gives ``obj`` (a class or function): its registered name, else its ``__name__``."""
    return _NAMES.get(obj) or obj.__name__


# ---------------------------------------------------------------------------------------------- custom objects
@contextmanager
def custom_object_scope(*custom_objects: Mapping[str, Any] | None) -> Iterator[None]:
    """``with custom_object_scope({'MyLayer': MyLayer}):`` every ``deserialize`` (and ``from_config`` calling it)
    inside the block also resolves these names, before the registry. ``None`` entries are ignored."""
    merged: dict[str, Any] = {}
    for objects in custom_objects:
        if objects is None:
            continue
        if not isinstance(objects, Mapping):
            raise TypeError(f"custom_objects must be a dict of name -> class or function, e.g. "
                            f"{{'MyLayer': MyLayer}}; received {type(objects).__name__} {objects!r}.")
        merged.update(objects)
    stack = _scope_stack()
    stack.append(merged)
    try:
        yield
    finally:
        stack.pop()


def _scope_stack() -> list[dict[str, Any]]:
    if not hasattr(_SCOPES, "stack"):
        _SCOPES.stack = []
    return _SCOPES.stack


def _scoped_objects() -> dict[str, Any]:
    """The custom objects of every enclosing scope, an inner scope's entries winning."""
    merged: dict[str, Any] = {}
    for objects in _scope_stack():
        merged.update(objects)
    return merged


# ---------------------------------------------------------------------------------------------- lookup
def _sources(custom_objects: Mapping[str, Any] | None, module_objects: Mapping[str, Any] | None
             ) -> list[Mapping[str, Any]]:
    """Where names are looked up, in lookup order."""
    scoped = [custom_objects] if custom_objects else []
    scoped += list(reversed(_scope_stack()))
    return [*scoped, _REGISTERED, *([module_objects] if module_objects else []), _BUILTIN]


def _fits(obj: Any, base: type | None, function: bool) -> bool:
    if function:
        return callable(obj) and not inspect.isclass(obj)
    return inspect.isclass(obj) and (base is None or issubclass(obj, base))


def get_registered_object(name: str, custom_objects: Mapping[str, Any] | None = None,
                          module_objects: Mapping[str, Any] | None = None, *, base: type | None = None,
                          function: bool = False) -> Any:
    """The class (or, with ``function=True``, the function) a config's name stands for, or None; looked up in
    ``deserialize``'s order. With ``base`` only subclasses of it count."""
    for source in _sources(custom_objects, module_objects):
        obj = source.get(name)
        if obj is not None and _fits(obj, base, function):
            return obj
    return None


def _kind(base: type | None) -> str:
    """'layer', 'loss', 'metric' or 'optimizer' for error messages; '' for any other base."""
    for klass in inspect.getmro(base) if base is not None else ():
        if klass.__name__ in _KINDS:
            return _KINDS[klass.__name__]
    return ""


def _unknown(names: list[str], custom_objects: Mapping[str, Any] | None, module_objects: Mapping[str, Any] | None,
             base: type | None, function: bool) -> UnknownClassError:
    what = "function" if function else f"{_kind(base)} class".lstrip()
    shown = f"'{names[0]}'" if len(names) == 1 else f"'{names[0]}' (class '{names[1]}')"
    known = [key for source in _sources(custom_objects, module_objects) for key, obj in source.items()
             if _fits(obj, base, function)]
    close = closest_name(names[-1], known)
    suggestion = f" Did you mean '{close}'?" if close else ""
    example = names[-1].rsplit(">", 1)[-1]
    return UnknownClassError(
        f"Unknown {what} {shown}.{suggestion} It is not one of gated's own, not registered with "
        f"gated.saving.register_serializable() and not in custom_objects. Pass custom_objects={{'{example}': "
        f"{example}}} (to gated.load_model, or around the call with gated.saving.custom_object_scope), or decorate "
        f"it with @gated.saving.register_serializable() in code that runs before loading."
    )


# ---------------------------------------------------------------------------------------------- the pair
def serialize(obj: Any) -> dict[str, Any]:
    """``{"class_name": ..., "config": obj.get_config()}`` (plus ``"registered_name"`` when the class was
    registered under another name); a registered function gives ``{"class_name": "function", "config": name}``."""
    if inspect.isfunction(obj) or (callable(obj) and not hasattr(obj, "get_config") and obj in _NAMES):
        if obj not in _NAMES:
            raise ValueError(f"Function {getattr(obj, '__qualname__', obj)!r} cannot be saved by name: register it "
                             "with @gated.saving.register_serializable() (and load it where that code has run).")
        return {"class_name": "function", "config": _NAMES[obj]}
    if inspect.isclass(obj) or not hasattr(obj, "get_config"):
        raise TypeError(f"serialize() takes an object with get_config() (a layer, model, loss, metric, optimizer) "
                        f"or a registered function; received {type(obj).__name__} {obj!r}.")
    klass = type(obj)
    spec: dict[str, Any] = {"class_name": klass.__name__, "config": obj.get_config()}
    registered = _NAMES.get(klass)
    if registered is not None and registered != klass.__name__:
        spec["registered_name"] = registered
    return spec


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None, *,
                module_objects: Mapping[str, Any] | None = None, base: type | None = None) -> Any:
    """The object ``serialize`` described: its class looked up by name (see the module docstring for the order),
    then ``cls.from_config(config["config"])``; ``custom_objects`` stays in scope for the nested configs that
    ``from_config`` deserializes, and is passed on to a ``from_config`` that takes it. An instance of ``base`` is
    returned as it is."""
    if base is not None and isinstance(config, base):
        return config
    if not (isinstance(config, dict) and isinstance(config.get("class_name"), str)):
        what = f"a {_kind(base) or base.__name__}" if base is not None else "an object"
        raise TypeError(f"Expected {what} config, a dict {{'class_name': ..., 'config': {{...}}}} as serialize() "
                        f"writes it, received {type(config).__name__} {config!r}.")
    function = config["class_name"] == "function"
    names = [config["config"]] if function else [config.get("registered_name"), config["class_name"]]
    names = [n for i, n in enumerate(names) if isinstance(n, str) and n not in names[:i]]
    if not names:
        raise TypeError(f"A serialized function names it by a string in 'config'; received {config!r}.")
    with custom_object_scope(custom_objects):
        found = None
        for name in names:
            found = get_registered_object(name, None, module_objects, base=base, function=function)
            if found is not None:
                break
        if found is None:
            raise _unknown(names, None, module_objects, base, function)
        if function:
            return found
        inner = config.get("config", {})
        if not isinstance(inner, dict):
            raise TypeError(f"The config of a '{names[-1]}' must be a dict of its arguments; received "
                            f"{type(inner).__name__} {inner!r}.")
        if _takes_custom_objects(found):
            return found.from_config(dict(inner), custom_objects=_scoped_objects())
        return found.from_config(dict(inner))


def _takes_custom_objects(cls: type) -> bool:
    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------- questions
def is_serialized(value: Any) -> bool:
    """Whether ``value`` is what ``serialize`` writes (and not, say, a dict keyed by output name)."""
    return (isinstance(value, dict) and isinstance(value.get("class_name"), str)
            and set(value) <= _SERIALIZED_KEYS)


def loads_by_name(obj: Any) -> bool:
    """Whether a loader finds ``obj``'s class (or ``obj``, a function) by the name ``serialize`` gives it, without
    custom_objects: it is registered, or is one of gated's own layers and models."""
    target = obj if (inspect.isfunction(obj) or inspect.isclass(obj)) else type(obj)
    name = _NAMES.get(target) or getattr(target, "__name__", None)
    return name is not None and (_REGISTERED.get(name) is target or _BUILTIN.get(name) is target)
