"""Data and reproducibility helpers with Keras's names and semantics.

The names of ``keras.utils`` that belong to higher floors (the serialization registry of ``gated.saving``,
``clear_session`` and ``is_keras_tensor`` of ``gated.backend``) are added to this module by ``gated/__init__.py``,
so ``gated.utils.register_keras_serializable`` works while this package imports nothing above it.
``gated.utils.tree`` is ``keras.tree`` (also ``gated.tree``).
"""

from ._arrays import normalize, pad_sequences, to_categorical
from ._config_object import Config
from ._data_tuples import pack_x_y_sample_weight, unpack_x_y_sample_weight
from ._files import get_file
from ._images import array_to_img, img_to_array, load_img, save_img
from ._logging import disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled
from ._model_dot import model_to_dot, plot_model
from ._progbar import Progbar
from ._py_dataset import PyDataset, Sequence
from ._random import set_random_seed
from ._source_inputs import get_source_inputs
from ._split import split_dataset
from ._timeseries import TimeseriesDataset, timeseries_dataset_from_array

__all__ = [
    "normalize", "pad_sequences", "set_random_seed", "timeseries_dataset_from_array", "TimeseriesDataset",
    "to_categorical", "PyDataset", "Sequence", "split_dataset", "get_file", "model_to_dot", "plot_model",
    "Config", "get_source_inputs", "array_to_img", "img_to_array", "load_img", "save_img",
    "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "Progbar", "enable_interactive_logging",
    "disable_interactive_logging", "is_interactive_logging_enabled",
]
