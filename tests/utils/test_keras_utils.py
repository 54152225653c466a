"""keras.utils names gated provides: split_dataset against Keras's own splits, get_file for local files (and a clear
error instead of a download), model_to_dot / plot_model, PyDataset outside fit."""

from __future__ import annotations

import hashlib
import sys
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import gated
from gated.utils import PyDataset, get_file, model_to_dot, plot_model, split_dataset

X = np.arange(40, dtype="float32").reshape(20, 2)
Y = np.arange(20)


def _items(subset):
    return [tuple(np.asarray(t) for t in subset[i]) for i in range(len(subset))]


# ------------------------------------------------------------------------------------------------- split_dataset
@pytest.mark.parametrize("left, right", [(0.7, None), (None, 0.25), (5, None), (None, 4), (0.6, 0.4), (12, 8)])
@pytest.mark.parametrize("data", ["array", "tuple", "list"])
def test_split_dataset_matches_keras_with_a_seed(keras, left, right, data):
    dataset = {"array": X, "tuple": (X, Y), "list": [X, Y]}[data]
    ours = split_dataset(dataset, left_size=left, right_size=right, shuffle=True, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = keras.utils.split_dataset(dataset, left_size=left, right_size=right, shuffle=True, seed=3)
    for mine, keras_side in zip(ours, theirs):
        assert len(mine) == len(keras_side)
        for a, b in zip(_items(mine), _items(keras_side)):
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u, v)


def test_split_dataset_without_shuffle_keeps_the_order_and_feeds_fit():
    left, right = split_dataset((X, Y), left_size=0.75)
    assert [int(y) for _, y in _items(left)] == list(range(15))
    assert [int(y) for _, y in _items(right)] == list(range(15, 20))
    source = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(X[:, :1]))
    train, test = split_dataset(source, right_size=5, shuffle=True, seed=0)
    assert (len(train), len(test)) == (15, 5)
    model = gated.Sequential([gated.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    history = model.fit(train, batch_size=5, epochs=2, verbose=0, validation_data=test)
    assert len(history.history["val_loss"]) == 2


def test_split_dataset_leaves_out_what_neither_side_asks_for():
    left, right = split_dataset(X, left_size=0.5, right_size=0.3, shuffle=True, seed=1)
    assert (len(left), len(right)) == (10, 6)
    taken = {int(t[0][0]) for t in _items(left)} | {int(t[0][0]) for t in _items(right)}
    assert len(taken) == 16  # no sample on both sides


@pytest.mark.parametrize("kwargs, error, match", [
    ({}, ValueError, "needs left_size or right_size"),
    ({"left_size": 0}, ValueError, "left_size=0 must be a number of samples between 1 and 19"),
    ({"left_size": 20}, ValueError, "between 1 and 19"),
    ({"left_size": 1.0}, ValueError, "fraction strictly between 0 and 1"),
    ({"right_size": -0.1}, ValueError, "right_size=-0.1 must be a fraction"),
    ({"left_size": 0.7, "right_size": 0.5}, ValueError, "exceeds 1"),
    ({"left_size": 15, "right_size": 10}, ValueError, "15 \\+ 10 = 25 samples, more than the 20"),
    ({"left_size": 0.01}, ValueError, "leave the left side empty"),
    ({"left_size": "half"}, TypeError, "left_size must be an int"),
    ({"left_size": 0.5, "preferred_backend": "tensorflow"}, ValueError, "preferred_backend must be None or 'torch'"),
])
def test_split_dataset_refuses_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        split_dataset(X, **kwargs)


def test_split_dataset_refuses_arrays_of_different_lengths_and_other_types():
    with pytest.raises(ValueError, match=r"different lengths \(20, 19\)"):
        split_dataset((X, Y[:-1]), left_size=0.5)
    with pytest.raises(TypeError, match="expects a torch Dataset, an array"):
        split_dataset("data.csv", left_size=0.5)


# ------------------------------------------------------------------------------------------------- get_file
def test_get_file_returns_a_local_origin_and_a_cached_copy(tmp_path):
    local = tmp_path / "series.csv"
    local.write_text("1,2,3\n")
    digest = hashlib.sha256(local.read_bytes()).hexdigest()
    assert get_file(origin=local.as_uri(), file_hash=digest) == str(local)
    assert get_file("series.csv", origin=str(local)) == str(local)
    cache = tmp_path / "cache"
    (cache / "datasets").mkdir(parents=True)
    (cache / "datasets" / "remote.csv").write_text("4,5\n")
    cached = get_file("remote.csv", origin="https://example.com/remote.csv", cache_dir=cache)
    assert cached == str(cache / "datasets" / "remote.csv")
    md5 = hashlib.md5(b"4,5\n").hexdigest()
    assert get_file("remote.csv", origin="https://example.com/remote.csv", cache_dir=cache, md5_hash=md5) == cached


def test_get_file_never_downloads_and_says_where_to_put_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"gated does not download files.*save it as .*cache.datasets."
                                                r"data.zip.*origin=\"file:///path/to/data.zip\""):
        get_file("data.zip", origin="https://example.com/data.zip", cache_dir=tmp_path / "cache")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "x.csv").write_text("1")
    with pytest.raises(FileNotFoundError, match="force_download=True asks for a fresh download"):
        get_file("x.csv", origin="https://example.com/x.csv", cache_dir=tmp_path, force_download=True)
    with pytest.raises(ValueError, match="has sha256 .* not the expected"):
        get_file("x.csv", origin="https://example.com/x.csv", cache_dir=tmp_path, file_hash="0" * 64)
    with pytest.raises(ValueError, match="needs origin="):
        get_file("x.csv")


