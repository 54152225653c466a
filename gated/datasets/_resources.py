"""The data files shipped inside the package (``gated/datasets/data/<folder>/``), read with the public readers.

Each dataset is parsed once per process; ``load_data`` hands out copies, so changing a returned array never
changes what the next call returns.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from ..data import SequenceData, TimeSeries, read_csv_series, read_ts


def read_shipped(folder: str, filename: str, reader, **options):
    """``reader(path, **options)`` on a shipped file (extracted to a temporary file if the package is zipped)."""
    with resources.as_file(resources.files(__package__) / "data" / folder / filename) as path:
        return reader(path, **options)


def shipped_text(folder: str, filename: str) -> str:
    return (resources.files(__package__) / "data" / folder / filename).read_text(encoding="utf-8")


def copy_sequences(data: SequenceData) -> SequenceData:
    x = data.x.copy() if isinstance(data.x, np.ndarray) else [s.copy() for s in data.x]
    return SequenceData(x, None if data.y is None else data.y.copy(), lengths=data.lengths.copy(),
                        class_names=data.class_names, name=data.name, source=data.source, pad_value=data.pad_value,
                        metadata=data.metadata)


def copy_series(data: TimeSeries) -> TimeSeries:
    return TimeSeries(data.timestamps.copy(), data.values.copy(), columns=data.columns, name=data.name,
                      source=data.source)


@functools.lru_cache(maxsize=None)
def _classification(problem: str, padded: bool, maxlen: int | None) -> tuple[SequenceData, SequenceData]:
    train = read_shipped(problem, f"{problem}_TRAIN.ts.xz", read_ts, padded=padded, maxlen=maxlen)
    test = read_shipped(problem, f"{problem}_TEST.ts.xz", read_ts, padded=padded, maxlen=maxlen,
                        class_names=train.class_names)
    return train, test


def load_classification(problem: str, *, padded: bool = True, maxlen: int | None = None):
    """((x_train, y_train), (x_test, y_test)) of a shipped UCR/UEA problem, official split, as SequenceData."""
    train, test = _classification(problem, padded, maxlen)
    return copy_sequences(train), copy_sequences(test)


@functools.lru_cache(maxsize=None)
def _series(folder: str, filename: str, **options) -> TimeSeries:
    return read_shipped(folder, filename, read_csv_series, **options)


def load_series(folder: str, filename: str, **options) -> TimeSeries:
    return copy_series(_series(folder, filename, **options))
