"""Keras's switch for interactive logging (progress bars and other output written while a program runs)."""

from __future__ import annotations

_state = {"interactive": True}


def enable_interactive_logging() -> None:
    """Let fit, evaluate and predict print their progress (the default)."""
    _state["interactive"] = True


def disable_interactive_logging() -> None:
    """Silence the progress output of fit, evaluate and predict, whatever ``verbose`` says."""
    _state["interactive"] = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress output is printed (see ``disable_interactive_logging``)."""
    return _state["interactive"]
