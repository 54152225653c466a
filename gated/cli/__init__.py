"""The ``gated`` command line (also ``python -m gated``)."""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
