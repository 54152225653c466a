"""Reading sequence data from files and preparing time series for forecasting.

Readers (each returns a tuple that also carries what the file said, see ``SequenceData`` and ``TimeSeries``):
``read_ts`` (UCR/UEA ``.ts``), ``read_csv_table`` (one series per row plus a label column), ``read_csv_series``
(a long table: a time column and value columns), ``read_npz`` (x and y by key), ``read_tsf`` (the Monash forecasting archive's ``.tsf``). A malformed file raises
``FileFormatError``, a ValueError whose message names the file, the line and the problem.

Time-series tools: ``make_windows`` (lookback/horizon windows), ``chronological_split``, ``fill_missing``,
``StandardScaler`` and ``MinMaxScaler`` (per channel, fitted on training data only, with ``inverse_transform``).
"""

from ._containers import SequenceData, TimeSeries
from ._csv import read_csv_series, read_csv_table
from ._files import FileFormatError
from ._npz import read_npz
from ._panel import Panel, infer_frequency, read_panel
from ._scalers import MinMaxScaler, StandardScaler
from ._timeseries import chronological_split, fill_missing, make_windows
from ._ts import read_ts
from ._tsf import TsfData, read_tsf

__all__ = [
    "FileFormatError", "MinMaxScaler", "SequenceData", "StandardScaler", "TimeSeries", "chronological_split",
    "fill_missing", "make_windows", "read_csv_series", "read_csv_table", "read_npz", "read_ts", "read_tsf",
    "TsfData", "Panel", "infer_frequency", "read_panel",
]
