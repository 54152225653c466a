"""The UCR/UEA ``.ts`` text format (sktime's): header lines starting with '@', then one series per line.

A data line holds the series' dimensions (channels) separated by ':', each a comma-separated list of values
('?' for a missing value), then, where the header says ``@classLabel true`` or ``@targetLabel true``, the label.
With ``@timeStamps true`` every value is written ``(timestamp,value)``. Lines starting with '#' (or '%', as some
archive files write them) are comments.
"""

from __future__ import annotations

import os
import re
from typing import Sequence

import numpy as np

from ._containers import SequenceData
from ._files import FileFormatError, display_name, lines, open_text, parse_float
from ._labels import encode_labels

_BOOLEAN_TAGS = {"timestamps": "timeStamps", "missing": "missing", "univariate": "univariate",
                 "equallength": "equalLength"}
_INTEGER_TAGS = {"dimensions": "dimensions", "serieslength": "seriesLength"}
_TIMESTAMPED = re.compile(r"\(([^(),]*),([^(),]*)\)")


class _Header:
    def __init__(self, name: str):
        self.file = name
        self.raw: dict[str, str] = {}
        self.flags: dict[str, bool] = {}
        self.numbers: dict[str, int] = {}
        self.class_label = False
        self.declared: tuple[str, ...] | None = None
        self.target_label = False

    def read(self, number: int, line: str) -> None:
        tag, _, rest = line[1:].partition(" ")
        key, rest = tag.lower(), rest.strip()
        if key in self.raw:
            raise FileFormatError(self.file, number, f"@{tag} appears twice in the header")
        self.raw[key] = rest
        if key in _BOOLEAN_TAGS:
            self.flags[key] = self._boolean(number, tag, rest)
        elif key in _INTEGER_TAGS:
            if not rest.isdigit() or int(rest) < 1:
                raise FileFormatError(self.file, number, f"@{tag} expects a positive integer, found {rest!r}")
            self.numbers[key] = int(rest)
        elif key == "classlabel":
            flag, *labels = rest.split() or [""]
            self.class_label = self._boolean(number, tag, flag)
            if labels and not self.class_label:
                raise FileFormatError(self.file, number, "@classLabel false cannot list labels")
            if labels:
                if len(set(labels)) != len(labels):
                    raise FileFormatError(self.file, number, f"@classLabel lists a label twice: {labels}")
                self.declared = tuple(labels)
        elif key == "targetlabel":
            self.target_label = self._boolean(number, tag, rest)
        # @problemName and tags this reader does not know are kept in ``raw`` (SequenceData.metadata).

    def _boolean(self, number: int, tag: str, text: str) -> bool:
        if text.lower() not in ("true", "false"):
            raise FileFormatError(self.file, number, f"@{tag} expects true or false, found {text!r}")
        return text.lower() == "true"

    def check(self, number: int) -> None:
        if self.class_label and self.target_label:
            raise FileFormatError(self.file, number, "the header says both @classLabel true and @targetLabel true")
        dims = self.numbers.get("dimensions")
        if self.flags.get("univariate") and dims not in (None, 1):
            raise FileFormatError(self.file, number, f"the header says @univariate true but @dimensions {dims}")

    @property
    def labelled(self) -> bool:
        return self.class_label or self.target_label


def _split_fields(line: str, timestamped: bool) -> list[str]:
    if not timestamped:
        return line.split(":")
    fields, depth, start = [], 0, 0  # timestamps such as '2007-01-01 00:00:00' contain ':' inside parentheses
    for i, char in enumerate(line):
        depth += (char == "(") - (char == ")")
        if char == ":" and depth == 0:
            fields.append(line[start:i])
            start = i + 1
    fields.append(line[start:])
    return fields


