"""Weekly atmospheric CO2 at Mauna Loa (ppm), 1958-03-29 to 2001-12-29, from statsmodels (public domain).

2284 weeks, every 7 days without a gap in the dates; 59 weeks have no measurement. Those are NaN in the values:
nothing is filled in. Decide explicitly with ``gated.data.fill_missing(series, method='interpolate' or 'drop')``.
A yearly cycle: ``season=52`` for a seasonal-naive baseline. Source: ``data/co2/SOURCE.txt`` in this package.
"""

from __future__ import annotations

from ..data import TimeSeries
from ._resources import load_series

#: Weeks without a measurement (NaN values).
num_missing = 59


def load_data() -> TimeSeries:
    """``(timestamps, values)``: datetime64[D] dates (2284,) and float64 CO2 in ppm (2284,) with NaN for the 59
    weeks without a measurement.

    A ``gated.data.TimeSeries`` tuple (also ``columns=('co2',)``), which ``gated.data.fill_missing`` accepts as
    a whole. No split is shipped: use ``gated.data.chronological_split``.
    """
    series = load_series("co2", "co2.csv.xz", time_column="date", value_columns="co2", time_format="%Y%m%d")
    return TimeSeries(series.timestamps, series.values, columns=("co2",), name="co2",
                      source="gated/datasets/data/co2/co2.csv.xz")
