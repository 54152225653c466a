"""gated GRU layer vs cuDNN torch.nn.GRU on raw shapes, forward and forward+backward, CUDA events.

    python benchmarks/gpu_shapes.py [--json benchmarks/gpu_shapes.json]
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

import gated
from gated.layers import GRU

SHAPES = [(1, 1000, 64, 256), (32, 100, 64, 256), (32, 10, 1, 128), (256, 100, 128, 512)]


def timed(fn, repeats: int = 20) -> float:
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default="benchmarks/gpu_shapes.json")
    options = parser.parse_args()
    rows = []
    for b, t, f, h in SHAPES:
        layer = GRU(h, return_sequences=True, input_shape=(None, f)).to("cuda")
        reference = layer.to_torch()
        x = torch.randn(b, t, f, device="cuda", requires_grad=True)
        diff = (layer(x) - reference(x)[0]).abs().max().item()
        row = {"shape": [b, t, f, h], "max_abs_diff": diff}
        for name, fn in (("gated", lambda: layer(x)), ("cudnn", lambda: reference(x)[0])):
            row[f"{name}_forward_ms"] = timed(lambda: fn())
            row[f"{name}_forward_backward_ms"] = timed(lambda: fn().sum().backward())
        rows.append(row)
        print(json.dumps(row), flush=True)
    with open(options.json, "w") as handle:
        json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
                   "cudnn": torch.backends.cudnn.version(), "gated": gated.__version__, "rows": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
