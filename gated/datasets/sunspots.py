"""Yearly mean sunspot numbers, 1700 to 2008 (309 values, none missing), from statsmodels (public domain).

A classic forecasting benchmark with a cycle of about 11 years (``season=11`` for a seasonal-naive baseline).
Source: ``data/sunspots/SOURCE.txt`` in this package.
"""

from __future__ import annotations

from ..data import TimeSeries
from ._resources import load_series


def load_data() -> TimeSeries:
    """``(timestamps, values)``: datetime64[Y] years 1700..2008 (309,) and float64 sunspot numbers (309,).

    A ``gated.data.TimeSeries`` tuple (also ``columns=('SUNACTIVITY',)``); ``timestamps.astype(int) + 1970``
    gives the years as integers. No split is shipped: use ``gated.data.chronological_split``.
    """
    years, values = load_series("sunspots", "sunspots.csv.xz", time_column="YEAR", value_columns="SUNACTIVITY")
    return TimeSeries((years - 1970).astype("datetime64[Y]"), values, columns=("SUNACTIVITY",), name="sunspots",
                      source="gated/datasets/data/sunspots/sunspots.csv.xz")
