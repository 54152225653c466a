"""Sequence error rates: word error rate (exact match against any reference) and token error rate (edit distance,
e.g. the phoneme error rate of grapheme-to-phoneme models). Edit distances come from rapidfuzz's Levenshtein."""

from __future__ import annotations

from typing import Any, Sequence

from rapidfuzz.distance import Levenshtein


def _alternatives(reference: Any, prediction: Any) -> list[tuple]:
    """A reference is one sequence or a list of acceptable sequences (e.g. every pronunciation of a word). A list
    of strings is a list of alternatives when the prediction is a string, else one sequence of string tokens."""
    if isinstance(reference, str):
        return [tuple(reference)]
    items = list(reference)
    if items and all(isinstance(r, (list, tuple)) for r in items):
        return [tuple(r) for r in items]
    if items and isinstance(prediction, str) and all(isinstance(r, str) for r in items):
        return [tuple(r) for r in items]
    return [tuple(items)]


def _check(predictions: Sequence[Any], references: Sequence[Any]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references; pass one reference (or "
                         "one list of acceptable references) per prediction, in the same order.")
    if not predictions:
        raise ValueError("No predictions to score; pass at least one.")


def word_error_rate(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Fraction of predictions that equal none of their references. ``references[i]`` is one sequence or a list
    of acceptable sequences (for pronunciation dictionaries: every pronunciation of the word)."""
    _check(predictions, references)
    wrong = sum(tuple(p) not in _alternatives(r, p) for p, r in zip(predictions, references))
    return wrong / len(predictions)


def token_error_rate(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Total edit distance (insertions, deletions, substitutions of tokens) over total reference length; for each
    prediction the closest of its references counts (ties: the shorter reference). The phoneme error rate (PER)
    of grapheme-to-phoneme models."""
    _check(predictions, references)
    edits = length = 0
    for prediction, reference in zip(predictions, references):
        options = _alternatives(reference, prediction)
        prediction = tuple(prediction)
        distance, size = min((Levenshtein.distance(prediction, r), len(r)) for r in options)
        edits += distance
        length += size
    if length == 0:
        raise ValueError("Every reference is empty; a token error rate needs reference tokens.")
    return edits / length