def _parse_values(text: str, where: str, header: _Header, name: str, number: int) -> np.ndarray:
    text = text.strip()
    if not text:
        raise FileFormatError(name, number, f"{where} is empty")
    cells = text.split(",")
    try:
        return np.array([parse_float(cell) for cell in cells], dtype=np.float64)
    except ValueError:
        pass
    values = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        cell = cell.strip()
        if cell == "?":
            if header.flags.get("missing") is False:
                raise FileFormatError(name, number, f"{where}, value {i + 1} is missing ('?') but the header says "
                                                    f"@missing false; change the header to @missing true")
            values[i] = np.nan
            continue
        try:
            values[i] = parse_float(cell)
        except ValueError:
            problem = "is empty" if not cell else f"{cell!r} is not a number"
            raise FileFormatError(name, number, f"{where}, value {i + 1}: {problem}") from None
    return values


def _parse_timestamped(text: str, where: str, header: _Header, name: str, number: int):
    text = text.strip()
    pairs = _TIMESTAMPED.findall(text)
    if not pairs or ",".join(f"({t},{v})" for t, v in pairs) != text:
        raise FileFormatError(name, number, f"{where} is not a list of (timestamp,value) pairs, as "
                                            f"@timeStamps true requires")
    stamps = np.array([t.strip() for t, _ in pairs])
    values = _parse_values(",".join(v for _, v in pairs), where, header, name, number)
    return stamps, values


