"""MinGRU (parallel log-space scan) against gated's GRU: training throughput on CPU, and accuracy on real data.

    python benchmarks/mingru.py [--speed] [--accuracy] [--seeds 0 1 2] [--out benchmarks/mingru.json]

Speed: forward + backward of one layer, ``return_sequences=True``, B=16, F=8, H=64, T in (64, 512, 4096), one
thread; samples/s from the median of ``--repeats`` timed calls after a warm-up (range = min..max). Beside each
timing, a correctness check: MinGRU's scan against its own step loop, the GRU's fused path against its loop.
Accuracy: ``gated.recipes.train_classifier(cell=...)`` (the default recipe: Bidirectional + second layer, same
epochs, patience and refit) on italy_power_demand and japanese_vowels with the official splits.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import gated  # noqa: E402
from gated import datasets  # noqa: E402
from gated import layers as L  # noqa: E402
from gated.recipes import train_classifier  # noqa: E402

B, F, H = 16, 8, 64


def _check(layer: L.RNN, x: torch.Tensor) -> float:
    """Max |fast - reference| over the outputs: MinGRU scan vs step loop, GRU fused vs loop (use_cudnn=False)."""
    with torch.no_grad():
        fast = layer(x)
        if isinstance(layer, L.MinGRU):
            layer.parallel = False
            slow = layer(x)
            layer.parallel = True
        else:
            loop = L.GRU(H, return_sequences=True, use_cudnn=False)
            loop._build_now(tuple(x.shape), x.device)
            loop.set_weights(layer.get_weights())
            slow = loop(x)
    return float((fast - slow).abs().max())


def _time_train_step(layer: L.RNN, x: torch.Tensor, repeats: int) -> list[float]:
    def step() -> None:
        layer.zero_grad()
        y = layer(x, training=True)  # (B, T, H)
        y.square().mean().backward()

    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    step()  # warm-up
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return times


def speed(repeats: int, device: str = "cpu") -> list[dict]:
    rows = []
    for steps in (64, 512, 4096):
        torch.manual_seed(0)
        x = torch.randn(B, steps, F, device=device)
        for name, make in (("MinGRU (scan)", lambda: L.MinGRU(H, return_sequences=True)),
                           ("GRU", lambda: L.GRU(H, return_sequences=True))):
            layer = make()
            layer._build_now((None, steps, F), torch.device(device))
            error = _check(layer, x)
            times = _time_train_step(layer, x, repeats if steps < 4096 else max(3, repeats // 3))
            median = float(np.median(times))
            rows.append({"T": steps, "layer": name, "path": str(layer.last_path), "median_s": median,
                         "min_s": min(times), "max_s": max(times), "samples_per_s": B / median,
                         "max_abs_error_vs_reference": error})
            print(f"T={steps:5d} {name:14s} {B / median:10.1f} samples/s  (median {median * 1e3:.2f} ms, "
                  f"{min(times) * 1e3:.2f}..{max(times) * 1e3:.2f})  check {error:.1e}", flush=True)
    return rows


def accuracy(seeds: list[int]) -> list[dict]:
    rows = []
    for dataset in ("italy_power_demand", "japanese_vowels"):
        (x_train, y_train), (x_test, y_test) = getattr(datasets, dataset).load_data()
        for cell in ("mingru", "gru"):
            for seed in seeds:
                start = time.perf_counter()
                result = train_classifier(x_train, y_train, x_test, y_test, cell=cell, seed=seed)
                seconds = time.perf_counter() - start
                rows.append({"dataset": dataset, "cell": cell, "seed": seed, "test_accuracy": result.test_accuracy,
                             "parameters": result.parameters, "train_seconds": seconds})
                print(f"{dataset:20s} {cell:6s} seed {seed}: {result.test_accuracy:.4f} "
                      f"({result.parameters} parameters, {seconds:.1f} s)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", action="store_true", help="only the throughput table (default: both)")
    parser.add_argument("--accuracy", action="store_true", help="only the accuracy table (default: both)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cpu", help="where the speed table runs (cpu, cuda)")
    parser.add_argument("--out", default=None, help="JSON file to write (default: print only)")
    args = parser.parse_args()
    both = not (args.speed or args.accuracy)
    report: dict = {"machine": {"platform": platform.platform(), "processor": platform.processor(),
                                "python": platform.python_version(), "torch": torch.__version__,
                                "gated": gated.__version__, "threads": torch.get_num_threads()},
                    "shape": {"B": B, "F": F, "H": H}}
    if args.speed or both:
        report["speed"] = speed(args.repeats, args.device)
        if args.device != "cpu":
            report["machine"]["device"] = torch.cuda.get_device_name()
    if args.accuracy or both:
        report["accuracy"] = accuracy(args.seeds)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
