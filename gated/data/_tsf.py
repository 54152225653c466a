"""The Monash forecasting archive's ``.tsf`` text format.

Header lines start with ``@``: ``@relation``, ``@attribute NAME TYPE`` (string, numeric or date, one per
attribute), ``@frequency``, ``@horizon``, ``@missing`` and ``@equallength`` (true/false), then ``@data``; each
later line is one series, ``attr1:attr2:...:v1,v2,...`` (the attributes in the order declared, then the values,
``?`` for a missing one). Lines starting with ``#`` and blank lines are skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ._files import FileFormatError, display_name, lines, open_text, parse_float

_TYPES = ("string", "numeric", "date")


@dataclass
class TsfData:
    """What a ``.tsf`` file holds: ``series`` a list of float64 arrays (NaN where missing), oldest value first."""

    series: list[np.ndarray]
    names: list[str]
    attributes: dict[str, list[str]] = field(default_factory=dict)
    frequency: str | None = None
    horizon: int | None = None
    missing: bool = False
    equal_length: bool = False


def _flag(value: str, name: str, number: int, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise FileFormatError(name, number, f"@{key} must be true or false; found {value!r}")
    return lowered == "true"


def read_tsf(path: str | os.PathLike) -> TsfData:
    """Read a Monash ``.tsf`` file; a malformed one raises ``FileFormatError`` naming the line."""
    name = display_name(path)
    attributes: list[tuple[str, str]] = []
    values: dict[str, list[str]] = {}
    series: list[np.ndarray] = []
    frequency = horizon = None
    missing = equal_length = in_data = False
    with open_text(path) as handle:
        for number, line in lines(handle, name):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if not in_data:
                if not text.startswith("@"):
                    raise FileFormatError(name, number, f"expected a header line starting with '@' before @data; "
                                                        f"found {text[:40]!r}")
                key, _, rest = text[1:].partition(" ")
                key, rest = key.lower(), rest.strip()
                if key == "attribute":
                    parts = rest.split()
                    if len(parts) != 2 or parts[1].lower() not in _TYPES:
                        raise FileFormatError(name, number, "@attribute needs a name and a type (string, numeric "
                                                            f"or date); found {rest!r}")
                    attributes.append((parts[0], parts[1].lower()))
                    values[parts[0]] = []
                elif key == "frequency":
                    frequency = rest.lower() or None
                elif key == "horizon":
                    try:
                        horizon = int(rest)
                    except ValueError:
                        raise FileFormatError(name, number, f"@horizon must be a whole number; found {rest!r}") from None
                elif key == "missing":
                    missing = _flag(rest, name, number, key)
                elif key == "equallength":
                    equal_length = _flag(rest, name, number, key)
                elif key == "data":
                    in_data = True
                elif key != "relation":
                    raise FileFormatError(name, number, f"unknown header line @{key}; expected @relation, "
                                                        "@attribute, @frequency, @horizon, @missing, @equallength "
                                                        "or @data")
                continue
            cells = text.split(":")
            if len(cells) != len(attributes) + 1:
                raise FileFormatError(name, number, f"expected {len(attributes)} attribute(s) and the values "
                                                    f"separated by ':' ({len(attributes) + 1} fields); found "
                                                    f"{len(cells)}")
            for (attribute, _), cell in zip(attributes, cells):
                values[attribute].append(cell)
            row = []
            for position, cell in enumerate(cells[-1].split(","), start=1):
                cell = cell.strip()
                if cell == "?":
                    if not missing:
                        raise FileFormatError(name, number, f"value {position} is missing ('?') but the header "
                                                            "says @missing false")
                    row.append(np.nan)
                    continue
                try:
                    row.append(parse_float(cell))
                except ValueError:
                    raise FileFormatError(name, number, f"value {position} ({cell!r}) is not a number") from None
            series.append(np.asarray(row, dtype=np.float64))
    if not in_data:
        raise FileFormatError(name, None, "no @data line: the file has a header but no series")
    if not series:
        raise FileFormatError(name, None, "no series after @data")
    if equal_length and len({len(s) for s in series}) > 1:
        raise FileFormatError(name, None, f"@equallength true but the series have {len({len(s) for s in series})} "
                                          "different lengths")
    first = next((a for a, kind in attributes if kind == "string"), None)
    names = list(values[first]) if first else [f"T{i + 1}" for i in range(len(series))]
    return TsfData(series, names, values, frequency, horizon, missing, equal_length)
