"""The progress line ``gated train`` draws on stderr while a recipe runs (stdout stays for results and --json)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def _clock(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h{seconds // 60 % 60:02d}"


class RecipeProgress:
    """Called with the recipe's per-epoch reports (see ``gated.recipes.train_classifier``).

    On a terminal one line is redrawn in place; elsewhere (a log file, CI) a line is written at every tenth of each
    run, so a log shows the progress without thousands of lines.
    """

    def __init__(self, what: str, stream: TextIO | None = None, width: int = 24):
        self.what, self.stream, self.width = what, stream or sys.stderr, width
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())
        self._shown: set = set()
        self._last = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        fraction = event["epoch"] / max(event["epochs"], 1)
        stage = ("selecting the length on held-out training series" if event["stage"] == "selection"
                 else f"model {event['member']}/{event['members']} on all training series")
        filled = int(round(self.width * fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        score = event.get("val_accuracy")
        parts = [f"{self.what}: {stage}", f"[{bar}] epoch {event['epoch']}/{event['epochs']}",
                 f"step {event['step']}/{event['steps']}"]
        if score is not None:
            parts.append(f"val accuracy {score:.3f}")
        elif event.get("loss") is not None:
            parts.append(f"loss {event['loss']:.4f}")
        parts.append(f"{_clock(event['elapsed'])} elapsed, ~{_clock(event['remaining'])} left")
        line = " | ".join(parts)
        if self.interactive:
            now = time.monotonic()
            if now - self._last >= 0.1 or fraction >= 1:
                self.stream.write("\r\x1b[2K" + line + ("\n" if fraction >= 1 else ""))
                self.stream.flush()
                self._last = now
            return
        key = (event["stage"], event["member"], int(fraction * 10))
        if key not in self._shown:
            self._shown.add(key)
            self.stream.write(line + "\n")
            self.stream.flush()
