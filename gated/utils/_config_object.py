"""Keras's ``Config``: a dict of settings read as attributes or items, which ``freeze()`` makes read-only."""

from __future__ import annotations

import copy
import json
from typing import Any, Iterator

from ._naming import closest_name


class Config:
    """``config = Config(lr=0.1); config.units = 32; config["units"]``; ``freeze()`` refuses further changes."""

    def __init__(self, **kwargs: Any):
        object.__setattr__(self, "_values", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        object.__setattr__(self, "_frozen", False)

    def _check_writable(self) -> None:
        if self._frozen:
            raise ValueError("Cannot change a frozen Config; call config.unfreeze() first.")

    def as_dict(self) -> dict[str, Any]:
        return copy.copy(self._values)

    def to_json(self) -> str:
        return json.dumps(self._values)

    def keys(self):
        return self._values.keys()

    def values(self):
        return self._values.values()

    def items(self):
        return self._values.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def pop(self, *args: Any) -> Any:
        self._check_writable()
        return self._values.pop(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._check_writable()
        self._values.update(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        close = closest_name(name, values)
        hint = f" Did you mean '{close}'?" if close else ""
        raise AttributeError(f"Unknown attribute: '{name}'.{hint}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._check_writable()
        self._values[name] = value

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writable()
        self._values[key] = value

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        del self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<Config {self._values}>"
