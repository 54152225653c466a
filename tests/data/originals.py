"""The original dataset files in ../shared/datasets, read with plain Python, independently of gated's readers.

The shared folder sits beside the repository root (``<root>/../shared``); tests need it and fail without it.
"""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def shared_dir() -> Path:
    if not (SHARED / "README.md").is_file():
        pytest.fail(f"The original datasets are missing: expected them in {SHARED} (../shared/datasets from the "
                    f"repository root).")
    return SHARED


def ts_file(folder: str, split: str) -> Path:
    return shared_dir() / folder / f"{folder}_{split}.ts"


def parse_ts(path: Path):
    """[(array (C, T_i), label)] and the declared class labels, by splitting strings."""
    rows, declared, data = [], None, False
    for line in path.read_text().splitlines():
        if line.startswith("@classLabel"):
            declared = line.split()[2:]
        elif line.startswith("@data"):
            data = True
        elif data and line.strip():
            *dims, label = line.strip().split(":")
            rows.append((np.array([[float(v) for v in dim.split(",")] for dim in dims]), label))
    return rows, declared


def parse_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def parse_cmudict(path: Path) -> dict[str, list[tuple[str, ...]]]:
    """word (any '(n)' variant marker removed) -> its pronunciations in file order, comments dropped."""
    entries: dict[str, list[tuple[str, ...]]] = {}
    paused = gc.isenabled()
    gc.disable()  # 135k small tuples would trigger several full collections
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            word, *phones = line.partition(" #")[0].split()
            if word.endswith(")") and "(" in word:
                word = word[:word.rindex("(")]
            entries.setdefault(word, []).append(tuple(phones))
    finally:
        if paused:
            gc.enable()
    return entries
