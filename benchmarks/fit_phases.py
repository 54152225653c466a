"""Where one training batch of workload A goes: gated's fit, timed by phase.

    python benchmarks/fit_phases.py [--epochs 10] [--threads 1]

Workload A of bench.py (GRU(128, return_sequences) -> Dense(1, sigmoid), x (1000, 10, 1), batch 32). Each phase is
timed by wrapping the function that does it with a perf_counter pair (about 0.2 µs each, a few per batch), so the
total stays what bench.py measures: the GRU kernel's forward and backward (the compiled entry points), the
whole backward pass (kernel included), the loss, the optimizer step, zero_grad and the metrics. The rest of a batch
(layer calls, the Dense layer, batch slicing, the loss check) is the remainder.
"""

from __future__ import annotations

import argparse
import collections
import time

from _threads import THREADS  # noqa: E402  (sets the thread variables before numpy and torch load)

import torch  # noqa: E402

torch.set_num_threads(THREADS)

import bench  # noqa: E402
from gated import optimizers  # noqa: E402
from gated.kernels import _cpu_gru  # noqa: E402
from gated.training import _compile  # noqa: E402

TOTALS: dict[str, float] = collections.defaultdict(float)


def timed(function, label: str):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            TOTALS[label] += time.perf_counter() - start

    return wrapper


class _TimedModule:
    """The compiled kernel module with each entry point timed."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return timed(getattr(self._module, name), f"GRU kernel {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    options = parser.parse_args()
    for owner, name, label in [(_compile.CompiledModel, "compute_loss", "loss"),
                               (_compile.CompiledModel, "update_metrics", "metrics"),
                               (optimizers.Optimizer, "step", "optimizer step"),
                               (optimizers.Optimizer, "zero_grad", "zero_grad"),
                               (torch.Tensor, "backward", "backward pass (kernel included)")]:
        setattr(owner, name, timed(getattr(owner, name), label))
    if _cpu_gru.status() is not None:
        raise SystemExit(f"gated's C++ GRU kernel is not in use: {_cpu_gru.status()}")
    _cpu_gru._module = _TimedModule(_cpu_gru.load())

    w = bench.WORKLOADS["A"]
    x, y = bench.data(w)
    model = bench.gated_model(w)
    model.fit(x, y, batch_size=w["batch"], epochs=1, verbose=0, shuffle=False)  # warm-up
    TOTALS.clear()
    start = time.perf_counter()
    model.fit(x, y, batch_size=w["batch"], epochs=options.epochs, verbose=0, shuffle=False)
    total = time.perf_counter() - start
    batches = options.epochs * -(-w["n"] // w["batch"])
    print(f"workload A, {torch.get_num_threads()} thread(s): {total / batches * 1e3:.3f} ms per batch "
          f"({w['n'] * options.epochs / total:,.0f} samples/s); {model.layers[0].last_path}")
    for label, seconds in sorted(TOTALS.items(), key=lambda item: -item[1]):
        print(f"  {label:34s} {seconds / batches * 1e3:7.3f} ms  {seconds / total:6.1%}")
    accounted = sum(v for k, v in TOTALS.items() if not k.startswith("GRU kernel gru_backward"))
    print(f"  {'remainder (layer calls, Dense, ...)':34s} {(total - accounted) / batches * 1e3:7.3f} ms")


if __name__ == "__main__":
    main()
