"""The original dataset files, read with plain Python, independently of gated's readers.

Where ``../shared/datasets`` sits beside the repository root (``<root>/../shared``), the originals are read from
there. In a clone without it, each original is the package's shipped copy, decompressed here and accepted only if
its SHA-256 equals the one committed below (taken from the original files), so the tests run anywhere and still
compare gated's readers against the original bytes. ``tests/data/test_datasets.py`` also compares the shipped
files with ../shared byte for byte where ../shared exists.
"""

from __future__ import annotations

import atexit
import csv
import gc
import hashlib
import lzma
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

import gated.datasets

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
PACKAGE_DATA = Path(gated.datasets.__file__).parent / "data"

# original file (relative to ../shared/datasets) -> (shipped file relative to gated/datasets/data, its SHA-256)
ORIGINALS = {
    "BasicMotions/BasicMotions_TRAIN.ts":
        ("BasicMotions/BasicMotions_TRAIN.ts.xz", "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6"),
    "BasicMotions/BasicMotions_TEST.ts":
        ("BasicMotions/BasicMotions_TEST.ts.xz", "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc"),
    "ItalyPowerDemand/ItalyPowerDemand_TRAIN.ts":
        ("ItalyPowerDemand/ItalyPowerDemand_TRAIN.ts.xz",
         "341269cb7e6cef96846b30e774580beec79addb93848ba360145219115a74b7c"),
    "ItalyPowerDemand/ItalyPowerDemand_TEST.ts":
        ("ItalyPowerDemand/ItalyPowerDemand_TEST.ts.xz",
         "26122451f87dd0387ef90b18bc8a86c041371b8a1c068004922b939971247144"),
    "JapaneseVowels/JapaneseVowels_TRAIN.ts":
        ("JapaneseVowels/JapaneseVowels_TRAIN.ts.xz",
         "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd"),
    "JapaneseVowels/JapaneseVowels_TEST.ts":
        ("JapaneseVowels/JapaneseVowels_TEST.ts.xz",
         "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462"),
    "sunspots_yearly/sunspots.csv":
        ("sunspots/sunspots.csv.xz", "f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b"),
    "co2_maunaloa/co2.csv": ("co2/co2.csv.xz", "16695fa2786e53414e5a6b54767a3fdf5de99cfbc68617f69d1362d92776a92f"),
    "cmudict/cmudict.dict":
        ("cmudict/cmudict.dict.xz", "81917843c7f44ce2b094ac63873c2c7a4cf802040792c455ba3ca406891c3d22"),
    "cmudict/cmudict.phones":
        ("cmudict/cmudict.phones", "ffb588a5e55684723582c7256e1d2f9fadb130011392d9e59237c76e34c2cfd6"),
    "cmudict/cmudict.symbols":
        ("cmudict/cmudict.symbols", "408ccaae803641c6d7b626b6299949320c2dbca96b2220fd3fb17887b023b027"),
    "cmudict/LICENSE": ("cmudict/LICENSE", "bd4ce8e44170a5f9f481310ca85c51de3c4f851a65e679b40e603b143bd3542a"),
    "cmudict/README": ("cmudict/README", "00c34e7564f1f6a68de02e12c123d801471da92bc3091f7d89b605f238bf8554"),
    "classic_panel/panel.csv":
        ("classic_panel/panel.csv.xz", "8bf06c828b0c1889f9c21b8a0a408e78a2fa8c27607081f4bd1baab292496c2a"),
}
# Originals that were themselves built from package files (their SOURCE.txt says how, without their own checksum).
BUILT = {"classic_panel/panel.csv"}
NO_SHARED = ("../shared/datasets is not beside the repository: the byte-for-byte comparison with the original "
             "files runs only where it is (the shipped files are checked against committed SHA-256 checksums "
             "everywhere)")
_unpacked: Path | None = None


def have_shared() -> bool:
    return (SHARED / "README.md").is_file()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def shipped_bytes(original: str) -> bytes:
    """The shipped copy of ``original``, decompressed."""
    path = PACKAGE_DATA / ORIGINALS[original][0]
    return lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()


def original_file(original: str) -> Path:
    """The original file: from ../shared where it exists, else the shipped copy after its checksum matched."""
    if have_shared():
        return SHARED / original
    global _unpacked
    if _unpacked is None:
        _unpacked = Path(tempfile.mkdtemp(prefix="gated-originals-"))
        atexit.register(shutil.rmtree, _unpacked, True)
    path = _unpacked / original
    if not path.exists():
        data = shipped_bytes(original)
        if sha256(data) != ORIGINALS[original][1]:
            pytest.fail(f"The shipped copy of {original} ({ORIGINALS[original][0]}) does not match the committed "
                        "checksum of the original file: the package data has changed.")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path


def ts_file(folder: str, split: str) -> Path:
    return original_file(f"{folder}/{folder}_{split}.ts")


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
