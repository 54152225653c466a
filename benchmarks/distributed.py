"""Data-parallel scaling on this machine: fit() samples/s with 1 process versus N processes under torchrun.

    python benchmarks/distributed.py [--samples 4096] [--timesteps 50] [--units 64] [--batch-size 256]
                                     [--epochs 3] [--nproc 2] [--out benchmarks/distributed.json]

A GRU classifier (F=8, H=--units, T=--timesteps, Dense(1, sigmoid), Adam, shuffle off) trains on random data with
the same GLOBAL batch in every configuration:  1 process x 1 thread, 1 process x N threads (the fair peer: the same
cores), and N processes x 1 thread. Each configuration runs once under its own launcher; the first epoch is a
warm-up, the next --epochs are timed one by one (median and range reported). Correctness beside the timing: the
N-process run's final weights must equal the 1-process run's within 1e-4, or the script says so and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time


def _args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--timesteps", type=int, default=50)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed.json"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: write this run's result here
    return parser.parse_args(argv)


def worker(args) -> None:
    import numpy as np
    import torch

    import gated
    from gated.callbacks import Callback
    from gated.layers import GRU, Dense

    torch.set_num_threads(args.threads)
    gated.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.samples, args.timesteps, 8)).astype("float32")
    y = (x[:, :, 0].mean(axis=1) > 0).astype("float32")
    model = gated.Sequential([GRU(args.units, input_shape=(None, 8)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cpu")

    class EpochTimes(Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    timer = EpochTimes()
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs + 1, shuffle=False, verbose=0,
                        callbacks=[timer])
    if int(os.environ.get("RANK", "0")) == 0:
        per_second = sorted(args.samples / t for t in timer.times[1:])
        result = {"samples_per_s_median": per_second[len(per_second) // 2], "samples_per_s_range":
                  [per_second[0], per_second[-1]], "final_loss": history.history["loss"][-1],
                  "weights": np.concatenate([w.ravel() for w in model.get_weights()]).tolist()}
        with open(args.worker, "w") as f:
            json.dump(result, f)


def _run(args, nproc: int, threads: int, path: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launcher = [] if nproc == 1 else ["-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
                                      "--master_addr", "127.0.0.1", "--master_port", str(port)]
    options = [f"--samples={args.samples}", f"--timesteps={args.timesteps}", f"--units={args.units}",
               f"--batch-size={args.batch_size}", f"--epochs={args.epochs}", f"--threads={threads}",
               f"--worker={path}"]
    subprocess.run([sys.executable, *launcher, os.path.abspath(__file__), *options], env=env, check=True)
    with open(path) as f:
        return json.load(f)


def main() -> int:
    args = _args()
    if args.worker:
        worker(args)
        return 0
    import numpy as np
    import torch

    import gated

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for nproc, threads in ((1, 1), (1, args.nproc), (args.nproc, 1)):
            rows[f"{nproc} process x {threads} thread"] = _run(args, nproc, threads, os.path.join(tmp, "r.json"))
    reference = np.asarray(rows["1 process x 1 thread"]["weights"])
    parallel = np.asarray(rows[f"{args.nproc} process x 1 thread"]["weights"])
    max_error = float(np.max(np.abs(parallel - reference)))
    for row in rows.values():
        row.pop("weights")
    base = rows["1 process x 1 thread"]["samples_per_s_median"]
    print(f"GRU H={args.units} T={args.timesteps} F=8, {args.samples} samples, global batch {args.batch_size}, "
          f"{os.cpu_count()} CPUs")
    for name, row in rows.items():
        low, high = row["samples_per_s_range"]
        print(f"  {name:22s} {row['samples_per_s_median']:9.0f} samples/s  (range {low:.0f}-{high:.0f}, "
              f"x{row['samples_per_s_median'] / base:.2f})")
    print(f"  max |weights({args.nproc} processes) - weights(1 process)| = {max_error:.2e}")
    report = {"workload": {k: v for k, v in vars(args).items() if k not in ("out", "worker")}, "results": rows,
              "max_weight_difference": max_error, "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
              "python": platform.python_version(), "torch": torch.__version__, "gated": gated.__version__}}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    if max_error > 1e-4:
        print("FAILED: the data-parallel run does not reproduce the single-process weights.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
