"""Run a Keras program as written (real Keras 3) or with its imports rewritten for gated.

The rewrite is the whole promise: a user changes ``import keras`` to ``import gated as keras`` (and the
``from keras...`` forms alike) and nothing else. ``RULES`` is that change as regular expressions; they touch
import statements only, so a program's own code (strings, comments, attribute chains such as ``keras.ops.x``)
is never edited.

| rule | as written | rewritten |
|---|---|---|
| ``import keras`` | ``import keras`` | ``import gated as keras`` |
| ``import keras as k`` | ``import keras as k`` | ``import gated as k`` |
| ``import keras.sub...`` | ``import keras.ops as ops`` | ``import gated.ops as ops`` |
| ``from keras import ...`` | ``from keras import layers`` | ``from gated import layers`` |
| ``from keras.sub import ...`` | ``from keras.layers import LSTM`` | ``from gated.layers import LSTM`` |

A line counts as an import statement when, after its indentation, it starts with ``import `` or ``from `` (the
first line of a parenthesised multi-line import names the module, so it is covered). ``import keras_hub`` or
``from kerasy import x`` are other packages and stay as they are.

``run_program`` executes a program file in a fresh subprocess and a fresh working directory with
``KERAS_BACKEND=torch``, ``OMP_NUM_THREADS=1`` (one core, the same for both sides), ``MPLBACKEND=Agg`` and
``PROGRAM_SEED``; a small wrapper seeds ``random``, ``numpy`` and ``torch`` first, runs the program as ``__main__``
and, for the rewritten program, fails with exit code 3 when ``keras`` was imported at all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parent
ROOT = PROGRAMS.parents[1]

# (name, pattern, replacement): applied in order to each import line.
RULES: tuple[tuple[str, re.Pattern, str], ...] = (
    ("import keras", re.compile(r"^(\s*)import keras(\s*(?:#.*)?)$"), r"\1import gated as keras\2"),
    ("import keras as k", re.compile(r"^(\s*)import keras(\s+as\s+\w+)"), r"\1import gated\2"),
    ("import keras.sub", re.compile(r"^(\s*)import keras\.([\w.]+)"), r"\1import gated.\2"),
    ("from keras import", re.compile(r"^(\s*)from keras(\s+import\b)"), r"\1from gated\2"),
    ("from keras.sub import", re.compile(r"^(\s*)from keras\.([\w.]+)(\s+import\b)"), r"\1from gated.\2\3"),
)

_IMPORT_LINE = re.compile(r"^\s*(import|from)\s")

# ``import keras, numpy`` would need the name kept for the other module: refuse rather than guess.
_COMMA_IMPORT = re.compile(r"^\s*import\s+[^#]*\bkeras\b[^#]*,|^\s*import\s+[^#]*,\s*keras\b")

EXIT_IMPORTED_KERAS = 3

_WRAPPER = """\
import os, random, runpy, sys
seed = int(os.environ["PROGRAM_SEED"])
random.seed(seed)
try:
    import numpy
    numpy.random.seed(seed)
except ImportError:
    pass
try:
    import torch
    torch.manual_seed(seed)
except ImportError:
    pass
sys.argv = [{program!r}]
runpy.run_path({program!r}, run_name="__main__")
if {forbid_keras!r} and "keras" in sys.modules:
    sys.stdout.flush()
    print("The rewritten program imported keras: " + repr(sys.modules["keras"]), file=sys.stderr)
    sys.exit({exit_code})
"""


def rewrite_line(line: str) -> str:
    """One source line with its keras import rewritten for gated; any other line unchanged."""
    if not _IMPORT_LINE.match(line):
        return line
    if _COMMA_IMPORT.match(line):
        raise ValueError(f"Cannot rewrite {line.strip()!r}: it imports keras together with other modules. "
                         f"Split it into one import per line.")
    for _, pattern, replacement in RULES:
        rewritten, count = pattern.subn(replacement, line, count=1)
        if count:
            return rewritten
    return line


def rewrite_source(source: str) -> str:
    """The program with every keras import rewritten (``RULES``); all other text byte for byte the same."""
    return "".join(rewrite_line(line[:-1]) + "\n" if line.endswith("\n") else rewrite_line(line)
                   for line in source.splitlines(keepends=True))


@dataclasses.dataclass(frozen=True)
class ProgramRun:
    returncode: int
    result: dict | None  # the program's RESULT line, parsed; None when it printed none
    stderr_tail: str
    stdout_tail: str

    def describe(self) -> str:
        return f"exit code {self.returncode}\n--- stdout (tail) ---\n{self.stdout_tail}\n" \
               f"--- stderr (tail) ---\n{self.stderr_tail}"


def program_path(name: str) -> Path:
    path = PROGRAMS / f"{name}.py"
    if not path.is_file():
        known = sorted(p.stem for p in PROGRAMS.glob("*.py") if not p.stem.startswith(("test_", "rewrite", "_")))
        raise FileNotFoundError(f"No program {name!r} in {PROGRAMS}; known programs: {known}.")
    return path


def parse_result(stdout: str) -> dict | None:
    """The last ``RESULT {json}`` line of a program's output."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            if set(result) != {"metric", "value", "higher_is_better"}:
                raise ValueError(f"RESULT line {line!r} must hold exactly metric, value and higher_is_better.")
            return result
    return None


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


