"""Data and reproducibility helpers with Keras's names and semantics."""

from ._arrays import normalize, pad_sequences, to_categorical
from ._files import get_file
from ._model_dot import model_to_dot, plot_model
from ._py_dataset import PyDataset, Sequence
from ._random import set_random_seed
from ._split import split_dataset
from ._timeseries import TimeseriesDataset, timeseries_dataset_from_array

__all__ = [
    "normalize", "pad_sequences", "set_random_seed", "timeseries_dataset_from_array", "TimeseriesDataset",
    "to_categorical", "PyDataset", "Sequence", "split_dataset", "get_file", "model_to_dot", "plot_model",
]
