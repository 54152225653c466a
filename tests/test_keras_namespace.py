"""``import gated as keras`` mirrors Keras 3's public tree: the names Keras has and gated does not are exactly the
committed list in tests/keras_namespace_gaps.json, generated from the installed Keras by
``python tools/keras_namespace.py --write``. A name gated gains must leave the list (run the tool); a name gated
loses, or one a newer Keras adds, fails here until it is provided or listed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("keras_namespace", ROOT / "tools" / "keras_namespace.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["keras_namespace"] = module
    spec.loader.exec_module(module)
    return module


keras_namespace = _tool()


def test_the_missing_names_are_exactly_the_committed_list(keras):
    committed = json.loads(keras_namespace.GAPS_FILE.read_text())
    found = keras_namespace.gaps()
    assert set(found) == set(committed), "the namespaces checked changed: run python tools/keras_namespace.py --write"
    new_gaps = {ns: sorted(set(found[ns]) - set(committed[ns])) for ns in found if set(found[ns]) - set(committed[ns])}
    closed = {ns: sorted(set(committed[ns]) - set(found[ns])) for ns in found if set(committed[ns]) - set(found[ns])}
    assert not new_gaps, f"names Keras has that gated lacks and the list does not admit: {new_gaps}"
    assert not closed, (f"gated now has these names: remove them from {Path(keras_namespace.GAPS_FILE).name} with "
                        f"python tools/keras_namespace.py --write: {closed}")


def test_the_core_names_of_every_keras_program_are_there():
    """The names the tutorial and every ported program start from are never in the gap list."""
    committed = json.loads(keras_namespace.GAPS_FILE.read_text())
    core = {"(top level)": ["Input", "Model", "Sequential", "layers", "ops", "models", "utils", "callbacks"],
            "layers": ["GRU", "LSTM", "Dense", "Input", "Bidirectional", "Embedding", "Conv1D", "BatchNormalization"],
            "models": ["Model", "Sequential", "load_model", "clone_model", "model_from_json"],
            "utils": ["to_categorical", "pad_sequences"]}
    listed = {ns: sorted(set(names) & set(committed[ns])) for ns, names in core.items() if set(names) & set(committed[ns])}
    assert not listed, f"core names missing from gated: {listed}"
