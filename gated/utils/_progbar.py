"""Keras 3's progress bar, and the one rule for ``verbose='auto'``.

``verbose=1`` on a terminal redraws one line in place::

    12/32 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - accuracy: 0.5123 - loss: 0.6931

(the ETA while running; the elapsed time once done). Where the output is not a terminal (a log file, a CI job)
the redraws would only pile up, so ``verbose=1`` prints the final line alone, without colour codes.
``verbose=2`` prints one line at the end: ``32/32 - 1s - 3ms/step - loss: 0.6931``. ``verbose=0`` prints nothing.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from typing import Iterable, Sequence

import numpy as np

from ._logging import is_interactive_logging_enabled
from ._processes import is_main_process

_BAR = "━"
_BOLD, _GREEN, _WHITE, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def is_interactive() -> bool:
    """Whether ``sys.stdout`` redraws a line on ``'\\r'``: a terminal, or a Jupyter kernel's output."""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except ValueError:  # isatty on a closed stream
        return False
    return "ipykernel" in sys.modules


def resolve_verbose(verbose: int | str) -> int:
    """``'auto'`` -> 1 on a terminal (or notebook), 2 otherwise; 0, 1 and 2 pass through."""
    if verbose == "auto":
        return 1 if is_interactive() else 2
    if not isinstance(verbose, str) and verbose in (0, 1, 2):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0 (silent), 1 (progress bar) or 2 (one line per epoch); received "
                     f"{verbose!r}.")


def _write(message: str) -> None:
    if not is_main_process():  # under torchrun only rank 0 draws progress
        return
    if not is_interactive_logging_enabled():  # Keras then sends its messages to logging instead of stdout
        if message.strip():
            logging.getLogger("gated").info(message.strip("\r\n"))
        return
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:  # a stream that cannot encode the bar: fall back to Keras 2's '='
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        sys.stdout.write(message.replace(_BAR, "=").encode(encoding, errors="ignore").decode(encoding))
    sys.stdout.flush()


def _format_value(value: float) -> str:
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def _format_time_per_unit(seconds: float, unit_name: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def _format_eta(eta: float) -> str:
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


class Progbar:
    """A progress bar over ``target`` steps (``None`` if unknown), drawn like Keras 3's.

    Metric values passed to ``update`` are averaged over the steps they cover, except the names in
    ``stateful_metrics`` (shown as passed); ``stateless_metrics`` inverts the rule (only those are averaged), and
    at most one of the two may be given. As in Keras 3, the values passed with the final update are shown as they
    are: they are the epoch's results.

    Args:
        target: total number of steps, or ``None``.
        width: the bar's width in characters.
        verbose: 0 silent, 1 a bar per step, 2 one line at the end.
        interval: the least time, in seconds, between two redraws.
        stateful_metrics: names whose values are shown as passed.
        stateless_metrics: names that are averaged (all others shown as passed).
        unit_name: the unit in ``3ms/step``.
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Iterable[str] | None = None, stateless_metrics: Iterable[str] | None = None,
                 unit_name: str = "step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar takes stateful_metrics (names shown as passed; the others are averaged) or "
                             "stateless_metrics (names averaged; the others shown as passed), not both.")
        if verbose not in (0, 1, 2) or isinstance(verbose, str):
            raise ValueError(f"Progbar verbose must be 0, 1 or 2; received {verbose!r}. "
                             "Use resolve_verbose() for 'auto'.")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics is not None else None
        self.stateless_metrics = set(stateless_metrics) if stateless_metrics is not None else None
        if self.stateful_metrics is None and self.stateless_metrics is None:
            self.stateful_metrics = set()
        self._dynamic_display = is_interactive()
        self._values: dict[str, list] = {}  # name -> [weighted sum, count]
        self._values_order: list[str] = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def _averaged(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current: int, values: Sequence[tuple[str, float]] | None = None,
               finalize: bool | None = None) -> None:
        """Record step ``current`` (1-based) with ``values`` as ``[(name, value), ...]`` and maybe redraw.

        ``finalize`` defaults to ``current >= target``; the final update ends the line.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._values_order:
                self._values_order.append(name)
            if self._averaged(name) and not finalize:
                steps = max(current - self._seen_so_far, 1)  # a value stands for every step since the last update
                if name in self._values:
                    self._values[name][0] += value * steps
                    self._values[name][1] += steps
                else:
                    self._values[name] = [value * steps, steps]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._time_per_unit(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            if self._dynamic_display:
                self._draw(current, now, time_per_unit, finalize)
            elif finalize:
                _write(self._line(current, now, time_per_unit, finalize, colour=False)[0] + "\n")
        elif self.verbose == 2 and finalize and self.target:
            line = f"{self._count(current)} - {now - self._start:.0f}s -"
            line += _format_time_per_unit(time_per_unit, self.unit_name) + self._metrics()
            _write(line + "\n")
        self._last_update = now

    def add(self, n: int, values: Sequence[tuple[str, float]] | None = None) -> None:
        """``update(current + n, values)``."""
        self.update(self._seen_so_far + n, values)

    def _draw(self, current: int, now: float, time_per_unit: float, finalize: bool) -> None:
        line, visible_width = self._line(current, now, time_per_unit, finalize, colour=True)
        message = "\r" + line
        if self._prev_total_width > visible_width:  # blank out the rest of a longer previous line
            message += " " * (self._prev_total_width - visible_width)
        if finalize:
            message += "\n"
        _write(message)
        self._prev_total_width = visible_width

    def _line(self, current: int, now: float, time_per_unit: float, finalize: bool,
              colour: bool) -> tuple[str, int]:
        """The verbose=1 line, with and without ANSI styling, and its visible width."""
        def style(text: str, code: str) -> str:
            return f"{code}{text}{_RESET}" if colour else text

        visible = []
        styled = []

        def add(text: str, code: str | None = None) -> None:
            visible.append(text)
            styled.append(style(text, code) if code else text)

        if self.target:
            add(self._count(current), _BOLD)
            add(" ")
            filled = int(self.width * float(current) / self.target)
            if filled > 0:
                add(_BAR * filled, _GREEN)
            add(_BAR * (self.width - filled), _WHITE)
        else:
            add("%7d/Unknown" % current)
        if self.target and not finalize:
            add(" ")
            add(_format_eta(time_per_unit * (self.target - current)), _BOLD)
        else:
            add(" ")
            add(f"{now - self._start:.0f}s", _BOLD)
        add(_format_time_per_unit(time_per_unit, self.unit_name) + self._metrics())
        return "".join(styled), len("".join(visible))

    def _count(self, current: int) -> str:
        digits = int(math.log10(self.target)) + 1
        return f"%{digits}d/%d" % (current, self.target)

    def _metrics(self) -> str:
        parts = []
        for name in self._values_order:
            total, count = self._values[name]
            parts.append(f" - {name}: {_format_value(float(np.mean(total)) / max(1, count))}")
        return "".join(parts)

    def _time_per_unit(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the first step (compilation, warm-up) once there are others."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
