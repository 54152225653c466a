"""``keras.preprocessing``: ``sequence.pad_sequences`` and ``timeseries_dataset_from_array`` (also as
``timeseries.timeseries_dataset_from_array``, Keras 2's path)."""

from ..utils import timeseries_dataset_from_array
from . import sequence, timeseries

__all__ = ["sequence", "timeseries", "timeseries_dataset_from_array"]
