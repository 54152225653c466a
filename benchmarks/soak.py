"""Soak: resident memory over a long fit and a long stream of predict calls, in one process.

    OMP_NUM_THREADS=1 python benchmarks/soak.py [--epochs 300] [--predict-calls 3000] [--threads 1] [--out FILE]

Part 1 trains a small GRU classifier (GRU(32) -> Dense(1), 256 sequences of 20 steps x 4 features, batch 32, with
validation data) for ``--epochs`` epochs in ONE fit call; a callback reads the resident set size (RSS) at every
epoch end. Part 2 calls ``model.predict`` ``--predict-calls`` times on 8 sequences, reading RSS every 100 calls.
Growth is measured after a warm-up (the first 10% of epochs / calls: allocator pools, lazily built kernels):
``(max RSS after warm-up - RSS at the end of warm-up) / RSS at the end of warm-up``; the pass mark is 5%.
RSS comes from psutil when installed, else /proc/self/status (VmRSS). ``gc.collect()`` runs before each reading,
so only memory still referenced counts. Prints a table and one JSON line; ``--out`` also writes the JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time

from _threads import THREADS  # noqa: E402  (sets the thread variables before numpy and torch load)

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(THREADS)

import gated  # noqa: E402
from gated.callbacks import Callback  # noqa: E402
from gated.layers import GRU, Dense  # noqa: E402
from gated.utils import set_random_seed  # noqa: E402

LIMIT = 0.05


def rss_bytes() -> int:
    gc.collect()
    try:
        import psutil
    except ImportError:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no psutil and no VmRSS in /proc/self/status: cannot read resident memory here")
    return psutil.Process().memory_info().rss


def growth(samples: list[int], warmup: int) -> dict[str, float]:
    base = samples[warmup - 1]
    after = samples[warmup:]
    return {"rss_start_mib": samples[0] / 2**20, "rss_after_warmup_mib": base / 2**20,
            "rss_max_after_warmup_mib": max(after) / 2**20, "rss_end_mib": samples[-1] / 2**20,
            "growth_after_warmup": (max(after) - base) / base, "samples": len(samples), "warmup_samples": warmup}


class RecordRSS(Callback):
    def __init__(self):
        super().__init__()
        self.samples: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.samples.append(rss_bytes())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--predict-calls", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="also write the JSON result to this file")
    args = parser.parse_args()

    set_random_seed(0)
    x = np.random.normal(size=(256, 20, 4)).astype("float32")  # (B, T, F)
    y = (x[:, :, 0].mean(axis=1) > 0).astype("float32")
    model = gated.Sequential([GRU(32, input_shape=(None, 4)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cpu")

    record = RecordRSS()
    start = time.perf_counter()
    history = model.fit(x[:192], y[:192], validation_data=(x[192:], y[192:]), epochs=args.epochs, batch_size=32,
                        verbose=0, callbacks=[record])
    fit_seconds = time.perf_counter() - start
    fit = growth(record.samples, max(1, args.epochs // 10))
    fit.update(epochs=len(history.history["loss"]), seconds=fit_seconds,
               final_val_accuracy=history.history["val_accuracy"][-1])

    probe = x[:8]
    expected = model.predict(probe, verbose=0)
    samples = []
    start = time.perf_counter()
    for call in range(1, args.predict_calls + 1):
        out = model.predict(probe, verbose=0)
        if call % 100 == 0:
            samples.append(rss_bytes())
    predict_seconds = time.perf_counter() - start
    np.testing.assert_array_equal(out, expected)  # the stream kept computing the same answer
    stream = growth(samples, max(1, len(samples) // 10))
    stream.update(calls=args.predict_calls, seconds=predict_seconds)

    result = {
        "benchmark": "soak", "fit": fit, "predict_stream": stream, "limit": LIMIT,
        "passed": fit["growth_after_warmup"] < LIMIT and stream["growth_after_warmup"] < LIMIT,
        "rss_source": "psutil" if _has_psutil() else "/proc/self/status VmRSS",
        "threads": THREADS, "python": platform.python_version(), "torch": torch.__version__,
        "gated": gated.__version__, "machine": platform.machine(), "cpus": os.cpu_count(),
    }
    print(f"{'part':<16}{'RSS start':>11}{'after warm-up':>15}{'max after':>11}{'end':>9}{'growth':>9}{'seconds':>9}")
    for name, part in (("fit (epochs)", fit), ("predict stream", stream)):
        print(f"{name:<16}{part['rss_start_mib']:>9.1f}Mi{part['rss_after_warmup_mib']:>13.1f}Mi"
              f"{part['rss_max_after_warmup_mib']:>9.1f}Mi{part['rss_end_mib']:>7.1f}Mi"
              f"{100 * part['growth_after_warmup']:>8.2f}%{part['seconds']:>9.1f}")
    print(json.dumps(result, sort_keys=True))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2, sort_keys=True)
    return 0 if result["passed"] else 1


def _has_psutil() -> bool:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