def read_ts(path: str | os.PathLike, *, padded: bool = True, maxlen: int | None = None, pad_value: float = 0.0,
            class_names: Sequence[str] | None = None, dtype: str | np.dtype = "float32") -> SequenceData:
    """Read a UCR/UEA ``.ts`` file (also ``.ts.gz``/``.ts.xz``/``.ts.bz2``) into ``(x, y)``.

    ``x`` is (N, T, C): series on the first axis, time on the second, the file's dimensions as channels last, as
    recurrent layers take them. Series shorter than T = ``maxlen`` (default: the longest) are padded at the end
    with ``pad_value``; ``lengths`` holds the real lengths, so ``Masking(mask_value=pad_value)`` or a mask built
    from ``lengths`` hides the padding. A series longer than ``maxlen`` is an error, never cut silently.
    ``padded=False`` gives x as a list of (T_i, C) arrays instead. Missing values ('?') become NaN.

    ``y`` holds int64 class ids for ``@classLabel true`` (classes in the order the header lists them, else sorted,
    numerically where all labels are numbers), float64 targets for ``@targetLabel true``, else None.
    Pass the training file's ``class_names`` when reading its test file so both use the same ids.

    Every header tag is checked against the data (``@dimensions``, ``@univariate``, ``@equalLength``,
    ``@seriesLength``, ``@missing``, declared labels). A malformed file raises ``FileFormatError`` (a ValueError)
    naming the file, the line and the problem.

    Returns a ``SequenceData``: unpacks as ``x, y``; also has ``lengths``, ``class_names``, ``name``
    (@problemName), ``timestamps`` (for @timeStamps true), ``metadata`` (the header).
    """
    name = display_name(path)
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1):
        raise ValueError(f"read_ts: maxlen must be a positive int or None; received {maxlen!r}.")
    header = _Header(name)
    series: list[np.ndarray] = []
    stamps: list[np.ndarray] = []
    labels: list[str] = []
    line_numbers: list[int] = []
    in_data = False
    expected_dims, dims_origin = None, ""
    last = 0
    with open_text(path) as handle:
        for number, raw in lines(handle, name):
            last = number
            line = raw.strip()
            if not line or line.startswith(("#", "%")):
                continue
            if line.startswith("@"):
                if in_data:
                    raise FileFormatError(name, number, f"header line {line.split()[0]!r} after @data")
                if line[1:].lower().split(" ")[0] == "data":
                    header.check(number)
                    in_data = True
                    expected_dims = header.numbers.get("dimensions") or (1 if header.flags.get("univariate") else None)
                    dims_origin = " (the header's @dimensions)" if "dimensions" in header.numbers else (
                        " (the header says @univariate true)" if expected_dims else "")
                    continue
                header.read(number, line)
                continue
            if not in_data:
                raise FileFormatError(name, number, "data before the @data line; a .ts file lists its header tags, "
                                                    "then @data, then one series per line")
            timestamped = header.flags.get("timestamps", False)
            fields = _split_fields(line, timestamped)
            if header.labelled:
                if len(fields) < 2:
                    raise FileFormatError(name, number, "expected the values, then ':' and the label, found no ':' "
                                                        "(is the line cut short?)")
                label = fields.pop().strip()
                if not label:
                    raise FileFormatError(name, number, "the label after the last ':' is empty")
                if header.target_label:
                    try:
                        parse_float(label)
                    except ValueError:
                        raise FileFormatError(name, number, f"target {label!r} is not a number "
                                                            f"(@targetLabel true)") from None
                labels.append(label)
            if expected_dims is None:
                expected_dims, dims_origin = len(fields), f" (as the first series, line {number})"
            if len(fields) != expected_dims:
                hint = ""
                if not header.labelled and len(fields) == expected_dims + 1:
                    hint = "; if the last field is a class label, declare it in the header: @classLabel true"
                plural = "dimension" if expected_dims == 1 else "dimensions"
                raise FileFormatError(name, number, f"expected {expected_dims} {plural} separated by ':', found "
                                                    f"{len(fields)}{dims_origin}{hint}")
            channels, series_stamps = [], None
            for d, text in enumerate(fields):
                where = f"dimension {d + 1}"
                if timestamped:
                    times, values = _parse_timestamped(text, where, header, name, number)
                    if series_stamps is None:
                        series_stamps = times
                    elif not np.array_equal(times, series_stamps):
                        raise FileFormatError(name, number, f"{where} has other timestamps than dimension 1; "
                                                            f"gated needs one time axis per series")
                else:
                    values = _parse_values(text, where, header, name, number)
                channels.append(values)
            lengths = {len(values) for values in channels}
            if len(lengths) > 1:
                found = tuple(len(values) for values in channels)
                raise FileFormatError(name, number, f"the dimensions have different lengths {found}; gated needs "
                                                    f"one length per series")
            length = lengths.pop()
            expected = None
            if header.flags.get("equallength"):
                expected = header.numbers.get("serieslength") or (len(series[0]) if series else None)
            if expected is not None and length != expected:
                origin = "@seriesLength" if "serieslength" in header.numbers else f"line {line_numbers[0]}'s length"
                raise FileFormatError(name, number, f"expected {expected} values per dimension ({origin}, "
                                                    f"@equalLength true), found {length}")
            if maxlen is not None and length > maxlen:
                raise FileFormatError(name, number, f"the series has {length} timesteps, more than maxlen={maxlen};"
                                                    f" series are never cut: pass a larger maxlen, or None")
            series.append(np.stack(channels, axis=-1))  # (T_i, C)
            if timestamped:
                stamps.append(series_stamps)
            line_numbers.append(number)
    if not in_data:
        raise FileFormatError(name, last, "no @data line: the file ends inside the header (is it cut short, or "
                                          "not a .ts file?)")
    if not series:
        raise FileFormatError(name, last, "no series after @data")

    if header.class_label:
        y, names = encode_labels(labels, line_numbers, name, class_names, header.declared,
                                 "the labels declared by @classLabel")
    elif header.target_label:
        y, names = np.array([float(label) for label in labels], dtype=np.float64), None
        if class_names is not None:
            raise ValueError(f"read_ts: {name} holds regression targets (@targetLabel true); class_names applies "
                             f"to class labels only.")
    else:
        y, names = None, None
    lengths_array = np.array([len(s) for s in series], dtype=np.int64)
    if padded:
        steps = maxlen or int(lengths_array.max())
        x = np.full((len(series), steps, expected_dims), pad_value, dtype=dtype)  # (N, T, C)
        for i, s in enumerate(series):
            x[i, :len(s)] = s
    else:
        x = [s.astype(dtype) for s in series]
    return SequenceData(x, y, lengths=lengths_array, class_names=names, name=header.raw.get("problemname") or name,
                        source=name, pad_value=pad_value, timestamps=stamps if stamps else None,
                        metadata=header.raw)
