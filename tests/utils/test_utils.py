"""Utilities against real Keras: to_categorical, pad_sequences, normalize, timeseries windows, set_random_seed."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
import torch

from gated import utils


@pytest.mark.parametrize("labels, num_classes", [
    ([0, 2, 1, 3], None), ([0, 2, 1], 5), ([[1], [0], [2]], None), ([[0, 1], [2, 1]], None),
    (np.array([[[1], [2]], [[0], [1]]]), 4), (np.array([1.0, 0.0, 2.0]), None), (np.array([3]), None),
])
def test_to_categorical_matches_keras(keras, labels, num_classes):
    ours = utils.to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)
    assert utils.to_categorical(labels, num_classes, dtype="float64").dtype == np.float64


def test_to_categorical_of_a_tensor_stays_a_tensor(keras):
    labels = torch.tensor([[1], [0], [2]])
    ours = utils.to_categorical(labels, 4)
    theirs = keras.utils.to_categorical(labels, 4)  # Keras needs num_classes for tensors; gated infers it too
    assert utils.to_categorical(labels).shape == (3, 3)
    assert isinstance(ours, torch.Tensor) and ours.dtype == torch.float32
    np.testing.assert_array_equal(ours.numpy(), np.asarray(theirs))


def test_to_categorical_rejects_labels_it_cannot_encode():
    with pytest.raises(ValueError, match=r"received the label 3, but num_classes=3 allows labels 0 to 2"):
        utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="expects class labels >= 0; received -1"):
        utils.to_categorical([0, -1])
    with pytest.raises(ValueError, match="expects integer class labels; received the value 0.5"):
        utils.to_categorical([0.5, 1.0])
    assert utils.to_categorical([], num_classes=3).shape == (0, 3)


SEQUENCES = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9, 10]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 4, 7])
def test_pad_sequences_matches_keras(keras, padding, truncating, maxlen):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    ours = utils.pad_sequences(SEQUENCES, **kwargs)
    theirs = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    assert ours.dtype == theirs.dtype == np.int32
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_of_vectors_dtypes_and_values_match_keras(keras):
    rng = np.random.default_rng(0)
    vectors = [rng.normal(size=(n, 3)) for n in (2, 5, 1, 0)]
    for kwargs in ({"dtype": "float32"}, {"dtype": "float64", "value": -1.0, "padding": "post", "maxlen": 3},
                   {"dtype": "float32", "truncating": "post", "maxlen": 4}):
        ours = utils.pad_sequences(vectors, **kwargs)
        theirs = keras.utils.pad_sequences(vectors, **kwargs)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    text = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(utils.pad_sequences(text, dtype=object, value="<pad>"),
                                  keras.utils.pad_sequences(text, dtype=object, value="<pad>"))


def test_pad_sequences_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'; received 'middle'"):
        utils.pad_sequences(SEQUENCES, padding="middle")
    with pytest.raises(ValueError, match="item 1 is not one: 5"):
        utils.pad_sequences([[1], 5])
    with pytest.raises(ValueError, match=r"sequence 1 have shape \(2,\), but earlier sequences have \(3,\)"):
        utils.pad_sequences([np.zeros((2, 3)), np.zeros((2, 2))], dtype="float32")
    with pytest.raises(ValueError, match="cannot hold the string padding value"):
        utils.pad_sequences([[1]], value="x")
    assert utils.pad_sequences(SEQUENCES, maxlen=0).shape == (4, 0)


@pytest.mark.parametrize("axis, order", [(-1, 2), (1, 1), (-1, 3), (0, 2)])
def test_normalize_matches_keras(keras, axis, order):
    x = np.random.default_rng(1).normal(size=(4, 5))
    x[1] = 0.0
    ours = utils.normalize(x, axis=axis, order=order)
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    np.testing.assert_allclose(ours, x / np.where(norm == 0, 1, norm), rtol=1e-12)
    if axis != 0:  # Keras's numpy path turns axis=0 into -1 (`axis or -1`) and then misaligns; gated does not
        np.testing.assert_allclose(ours, keras.utils.normalize(x, axis=axis, order=order), rtol=1e-12)
    ours_t = utils.normalize(torch.tensor(x, dtype=torch.float32), axis=axis, order=order)
    theirs_t = keras.utils.normalize(torch.tensor(x, dtype=torch.float32), axis=axis, order=order)
    np.testing.assert_allclose(ours_t.numpy(), np.asarray(theirs_t), rtol=1e-6, atol=1e-7)


def keras_windows(data, targets, sequence_length, sequence_stride=1, sampling_rate=1, batch_size=128,
                  shuffle=False, seed=None, start_index=None, end_index=None):
    """Keras's windowing (keras/src/utils/timeseries_dataset_utils.py) without tf.data: start positions, the
    RandomState permutation, the gathered windows and targets, batched. Keras's own function needs TensorFlow or
    grain; see test_timeseries_matches_keras_grain_path for the direct comparison where grain is installed."""
    start_index = start_index or 0
    end_index = end_index or len(data)
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, num_seqs, sequence_stride)
    if shuffle:
        np.random.RandomState(seed).shuffle(positions)
    windows = [data[start_index:end_index][np.arange(p, p + sequence_length * sampling_rate, sampling_rate)]
               for p in positions]
    labels = [targets[start_index:end_index][p] for p in positions] if targets is not None else None
    step = batch_size or 1
    for i in range(0, len(windows), step):
        x = np.stack(windows[i:i + step])
        if batch_size is None:
            x = x[0]
        if labels is None:
            yield x
        else:
            y = np.stack(labels[i:i + step])
            yield (x, y if batch_size else y[0])


TIMESERIES_CASES = [
    dict(sequence_length=5), dict(sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=7),
    dict(sequence_length=6, start_index=10, end_index=80, batch_size=16, sampling_rate=3),
    dict(sequence_length=10, batch_size=None, sequence_stride=9),
    dict(sequence_length=3, batch_size=5, shuffle=True, seed=7),
    dict(sequence_length=30, start_index=5, batch_size=8),
]


@pytest.mark.parametrize("kwargs", TIMESERIES_CASES)
@pytest.mark.parametrize("targets", ["all", "none", "short"])
def test_timeseries_windows_follow_keras(kwargs, targets):
    data = np.arange(200).reshape(100, 2).astype(np.float32)
    y = {"all": np.arange(100) * 10, "none": None, "short": np.arange(90) * 10}[targets]
    ours = list(utils.timeseries_dataset_from_array(data, y, **kwargs))
    theirs = list(keras_windows(data, y, **kwargs))
    assert len(ours) == len(theirs) == len(utils.timeseries_dataset_from_array(data, y, **kwargs))
    for a, b in zip(ours, theirs):
        for u, v in zip(a if y is not None else [a], b if y is not None else [b]):
            np.testing.assert_array_equal(u, v)


def test_timeseries_target_is_the_value_after_the_window():
    series = np.arange(20.0)
    ds = utils.timeseries_dataset_from_array(series[:-3], series[3:], sequence_length=3, batch_size=4)
    x, y = next(iter(ds))
    np.testing.assert_array_equal(x, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
    np.testing.assert_array_equal(y, [3, 4, 5, 6])


def test_timeseries_reshuffles_each_pass_deterministically():
    data = np.arange(50.0)
    ds = utils.timeseries_dataset_from_array(data, None, sequence_length=2, batch_size=None, shuffle=True, seed=1)
    first, second = [w[0] for w in ds], [w[0] for w in ds]
    assert sorted(first) == sorted(second) == list(range(49)) and first != second
    again = utils.timeseries_dataset_from_array(data, None, sequence_length=2, batch_size=None, shuffle=True, seed=1)
    assert [w[0] for w in again] == first


def test_timeseries_matches_keras_grain_path(keras):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.importorskip("grain", reason="Keras's timeseries_dataset_from_array needs TensorFlow or grain")
    data = np.arange(200).reshape(100, 2).astype(np.float32)
    for kwargs in TIMESERIES_CASES:
        if kwargs.get("shuffle"):
            continue  # grain shuffles once more with its own generator
        for y in (np.arange(100) * 10, None):
            theirs = list(keras.utils.timeseries_dataset_from_array(data, y, format="grain", **kwargs))
            ours = list(utils.timeseries_dataset_from_array(data, y, **kwargs))
            assert len(ours) == len(theirs)
            for a, b in zip(ours, theirs):
                for u, v in zip(a if y is not None else [a], b if y is not None else [b]):
                    np.testing.assert_array_equal(u, np.asarray(v))


def test_timeseries_arguments_are_checked():
    data = np.zeros(10)
    with pytest.raises(ValueError, match="start_index must be lower than the length of the data \\(10\\)"):
        utils.timeseries_dataset_from_array(data, None, 2, start_index=10)
    with pytest.raises(ValueError, match="end_index must be higher than start_index"):
        utils.timeseries_dataset_from_array(data, None, 2, start_index=5, end_index=4)
    with pytest.raises(ValueError, match="sampling_rate must be at least 1; received 0"):
        utils.timeseries_dataset_from_array(data, None, 2, sampling_rate=0)
    with pytest.raises(ValueError, match="sequence_stride must be lower than the length of the data"):
        utils.timeseries_dataset_from_array(data, None, 2, sequence_stride=10)
    assert len(utils.timeseries_dataset_from_array(data, None, 20)) == 0  # longer windows than data: none


def test_set_random_seed_seeds_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    utils.set_random_seed(123)
    first = draw()
    utils.set_random_seed(123)
    assert draw() == first
    with pytest.raises(ValueError, match="needs an integer seed; received 1.5"):
        utils.set_random_seed(1.5)