def start_program(name: str | Path, gated: bool, seed: int = 0,
                  workdir: str | None = None) -> tuple[subprocess.Popen, str]:
    """Start program ``name`` (a name in this folder, or a file's path) as written, or rewritten for gated when
    ``gated``, in its own working directory."""
    path = name if isinstance(name, Path) else program_path(name)
    source, name = path.read_text(), path.stem
    workdir = workdir or tempfile.mkdtemp(prefix=f"program_{name}_{'gated' if gated else 'keras'}_")
    program = Path(workdir) / f"{name}.py"
    program.write_text(rewrite_source(source) if gated else source)
    wrapper = Path(workdir) / "_run_program.py"
    wrapper.write_text(_WRAPPER.format(program=str(program), forbid_keras=gated, exit_code=EXIT_IMPORTED_KERAS))
    env = {**os.environ, "KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "PROGRAM_SEED": str(seed), "PYTHONHASHSEED": "0",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, str(wrapper)], cwd=workdir, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return process, workdir


def finish_program(process: subprocess.Popen, timeout: float) -> ProgramRun:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        stderr += f"\nTimed out after {timeout:.0f} s."
        return ProgramRun(-9, None, _tail(stderr, 25), _tail(stdout, 15))
    try:
        result = parse_result(stdout)
    except ValueError as error:  # a malformed RESULT line is the program's failure, reported as such
        result, stderr = None, f"{stderr}\n{error}"
    return ProgramRun(process.returncode, result, _tail(stderr, 25), _tail(stdout, 15))


def run_program(name: str | Path, gated: bool, seed: int = 0, timeout: float = 300) -> ProgramRun:
    """Run program ``name`` to the end: (exit code, RESULT, stderr tail)."""
    process, _ = start_program(name, gated, seed)
    return finish_program(process, timeout)


def run_both(name: str, seed: int = 0, timeout: float = 300) -> tuple[ProgramRun, ProgramRun]:
    """The program on real Keras and on gated, side by side (two processes, one core each)."""
    keras_process, _ = start_program(name, gated=False, seed=seed)
    gated_process, _ = start_program(name, gated=True, seed=seed)
    gated_run = finish_program(gated_process, timeout)
    return finish_program(keras_process, timeout), gated_run


def program_names() -> list[str]:
    return sorted(p.stem for p in PROGRAMS.glob("*.py") if p.stem not in ("__init__", "rewrite", "test_programs"))


def _value(run: ProgramRun) -> str:
    if run.returncode != 0 or run.result is None:
        return f"fails (exit {run.returncode})"
    return f"{run.result['value']:.3f}"


def _table(seeds: list[int], names: list[str]) -> int:
    """Each program on both sides for every seed; one markdown row per program."""
    print("| program | metric | Keras (seeds " + " / ".join(map(str, seeds)) + ") | gated (seeds "
          + " / ".join(map(str, seeds)) + ") |")
    print("|---|---|---|---|")
    for name in names:
        runs = [run_both(name, seed=seed) for seed in seeds]
        metric = next((r.result["metric"] for pair in runs for r in pair if r.result), "?")
        print(f"| `{name}` | {metric} | {' / '.join(_value(k) for k, _ in runs)} | "
              f"{' / '.join(_value(g) for _, g in runs)} |", flush=True)
    return 0


def _main(argv: list[str]) -> int:
    """``python tests/programs/rewrite.py NAME [keras|gated] [SEED]``: run one program and print what came back.
    ``python tests/programs/rewrite.py --table [SEED ...] [--only NAME ...]``: every program on Keras and on gated
    for each seed (default 0 1 2), one markdown row each (the table in docs/KERAS_COMPATIBILITY.md)."""
    if not argv or argv[0] in ("-h", "--help"):
        print(_main.__doc__)
        return 0
    if argv[0] == "--table":
        rest = argv[1:]
        only = rest[rest.index("--only") + 1:] if "--only" in rest else []
        seeds = [int(a) for a in (rest[:rest.index("--only")] if "--only" in rest else rest)] or [0, 1, 2]
        return _table(seeds, only or program_names())
    name, side = argv[0], argv[1] if len(argv) > 1 else "keras"
    if side not in ("keras", "gated"):
        raise SystemExit(f"The side must be 'keras' or 'gated', got {side!r}.")
    run = run_program(name, gated=side == "gated", seed=int(argv[2]) if len(argv) > 2 else 0)
    print(run.describe())
    print("RESULT:", run.result)
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
