"""What the readers and datasets return: plain tuples that also carry what the file said about their contents.

``SequenceData`` is the 2-tuple ``(x, y)`` and ``TimeSeries`` the 2-tuple ``(timestamps, values)``, so Keras-style
unpacking works unchanged (``x, y = read_ts(path)``); the extra facts (class names, lengths, column names, ...)
are attributes, in the way scipy's result tuples carry more than they unpack to.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _describe(array: Any) -> str:
    if array is None:
        return "None"
    if isinstance(array, np.ndarray):
        return f"{array.dtype} {tuple(array.shape)}"
    return f"list of {len(array)} arrays"


def _rebuild(cls, items, attributes):
    return cls(*items, **attributes)


class SequenceData(tuple):
    """``(x, y)`` for sequence classification or regression, with attributes describing them.

    - ``x``: float array (N, T, C) padded at the end ('post') with ``pad_value`` where a series is shorter than T,
      or (``padded=False``) a list of N arrays (T_i, C).
    - ``y``: (N,) int64 class ids 0..K-1 (``class_names[k]`` is class k's label as written in the file),
      float64 regression targets, or None for unlabeled data.
    - ``lengths``: (N,) int64 number of real timesteps of each series.
    - ``class_names``: tuple of K label strings, or None.
    - ``name``: the problem or file name; ``source``: the file read.
    - ``pad_value``: what fills the padded timesteps (``Masking(mask_value=pad_value)`` skips them).
    - ``timestamps``: for ``.ts`` files with ``@timeStamps true``, a list of N string arrays (T_i,); else None.
    - ``metadata``: everything else the file declared (the ``.ts`` header as a dict of strings).
    """

    def __new__(cls, x: Any, y: Any, *, lengths: np.ndarray, class_names: tuple[str, ...] | None = None,
                name: str | None = None, source: str | None = None, pad_value: float = 0.0,
                timestamps: list[np.ndarray] | None = None, metadata: dict[str, str] | None = None):
        self = super().__new__(cls, (x, y))
        self.lengths = lengths
        self.class_names = class_names
        self.name = name
        self.source = source
        self.pad_value = pad_value
        self.timestamps = timestamps
        self.metadata = dict(metadata or {})
        return self

    @property
    def x(self) -> Any:
        return self[0]

    @property
    def y(self) -> Any:
        return self[1]

    @property
    def num_classes(self) -> int | None:
        return None if self.class_names is None else len(self.class_names)

    def __reduce__(self):
        return _rebuild, (type(self), tuple(self), dict(self.__dict__))

    def __repr__(self) -> str:
        classes = "" if self.class_names is None else f", classes={len(self.class_names)}"
        return (f"SequenceData(name={self.name!r}, x: {_describe(self.x)}, y: {_describe(self.y)}"
                f", lengths {int(self.lengths.min()) if len(self.lengths) else 0}.."
                f"{int(self.lengths.max()) if len(self.lengths) else 0}{classes})")


class TimeSeries(tuple):
    """``(timestamps, values)`` of one time series (one or more channels), with attributes describing them.

    - ``timestamps``: (T,) increasing: datetime64, int64 or float64 as the file's time column reads, or the int64
      positions 0..T-1 where the file has no time column.
    - ``values``: float64 (T,) for one value column, (T, C) for several; missing values are NaN (see
      ``gated.data.fill_missing``: nothing is filled without being asked).
    - ``columns``: tuple of the value columns' names; ``name``: the series' name; ``source``: the file read.
    """

    def __new__(cls, timestamps: np.ndarray, values: np.ndarray, *, columns: tuple[str, ...] = (),
                name: str | None = None, source: str | None = None):
        self = super().__new__(cls, (timestamps, values))
        self.columns = tuple(columns)
        self.name = name
        self.source = source
        return self

    @property
    def timestamps(self) -> np.ndarray:
        return self[0]

    @property
    def values(self) -> np.ndarray:
        return self[1]

    def __reduce__(self):
        return _rebuild, (type(self), tuple(self), dict(self.__dict__))

    def __repr__(self) -> str:
        missing = int(np.isnan(self.values).sum())
        span = f"{self.timestamps[0]}..{self.timestamps[-1]}" if len(self.timestamps) else "empty"
        return (f"TimeSeries(name={self.name!r}, {span}, values: {_describe(self.values)}, "
                f"columns={self.columns}, missing={missing})")
