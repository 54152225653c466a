"""CSV readers: a table with one series per row (plus a label column), and a long table of one time series."""

from __future__ import annotations

import csv
import datetime
import os
import re
from typing import Sequence

import numpy as np

from ._containers import SequenceData, TimeSeries
from ._files import FileFormatError, display_name, is_missing, lines, open_text, parse_float, stem_suffix
from ._labels import encode_labels

_INTEGER = re.compile(r"[+-]?\d+")
_QUARTER = re.compile(r"(\d{4})\s*-?\s*Q([1-4])", re.IGNORECASE)


def _rows(path: str | os.PathLike, name: str, delimiter: str | None) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row. The delimiter defaults to a tab for .tsv/.tab, else ','."""
    if delimiter is None:
        delimiter = "\t" if stem_suffix(path) in (".tsv", ".tab") else ","
    rows = []
    with open_text(path) as handle:
        numbered = lines(handle, name)
        reader = csv.reader((line for _, line in numbered), delimiter=delimiter, strict=True)
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((reader.line_num, row))
        except csv.Error as error:
            raise FileFormatError(name, reader.line_num + 1, f"not valid CSV ({error})") from None
    if not rows:
        raise FileFormatError(name, None, "the file has no rows")
    return rows


def _number(cell: str) -> float | None:
    """The cell's value, NaN for a missing cell, None when it is not a number."""
    if is_missing(cell):
        return np.nan
    try:
        return parse_float(cell)
    except ValueError:
        return None


def _has_header(first: list[str], skip: set[int]) -> bool:
    return any(_number(cell) is None for i, cell in enumerate(first) if i not in skip)


def _column_index(column: int | str, names: list[str] | None, width: int, name: str, what: str) -> int:
    if isinstance(column, str):
        if names is None:
            raise ValueError(f"{name}: {what}={column!r} names a column, but the file has no header row; pass the "
                             f"column's position (0-based) instead, or header=True if the first row is a header.")
        stripped = [cell.strip() for cell in names]
        if column not in stripped:
            raise ValueError(f"{name}: {what}={column!r} is not a column of the file; its columns are "
                             f"{tuple(stripped)}.")
        return stripped.index(column)
    if isinstance(column, bool) or not isinstance(column, (int, np.integer)):
        raise TypeError(f"{what} must be a column name (str) or position (int); received {column!r}.")
    if not -width <= column < width:
        raise ValueError(f"{name}: {what}={column} is out of range for rows of {width} columns.")
    return int(column) % width


def _describe_column(index: int, names: list[str] | None) -> str:
    return f"column {index + 1} ({names[index].strip()!r})" if names else f"column {index + 1}"


def _decide_header(header: bool | None, rows, skip: set[int], named: bool, name: str) -> list[str] | None:
    if header is None:
        header = named or _has_header(rows[0][1], skip)
    if header:
        if len(rows) < 2:
            raise FileFormatError(name, rows[0][0], "the file has a header row and no data")
        return rows.pop(0)[1]
    return None


