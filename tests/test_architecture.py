"""The package's floors hold: imports run downward, no large import circle, almost no imports inside functions.

``tools/import_graph.py`` reads the source with ``ast`` (imports inside functions counted); docs/ARCHITECTURE.md
names the floors. The first tests check the tool itself on a small package written here, so a broken counter
cannot pass the real check.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


graph = _tool()


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "gated"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_tool_finds_circles_local_imports_and_upward_arrows(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "from . import layers, training\n",
        "layers/__init__.py": "from ._a import A\n",
        "layers/_a.py": "from ._b import B\nA = 1\n",
        "layers/_b.py": "B = 2\ndef f():\n    from ._a import A\n    from ..training import fit\n    return A\n",
        "training/__init__.py": "from ..layers._a import A\ndef fit():\n    pass\n",
        "utils/__init__.py": "from ..layers import A\nimport numpy\n",
    })
    result = graph.report(root)
    assert sorted(result["local_imports"]) == ["gated.layers._b:3 -> gated.layers._a",
                                               "gated.layers._b:4 -> gated.training"]
    assert [sorted(c) for c in result["circles"]] == [["gated.layers._a", "gated.layers._b", "gated.training"]]
    arrows = {(a["from"], a["to"]) for a in result["upward_arrows"]}
    assert arrows == {("layers", "training"), ("utils", "layers")}


def test_type_checking_imports_are_not_counted(tmp_path):
    root = _package(tmp_path, {
        "layers/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..models import Model\n",
        "models/__init__.py": "from ..layers import x\n",
    })
    result = graph.report(root)
    assert result["upward_arrows"] == [] and result["circles"] == [] and result["local_imports"] == []


def test_a_folder_without_a_floor_is_named():
    with pytest.raises(KeyError, match=r"'newfolder' has no floor in tools/import_graph.py FLOORS"):
        graph.floor_of("newfolder")


def test_gated_imports_run_downward_with_no_large_circle():
    result = graph.report(ROOT / "gated")
    largest = max((len(c) for c in result["circles"]), default=0)
    assert largest <= graph.MAX_CIRCLE, result["circles"]
    assert result["upward_arrows"] == [], result["upward_arrows"]


def test_gated_has_few_imports_inside_functions():
    result = graph.report(ROOT / "gated")
    assert len(result["local_imports"]) <= graph.MAX_LOCAL_IMPORTS, "\n".join(result["local_imports"])


def test_every_folder_of_the_package_has_a_floor():
    units = {p.name if p.is_dir() else p.stem for p in (ROOT / "gated").iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    for unit in units:
        graph.floor_of(unit)  # raises KeyError naming the folder


def test_the_report_prints():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "import_graph.py")], capture_output=True, text=True,
                         check=True).stdout
    assert "intra-package imports" in out and "import circles" in out and "upward folder arrows" in out
