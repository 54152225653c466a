"""Reproduce docs/RESULTS.md: the default recipes on the built-in datasets, 3 seeds each, with baselines.

    python benchmarks/results.py [--seeds 0 1 2] [--json benchmarks/results.json] [--processes N]

Each row runs exactly what the command line runs (printed beside it), e.g.
    gated train --train italy_power_demand --test italy_power_demand --seed 0 --json
One thread per process (the numbers are then comparable whatever else the machine is doing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

CLASSIFICATION = ["italy_power_demand", "japanese_vowels", "basic_motions"]
FORECASTING = [("sunspots", ["--horizon", "11"]), ("co2", ["--horizon", "52", "--missing", "interpolate"])]


def run(args: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "gated", *args, "--json"], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"gated {' '.join(args)} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", default="benchmarks/results.json")
    parser.add_argument("--only", nargs="*", help="dataset names to run (default all)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="runs at a time (default: cores)")
    options = parser.parse_args()
    jobs = [(name, ["train", "--train", name, "--test", name]) for name in CLASSIFICATION]
    jobs += [(name, ["forecast", "--csv", name, *extra]) for name, extra in FORECASTING]
    jobs = [(name, command + ["--seed", str(seed)], seed) for name, command in jobs for seed in options.seeds
            if not options.only or name in options.only]

    def one(job):
        name, command, seed = job
        start = time.perf_counter()
        out = run(command)
        out.pop("forecast", None)
        row = {"dataset": name, "seed": seed, "cli": "gated " + " ".join(command),
               "wall_seconds": time.perf_counter() - start, **out}
        print(json.dumps(row), flush=True)
        return row

    with ThreadPoolExecutor(max_workers=options.processes) as pool:  # one single-threaded process per core
        rows = list(pool.map(one, jobs))
    summary = {}
    for name in {r["dataset"] for r in rows}:
        mine = [r for r in rows if r["dataset"] == name]
        keys = [k for k in mine[0] if isinstance(mine[0][k], float) and k != "wall_seconds"]
        summary[name] = {k: {"mean": statistics.mean(r[k] for r in mine),
                             "std": statistics.pstdev(r[k] for r in mine)} for k in keys}
    with open(options.json, "w") as handle:
        json.dump({"machine": {"python": platform.python_version(), "platform": platform.platform(),
                               "cpu_count": os.cpu_count(), "threads_per_run": 1},
                   "rows": rows, "summary": summary}, handle, indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
