"""Data and reproducibility helpers with Keras's names and semantics."""

from ._arrays import normalize, pad_sequences, to_categorical
from ._random import set_random_seed
from ._timeseries import TimeseriesDataset, timeseries_dataset_from_array

__all__ = [
    "normalize", "pad_sequences", "set_random_seed", "timeseries_dataset_from_array", "TimeseriesDataset",
    "to_categorical",
]
