"""The GPU grid: a gated GRU layer (measured dispatch: cuDNN or gated's fused Triton kernel) against cuDNN's
``torch.nn.GRU`` on the same weights, forward and forward+backward, in one run.

    python benchmarks/gpu_kernels.py --json benchmarks/measured/gpu_kernels.json

For each (B, T, F, H, dtype): milliseconds per call (median of rounds, each round timed with CUDA events over
enough calls to fill ~20 ms), cuDNN ``torch.nn.GRU``, the gated layer (after its first call has measured and
chosen), and every candidate split of the fused kernel on its own; the ratio cuDNN / gated; the largest output
difference from cuDNN; and what the layer chose. TF32 follows torch's defaults (cuDNN: on, matmul: off) unless
``--ieee``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gated.kernels import _gpu_gru, _triton_gru  # noqa: E402
from gated.layers import GRU  # noqa: E402

GRID = [  # (B, T, F, H, dtype)
    (1, 1000, 64, 256, "float32"),
    (32, 100, 64, 256, "float32"),
    (32, 10, 1, 128, "float32"),
    (64, 100, 8, 256, "float32"),
    (256, 100, 128, 512, "float32"),
    (1024, 50, 256, 1024, "bfloat16"),
]


def timed(fns: dict, rounds: int) -> dict:
    """{name: (median, min, max) ms per call, or the error it raised}, the rounds of all names interleaved so that
    clock and temperature drift hit every name alike."""
    calls, results = {}, {}
    for name, fn in fns.items():
        try:
            fn()
            torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            torch.cuda.synchronize()
            calls[name] = max(1, min(200, int(0.02 / max(time.perf_counter() - start, 1e-6))))
            results[name] = []
        except Exception as error:  # a split that does not compile here is reported, not fatal
            results[name] = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:120]}"
    for _ in range(rounds):
        for name, count in calls.items():
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            for _ in range(count):
                fns[name]()
            end.record()
            end.synchronize()
            results[name].append(begin.elapsed_time(end) / count)
    return {name: (statistics.median(v), min(v), max(v)) if isinstance(v, list) else v for name, v in results.items()}


def forward_backward(module_call, x, params):
    def go():
        out = module_call(x)
        torch.autograd.grad(out.sum(), [x, *params], allow_unused=True)
    return go


def forward_only(module_call, x):
    def go():
        with torch.no_grad():
            module_call(x)
    return go


def measure(batch, steps, features, units, dtype_name, rounds):
    dtype = getattr(torch, dtype_name)
    torch.manual_seed(0)
    layer = GRU(units, return_sequences=True)
    layer.build((batch, steps, features))
    reference = layer.to_torch().cuda().to(dtype)
    layer = layer.cuda().to(dtype)
    x = torch.randn(batch, steps, features, device="cuda", dtype=dtype, requires_grad=True)
    row = {"shape": [batch, steps, features, units], "dtype": dtype_name}
    gated_call = layer
    cudnn_call = lambda inputs: reference(inputs)[0]  # noqa: E731
    with torch.no_grad():
        difference = float((layer(x).float() - cudnn_call(x).float()).abs().max())
    row["max_abs_difference_vs_cudnn"] = difference
    for mode in ("forward", "forward_backward"):
        if mode == "forward":
            runs = {"cudnn": forward_only(cudnn_call, x), "gated": forward_only(gated_call, x)}
        else:
            runs = {"cudnn": forward_backward(cudnn_call, x, list(reference.parameters())),
                    "gated": forward_backward(gated_call, x, list(layer.parameters()))}
        if dtype == torch.float32:
            sm = torch.cuda.get_device_properties(0).multi_processor_count
            weights = [w.detach().requires_grad_() for w in layer.cell.fused_weights()]
            h0 = torch.zeros(batch, units, device="cuda")
            for cfg in _triton_gru.candidates(batch, units, sm):
                def call(inputs, cfg=cfg):
                    return _triton_gru.run(inputs, h0, *weights, cfg)[0]
                runs[f"fused {cfg}"] = (forward_only(call, x) if mode == "forward"
                                        else forward_backward(call, x, weights))
        timings = timed(runs, rounds)
        row[mode] = {name: (list(v) if isinstance(v, tuple) else v) for name, v in timings.items()}
        if mode == "forward":
            with torch.no_grad():
                layer(x)
        else:
            layer(x).sum().backward()
        row[f"{mode}_choice"] = str(layer.last_path)
        c, g = timings["cudnn"], timings["gated"]
        if isinstance(c, tuple) and isinstance(g, tuple):
            row[f"{mode}_speedup_vs_cudnn"] = c[0] / g[0]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="benchmarks/gpu_kernels.json")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ieee", action="store_true", help="TF32 off for cuDNN and the fused kernel")
    parser.add_argument("--shapes", type=int, nargs="*", help="indices into the grid (default: all)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu_kernels.py needs a CUDA GPU; none is visible to torch here.")
    if args.ieee:
        torch.backends.cudnn.allow_tf32 = False
    rows = []
    for index, shape in enumerate(GRID):
        if args.shapes and index not in args.shapes:
            continue
        row = measure(*shape, args.rounds)
        rows.append(row)
        fwd, bwd = row["forward"], row["forward_backward"]
        print(f"{str(tuple(row['shape'])):24s} {row['dtype']:8s} fwd cuDNN {fwd['cudnn'][0]:8.3f} gated "
              f"{fwd['gated'][0]:8.3f} ms ({row.get('forward_speedup_vs_cudnn', float('nan')):5.2f}x)  fwd+bwd cuDNN "
              f"{bwd['cudnn'][0]:8.3f} gated {bwd['gated'][0]:8.3f} ms "
              f"({row.get('forward_backward_speedup_vs_cudnn', float('nan')):5.2f}x)  diff {row['max_abs_difference_vs_cudnn']:.1e}",
              flush=True)
        for name in fwd:
            if name.startswith("fused"):
                print(f"    {name:55s} fwd {fwd[name]!s:40.40s} fwd+bwd {bwd.get(name)!s:40.40s}")
        print(f"    chose: fwd {row['forward_choice'][:110]}\n           bwd {row['forward_backward_choice'][:110]}")
    result = {
        "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(), "triton": __import__("triton").__version__,
        "python": platform.python_version(), "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "rows": rows, "decisions": {str(k): v.reason for k, v in _gpu_gru.decisions().items()},
    }
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
