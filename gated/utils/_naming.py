"""Names: Keras's snake_case rule and the one wording for unknown names in every ``get``."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from typing import Iterable

_NAME_COUNTS: dict[str, int] = defaultdict(int)


def unique_name(base: str) -> str:
    """Keras-style automatic names: 'gru', 'gru_1', 'gru_2', ... (counted per base name until
    ``reset_names()``, which ``gated.backend.clear_session()`` calls)."""
    count = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


def get_uid(prefix: str = "") -> int:
    """How many times ``prefix`` has been named, this time included (1 the first time), as Keras's
    ``backend.get_uid``; shares the counters of the automatic layer names."""
    _NAME_COUNTS[prefix] += 1
    return _NAME_COUNTS[prefix]


def reset_names() -> None:
    """Start the automatic names over ('gru', then 'gru_1', ...), as Keras's ``clear_session()`` does."""
    _NAME_COUNTS.clear()


def to_snake_case(name: str) -> str:
    """``'MeanSquaredError'`` -> ``'mean_squared_error'``, ``'AUC'`` -> ``'auc'`` (Keras's rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _typo_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from ``a`` to ``b``, ignoring case."""
    a, b = a.lower(), b.lower()
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
    return current[-1]


def closest_name(identifier: str, known: Iterable[str]) -> str | None:
    """The known name a typo most likely meant, or None when nothing is close."""
    def score(name: str) -> tuple[int, float]:
        return _typo_distance(identifier, name), -difflib.SequenceMatcher(None, identifier, name).ratio()

    ranked = sorted(set(known), key=lambda name: (*score(name), name))
    if not ranked:
        return None
    distance, neg_ratio = score(ranked[0])
    return ranked[0] if distance <= max(1, len(identifier) // 3) or -neg_ratio >= 0.75 else None


def unknown_name_error(kind: str, identifier: str, known: Iterable[str], hint: str = "", plural: str | None = None,
                       shown: Iterable[str] | None = None) -> ValueError:
    """``ValueError: Unknown loss 'mse2'. Did you mean 'mse'? Known losses: ...``; ``shown`` limits the list."""
    known = sorted(set(known))
    shown = sorted(set(shown)) if shown is not None else known
    close = closest_name(identifier, known)
    suggestion = f" Did you mean '{close}'?" if close else ""
    return ValueError(f"Unknown {kind} '{identifier}'.{suggestion} Known {plural or kind + 's'}: {', '.join(shown)}."
                      f"{hint}")
