"""Which public names of Keras 3's tree gated does not have, generated from the installed Keras.

``python tools/keras_namespace.py`` prints the gaps per namespace; ``--write`` stores them in
``tests/keras_namespace_gaps.json``, the list ``tests/test_keras_namespace.py`` holds gated to (it may only shrink:
a name gated gains must leave the file, a name gated loses fails the test); ``--markdown`` prints the table for
docs/KERAS_COMPATIBILITY.md. Needs ``keras`` (run with ``KERAS_BACKEND=torch``, set here when unset).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GAPS_FILE = ROOT / "tests" / "keras_namespace_gaps.json"

# The namespaces a sequence-model program touches, as Keras 3 spells them ("" is the top level).
NAMESPACES = (
    "", "layers", "models", "ops", "ops.nn", "ops.numpy", "ops.linalg", "random", "backend", "utils", "callbacks",
    "optimizers", "optimizers.schedules", "losses", "metrics", "saving", "preprocessing", "preprocessing.sequence",
    "initializers", "regularizers", "constraints", "activations",
)


def public_names(module) -> list[str]:
    return sorted(name for name in dir(module) if not name.startswith("_"))


def gaps() -> dict[str, list[str]]:
    """For each namespace, the names Keras has and gated does not (a namespace gated lacks: every name)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import keras

    import gated

    out: dict[str, list[str]] = {}
    for namespace in NAMESPACES:
        theirs = importlib.import_module(f"keras.{namespace}" if namespace else "keras")
        try:
            ours = importlib.import_module(f"gated.{namespace}" if namespace else "gated")
        except ImportError:
            ours = None
        names = public_names(theirs)
        if not namespace:
            names = [n for n in names if n != "src"]  # Keras's own implementation package
        out[namespace or "(top level)"] = sorted(n for n in names if ours is None or not hasattr(ours, n))
    del keras, gated
    return out


def markdown(found: dict[str, list[str]]) -> str:
    lines = ["| namespace | names Keras 3 has that gated does not |", "|---|---|"]
    for namespace, names in found.items():
        where = namespace if namespace.startswith("(") else f"`keras.{namespace}`"
        lines.append(f"| {where} | {', '.join(f'`{n}`' for n in names) or '(none)'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the gaps in {GAPS_FILE.relative_to(ROOT)}")
    parser.add_argument("--markdown", action="store_true", help="print the table for docs/KERAS_COMPATIBILITY.md")
    args = parser.parse_args(argv)
    found = gaps()
    if args.write:
        GAPS_FILE.write_text(json.dumps(found, indent=1) + "\n")
    if args.markdown:
        print(markdown(found))
    else:
        total = sum(map(len, found.values()))
        for namespace, names in found.items():
            print(f"{namespace}: {len(names)} missing" + (f": {', '.join(names)}" if names else ""))
        print(f"{total} names missing in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