def read_csv_table(path: str | os.PathLike, *, label_column: int | str | None = 0, header: bool | None = None,
                   class_names: Sequence[str] | None = None, delimiter: str | None = None, padded: bool = True,
                   pad_value: float = 0.0, dtype: str | np.dtype = "float32") -> SequenceData:
    """Read a table with one univariate series per row into ``(x, y)``: x (N, T, 1), y (N,) int64 class ids.

    ``label_column`` (a 0-based position, negative counting from the end, or a header name; None for unlabeled
    data) holds the class labels, strings or numbers: classes are numbered in sorted order (numerically when all
    labels are numbers), or in the order of ``class_names`` when given (pass the training file's
    ``class_names`` when reading its test file). Every other cell is a value, left to right in time.
    The default, label first, reads the UCR archive's ``.tsv`` files.

    Empty cells and '?', 'NaN', 'NA', 'N/A', 'null' are missing values. Missing cells at the END of a row make
    that series shorter (the UCR archive pads variable-length series that way): ``lengths`` holds each row's
    length, x is padded at the end with ``pad_value`` (or, ``padded=False``, a list of (T_i, 1) arrays).
    Missing cells inside a series stay NaN: use ``gated.data.fill_missing`` to choose what to do with them.

    ``header=None`` treats the first row as a header when one of its value cells is not a number.
    The delimiter defaults to a tab for ``.tsv``/``.tab`` files and ',' otherwise; ``.gz``/``.xz``/``.bz2`` files
    are decompressed. A malformed file raises ``FileFormatError`` naming the file, line and problem.
    """
    name = display_name(path)
    rows = _rows(path, name, delimiter)
    first_width = len(rows[0][1])
    skip = set()
    if isinstance(label_column, (int, np.integer)) and not isinstance(label_column, bool):
        skip = {int(label_column) % first_width} if -first_width <= label_column < first_width else set()
    names = _decide_header(header, rows, skip, isinstance(label_column, str), name)
    width = len(names) if names is not None else max(len(row) for _, row in rows)
    label_index = None if label_column is None else _column_index(label_column, names, width, name, "label_column")

    series, labels, line_numbers = [], [], []
    for number, row in rows:
        if names is not None and len(row) > len(names):
            raise FileFormatError(name, number, f"{len(row)} cells, more than the header's {len(names)}")
        if label_index is not None:
            if label_index >= len(row) or not row[label_index].strip():
                raise FileFormatError(name, number, f"no label in {_describe_column(label_index, names)}")
            labels.append(row[label_index].strip())
        values = []
        for i, cell in enumerate(row):
            if i == label_index:
                continue
            value = _number(cell)
            if value is None:
                raise FileFormatError(name, number, f"{_describe_column(i, names)}: {cell.strip()!r} is not a "
                                                    f"number")
            values.append(value)
        values = np.array(values, dtype=np.float64)
        present = np.flatnonzero(~np.isnan(values))
        if len(present) == 0:
            raise FileFormatError(name, number, "the row has no values")
        series.append(values[:present[-1] + 1, None])  # (T_i, 1): trailing missing cells end a shorter series
        line_numbers.append(number)

    if label_index is None:
        y, found_names = None, None
        if class_names is not None:
            raise ValueError(f"read_csv_table: class_names was passed for {name} but label_column is None.")
    else:
        y, found_names = encode_labels(labels, line_numbers, name, class_names)
    lengths = np.array([len(s) for s in series], dtype=np.int64)
    if padded:
        x = np.full((len(series), int(lengths.max()), 1), pad_value, dtype=dtype)  # (N, T, 1)
        for i, s in enumerate(series):
            x[i, :len(s)] = s
    else:
        x = [s.astype(dtype) for s in series]
    return SequenceData(x, y, lengths=lengths, class_names=found_names, name=os.path.basename(name), source=name,
                        pad_value=pad_value)


def _parse_times(cells: list[str], numbers: list[int], time_format: str | None, name: str,
                 column: str) -> np.ndarray:
    for cell, number in zip(cells, numbers):
        if not cell:
            raise FileFormatError(name, number, f"{column}: the time is empty")
    if time_format is not None:
        parsed = []
        for cell, number in zip(cells, numbers):
            try:
                parsed.append(datetime.datetime.strptime(cell, time_format))
            except ValueError as error:
                raise FileFormatError(name, number, f"{column}: {cell!r} does not match time_format="
                                                    f"{time_format!r} ({error})") from None
        unit = "D" if all(t.time() == datetime.time() for t in parsed) else "us"
        return np.array(parsed, dtype=f"datetime64[{unit}]")
    if all(_INTEGER.fullmatch(cell) for cell in cells):
        return np.array([int(cell) for cell in cells], dtype=np.int64)
    if all(_QUARTER.fullmatch(cell) for cell in cells):  # '1970 Q1', '1970-Q1': the quarter's first day
        months = [f"{m.group(1)}-{3 * int(m.group(2)) - 2:02d}" for m in map(_QUARTER.fullmatch, cells)]
        return np.array(months, dtype="datetime64[M]").astype("datetime64[D]")
    if all(_number(cell) is not None for cell in cells):
        return np.array([parse_float(cell) for cell in cells], dtype=np.float64)
    parsed = []
    for cell, number in zip(cells, numbers):
        try:
            parsed.append(np.datetime64(cell.replace(" ", "T", 1)))
        except ValueError:
            raise FileFormatError(name, number, f"{column}: {cell!r} is neither a number nor an ISO 8601 time "
                                                f"(YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS); pass time_format, e.g. "
                                                f"time_format='%d/%m/%Y'") from None
    return np.array(parsed, dtype="datetime64")


