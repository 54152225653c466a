"""The default classifier on the development benchmark: accuracy, balanced accuracy and time per dataset and seed.

Each run is ``gated train --train D_TRAIN.ts --test D_TEST.ts --seed S --json`` (the command line, in a fresh
process with one thread), so the figures are what a user gets. The 1-NN Euclidean baseline comes from the same run.

    python benchmarks/classification.py --seeds 0 1 2                 # every dataset, 3 seeds -> classification.json
    python benchmarks/classification.py --datasets Coffee --seeds 0 --extra --architecture rnn
    python benchmarks/classification.py --table                       # the table of docs/RESULTS.md from the JSON

Datasets are read from ../shared/datasets (see its README for their sources and published figures).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "datasets"))
DATASETS = ["ItalyPowerDemand", "JapaneseVowels", "BasicMotions", "ACSF1", "PLAID", "Coffee", "PigCVP",
            "Covid3Month_disc", "MinimalChinatown", "FSDD"]
# Published accuracies (../shared/datasets/README.md): ResNet (Fawaz et al. 2019) and InceptionTime (2020).
PUBLISHED = {"ItalyPowerDemand": (0.9630, None), "JapaneseVowels": (0.9916, None), "BasicMotions": (1.0, None),
             "ACSF1": (0.916, 0.920), "PLAID": (0.940, 0.944), "Coffee": (1.0, 1.0), "PigCVP": (0.918, 0.962)}


def command(name: str, seed: int, extra: list[str]) -> list[str]:
    folder = os.path.join(DATA, name)
    return [sys.executable, "-m", "gated", "train", "--train", os.path.join(folder, f"{name}_TRAIN.ts"),
            "--test", os.path.join(folder, f"{name}_TEST.ts"), "--seed", str(seed), "--json", *extra]


def run(name: str, seed: int, extra: list[str]) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", KERAS_BACKEND="torch")
    started = time.perf_counter()
    done = subprocess.run(command(name, seed, extra), capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"dataset": name, "seed": seed, "error": done.stderr[-2000:]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(dataset=name, seed=seed, wall_seconds=round(time.perf_counter() - started, 1), extra=extra)
    print(f"{name:18s} seed {seed}: accuracy {result['test_accuracy']:.4f} (1-NN {result['baseline_1nn_euclidean_accuracy']:.4f}) "
          f"{result['wall_seconds']:.0f} s, {result.get('ensemble')} members", flush=True)
    return result


def table(results: list[dict]) -> str:
    rows = ["| dataset | gated (mean ± sd) | seeds | balanced | 1-NN ED | ResNet | InceptionTime | members | "
            "time (s, mean / max) |", "|---|---|---|---|---|---|---|---|---|"]
    ours, theirs = [], []
    for name in DATASETS:
        runs = [r for r in results if r.get("dataset") == name and "error" not in r]
        if not runs:
            continue
        acc = [r["test_accuracy"] for r in runs]
        bal = [r["test_balanced_accuracy"] for r in runs]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        resnet, inception = PUBLISHED.get(name, (None, None))
        if resnet is not None:
            ours.append(statistics.mean(acc))
            theirs.append(resnet)
        seconds = [r["train_seconds"] for r in runs]
        rows.append(f"| {name} | **{statistics.mean(acc):.4f} ± {sd:.4f}** | {', '.join(f'{a:.3f}' for a in acc)} | "
                    f"{statistics.mean(bal):.4f} | {runs[0]['baseline_1nn_euclidean_accuracy']:.4f} | "
                    f"{resnet if resnet is not None else '–'} | {inception if inception is not None else '–'} | "
                    f"{', '.join(str(r.get('ensemble')) for r in runs)} | "
                    f"{statistics.mean(seconds):.0f} / {max(seconds):.0f} |")
    if ours:
        rows.append(f"| mean of the {len(ours)} sets with a ResNet figure | **{statistics.mean(ours):.4f}** | | | | "
                    f"{statistics.mean(theirs):.4f} | | | |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (one thread each; default 2)")
    parser.add_argument("--output", default=os.path.join(HERE, "classification.json"))
    parser.add_argument("--table", action="store_true", help="print the table from --output and stop")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more `gated train` options")
    args = parser.parse_args()
    if args.table:
        with open(args.output) as handle:
            print(table(json.load(handle)["runs"]))
        return
    jobs = [(name, seed) for seed in args.seeds for name in args.datasets]
    results: list[dict] = []
    with ThreadPoolExecutor(args.jobs) as pool:  # the file is rewritten after every run: a stopped run keeps its rows
        for done in as_completed([pool.submit(run, name, seed, args.extra) for name, seed in jobs]):
            results.append(done.result())
            with open(args.output, "w") as handle:
                json.dump({"runs": results}, handle, indent=1)
    for failed in (r for r in results if "error" in r):
        print(f"{failed['dataset']} seed {failed['seed']} failed:\n{failed['error']}", file=sys.stderr)
    with open(args.output, "w") as handle:
        json.dump({"runs": results}, handle, indent=1)
    print(table(results))


if __name__ == "__main__":
    main()
