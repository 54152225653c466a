"""Token sequences <-> padded id arrays.

A ``Vocabulary`` reserves ids 0-3 for padding, the start and end markers and unknown tokens; the tokens seen in
training follow in sorted order, so the same data always gives the same ids. ``SequenceKind`` remembers what the
user passed (strings of characters, lists of string tokens, lists of integers, or real-valued arrays) so that
predictions come back in the same form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

PAD, START, END, UNKNOWN = 0, 1, 2, 3
RESERVED = ("<pad>", "<start>", "<end>", "<unk>")

CHARS, TOKENS, INTEGERS, REAL = "chars", "tokens", "integers", "real"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def sequence_kind(sequences: Any, what: str) -> str:
    """CHARS (every sequence a str), TOKENS (sequences of str), INTEGERS (sequences of ints) or REAL (a float
    array (N, T) or (N, T, F), or sequences of floats)."""
    if isinstance(sequences, np.ndarray) and sequences.dtype.kind == "f":
        if sequences.ndim not in (2, 3):
            raise ValueError(f"{what}: a real-valued array must be (samples, steps) or (samples, steps, features); "
                             f"received shape {sequences.shape}.")
        return REAL
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Iterable):
        raise TypeError(f"{what} must be a list of sequences (strings, token lists or integer lists) or a float "
                        f"array; received {type(sequences).__name__} {_describe(sequences)}.")
    sequences = list(sequences)
    if not sequences:
        raise ValueError(f"{what} is empty; pass at least one sequence.")
    kinds = set()
    for i, sequence in enumerate(sequences):
        if isinstance(sequence, str):
            kinds.add(CHARS)
            continue
        if isinstance(sequence, np.ndarray) and sequence.dtype.kind in "iu":
            kinds.add(INTEGERS)
            continue
        if isinstance(sequence, np.ndarray) and sequence.dtype.kind == "f":
            kinds.add(REAL)
            continue
        if not isinstance(sequence, (list, tuple)):
            raise TypeError(f"{what}[{i}] is a {type(sequence).__name__} ({_describe(sequence)}); each sequence must "
                            "be a str, a list/tuple of tokens, or a 1-D array.")
        types = {type(token) for token in sequence}
        if not types:
            continue  # an empty sequence fits every kind
        if types <= {str}:
            kinds.add(TOKENS)
        elif all(isinstance(token, (int, np.integer)) and not isinstance(token, bool) for token in sequence):
            kinds.add(INTEGERS)
        elif all(isinstance(token, (float, int, np.floating, np.integer)) for token in sequence):
            kinds.add(REAL)
        else:
            raise TypeError(f"{what}[{i}] mixes token types ({sorted(t.__name__ for t in types)}); a sequence holds "
                            "strings only or integers only.")
    if not kinds:
        raise ValueError(f"{what} holds only empty sequences; there are no tokens to learn from.")
    if len(kinds) > 1:
        raise TypeError(f"{what} mixes sequence kinds ({', '.join(sorted(kinds))}); pass one kind: all strings, all "
                        "token lists, all integer lists or all real-valued.")
    return kinds.pop()


def tokens_of(sequence: Any, kind: str) -> list:
    if kind == CHARS:
        return list(sequence)
    if kind == INTEGERS:
        return [int(token) for token in sequence]
    return list(sequence)


class Vocabulary:
    """Ids for the tokens of one side (source or target) of a sequence-to-sequence task."""

    def __init__(self, tokens: Sequence[Any], kind: str):
        self.kind = kind
        self.tokens: list[Any] = list(tokens)
        self._index = {token: i + len(RESERVED) for i, token in enumerate(self.tokens)}
        if len(self._index) != len(self.tokens):
            raise ValueError("A vocabulary's tokens must be distinct.")

    @classmethod
    def from_sequences(cls, sequences: Sequence[Any], kind: str) -> "Vocabulary":
        seen: set = set()
        for sequence in sequences:
            seen.update(tokens_of(sequence, kind))
        return cls(sorted(seen), kind)

    def __len__(self) -> int:
        return len(RESERVED) + len(self.tokens)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.tokens)} {self.kind} tokens + {len(RESERVED)} reserved)"

    def encode(self, sequence: Any) -> list[int]:
        """Token ids (unknown tokens -> UNKNOWN)."""
        return [self._index.get(token, UNKNOWN) for token in tokens_of(sequence, self.kind)]

    def decode(self, ids: Iterable[int]) -> Any:
        """The tokens of ``ids`` up to the first END, in the user's form (a str for CHARS)."""
        out = []
        for i in ids:
            i = int(i)
            if i == END:
                break
            if i < len(RESERVED):
                continue
            out.append(self.tokens[i - len(RESERVED)])
        return "".join(out) if self.kind == CHARS else out

    def get_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "tokens": list(self.tokens)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Vocabulary":
        return cls(config["tokens"], config["kind"])


def pad_ids(rows: Sequence[Sequence[int]], length: int | None = None) -> np.ndarray:
    """Right-padded int64 array (N, length) of id rows."""
    length = max((len(r) for r in rows), default=0) if length is None else length
    out = np.zeros((len(rows), max(length, 1)), dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out


@dataclass
class RealSpec:
    """A real-valued side: its number of features and whether the user passed (N, T) arrays (one feature)."""

    features: int
    squeeze: bool

    def get_config(self) -> dict[str, Any]:
        return {"kind": REAL, "features": self.features, "squeeze": self.squeeze}


def as_real_array(sequences: Any, what: str, features: int | None = None) -> tuple[np.ndarray, bool]:
    """(N, T, F) float32 array of real-valued sequences, and whether the input was (N, T)."""
    try:
        array = np.array(sequences, dtype=np.float32)  # a copy: the caller's array may be read-only
    except ValueError:
        raise ValueError(f"{what}: real-valued sequences must all have the same length (one array (samples, steps) "
                         "or (samples, steps, features)); pad or window them first.") from None
    squeeze = array.ndim == 2
    if squeeze:
        array = array[..., None]
    if array.ndim != 3:
        raise ValueError(f"{what}: expected (samples, steps) or (samples, steps, features); received shape "
                         f"{array.shape}.")
    if features is not None and array.shape[-1] != features:
        raise ValueError(f"{what} has {array.shape[-1]} features per step, but the model was trained with "
                         f"{features}.")
    bad = ~np.isfinite(array)
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{what} holds {int(bad.sum())} NaN/inf value(s), the first at position {position}; fill or "
                         "drop them first (gated.data.fill_missing).")
    return array, squeeze
