"""Where the command line's data comes from: a built-in dataset name or a file (.ts, .csv, .npz)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import datasets as _datasets
from ..data import fill_missing, read_csv_series, read_csv_table, read_npz, read_ts

CLASSIFICATION = ("italy_power_demand", "japanese_vowels", "basic_motions")
SERIES = {"sunspots": ("sunspots", 11), "co2": ("co2", 52)}  # name -> (column, season)


@dataclass
class Labeled:
    x: np.ndarray
    y: np.ndarray | None
    class_names: tuple[str, ...] | None
    name: str
    lengths: np.ndarray | None = None  # each series' real length, as the file says (the rest is padding)


def _builtin_split(name: str, part: str) -> Labeled:
    module = getattr(_datasets, name)
    train, test = module.load_data()
    pair = train if part == "train" else test
    x, y = pair
    return Labeled(np.asarray(x), np.asarray(y), tuple(module.class_names), f"{name} ({part})",
                   np.asarray(pair.lengths, dtype=np.int64))


def load_labeled(source: str, part: str, class_names: tuple[str, ...] | None = None,
                 label_column: str | int = 0) -> Labeled:
    """Sequences and labels from a built-in name (its official ``part``) or a file.

    A .npz file that holds both splits (tslearn's ``X_train``/``y_train``/``X_test``/``y_test``) gives the
    ``part`` asked for; one with ``x``/``y`` gives those for either part.
    """
    if source in CLASSIFICATION:
        return _builtin_split(source, part)
    if not os.path.exists(source):
        known = ", ".join(CLASSIFICATION)
        raise ValueError(f"'{source}' is neither a file nor a built-in dataset ({known}).")
    lower = source.lower()
    if lower.endswith((".ts", ".ts.gz", ".ts.xz")):
        data = read_ts(source, class_names=class_names)
    elif lower.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        data = read_csv_table(source, label_column=label_column, class_names=class_names)
    elif lower.endswith(".npz"):
        data = read_npz(source, class_names=class_names, part=part)
    else:
        raise ValueError(f"Cannot tell the format of '{source}' from its name; use a .ts, .csv or .npz file.")
    x = np.asarray(data.x, dtype=np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    bad = ~np.isfinite(x)
    if bad.any():
        series, step, channel = (int(i) for i in np.argwhere(bad)[0])
        what = "missing (NaN)" if np.isnan(x[series, step, channel]) else f"infinite ({x[series, step, channel]})"
        raise ValueError(
            f"'{source}' has missing values inside series: {int(bad.sum())} value(s) missing or infinite, the "
            f"first {what} in series {series + 1}, step {step + 1}, channel {channel + 1} (counting from 1). Fill or "
            "drop them first (e.g. gated.data.fill_missing on each series), or remove those series."
        )
    lengths = getattr(data, "lengths", None)
    return Labeled(x, None if data.y is None else np.asarray(data.y), data.class_names, os.path.basename(source),
                   None if lengths is None else np.asarray(lengths, dtype=np.int64))


def align_lengths(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pad the shorter set at the end with zeros so both have the same number of timesteps."""
    steps = max(train.shape[1], test.shape[1])

    def pad(x: np.ndarray) -> np.ndarray:
        return x if x.shape[1] == steps else np.pad(x, ((0, 0), (0, steps - x.shape[1]), (0, 0)))

    return pad(train), pad(test)


@dataclass
class Series:
    timestamps: np.ndarray
    values: np.ndarray
    name: str
    season: int | None


def load_series(source: str, column: str | None, missing: str) -> Series:
    """A univariate series from a built-in name or a long CSV table (time column first)."""
    season = None
    if source in SERIES:
        timestamps, values = getattr(_datasets, source).load_data()
        season = SERIES[source][1]
        name = source
    else:
        if not os.path.exists(source):
            raise ValueError(f"'{source}' is neither a file nor a built-in series ({', '.join(SERIES)}).")
        data = read_csv_series(source, value_columns=column if column is not None else None)
        timestamps, values = data
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 2:
            if values.shape[1] != 1:
                raise ValueError(f"'{source}' has {values.shape[1]} value columns; pick one with --column NAME.")
            values = values[:, 0]
        name = os.path.basename(source)
    values = np.asarray(values, dtype=np.float64)
    # 'raise' (the default) stops with where the first gap is and the two choices; nothing is filled silently.
    timestamps, values = fill_missing(values, missing, timestamps=np.asarray(timestamps))
    return Series(np.asarray(timestamps), np.asarray(values, dtype=np.float64), name, season)


def describe_sources() -> str:
    return (f"built-in classification data: {', '.join(CLASSIFICATION)}; built-in series: {', '.join(SERIES)}")


def as_float_list(values: Any) -> list[float]:
    return [float(v) for v in np.asarray(values).ravel()]