def test_get_file_extracts_a_local_archive_once(tmp_path):
    (tmp_path / "inner.txt").write_text("hello")
    archive = tmp_path / "pack.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "inner.txt", arcname="inner.txt")
    folder = get_file("pack.tar.gz", origin=archive.as_uri(), extract=True, cache_dir=tmp_path / "cache")
    assert folder == str(tmp_path / "cache" / "datasets" / "pack.tar.gz_extracted")
    assert (tmp_path / "cache" / "datasets" / "pack.tar.gz_extracted" / "inner.txt").read_text() == "hello"
    with pytest.raises(ValueError, match="is not a tar or zip archive"):
        get_file("inner.txt", origin=(tmp_path / "inner.txt").as_uri(), extract=True, cache_dir=tmp_path / "c2")


# ------------------------------------------------------------------------------------------------- plot_model
def _functional():
    a = gated.Input((5, 2), name="series")
    b = gated.Input((3,), name="static")
    h = gated.layers.GRU(4, name="gru")(a)
    merged = gated.layers.Concatenate(name="merge")([h, b])
    return gated.Model([a, b], gated.layers.Dense(1, name="head")(merged), name="two_inputs")


def test_without_pydot_plot_model_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match="pip install pydot, and install graphviz"):
        plot_model(_functional(), to_file=tmp_path / "m.png")


def test_model_to_dot_draws_each_layer_call_and_connection(tmp_path):
    pytest.importorskip("pydot", reason="pydot is optional (pip install pydot)")
    dot = model_to_dot(_functional(), show_shapes=True)
    labels = {node.get_name(): node.get_label() for node in dot.get_nodes() if node.get_name() not in ("node",)}
    names = {name: label.split("\\n")[0].strip('"') for name, label in labels.items()}
    assert sorted(names.values()) == ["gru (GRU)", "head (Dense)", "merge (Concatenate)", "series (InputLayer)",
                                      "static (InputLayer)"]
    by_label = {label: name for name, label in names.items()}
    edges = {(e.get_source(), e.get_destination()) for e in dot.get_edges()}
    assert edges == {(by_label["series (InputLayer)"], by_label["gru (GRU)"]),
                     (by_label["gru (GRU)"], by_label["merge (Concatenate)"]),
                     (by_label["static (InputLayer)"], by_label["merge (Concatenate)"]),
                     (by_label["merge (Concatenate)"], by_label["head (Dense)"])}
    assert "output: (None, 4)" in labels[by_label["gru (GRU)"]]
    written = plot_model(gated.Sequential([gated.layers.Dense(2, input_shape=(3,)), gated.layers.Dense(1)]),
                         to_file=tmp_path / "stack.dot")
    assert "->" in Path(written).read_text()


def test_plot_model_without_graphviz_says_so(tmp_path, monkeypatch):
    pytest.importorskip("pydot", reason="pydot is optional (pip install pydot)")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program on the path
    with pytest.raises(ImportError, match="needs graphviz's dot program"):
        plot_model(_functional(), to_file=tmp_path / "m.png")


# ------------------------------------------------------------------------------------------------- PyDataset
def test_py_dataset_iterates_its_batches_outside_fit(keras):
    class Squares(PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full((2, 1), i * i)

    class KerasSquares(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full((2, 1), i * i)

    ours = [b.tolist() for b in Squares()]
    assert ours == [b.tolist() for b in KerasSquares()]
    assert Squares().num_batches == 3
    with pytest.raises(NotImplementedError, match="must implement __getitem__"):
        PyDataset()[0]
    with pytest.raises(NotImplementedError, match="must implement __len__"):
        PyDataset().num_batches
