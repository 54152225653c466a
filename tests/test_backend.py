"""``keras.backend``, ``keras.applications`` and ``keras.preprocessing`` as gated provides them, against Keras."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated import backend as K


def test_the_backend_is_torch_and_the_settings_match_keras_defaults(keras):
    assert K.backend() == "torch" == keras.backend.backend()
    assert K.epsilon() == keras.backend.epsilon()
    assert K.floatx() == keras.backend.floatx()
    assert K.image_data_format() == keras.backend.image_data_format()


def test_setters_change_the_settings_and_refuse_bad_values():
    before = K.epsilon()
    try:
        K.set_epsilon(1e-5)
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(before)
    with pytest.raises(ValueError, match="positive number"):
        K.set_epsilon(0)
    try:
        K.set_floatx("float64")
        assert gated.layers.Dense(2).compute_dtype == torch.float64 and K.floatx() == "float64"
    finally:
        K.set_floatx("float32")
    with pytest.raises(ValueError, match="'float16', 'bfloat16', 'float32'"):
        K.set_floatx("float8")
    try:
        K.set_image_data_format("channels_first")
        assert K.image_data_format() == "channels_first"
    finally:
        K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="channels_last"):
        K.set_image_data_format("nhwc")


def test_clear_session_starts_the_names_over(keras):
    K.clear_session()
    names = [gated.layers.GRU(2).name, gated.layers.GRU(2).name]
    K.clear_session()
    assert gated.layers.GRU(2).name == "gru"
    keras.backend.clear_session()
    knames = [keras.layers.GRU(2).name, keras.layers.GRU(2).name]
    assert names == knames == ["gru", "gru_1"]


def test_get_uid_counts_like_keras(keras):
    K.clear_session()
    keras.backend.clear_session()
    ours = [K.get_uid("block") for _ in range(3)]
    theirs = [keras.backend.get_uid("block") for _ in range(3)]
    assert ours == theirs == [1, 2, 3]


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "int64", "bool", "uint8", np.float64, np.int16,
                                   int, float, bool])
def test_dtype_helpers_agree_with_keras(keras, dtype):
    assert K.standardize_dtype(dtype) == keras.backend.standardize_dtype(dtype)
    assert K.is_float_dtype(dtype) == keras.backend.is_float_dtype(dtype)
    assert K.is_int_dtype(dtype) == keras.backend.is_int_dtype(dtype)


def test_torch_dtypes_are_standardized():
    assert K.standardize_dtype(torch.bfloat16) == "bfloat16"
    assert K.standardize_dtype(torch.int8) == "int8"
    with pytest.raises(ValueError, match="is not a dtype"):
        K.standardize_dtype("not-a-dtype")


def test_is_keras_tensor_recognises_placeholders():
    x = gated.Input((3,))
    assert K.is_keras_tensor(x) and K.is_keras_tensor(gated.layers.Dense(2)(x))
    assert not K.is_keras_tensor(torch.zeros(2)) and not K.is_keras_tensor(np.zeros(2))


def test_applications_point_to_torchvision():
    with pytest.raises(ImportError, match="torchvision model as a layer"):
        from gated.applications import ResNet50  # noqa: F401
    with pytest.raises(ImportError, match="no pretrained ImageNet networks"):
        gated.applications.MobileNetV2


def test_preprocessing_paths_are_keras_s(keras):
    sequences = [[1, 2, 3], [4, 5], [6]]
    np.testing.assert_array_equal(gated.preprocessing.sequence.pad_sequences(sequences, maxlen=4),
                                  keras.preprocessing.sequence.pad_sequences(sequences, maxlen=4))
    assert gated.preprocessing.timeseries_dataset_from_array is gated.utils.timeseries_dataset_from_array
    assert gated.preprocessing.timeseries.timeseries_dataset_from_array is gated.utils.timeseries_dataset_from_array


def test_the_top_level_has_keras_s_entry_points(keras):
    assert gated.Input is gated.layers.Input and gated.models.Model is gated.Model
    assert gated.models.load_model is gated.load_model is gated.saving.load_model
    assert isinstance(gated.version(), str) and gated.version() == gated.__version__
    for name in ("Layer", "Loss", "Metric", "Optimizer", "Initializer", "Regularizer"):
        assert hasattr(keras, name) and isinstance(getattr(gated, name), type), name
    assert gated.Constraint is gated.constraints.Constraint  # keras.constraints.Constraint; also at gated's top
