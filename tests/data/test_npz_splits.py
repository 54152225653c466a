""".npz files that hold both splits (tslearn's UCR cache keys) read one split at a time, by ``part``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from gated.cli._sources import load_labeled
from gated.data import FileFormatError, read_npz


def _raises(path: Path, problem: str):
    return pytest.raises(FileFormatError, match="^" + re.escape(f"{path}: {problem}"))


def _ucr_cache(path: Path) -> dict[str, np.ndarray]:
    """Arrays as tslearn's UCR cache writes them: float64 (n, timesteps, 1), string labels, 6 train and 4 test."""
    rng = np.random.default_rng(0)
    arrays = {"X_train": rng.normal(size=(6, 9, 1)), "y_train": np.array(["b", "a", "c", "a", "b", "c"]),
              "X_test": rng.normal(size=(4, 9, 1)), "y_test": np.array(["c", "c", "a", "b"])}
    np.savez(path, **arrays)
    return arrays


def test_part_picks_the_tslearn_split_pair(tmp_path):
    path = tmp_path / "ucr.npz"
    arrays = _ucr_cache(path)
    train = read_npz(path, part="train")
    np.testing.assert_array_equal(train.x, arrays["X_train"])
    assert train.class_names == ("a", "b", "c")
    np.testing.assert_array_equal(np.array(train.class_names)[train.y], arrays["y_train"])
    test = read_npz(path, part="test", class_names=train.class_names)
    np.testing.assert_array_equal(test.x, arrays["X_test"])
    np.testing.assert_array_equal(test.y, [2, 2, 0, 1])
    unlabeled = read_npz(path, part="test", y_key=None)
    assert unlabeled.y is None and unlabeled.x.shape == (4, 9, 1)


def test_part_reads_keras_style_lowercase_split_keys(tmp_path):
    path = tmp_path / "keras.npz"
    x_train, x_test = np.zeros((3, 5), np.float32), np.ones((2, 5), np.float32)
    np.savez(path, x_train=x_train, y_train=np.array([0, 1, 0]), x_test=x_test, y_test=np.array([1, 1]))
    assert read_npz(path, part="train").x.shape == (3, 5)
    np.testing.assert_array_equal(read_npz(path, part="test").y, [1, 1])


def test_part_keeps_x_and_y_files_working(tmp_path):
    path = tmp_path / "plain.npz"
    x, y = np.arange(12.0).reshape(3, 4), np.array([0, 1, 1])
    np.savez(path, x=x, y=y)
    for part in (None, "train", "test"):
        data = read_npz(path, part=part)
        np.testing.assert_array_equal(data.x, x)
        np.testing.assert_array_equal(data.y, y)


def test_part_errors_name_the_keys_found(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, data=np.zeros((2, 3)), labels=np.zeros(2))
    with _raises(path, "has neither 'X_test' and 'y_test' (tslearn's UCR cache) nor 'x' (x_key) for the test split; "
                       "its arrays are ('data', 'labels'). Save the splits with numpy.savez(path, X_train=..., "
                       "y_train=..., X_test=..., y_test=...)"):
        read_npz(path, part="test")
    half = tmp_path / "half.npz"
    np.savez(half, X_train=np.zeros((2, 3)), X_test=np.zeros((2, 3)))
    with _raises(half, "has neither 'X_train' and 'y_train' (tslearn's UCR cache) nor 'x' (x_key) for the train "
                       "split; its arrays are ('X_train', 'X_test')"):
        read_npz(half, part="train")
    assert read_npz(half, part="train", y_key=None).x.shape == (2, 3)
    with pytest.raises(ValueError, match=re.escape("read_npz: part must be None, 'train' or 'test'; received "
                                                   "'validation'.")):
        read_npz(half, part="validation")


def test_load_labeled_passes_the_part_through(tmp_path):
    path = tmp_path / "ucr.npz"
    arrays = _ucr_cache(path)
    train = load_labeled(str(path), "train")
    test = load_labeled(str(path), "test", class_names=train.class_names)
    assert train.x.shape == (6, 9, 1) and test.x.shape == (4, 9, 1) and test.x.dtype == np.float32
    np.testing.assert_allclose(test.x, arrays["X_test"].astype(np.float32))
    np.testing.assert_array_equal(np.array(train.class_names)[test.y], arrays["y_test"])
