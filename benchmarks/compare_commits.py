"""gated at two commits, side by side in one run: does a change cost speed?

    python benchmarks/compare_commits.py BEFORE_REV [AFTER_REV] [--workloads A B D] [--rounds 5] [--json out.json]

Each revision is checked out into a temporary folder (``git worktree``), and every round runs one fresh process
per revision, alternating which goes first, with ``OMP_NUM_THREADS=1``; the process imports gated from its
revision's folder (``PYTHONPATH``) and times the public API only: one ``fit`` epoch after a warm-up epoch
(workloads A and B of benchmarks/bench.py) or one ``predict`` after a warm-up (D). AFTER_REV defaults to the working
tree. Beside each timing, both revisions' predictions after the same training from the same weights must agree
(1e-5), or the row says so. Reports the median and range per revision and the ratio of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKLOADS = {  # as in benchmarks/bench.py
    "A": dict(n=1000, steps=10, features=1, units=128, batch=32, train=True, sequence=True),
    "B": dict(n=4096, steps=100, features=8, units=256, batch=64, train=True, sequence=False),
    "D": dict(n=256, steps=100, features=8, units=128, batch=256, train=False, sequence=False),
}

# One timing in a fresh process: prints {"seconds": ..., "prediction": [...]} as JSON.
CHILD = r"""
import json, sys, time
import numpy as np, torch
import gated
from gated.layers import GRU, Dense
w = json.loads(sys.argv[1])
torch.manual_seed(0)
rng = np.random.default_rng(0)
x = rng.random((w["n"], w["steps"], w["features"])).astype("float32")
if w["sequence"]:
    y = (rng.random((w["n"], w["steps"], 1)) > 0.5).astype("float32")
    model = gated.Sequential([GRU(w["units"], input_shape=(None, w["features"]), return_sequences=True),
                              Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
else:
    y = rng.integers(0, 10, size=w["n"])
    model = gated.Sequential([GRU(w["units"], input_shape=(None, w["features"])), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model(torch.as_tensor(x[:2]))
generator = np.random.default_rng(1)
model.set_weights([generator.normal(0, 0.1, size=np.shape(v)).astype("float32") for v in model.get_weights()])
if w["train"]:
    model.fit(x, y, batch_size=w["batch"], epochs=1, shuffle=False, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=w["batch"], epochs=1, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
else:
    model.predict(x, batch_size=w["batch"], verbose=0)
    start = time.perf_counter()
    model.predict(x, batch_size=w["batch"], verbose=0)
    seconds = time.perf_counter() - start
prediction = model.predict(x[:8], verbose=0)
print(json.dumps({"seconds": seconds, "prediction": np.asarray(prediction).ravel()[:64].tolist(),
                  "gated": gated.__file__}))
"""


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(into), rev], check=True,
                   capture_output=True)
    return into


def run_once(source: Path, workload: dict) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(source))
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(workload)], env=env, capture_output=True,
                         text=True, check=True, cwd=tempfile.gettempdir()).stdout
    result = json.loads(out.strip().splitlines()[-1])
    expected = str(source / "gated" / "__init__.py")
    if os.path.realpath(result["gated"]) != os.path.realpath(expected):
        raise RuntimeError(f"The child imported gated from {result['gated']}, not {expected}.")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?", default=None, help="a revision (default: the working tree)")
    parser.add_argument("--workloads", nargs="+", default=["A", "B", "D"], choices=list(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the sample counts (quick checks)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gated-compare-") as tmp:
        sources = {"before": checkout(args.before, Path(tmp) / "before")}
        sources["after"] = checkout(args.after, Path(tmp) / "after") if args.after else ROOT
        try:
            rows = []
            for name in args.workloads:
                w = dict(WORKLOADS[name])
                w["n"] = max(w["batch"], int(w["n"] * args.scale))
                times: dict[str, list[float]] = {"before": [], "after": []}
                agree = True
                for round_ in range(args.rounds):
                    order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
                    results = {side: run_once(sources[side], w) for side in order}
                    for side in order:
                        times[side].append(results[side]["seconds"])
                    diff = max(abs(a - b) for a, b in zip(results["before"]["prediction"],
                                                          results["after"]["prediction"]))
                    agree = agree and diff <= 1e-5
                medians = {side: statistics.median(t) for side, t in times.items()}
                rows.append({"workload": name, "what": "fit epoch" if w["train"] else "predict",
                             "seconds": times, "median": medians, "ratio_after_over_before":
                             medians["after"] / medians["before"], "predictions_agree_1e-5": agree})
                print(f"{name} {rows[-1]['what']:9s}  before {medians['before']:.3f} s "
                      f"[{min(times['before']):.3f}-{max(times['before']):.3f}]  after {medians['after']:.3f} s "
                      f"[{min(times['after']):.3f}-{max(times['after']):.3f}]  after/before "
                      f"{rows[-1]['ratio_after_over_before']:.3f}  predictions agree: {agree}", flush=True)
        finally:
            for side in ("before", "after"):
                if sources[side] != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(sources[side])],
                                   capture_output=True)
    report = {"before": args.before, "after": args.after or "working tree", "rounds": args.rounds,
              "threads": 1, "machine": platform.processor() or platform.machine(), "python": platform.python_version(),
              "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
