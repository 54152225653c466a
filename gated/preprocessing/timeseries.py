"""``keras.preprocessing.timeseries`` (Keras 2's home of ``timeseries_dataset_from_array``)."""

from ..utils import timeseries_dataset_from_array

__all__ = ["timeseries_dataset_from_array"]
