"""gated's C++ GRU and LSTM kernels against torch's CPU kernels (torch._VF.gru / lstm + autograd), one layer.

    python benchmarks/cpu_gru_kernel.py [--threads 1] [--repeats 7] [--cells gru lstm]

The same gated GRU (LSTM) layer runs both paths in the same process: the C++ kernel (the default on the CPU) and,
with GATED_CPU_KERNEL=0, torch's fused kernel; ``layer.last_path`` is checked for each. Shapes (B, T, F, H) are
those of workloads A, B and D.
Training = forward + backward of ``outputs.square().sum()`` (gradients of the inputs and every weight); inference
= forward under ``torch.inference_mode``. Medians over interleaved repeats, in ms per call; beside each row the
largest difference between the two paths over the outputs and every gradient, relative to the largest value of
each tensor (weight gradients sum B * T terms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _threads import THREADS  # noqa: E402  (sets the thread variables before numpy and torch load)

import torch  # noqa: E402

torch.set_num_threads(THREADS)

from gated.layers import GRU, LSTM  # noqa: E402

SHAPES = {"A": (32, 10, 1, 128), "B": (64, 100, 8, 256), "D": (256, 100, 8, 128)}


def run(layer: GRU | LSTM, x: torch.Tensor, train: bool, kernel: str) -> list[torch.Tensor]:
    os.environ["GATED_CPU_KERNEL"] = "1" if kernel == "gated-cpu" else "0"
    if not train:
        with torch.inference_mode():
            out = layer(x)
        results = [out]
    else:
        layer.zero_grad(set_to_none=True)
        xs = x.clone().requires_grad_(True)
        out = layer(xs)
        out.square().sum().backward()
        results = [out.detach(), xs.grad] + [p.grad for p in layer.parameters()]
    assert layer.last_path.kernel.startswith("gated-cpu") == (kernel == "gated-cpu"), layer.last_path
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cells", nargs="+", default=["gru", "lstm"], choices=["gru", "lstm"])
    options = parser.parse_args()
    torch.manual_seed(0)
    print(f"{torch.get_num_threads()} thread(s), torch {torch.__version__}; ms per call, median of {options.repeats}")
    print(f"{'cell, shape (B, T, F, H)':27s} {'mode':9s} {'gated-cpu':>10s} {'torch._VF':>10s} {'speed-up':>9s} "
          f"{'max diff':>9s}")  # relative to the largest value of each tensor
    for cell, (name, (b, t, f, h)) in [(c, item) for c in options.cells for item in SHAPES.items()]:
        layer = {"gru": GRU, "lstm": LSTM}[cell](h, return_sequences=True)
        x = torch.randn(b, t, f)
        layer(x)
        calls = max(1, int(2e7 / (b * t * h * h)))  # calls per timing, ~ equal work per shape
        for train in (True, False):
            times: dict[str, list[float]] = {"gated-cpu": [], "torch": []}
            results = {k: run(layer, x, train, k) for k in times}  # warm-up and correctness
            diff = max(float((a - b_).abs().max() / b_.abs().max())
                       for a, b_ in zip(results["gated-cpu"], results["torch"]))
            for _ in range(options.repeats):
                for kernel in times:
                    start = time.perf_counter()
                    for _ in range(calls):
                        run(layer, x, train, kernel)
                    times[kernel].append((time.perf_counter() - start) / calls * 1e3)
            ours, theirs = statistics.median(times["gated-cpu"]), statistics.median(times["torch"])
            mode = "train" if train else "inference"
            print(f"{cell.upper():4s} {name} {str((b, t, f, h)):20s} {mode:9s} {ours:10.3f} {theirs:10.3f} "
                  f"{theirs / ours:8.2f}x {diff:9.1e}")
    os.environ.pop("GATED_CPU_KERNEL")


if __name__ == "__main__":
    main()