def _check_increasing(timestamps: np.ndarray, cells: list[str], numbers: list[int], name: str, what: str) -> None:
    """Raise ``FileFormatError`` at the first time that does not come after the one before it."""
    steps = np.diff(timestamps)
    bad = np.flatnonzero(~(steps > np.zeros((), steps.dtype)))
    if len(bad):
        k = int(bad[0])
        raise FileFormatError(name, numbers[k + 1], f"{what}: the time {cells[k + 1]!r} does not come after "
                                                    f"{cells[k]!r} (line {numbers[k]}); times must increase: "
                                                    f"sort the rows by time and remove duplicates")


def read_csv_series(path: str | os.PathLike, *, time_column: int | str | None = 0,
                    value_columns: int | str | Sequence[int | str] | None = None, header: bool | None = None,
                    time_format: str | None = None, delimiter: str | None = None) -> TimeSeries:
    """Read a long table (one row per time step) into ``(timestamps, values)``.

    ``time_column`` (a 0-based position or a header name; None when the file has none) holds the times: integers
    (years, ...) give int64, other numbers float64, ISO 8601 dates and times and quarters ('1970 Q1') datetime64, and ``time_format``
    (``datetime.strptime`` codes, e.g. '%Y%m%d') reads any other layout as datetime64. Times must increase from
    row to row. Without a time column the timestamps are the positions 0..T-1.

    ``value_columns`` (position, name, or a list of them; default every other column) are read as float64:
    one column gives values of shape (T,), several (T, C) in the order given. Empty cells and '?', 'NaN', 'NA',
    'N/A', 'null' become NaN and are never filled here: see ``gated.data.fill_missing``.

    ``header=None`` treats the first row as a header when one of its value cells is not a number (a column
    named by a string needs a header). The delimiter defaults to a tab for ``.tsv``/``.tab`` files and ','
    otherwise. A malformed file raises ``FileFormatError`` naming the file, line and problem.
    """
    name = display_name(path)
    rows = _rows(path, name, delimiter)
    width = len(rows[0][1])
    wanted = value_columns if isinstance(value_columns, (list, tuple)) else (
        [] if value_columns is None else [value_columns])
    named = isinstance(time_column, str) or any(isinstance(column, str) for column in wanted)
    skip = set()
    positional = isinstance(time_column, (int, np.integer)) and not isinstance(time_column, bool)
    if positional and -width <= time_column < width:
        skip = {int(time_column) % width}
    if header is False and named:
        raise ValueError(f"{name}: columns are named ({time_column!r}, {value_columns!r}) but header=False; "
                         f"name them by position (0-based) instead.")
    names = _decide_header(header, rows, skip, named, name)
    time_index = None if time_column is None else _column_index(time_column, names, width, name, "time_column")
    if value_columns is None:
        value_indices = [i for i in range(width) if i != time_index]
    else:
        value_indices = [_column_index(column, names, width, name, "value_columns") for column in wanted]
    if not value_indices:
        raise ValueError(f"{name}: no value columns: the file has only the time column.")
    if time_index in value_indices:
        raise ValueError(f"{name}: the time column {_describe_column(time_index, names)} is also a value column.")

    times, numbers = [], []
    values = np.empty((len(rows), len(value_indices)), dtype=np.float64)  # (T, C)
    for r, (number, row) in enumerate(rows):
        if len(row) != width:
            raise FileFormatError(name, number, f"expected {width} cells (as the first row), found {len(row)}")
        for c, i in enumerate(value_indices):
            value = _number(row[i])
            if value is None:
                raise FileFormatError(name, number, f"{_describe_column(i, names)}: {row[i].strip()!r} is not a "
                                                    f"number")
            values[r, c] = value
        if time_index is not None:
            times.append(row[time_index].strip())
        numbers.append(number)

    if time_index is None:
        timestamps = np.arange(len(rows), dtype=np.int64)
    else:
        column = _describe_column(time_index, names)
        timestamps = _parse_times(times, numbers, time_format, name, column)
        _check_increasing(timestamps, times, numbers, name, column)
    columns = tuple(names[i].strip() for i in value_indices) if names else tuple(f"column {i + 1}"
                                                                                 for i in value_indices)
    return TimeSeries(timestamps, values[:, 0] if len(value_indices) == 1 else values, columns=columns,
                      name=columns[0] if len(columns) == 1 else os.path.basename(name), source=name)
