"""Pictures of a run: training curves, a forecast against the actual series, a confusion matrix, attention weights.

Each function draws one figure, writes it (PNG unless the path names another format matplotlib writes) and
returns the path written. matplotlib is an optional extra (``pip install "gated[plot]"``) imported only when a
function is called, so ``import gated`` and ``import gated.plot`` never import it. Figures are drawn on the Agg
canvas directly (``matplotlib.figure.Figure`` + ``FigureCanvasAgg``), never through ``pyplot``: the caller's
backend and pyplot's figure registry are left alone, and each figure is freed once the function returns.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping

import numpy as np

from . import metrics as _metrics

__all__ = ["PlotDependencyError", "training_curves", "forecast", "confusion_matrix", "attention"]

INSTALL_HINT = 'pip install "gated[plot]"'
_DPI = 150
_VAL = "val_"
_LEARNING_RATE_KEYS = ("learning_rate", "lr")


class PlotDependencyError(ImportError):
    """matplotlib, needed by ``gated.plot``, is not installed."""


def _matplotlib():
    """``(Figure, FigureCanvasAgg, ticker, dates)``, or a ``PlotDependencyError`` naming the install command."""
    try:
        import matplotlib.dates as dates
        import matplotlib.ticker as ticker
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise PlotDependencyError(
            f"gated.plot draws with matplotlib, which is not installed ({err}). "
            f"Install the plotting extra with: {INSTALL_HINT}  (or: pip install matplotlib)"
        ) from err
    return Figure, FigureCanvasAgg, ticker, dates


def _new_figure(figsize):
    Figure, FigureCanvasAgg, _, _ = _matplotlib()
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    return fig


def _output_path(path) -> str:
    """``path`` as a string, ``.png`` appended when it has no suffix; other suffixes must be a format Agg writes."""
    path = os.fspath(path)
    if not path or os.path.basename(path) == "":
        raise ValueError(f"Expected a file path for the picture, received {path!r}.")
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if not suffix:
        return path + ".png"
    supported = _matplotlib()[1].get_supported_filetypes()
    if suffix not in supported:
        raise ValueError(f"Cannot write a picture to {path!r}: {suffix!r} is not a format matplotlib writes "
                         f"({', '.join(sorted(supported))}). Use a .png path.")
    return path


def _save(fig, path: str) -> str:
    """Write ``fig`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fmt = os.path.splitext(path)[1].lower().lstrip(".")
    fd, tmp = tempfile.mkstemp(prefix=".gated-plot-", suffix="." + fmt, dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=fmt, dpi=_DPI)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # the permissions a plain open() would give, not mkstemp's 0600
        os.replace(tmp, path)
    finally:
        fig.clear()  # drop the artists now rather than at the next garbage collection
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _vector(values, name: str) -> np.ndarray:
    """A 1-D array from ``values``; a trailing axis of size 1 (a model's ``(N, 1)`` output) is dropped."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per step), but received an array of shape "
                         f"{tuple(array.shape)}.")
    return array


def _floats(values, name: str) -> np.ndarray:
    array = _vector(values, name)
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers, but received values of dtype {array.dtype}.") from None


# ---------------------------------------------------------------------------------------------------------------
# Training curves


def _history_dict(history) -> tuple[dict[str, np.ndarray], list[int] | None]:
    """``{name: float array}`` and the 0-based epoch indices if the History object has them."""
    epochs = None
    if not isinstance(history, Mapping):
        if not hasattr(history, "history"):
            raise TypeError(f"history must be a dict of per-epoch lists (History.history) or an object with a "
                            f".history dict (what fit() returns), but received {type(history).__name__}.")
        epochs = getattr(history, "epoch", None)
        history = history.history
        if not isinstance(history, Mapping):
            raise TypeError(f"history.history must be a dict of per-epoch lists, but is {type(history).__name__}.")
    if not history or all(len(v) == 0 for v in history.values()):
        raise ValueError("history is empty: there is nothing to plot. Pass the History returned by fit() after at "
                         "least one epoch (or its .history dict).")
    curves = {str(k): _floats(v, f"history[{k!r}]") for k, v in history.items()}
    lengths = {k: len(v) for k, v in curves.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"Every quantity in history needs one value per epoch, but the lengths differ: {lengths}.")
    n = next(iter(lengths.values()))
    if epochs is not None and len(epochs) != n:  # a History reused across fit() calls: epoch restarts, history not
        epochs = None
    return curves, (list(epochs) if epochs is not None else None)


def _direction(name: str) -> str | None:
    """``'min'``/``'max'`` for a quantity named in a history (``'loss'``, ``'mae'``, ``'accuracy'``), else None."""
    lowered = name.lower()
    if lowered.endswith("loss"):
        return "min"
    if "accuracy" in lowered or lowered in ("acc",):
        return "max"
    try:
        direction = _metrics.get(name).direction
    except (ValueError, TypeError):
        return None
    return {"up": "max", "down": "min"}.get(direction)


def _panels(curves: Mapping[str, np.ndarray]) -> list[str]:
    """Quantity names in panel order: loss, then the metrics as logged, then a learning rate last."""
    names: list[str] = []
    for key in curves:
        base = key[len(_VAL):] if key.startswith(_VAL) else key
        if base not in names:
            names.append(base)
    return sorted(names, key=lambda n: (n != "loss", n in _LEARNING_RATE_KEYS))


def _best(values: np.ndarray, mode: str | None) -> int | None:
    if mode is None or not np.isfinite(values).any():
        return None
    return int(np.nanargmin(values) if mode == "min" else np.nanargmax(values))


def training_curves(history, path, *, title: str | None = None) -> str:
    """Loss and each metric per epoch, training (solid) against validation (dashed); returns the path written.

    ``history`` is ``History.history`` (``{'loss': [...], 'val_loss': [...], 'accuracy': [...], ...}``) or the
    ``History`` that ``fit()`` returns. One panel per quantity: ``loss`` first, then each metric, a learning rate
    (from ``ReduceLROnPlateau``) last on a log scale. Epochs are numbered from 1 (from ``History.epoch`` when it
    has one entry per value, e.g. after ``initial_epoch``). The best validation value of each quantity is marked
    with a star, and the epoch of the best ``val_loss`` (what ``restore_best_weights`` restores) with a dotted
    vertical line in every panel. NaN values (a diverged run) leave gaps.
    """
    curves, epoch_index = _history_dict(history)
    out = _output_path(path)
    n = len(next(iter(curves.values())))
    epochs = np.asarray(epoch_index, dtype=np.float64) + 1 if epoch_index is not None else np.arange(1, n + 1.0)
    _, _, ticker, _ = _matplotlib()

    names = _panels(curves)
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    fig = _new_figure((4.6 * ncols, 3.5 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(names):]:
        ax.set_visible(False)

    best_loss = _best(curves["val_loss"], "min") if "val_loss" in curves else None
    marker = "o" if n <= 30 else None  # single epochs and short runs stay visible
    for ax, name in zip(axes, names):
        train, val = curves.get(name), curves.get(_VAL + name)
        if train is not None:
            ax.plot(epochs, train, color="C0", marker=marker, markersize=3.5, linewidth=1.8, label="train")
        if val is not None:
            ax.plot(epochs, val, color="C1", marker=marker, markersize=3.5, linewidth=1.8, linestyle="--",
                    label="validation")
            best = _best(val, _direction(name))
            if best is not None:
                ax.plot(epochs[best], val[best], marker="*", markersize=14, color="C3", linestyle="none",
                        markeredgecolor="white", markeredgewidth=0.8, zorder=5,
                        label=f"best validation {val[best]:.4g} (epoch {epochs[best]:.0f})")
        if best_loss is not None:
            ax.axvline(epochs[best_loss], color="0.5", linestyle=":", linewidth=1.2, zorder=0)
        if name in _LEARNING_RATE_KEYS:
            finite = train[np.isfinite(train)] if train is not None else np.array([])
            if finite.size and (finite > 0).all():
                ax.set_yscale("log")
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        if n > 1:
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
            pad = max(0.03 * (epochs[-1] - epochs[0]), 0.3)  # room for a star on the first or last epoch
            ax.set_xlim(epochs[0] - pad, epochs[-1] + pad)
        else:  # one epoch: one tick, not a fractional scale around it
            ax.set_xticks(epochs)
            ax.set_xlim(epochs[0] - 1, epochs[0] + 1)
        if name not in _LEARNING_RATE_KEYS or val is not None:
            ax.legend(fontsize="small", loc="best")
    if title:
        fig.suptitle(title, fontsize="large")
    return _save(fig, out)


# ---------------------------------------------------------------------------------------------------------------
# Forecast


def _timestamps(timestamps) -> tuple[np.ndarray, bool]:
    """``(array, is_datetime)``: datetime64 stays datetime64, anything numeric becomes float64; sorted, no gaps."""
    array = _vector(timestamps, "timestamps")
    if array.dtype == object:  # datetime.date/datetime objects, or pandas Timestamps
        try:
            array = array.astype("datetime64[ns]")
        except (TypeError, ValueError):
            pass
    is_datetime = np.issubdtype(array.dtype, np.datetime64)
    if is_datetime:
        if np.isnat(array).any():
            raise ValueError(f"timestamps contain NaT at positions {np.flatnonzero(np.isnat(array))[:5].tolist()}; "
                             f"every step needs a time (leave a gap by setting actual to NaN instead).")
    else:
        array = _floats(array, "timestamps")
        if not np.isfinite(array).all():
            raise ValueError(f"timestamps contain NaN or inf at positions "
                             f"{np.flatnonzero(~np.isfinite(array))[:5].tolist()}; every step needs a time (leave a "
                             f"gap by setting actual to NaN instead).")
    if array.size == 0:
        raise ValueError("timestamps is empty: there is no series to plot.")
    steps = np.diff(array)
    if (steps <= steps.dtype.type(0)).any():
        first = int(np.flatnonzero(steps <= steps.dtype.type(0))[0])
        raise ValueError(f"timestamps must increase strictly, but position {first + 1} ({array[first + 1]}) does "
                         f"not come after position {first} ({array[first]}). Sort the series by time first.")
    return array, is_datetime


def _horizon_index(times: np.ndarray, is_datetime: bool, horizon_start) -> int:
    try:
        start = np.datetime64(horizon_start) if is_datetime else float(horizon_start)
    except (TypeError, ValueError):
        kind = "a time (numpy.datetime64, datetime, or an ISO string)" if is_datetime else "a number"
        raise ValueError(f"horizon_start must be {kind} like the timestamps, but received {horizon_start!r}.") from None
    hits = np.flatnonzero(times == start)
    if hits.size == 0:
        after = np.flatnonzero(times > start)
        near = times[max(int(after[0]) - 1, 0):int(after[0]) + 1] if after.size else times[-1:]
        raise ValueError(f"horizon_start={horizon_start!r} is not one of the timestamps (they run from {times[0]} to "
                         f"{times[-1]}; nearest: {', '.join(str(t) for t in near)}). Pass the timestamp of the "
                         f"first forecast step.")
    return int(hits[0])


def _with_mae(label: str, actual: np.ndarray, values: np.ndarray) -> str:
    """``label`` with the mean absolute error over the steps where both the actual and the forecast are known."""
    both = np.isfinite(actual) & np.isfinite(values)
    if not both.any():
        return label
    mae = float(np.mean(np.abs(actual[both] - values[both])))
    partial = f", {int(both.sum())} of {len(values)} steps" if not both.all() else ""
    return f"{label}  (MAE {mae:.4g}{partial})"


def _isolated(values: np.ndarray) -> np.ndarray:
    """Positions of finite values with no finite neighbour: a line through them draws nothing."""
    finite = np.isfinite(values)
    before = np.concatenate([[False], finite[:-1]])
    after = np.concatenate([finite[1:], [False]])
    return np.flatnonzero(finite & ~before & ~after)


def forecast(timestamps, actual, predicted, *, path, horizon_start, baselines: Mapping | None = None,
             title: str | None = None, ylabel: str | None = None, intervals: Mapping | None = None) -> str:
    """The whole actual series with the model's forecast over the horizon; returns the path written.

    ``timestamps``: ``(N,)`` increasing numbers (e.g. years) or ``numpy.datetime64`` values. ``actual``: ``(N,)``,
    NaN where a value is missing (drawn as a gap; pad with NaN to forecast past the end of the data).
    ``predicted``: ``(H,)`` forecasts for ``timestamps[i:i + H]``, where ``timestamps[i] == horizon_start`` (the
    first forecast step). ``baselines``: optional ``{name: (H,) values}`` on the same steps, drawn thinner.
    ``intervals``: optional ``{label: ((H,) lower, (H,) upper)}`` prediction intervals, shaded around the forecast
    (widest first, e.g. ``{"95%": (lo95, hi95), "80%": (lo80, hi80)}``).
    The horizon is shaded and its start marked with a vertical line; each forecast's legend entry shows its mean
    absolute error over the steps where the actual value is known.
    """
    times, is_datetime = _timestamps(timestamps)
    actual = _floats(actual, "actual")
    if len(actual) != len(times):
        raise ValueError(f"actual has {len(actual)} values but timestamps has {len(times)}; they must match one "
                         f"value per timestamp (use NaN for a missing value).")
    start = _horizon_index(times, is_datetime, horizon_start)
    room = len(times) - start
    predicted = _floats(predicted, "predicted")
    if not 1 <= len(predicted) <= room:
        raise ValueError(f"predicted has {len(predicted)} values, but the horizon starting at {times[start]} "
                         f"(position {start}) has room for 1 to {room} of the {len(times)} timestamps. Pass the "
                         f"forecasts for the horizon only, and extend timestamps (with NaN in actual) to plot "
                         f"steps past the end of the data.")
    horizon = len(predicted)
    lines = {}
    for name, values in (baselines or {}).items():
        values = _floats(values, f"baselines[{name!r}]")
        if len(values) != horizon:
            raise ValueError(f"baselines[{name!r}] has {len(values)} values, but predicted has {horizon}; each "
                             f"baseline must forecast the same {horizon} steps.")
        lines[str(name)] = values
    bands = {}
    for name, pair in (intervals or {}).items():
        if len(pair) != 2:
            raise ValueError(f"intervals[{name!r}] must be a (lower, upper) pair; received {len(pair)} arrays.")
        low, high = _floats(pair[0], f"intervals[{name!r}] lower"), _floats(pair[1], f"intervals[{name!r}] upper")
        if len(low) != horizon or len(high) != horizon:
            raise ValueError(f"intervals[{name!r}] has {len(low)} and {len(high)} values, but predicted has "
                             f"{horizon}; an interval must cover the same {horizon} steps.")
        if np.any(low > high):
            raise ValueError(f"intervals[{name!r}]: a lower bound is above its upper bound.")
        bands[str(name)] = (low, high)
    out = _output_path(path)
    _, _, ticker, dates = _matplotlib()

    steps = times[start:start + horizon]
    known = actual[start:start + horizon]
    fig = _new_figure((10, 4.2))
    ax = fig.add_subplot()
    dense = len(times) <= 80
    ax.plot(times, actual, color="0.15", linewidth=1.4, marker="o" if dense else None, markersize=2.5,
            label="actual", zorder=3)
    lonely = _isolated(actual)
    if not dense and lonely.size:  # single values between gaps stay visible
        ax.plot(times[lonely], actual[lonely], color="0.15", marker="o", markersize=2.5, linestyle="none", zorder=3)
    for i, (name, values) in enumerate(lines.items()):
        ax.plot(steps, values, color=f"C{i + 1}", linewidth=1.0, linestyle=("--", ":", "-.")[i % 3], alpha=0.9,
                label=_with_mae(name, known, values), zorder=2)
    for i, (name, (low, high)) in enumerate(bands.items()):
        ax.fill_between(steps, low, high, color="C0", alpha=0.15 + 0.12 * i, linewidth=0, label=f"{name} interval",
                        zorder=1)
    ax.plot(steps, predicted, color="C0", linewidth=2.2, marker="o" if horizon <= 36 else None, markersize=3.5,
            label=_with_mae("forecast", known, predicted), zorder=4)

    end = times[start + horizon - 1]
    if horizon > 1:
        ax.axvspan(times[start], end, color="C0", alpha=0.08, linewidth=0, zorder=0)
    ax.axvline(times[start], color="C0", linestyle="--", linewidth=1.0, alpha=0.8, zorder=1)
    ax.annotate("horizon", xy=(times[start], 1.0), xycoords=("data", "axes fraction"), xytext=(4, -4),
                textcoords="offset points", ha="left", va="top", fontsize="small", color="C0")

    if is_datetime:
        locator = dates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
    else:
        ax.xaxis.set_major_formatter(ticker.ScalarFormatter(useOffset=False))
        if np.all(times == np.round(times)):
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.margins(x=0.01)
    ax.grid(True, alpha=0.3)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if title:
        ax.set_title(title)
    return _save(fig, out)


# ---------------------------------------------------------------------------------------------------------------
# Confusion matrix


def _labels(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] > 1:
        raise ValueError(f"{name} has shape {tuple(array.shape)}: it looks like one-hot targets or class "
                         f"probabilities. Pass integer labels instead, e.g. {name}.argmax(axis=-1).")
    array = _vector(array, name)
    if array.dtype == bool:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must hold integer class labels, but received values of dtype {array.dtype}.")
    if not np.issubdtype(array.dtype, np.integer):
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            raise ValueError(f"{name} must hold integer class labels, but {array[bad][0].item()!r} at position "
                             f"{int(np.flatnonzero(bad)[0])} is not an integer. For sigmoid outputs, threshold "
                             f"first: (p > 0.5).astype(int).")
    return array.astype(np.int64)


def confusion_matrix(y_true, y_pred, *, path, class_names=None, normalize: bool = False,
                     title: str | None = None) -> str:
    """True class (rows) against predicted class (columns), each cell annotated; returns the path written.

    ``y_true``, ``y_pred``: ``(N,)`` integer labels in ``[0, num_classes)``, with ``num_classes`` the length of
    ``class_names`` when given, else the largest label + 1. ``normalize=True`` colours cells by the fraction of
    their row (the recall of that true class) and shows it under the count. The overall accuracy is in the title.
    """
    true = _labels(y_true, "y_true")
    pred = _labels(y_pred, "y_pred")
    if len(true) != len(pred):
        raise ValueError(f"y_true has {len(true)} labels but y_pred has {len(pred)}; they must match one to one.")
    if len(true) == 0:
        raise ValueError("y_true and y_pred are empty: there is nothing to count.")
    low = int(min(true.min(), pred.min()))
    if low < 0:
        raise ValueError(f"Class labels must be >= 0, but the smallest label is {low}.")
    high = int(max(true.max(), pred.max()))
    if class_names is not None:
        names = [str(c) for c in class_names]
        if high >= len(names):
            which = "y_true" if true.max() == high else "y_pred"
            raise ValueError(f"{which} contains label {high}, out of range for the {len(names)} class_names "
                             f"{names[:10]}{' ...' if len(names) > 10 else ''} (labels 0..{len(names) - 1}).")
    else:
        names = [str(i) for i in range(high + 1)]
    k = len(names)
    if k == 0:
        raise ValueError("class_names is empty.")
    out = _output_path(path)
    _matplotlib()

    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (true, pred), 1)
    row_totals = counts.sum(axis=1, keepdims=True)
    fractions = np.divide(counts, row_totals, out=np.zeros((k, k)), where=row_totals > 0)
    correct, total = int(np.trace(counts)), int(counts.sum())

    side = min(max(4.8, 0.45 * k + 2.4), 16)
    fig = _new_figure((side + 1.2, side))
    ax = fig.add_subplot()
    shown = fractions if normalize else counts
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(int(counts.max()), 1),
                      interpolation="nearest")
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colorbar.set_label("fraction of the true class" if normalize else "count")
    if not normalize:
        colorbar.locator = _matplotlib()[2].MaxNLocator(integer=True)
        colorbar.update_ticks()
    if k <= 30:  # beyond that the colours say it all
        size = 9 if k <= 10 else 7.5 if k <= 20 else 6.5
        both = normalize and k <= 12  # count over fraction fits only in larger cells; else the fraction alone
        dark = shown.max() * 0.55 if shown.max() > 0 else 1
        for i in range(k):
            for j in range(k):
                if not normalize:
                    text = f"{counts[i, j]}"
                elif not row_totals[i, 0]:
                    text = "0"
                else:
                    text = f"{counts[i, j]}\n{fractions[i, j]:.0%}" if both else f"{fractions[i, j]:.0%}"
                color = "white" if shown[i, j] > dark else "0.1" if counts[i, j] else "0.6"
                ax.text(j, i, text, ha="center", va="center", fontsize=size, color=color)
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0, ha="right"
                  if max(map(len, names)) > 3 else "center", rotation_mode="anchor")
    ax.set_yticks(range(k), names)
    ax.tick_params(labelsize=9 if k <= 20 else 6)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    summary = f"accuracy {correct / total:.1%} ({correct}/{total})"
    ax.set_title(f"{title}\n{summary}" if title else f"Confusion matrix, {summary}")
    return _save(fig, out)


# ---------------------------------------------------------------------------------------------------------------
# Attention


def _tokens(tokens, name: str) -> list[str]:
    if isinstance(tokens, str):
        return list(tokens)
    return [str(t) for t in tokens]


def attention(weights, source, target, *, path, title: str | None = None) -> str:
    """A seq2seq model's attention: one row per output token, one column per source token; returns the path.

    ``weights``: ``(output steps, source steps)``, as ``Seq2Seq.predict(..., return_attention=True)`` returns them
    (the end marker's row included: one more row than ``target`` has tokens, labelled ``<end>``). ``source`` and
    ``target``: the tokens (a string is split into characters).
    """
    array = np.asarray(weights, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"weights must be 2-D (output steps, source steps), but received an array of shape "
                         f"{tuple(array.shape)}.")
    columns, rows = _tokens(source, "source"), _tokens(target, "target")
    if len(rows) == array.shape[0] - 1:
        rows = rows + ["<end>"]
    if (len(rows), len(columns)) != array.shape:
        raise ValueError(f"weights of shape {tuple(array.shape)} do not fit {len(rows)} target and {len(columns)} "
                         "source tokens; pass the tokens the weights were computed for (one row per target token, "
                         "optionally one more for the end marker, and one column per source token).")
    out = _output_path(path)
    _matplotlib()
    fig = _new_figure((min(max(3.5, 0.42 * len(columns) + 2.2), 16), min(max(3.0, 0.42 * len(rows) + 1.6), 16)))
    ax = fig.add_subplot()
    image = ax.imshow(array, cmap="Greys", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=ax, shrink=0.8).set_label("attention weight")
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    ax.set_title(title or "Attention")
    return _save(fig, out)
