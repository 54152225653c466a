"""gated.plot: each picture is written as a real PNG with the right content; bad input fails with a clear message;
matplotlib stays optional (never imported by ``import gated``, an install hint when missing)."""

from __future__ import annotations

import datetime
import gc
import os
import subprocess
import sys
import weakref

import matplotlib.image  # a test dependency (the "test" extra): a missing matplotlib is an error, not a skip
import matplotlib.text
import numpy as np
import pytest

import gated
from gated import layers, plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_shape(path) -> tuple[int, int]:
    """(height, width) of the PNG at ``path``, after checking it is one."""
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    assert os.path.getsize(path) > 5_000  # an empty figure is ~2 KB; these have axes, lines and text
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert image.std() > 0.05  # not one flat colour
    return image.shape[0], image.shape[1]


@pytest.fixture
def figures(monkeypatch):
    """What each saved figure shows, in order, read just before it is written (saving clears the figure).

    ``legends``: every legend entry; per visible panel: ``titles``, ``panel_legends``, ``lines`` (x data and
    line style), ``cells`` (texts drawn in the axes), ``xticklabels``, ``yscale``; and ``texts``, ``suptitle``.
    """
    original = plot._save

    def spy(fig, path):
        panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]

        def legend(ax):
            return [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []

        spy.content.append({
            "texts": [t.get_text() for t in fig.findobj(matplotlib.text.Text)],
            "legends": [entry for ax in panels for entry in legend(ax)],
            "panel_legends": [legend(ax) for ax in panels],
            "titles": [ax.get_title() for ax in panels],
            "lines": [[(list(line.get_xdata()), line.get_linestyle()) for line in ax.get_lines()] for ax in panels],
            "cells": [[t.get_text() for t in ax.texts] for ax in panels],
            "xticklabels": [[t.get_text() for t in ax.get_xticklabels()] for ax in panels],
            "yscale": [ax.get_yscale() for ax in panels],
            "ylabel": [ax.get_ylabel() for ax in panels],
            "suptitle": fig.get_suptitle(),
        })
        return original(fig, path)

    spy.content = []
    monkeypatch.setattr(plot, "_save", spy)
    return spy.content


def _history(epochs=8):
    loss = np.linspace(1.0, 0.3, epochs)
    val_loss = loss + 0.1 + 0.15 * (np.arange(epochs) - 4).clip(0)  # best validation loss at epoch 5
    return {"loss": loss.tolist(), "accuracy": (1 - loss / 2).tolist(),
            "val_loss": val_loss.tolist(), "val_accuracy": (1 - val_loss / 2).tolist()}


# ---------------------------------------------------------------------------------------------------------------
# training_curves


def test_training_curves_writes_one_panel_per_quantity_with_best_validation_marked(tmp_path, figures):
    path = plot.training_curves(_history(), tmp_path / "curves.png", title="GRU run")
    assert path == str(tmp_path / "curves.png")
    height, width = _png_shape(path)
    assert width > 1.8 * height  # two panels side by side
    (fig,) = figures
    assert fig["titles"] == ["loss", "accuracy"]  # loss first, whatever the dict order
    assert fig["suptitle"] == "GRU run"
    loss_legend, accuracy_legend = fig["panel_legends"]
    assert loss_legend == ["train", "validation", "best validation 0.7 (epoch 5)"]
    assert accuracy_legend[-1] == "best validation 0.65 (epoch 5)"
    (train_x, train_style), (val_x, val_style) = fig["lines"][0][:2]
    assert train_x == list(range(1, 9)) == val_x  # epochs count from 1
    assert (train_style, val_style) == ("-", "--")


def test_training_curves_panel_order_puts_loss_first_and_learning_rate_last_on_log_scale(tmp_path, figures):
    history = {"learning_rate": [1e-3, 1e-3, 1e-4], "mae": [3.0, 2.0, 1.0], "loss": [9.0, 4.0, 1.0],
               "val_mae": [3.5, 2.5, 2.0], "val_loss": [10.0, 6.0, 5.0]}
    _png_shape(plot.training_curves(history, tmp_path / "c.png"))
    (fig,) = figures
    assert fig["titles"] == ["loss", "mae", "learning rate"]
    assert fig["yscale"] == ["linear", "linear", "log"]
    assert fig["legends"][-1] == "best validation 2 (epoch 3)"  # mae: lower is better


def test_training_curves_accepts_the_history_fit_returns(tmp_path, figures):
    model = gated.Sequential([layers.Input((5, 2)), layers.GRU(4), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.rand(32, 5, 2).astype("float32")
    y = np.random.randint(0, 3, 32)
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    _png_shape(plot.training_curves(history, tmp_path / "fit.png"))
    assert figures[0]["titles"] == ["loss", "accuracy"]


def test_training_curves_numbers_epochs_from_history_epoch_after_initial_epoch(tmp_path, figures):
    class Resumed:
        history = {"loss": [0.5, 0.4, 0.3]}
        epoch = [5, 6, 7]

    plot.training_curves(Resumed(), tmp_path / "r.png")
    assert figures[0]["lines"][0][0][0] == [6, 7, 8]


def test_training_curves_handles_one_epoch_nan_values_and_no_validation(tmp_path, figures):
    _png_shape(plot.training_curves({"loss": [0.7]}, tmp_path / "one.png"))
    assert figures[0]["legends"] == ["train"]
    diverged = {"loss": [1.0, 0.5, float("nan")], "val_loss": [1.1, float("nan"), float("nan")]}
    _png_shape(plot.training_curves(diverged, tmp_path / "nan.png"))
    assert figures[1]["legends"][-1] == "best validation 1.1 (epoch 1)"


@pytest.mark.parametrize("history, error, match", [
    ({}, ValueError, "history is empty"),
    ({"loss": []}, ValueError, "history is empty"),
    ({"loss": [1.0, 0.5], "val_loss": [1.0]}, ValueError, r"lengths differ: \{'loss': 2, 'val_loss': 1\}"),
    ({"loss": ["a", "b"]}, ValueError, r"history\['loss'\] must hold numbers"),
    ([0.5, 0.4], TypeError, "dict of per-epoch lists .* received list"),
])
def test_training_curves_rejects_bad_history(tmp_path, history, error, match):
    with pytest.raises(error, match=match):
        plot.training_curves(history, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# ---------------------------------------------------------------------------------------------------------------
# forecast


def test_forecast_with_year_timestamps_nan_gaps_and_baselines(tmp_path, figures):
    years = np.arange(1950, 2021)
    actual = 14 + 0.02 * (years - 1950) + 0.3 * np.sin(years / 3)
    actual[[10, 11, 12, 40]] = np.nan
    predicted = actual[-15:] + 0.1
    path = plot.forecast(years, actual, predicted, path=tmp_path / "f.png", horizon_start=2006,
                         baselines={"persistence": np.full(15, actual[-16]), "drift": actual[-15:] + 0.5},
                         title="Temperature", ylabel="°C")
    height, width = _png_shape(path)
    assert width > 2 * height
    (fig,) = figures
    persistence_mae = np.mean(np.abs(actual[-15:] - actual[-16]))
    assert fig["legends"] == ["actual", f"persistence  (MAE {persistence_mae:.4g})", "drift  (MAE 0.5)",
                              "forecast  (MAE 0.1)"]
    assert fig["titles"] == ["Temperature"] and fig["ylabel"] == ["°C"]
    assert "horizon" in fig["texts"]
    *_, (forecast_x, _), (marker_x, marker_style) = fig["lines"][0]  # the last line marks the horizon
    assert forecast_x == list(range(2006, 2021))
    assert (marker_x, marker_style) == ([2006, 2006], "--")


def test_forecast_with_datetime64_timestamps_past_the_end_of_the_data(tmp_path, figures):
    months = np.arange("2015-01", "2022-01", dtype="datetime64[M]")
    actual = 100 + 10 * np.sin(np.arange(len(months)) / 2.0)
    actual[-12:] = np.nan  # 12 steps of true future
    actual[20:23] = np.nan
    predicted = np.full(24, 100.0)
    _png_shape(plot.forecast(months, actual, predicted[:, None], path=tmp_path / "m.png", horizon_start="2020-01"))
    assert figures[0]["legends"][-1].endswith(", 12 of 24 steps)")
    _png_shape(plot.forecast(months, actual, predicted, path=tmp_path / "m2.png",
                             horizon_start=datetime.date(2020, 1, 1)))
    days = [datetime.datetime(2024, 1, 1) + datetime.timedelta(days=i) for i in range(40)]
    _png_shape(plot.forecast(days, np.arange(40.0), np.arange(30.0, 40.0), path=tmp_path / "d.png",
                             horizon_start=days[30]))
    assert figures[2]["legends"][-1] == "forecast  (MAE 0)"


@pytest.mark.parametrize("kwargs, match", [
    (dict(actual=np.zeros(9)), "actual has 9 values but timestamps has 10"),
    (dict(horizon_start=2007.5), r"horizon_start=2007.5 is not one of the timestamps .*nearest: 2007.0, 2008.0"),
    (dict(predicted=np.zeros(4)), "predicted has 4 values, but the horizon starting at 2007.0 .* room for 1 to 3"),
    (dict(predicted=np.zeros((3, 2))), r"predicted must be 1-D .* shape \(3, 2\)"),
    (dict(baselines={"naive": np.zeros(2)}), r"baselines\['naive'\] has 2 values, but predicted has 3"),
    (dict(timestamps=np.array([2000, 2001, 2003, 2002, 2004, 2005, 2006, 2007, 2008, 2009])),
     r"timestamps must increase strictly, but position 3 \(2002.0\)"),
    (dict(timestamps=np.r_[np.arange(2000, 2009.0), np.nan]), "timestamps contain NaN or inf at positions"),
    (dict(horizon_start="soon"), "horizon_start must be a number like the timestamps"),
])
def test_forecast_rejects_inconsistent_input(tmp_path, kwargs, match):
    args = dict(timestamps=np.arange(2000, 2010), actual=np.arange(10.0), predicted=np.zeros(3),
                horizon_start=2007, baselines=None)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        plot.forecast(args.pop("timestamps"), args.pop("actual"), args.pop("predicted"),
                      path=tmp_path / "x.png", **args)
    assert not (tmp_path / "x.png").exists()


# ---------------------------------------------------------------------------------------------------------------
# confusion_matrix


def test_confusion_matrix_counts_cells_and_puts_accuracy_in_the_title(tmp_path, figures):
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    height, width = _png_shape(plot.confusion_matrix(y_true, y_pred, path=tmp_path / "cm.png"))
    assert 0.9 < width / height < 1.5
    (fig,) = figures
    assert fig["titles"][0] == "Confusion matrix, accuracy 71.4% (5/7)"
    assert fig["cells"][0] == ["1", "1", "0", "0", "2", "0", "1", "0", "2"]


def test_confusion_matrix_normalized_shows_counts_and_row_fractions(tmp_path, figures):
    y_true = np.array([0, 0, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 0, 1, 1, 1])
    _png_shape(plot.confusion_matrix(y_true, y_pred, path=tmp_path / "n.png", normalize=True,
                                     class_names=["cat", "dog", "bird"], title="Pets"))
    (fig,) = figures
    assert fig["titles"][0] == "Pets\naccuracy 83.3% (5/6)"
    cells = fig["cells"][0]
    assert cells[:6] == ["3\n75%", "1\n25%", "0\n0%", "0\n0%", "2\n100%", "0\n0%"]
    assert cells[6:] == ["0", "0", "0"]  # 'bird' never occurs: no fraction to show
    assert fig["xticklabels"][0] == ["cat", "dog", "bird"]


def test_confusion_matrix_with_many_classes_stays_readable(tmp_path, figures):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 26, 2000)
    y_pred = np.where(rng.random(2000) < 0.7, y_true, rng.integers(0, 26, 2000))
    _png_shape(plot.confusion_matrix(y_true, y_pred, path=tmp_path / "big.png", normalize=True))
    cells = figures[0]["cells"][0]
    assert len(cells) == 26 * 26 and all("\n" not in c for c in cells)  # fractions only in small cells


@pytest.mark.parametrize("y_true, y_pred, kwargs, match", [
    ([0, 1, 2], [0, 1], {}, "y_true has 3 labels but y_pred has 2"),
    ([], [], {}, "y_true and y_pred are empty"),
    ([0, 1, 3], [0, 1, 1], dict(class_names=["a", "b", "c"]),
     r"y_true contains label 3, out of range for the 3 class_names \['a', 'b', 'c'\] \(labels 0..2\)"),
    ([0, -1], [0, 0], {}, "Class labels must be >= 0, but the smallest label is -1"),
    ([0, 1], [[0.9, 0.1], [0.2, 0.8]], {}, r"y_pred has shape \(2, 2\): it looks like one-hot .*\.argmax\(axis=-1\)"),
    ([0, 1], [0.2, 0.7], {}, r"y_pred must hold integer class labels, but 0.2 at position 0"),
    ([0, 1], ["a", "b"], {}, "y_pred must hold integer class labels, but received values of dtype <U1"),
])
def test_confusion_matrix_rejects_bad_labels(tmp_path, y_true, y_pred, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot.confusion_matrix(y_true, y_pred, path=tmp_path / "x.png", **kwargs)
    assert not (tmp_path / "x.png").exists()


def test_confusion_matrix_accepts_column_vectors_and_booleans(tmp_path):
    _png_shape(plot.confusion_matrix(np.array([[0], [1], [1]]), np.array([False, True, False]),
                                     path=tmp_path / "b.png", class_names=["no", "yes"]))


# ---------------------------------------------------------------------------------------------------------------
# Files, memory, and matplotlib as an optional dependency


def test_output_path_parent_folders_are_created_and_png_is_the_default(tmp_path):
    path = plot.confusion_matrix([0, 1], [0, 1], path=tmp_path / "a" / "b" / "cm")
    assert path == str(tmp_path / "a" / "b" / "cm.png")
    _png_shape(path)
    assert sorted(os.listdir(tmp_path / "a" / "b")) == ["cm.png"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # what a plain open() gives, not a temp file's 0600
    with pytest.raises(ValueError, match=r"'xyz' is not a format matplotlib writes .* Use a \.png path"):
        plot.confusion_matrix([0, 1], [0, 1], path=tmp_path / "cm.xyz")


def test_figures_are_freed_after_saving(tmp_path, monkeypatch):
    refs = []
    original = plot._save
    monkeypatch.setattr(plot, "_save", lambda fig, path: (refs.append(weakref.ref(fig)), original(fig, path))[1])
    for i in range(3):
        plot.training_curves(_history(), tmp_path / f"c{i}.png")
        plot.confusion_matrix([0, 1], [1, 1], path=tmp_path / f"m{i}.png")
    gc.collect()
    assert len(refs) == 6 and all(ref() is None for ref in refs)


def test_importing_gated_never_imports_matplotlib_and_plotting_leaves_pyplot_alone(tmp_path):
    script = (
        "import sys, gated, gated.plot\n"
        "assert not [m for m in sys.modules if m.startswith('matplotlib')], 'matplotlib imported by gated'\n"
        f"gated.plot.training_curves({{'loss': [1.0, 0.5]}}, {str(tmp_path / 'c.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported by gated.plot'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("call", [
    lambda path: plot.training_curves({"loss": [1.0]}, path),
    lambda path: plot.forecast([1, 2, 3], [1.0, 2.0, 3.0], [3.0], path=path, horizon_start=3),
    lambda path: plot.confusion_matrix([0, 1], [0, 1], path=path),
])
def test_without_matplotlib_each_function_names_the_install_command(tmp_path, monkeypatch, call):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "gated\[plot\]"') as info:
        call(tmp_path / "x.png")
    assert isinstance(info.value, plot.PlotDependencyError)
    assert not (tmp_path / "x.png").exists()


# ---------------------------------------------------------------------------------------------------------------
# attention


def test_attention_heat_map_labels_source_and_output_tokens(tmp_path, figures):
    weights = np.array([[0.1, 0.0, 0.9], [0.0, 1.0, 0.0], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4]])
    _png_shape(plot.attention(weights, "cat", ["K", "AE", "T"], path=tmp_path / "att.png", title="cat"))
    (fig,) = figures
    assert fig["xticklabels"][0] == ["c", "a", "t"]
    assert fig["titles"][0] == "cat"


def test_attention_from_a_trained_model(tmp_path):
    from gated.seq2seq import Seq2Seq

    model = Seq2Seq(units=8, embedding_dim=4, attention="luong")
    model.fit(["abc", "ba"], ["cba", "ab"], epochs=1, verbose=0)
    (prediction,), (weights,) = model.predict(["abc"], return_attention=True, max_length=4)
    _png_shape(plot.attention(weights, "abc", prediction, path=tmp_path / "a.png"))


def test_attention_rejects_weights_that_do_not_fit_the_tokens(tmp_path):
    with pytest.raises(ValueError, match=r"weights of shape \(2, 3\) do not fit 4 target and 3 source tokens"):
        plot.attention(np.ones((2, 3)), "abc", "wxyz", path=tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"weights must be 2-D .* shape \(3,\)"):
        plot.attention(np.ones(3), "abc", "x", path=tmp_path / "a.png")
