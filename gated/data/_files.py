"""Opening user files (plain or compressed) and the one error every reader raises for a malformed file."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
from typing import IO

# Cells that mean "no value here" in CSV files; '?' is the .ts format's missing marker. Compared case-insensitively.
MISSING_TOKENS = frozenset({"", "?", "nan", "na", "n/a", "null"})

_OPENERS = {".gz": gzip.open, ".xz": lzma.open, ".lzma": lzma.open, ".bz2": bz2.open}


class FileFormatError(ValueError):
    """A file that could not be read as the format asked for.

    The message is ``"<file>, line <n>: <problem>"`` (``"<file>: <problem>"`` when no single line is at fault);
    the parts are also attributes ``path``, ``line`` (1-based, or None) and ``problem``.
    """

    def __init__(self, path: str, line: int | None, problem: str):
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.line, self.problem)


def display_name(path: str | os.PathLike) -> str:
    """The path as the user gave it: what error messages name."""
    return os.fspath(path)


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open ``path`` for reading UTF-8 text (a leading BOM skipped); ``.gz``, ``.xz``/``.lzma`` and ``.bz2`` files
    are decompressed on the fly. Invalid UTF-8 surfaces as UnicodeDecodeError while iterating (see ``lines``)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    opener = _OPENERS.get(suffix)
    if opener is None:
        return open(path, encoding="utf-8-sig", newline="")
    return io.TextIOWrapper(opener(path, "rb"), encoding="utf-8-sig", newline="")


def stem_suffix(path: str | os.PathLike) -> str:
    """The format suffix of ``path`` with any compression suffix removed: 'data.tsv.gz' -> '.tsv'."""
    name = os.fspath(path).lower()
    root, suffix = os.path.splitext(name)
    if suffix in _OPENERS:
        suffix = os.path.splitext(root)[1]
    return suffix


def lines(handle: IO[str], name: str):
    """Yield (line_number, line without its line break), turning undecodable bytes into a FileFormatError."""
    number = 0
    try:
        for number, line in enumerate(handle, start=1):
            yield number, line.rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise FileFormatError(name, number + 1, f"is not UTF-8 text ({error.reason} at byte {error.start} of the "
                                                f"line); save the file as UTF-8") from None
    except (EOFError, lzma.LZMAError, gzip.BadGzipFile, OSError) as error:
        raise FileFormatError(name, number + 1, f"the compressed file is damaged or cut short ({error})") from None


def parse_float(text: str) -> float:
    """``float(text)`` for a cell already known not to be a missing token; raises ValueError otherwise.

    Python's ``float`` also accepts '1_000'; a data file never means that, so underscores are refused.
    """
    if "_" in text:
        raise ValueError(text)
    return float(text)


def is_missing(text: str) -> bool:
    return text.strip().lower() in MISSING_TOKENS
