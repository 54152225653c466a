"""Many series in one file, for global forecasting: a long-format CSV panel or a Monash ``.tsf`` file.

A long-format panel has one row per (series, time): an id column, a time column, the value column and, for
known-future covariates, more columns. Rows of a series need not be adjacent; within a series the times must
increase. A file without an id column is one series.

Each series' frequency is read from its times (or the ``.tsf`` header) and gives its season length and the
horizon the forecasting competitions use for it (``SEASONS``, ``HORIZONS``: M4 and the Monash archive).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ._csv import _check_increasing, _column_index, _decide_header, _number, _parse_times, _rows
from ._files import FileFormatError, display_name, stem_suffix
from ._tsf import read_tsf

SEASONS = {"yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 52, "daily": 7, "hourly": 24, "half_hourly": 48,
           "minutely": 60}
HORIZONS = {"yearly": 6, "quarterly": 8, "monthly": 18, "weekly": 13, "daily": 14, "hourly": 48, "half_hourly": 48,
            "minutely": 60}
_TSF_FREQUENCY = {"4_seconds": None, "10_minutes": "minutely", "30_minutes": "half_hourly"}


@dataclass
class Panel:
    """Series read from one file: ``values[i]`` float64 (T_i,) with NaN where missing, oldest first.

    ``timestamps[i]`` (T_i,) as the time column reads (positions where there is none); ``covariates[i]``
    (T_i, C) or None; ``frequency[i]`` a key of ``SEASONS`` or None when the times do not say.
    """

    names: list[str]
    values: list[np.ndarray]
    timestamps: list[np.ndarray]
    frequency: list[str | None]
    covariates: list[np.ndarray] | None = None
    covariate_names: tuple[str, ...] = ()
    horizon: int | None = None  # the file's own (a .tsf @horizon)
    source: str = ""

    def __len__(self) -> int:
        return len(self.values)

    def season(self, i: int) -> int | None:
        return SEASONS.get(self.frequency[i]) if self.frequency[i] else None


def infer_frequency(timestamps: np.ndarray) -> str | None:
    """'yearly', 'quarterly', 'monthly', 'weekly', 'daily', 'hourly', ... from the median gap between datetimes;
    integer times between 1000 and 3000 are years; None when the times do not say (positions, other numbers)."""
    t = np.asarray(timestamps)
    if len(t) < 2:
        return None
    if np.issubdtype(t.dtype, np.integer):
        return "yearly" if t.min() >= 1000 and t.max() <= 3000 and np.all(np.diff(t) == 1) else None
    if not np.issubdtype(t.dtype, np.datetime64):
        return None
    days = float(np.median(np.diff(t.astype("datetime64[s]")).astype(np.float64))) / 86400.0
    for name, low, high in (("yearly", 360, 370), ("quarterly", 88, 93), ("monthly", 27, 32), ("weekly", 6.5, 7.5),
                            ("daily", 0.95, 1.05), ("hourly", 1 / 24 * 0.95, 1 / 24 * 1.05),
                            ("half_hourly", 1 / 48 * 0.95, 1 / 48 * 1.05)):
        if low <= days <= high:
            return name
    return None


def read_panel(path: str | os.PathLike, *, id_column: int | str | None = None, time_column: int | str | None = 0,
               value_column: int | str | None = None, covariates: Sequence[int | str] = (),
               time_format: str | None = None, delimiter: str | None = None) -> Panel:
    """Read the series of ``path``: a ``.tsf`` file, or a CSV table (one series, or a panel with ``id_column``).

    ``value_column`` defaults to the one column left after the id, time and covariate columns (an error when
    more are left). Columns are 0-based positions or header names. A malformed file raises ``FileFormatError``
    naming the file, line and problem; nothing is filled or reordered silently.
    """
    name = display_name(path)
    if stem_suffix(path) == ".tsf":
        if id_column is not None or value_column is not None or covariates:
            raise ValueError(f"{name}: a .tsf file names its own series and values; --id-column, --column and "
                             "--covariates apply to CSV panels only.")
        return _from_tsf(path, name)
    rows = _rows(path, name, delimiter)
    width = len(rows[0][1])
    covariates = list(covariates)
    named = any(isinstance(c, str) for c in [id_column, time_column, value_column, *covariates])
    skip = {c % width for c in [id_column, time_column] if isinstance(c, int) and not isinstance(c, bool)
            and -width <= c < width}
    names = _decide_header(None, rows, skip, named, name)  # takes the header row out of rows

    def index(column, what):
        return None if column is None else _column_index(column, names, width, name, what)

    id_index, time_index = index(id_column, "id_column"), index(time_column, "time_column")
    cov_indices = [index(c, "covariates") for c in covariates]
    taken = {i for i in [id_index, time_index, *cov_indices] if i is not None}
    if value_column is None:
        left = [i for i in range(width) if i not in taken]
        if len(left) != 1:
            described = ", ".join(names[i].strip() if names else f"column {i}" for i in left) or "none"
            raise ValueError(f"{name}: which column holds the values? The columns left after the id, time and "
                             f"covariate columns are: {described}. Pass --column NAME (value_column=...).")
        value_index = left[0]
    else:
        value_index = index(value_column, "value_column")
    if value_index in taken:
        raise ValueError(f"{name}: the value column is also the id, time or a covariate column.")

    groups: dict[str, list[tuple[int, list[str]]]] = {}
    for number, row in rows:
        if len(row) != width:
            raise FileFormatError(name, number, f"expected {width} cells (as the first row), found {len(row)}")
        key = row[id_index].strip() if id_index is not None else os.path.basename(name)
        if id_index is not None and not key:
            raise FileFormatError(name, number, "the series id is empty")
        groups.setdefault(key, []).append((number, row))
    describe = (lambda i: names[i].strip()) if names else (lambda i: f"column {i}")
    panel = Panel([], [], [], [], [] if cov_indices else None, tuple(describe(i) for i in cov_indices), None, name)
    for key, members in groups.items():
        numbers = [n for n, _ in members]
        values = np.empty(len(members))
        cov = np.empty((len(members), len(cov_indices)))
        for r, (number, row) in enumerate(members):
            for target, column in [(None, value_index), *enumerate(cov_indices)]:
                value = _number(row[column])
                if value is None:
                    raise FileFormatError(name, number, f"{describe(column)}: {row[column].strip()!r} is not a "
                                                        "number")
                if target is None:
                    values[r] = value
                else:
                    cov[r, target] = value
        if time_index is None:
            times = np.arange(len(members), dtype=np.int64)
        else:
            cells = [row[time_index].strip() for _, row in members]
            times = _parse_times(cells, numbers, time_format, name, describe(time_index))
            _check_increasing(times, cells, numbers, name, f"series {key!r}, {describe(time_index)}")
        panel.names.append(key)
        panel.values.append(values)
        panel.timestamps.append(times)
        panel.frequency.append(infer_frequency(times))
        if panel.covariates is not None:
            panel.covariates.append(cov)
    return panel


def _from_tsf(path, name: str) -> Panel:
    data = read_tsf(path)
    frequency = data.frequency
    frequency = _TSF_FREQUENCY.get(frequency, frequency) if frequency else None
    if frequency not in SEASONS:
        frequency = None
    timestamps = [np.arange(len(values), dtype=np.int64) for values in data.series]  # positions
    return Panel(list(data.names), list(data.series), timestamps, [frequency] * len(data.series), None, (),
                 data.horizon, name)
