"""Streaming inference, one timestep per call: gated.deploy.Streamer against torch and onnxruntime peers.

    python benchmarks/streaming.py [--features 8] [--units 128] [--steps 20000] [--rounds 5] [--threads 1]

Workload C of /work/shared/REFERENCE.md: batch 1, one timestep per call, F=8, H=128. Every implementation holds
the same GRU weights, runs the same input sequence, and is checked against the full model (``model(x)``) before it
is timed. Each round times every implementation for ``--steps`` calls (``perf_counter_ns`` around each call, after a
warm-up), implementations interleaved; the table shows the median over rounds of each round's p50 and p99, and
the range of the p50s. Every implementation runs single-threaded unless ``--threads`` says otherwise. On a
shared 2-core machine expect a few µs of noise: compare rows of one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Callable

from _threads import THREADS  # noqa: E402  (sets the thread variables before numpy and torch load)

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(THREADS)

import gated  # noqa: E402
from gated import layers as L  # noqa: E402
from gated.deploy import Streamer  # noqa: E402


def time_calls(fn: Callable[[], object], steps: int, warmup: int) -> np.ndarray:
    for _ in range(warmup):
        fn()
    times = np.empty(steps)
    clock = time.perf_counter_ns
    for i in range(steps):
        start = clock()
        fn()
        times[i] = clock() - start
    return times / 1e3  # µs


def gru_model(features: int, units: int, head: int | None, kind: str = "gru") -> gated.Sequential:
    torch.manual_seed(0)
    rnn = L.GRU(units) if kind == "gru" else L.LSTM(units)
    layers = [L.Input(shape=(None, features)), rnn]
    if head:
        layers.append(L.Dense(head, activation="softmax"))
    model = gated.Sequential(layers)
    with torch.no_grad():  # non-zero biases, so that a bias mix-up shows in the correctness check
        for p in model.parameters():
            if p.ndim == 1:
                p.uniform_(-0.5, 0.5)
    return model


class Case:
    """One implementation: ``run(x_t)`` per step (the timed call) and its output after a whole sequence."""

    def __init__(self, name: str, make_step: Callable[[], Callable[[object], object]], note: str = "",
                 prepare: Callable[[np.ndarray], object] = lambda a: a):
        self.name, self.make_step, self.note, self.prepare = name, make_step, note, prepare

    def check(self, x: np.ndarray, expected: np.ndarray) -> float:
        step = self.make_step()
        y = None
        for t in range(x.shape[1]):
            y = step(self.prepare(np.ascontiguousarray(x[:, t])))
        return float(np.abs(np.asarray(y) - expected).max())


def torch_cell_case(model: gated.Sequential, batch: int) -> Case:
    layer = model.layers[0]
    module = layer.to_torch()
    cell = torch.nn.GRUCell(module.input_size, module.hidden_size)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(module, name + "_l0"))
    cell.eval()

    def make():
        h = torch.zeros(batch, module.hidden_size)

        def step(x_t):
            nonlocal h
            with torch.inference_mode():
                h = cell(x_t, h)
            return h

        return step

    return Case("torch.nn.GRUCell (inference_mode)", make, "torch tensors in and out", torch.from_numpy)


def onnxruntime_case(model: gated.Sequential, batch: int) -> Case | None:
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None
    module = model.layers[0].to_torch()
    h_size = module.hidden_size

    def to_onnx_gates(w: torch.Tensor) -> np.ndarray:  # torch r, z, n -> ONNX z, r, h
        r, z, n = w.detach().numpy().reshape(3, h_size, -1)
        return np.concatenate([z, r, n]).reshape(3 * h_size, -1)

    W = to_onnx_gates(module.weight_ih_l0)[None]
    R = to_onnx_gates(module.weight_hh_l0)[None]
    B = np.concatenate([to_onnx_gates(module.bias_ih_l0[:, None])[:, 0],
                        to_onnx_gates(module.bias_hh_l0[:, None])[:, 0]])[None]
    graph = helper.make_graph(
        [helper.make_node("GRU", ["X", "W", "R", "B", "", "initial_h"], ["", "Y_h"], hidden_size=h_size,
                          linear_before_reset=1)],
        "gru_step",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, batch, W.shape[2]]),
         helper.make_tensor_value_info("initial_h", TensorProto.FLOAT, [1, batch, h_size])],
        [helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [1, batch, h_size])],
        [numpy_helper.from_array(a.astype(np.float32), name) for a, name in ((W, "W"), (R, "R"), (B, "B"))],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    session = ort.InferenceSession(onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"])

    def make():
        h = np.zeros((1, batch, h_size), np.float32)

        def step(x_t):
            nonlocal h
            (h,) = session.run(None, {"X": x_t[None], "initial_h": h})
            return h[0]

        return step

    return Case(f"onnxruntime {ort.__version__} GRU operator", make, "numpy in and out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--steps", type=int, default=20000, help="timed calls per round at batch 1")
    parser.add_argument("--batched-steps", type=int, default=2000, help="timed calls per round at batch > 1")
    parser.add_argument("--warmup", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch / onnxruntime threads (default 1: on "
                        "a shared machine, idle pool threads waiting for a core cost milliseconds)")
    parser.add_argument("--json", default="benchmarks/streaming.json")
    args = parser.parse_args()
    F, H = args.features, args.units
    gru = gru_model(F, H, None)
    gru_head = gru_model(F, H, 4)
    lstm = gru_model(F, H, None, kind="lstm")
    results = []
    for batch in args.batch:
        x = np.random.default_rng(0).standard_normal((batch, 50, F)).astype(np.float32)
        cases = [
            Case("gated Streamer, GRU", lambda: Streamer(gru, batch_size=batch).step),
            Case("gated Streamer, GRU + Dense(4, softmax)", lambda: Streamer(gru_head, batch_size=batch).step),
            Case("gated Streamer, LSTM", lambda: Streamer(lstm, batch_size=batch).step),
            Case("gated Streamer, GRU, fast=False (torch reference)",
                 lambda: Streamer(gru, batch_size=batch, fast=False).step),
            torch_cell_case(gru, batch),
        ]
        ort_case = onnxruntime_case(gru, batch)
        if ort_case is not None:
            cases.append(ort_case)
        with torch.no_grad():
            expected = {id(m): m(torch.from_numpy(x)).numpy() for m in (gru, gru_head, lstm)}
        errors = {c.name: c.check(x, expected[id(gru_head if "Dense" in c.name else lstm if "LSTM" in c.name
                                                   else gru)]) for c in cases}
        samples: dict[str, list[np.ndarray]] = {c.name: [] for c in cases}
        for _ in range(args.rounds):
            for case in cases:
                step = case.make_step()
                x_t = case.prepare(x[:, 0].copy())
                steps = args.steps if batch == 1 else args.batched_steps
                samples[case.name].append(time_calls(lambda: step(x_t), steps, args.warmup // 10 if batch > 1
                                                     else args.warmup))
        for case in cases:
            p50s = [float(np.percentile(s, 50)) for s in samples[case.name]]
            p99s = [float(np.percentile(s, 99)) for s in samples[case.name]]
            results.append({
                "implementation": case.name, "batch": batch, "features": F, "units": H,
                "p50_us": float(np.median(p50s)), "p99_us": float(np.median(p99s)),
                "p50_range_us": [min(p50s), max(p50s)], "max_abs_error_vs_model": errors[case.name],
                "note": case.note,
            })
    print(f"\nStreaming, one timestep per call, F={F}, H={H}; median over {args.rounds} rounds of "
          f"{args.steps} calls ({args.batched_steps} at B > 1); {THREADS} thread(s); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print(f"{'implementation':<52} {'B':>3} {'p50 µs':>8} {'p99 µs':>8} {'p50 range':>14} {'max |err|':>10}")
    for r in results:
        lo, hi = r["p50_range_us"]
        print(f"{r['implementation']:<52} {r['batch']:>3} {r['p50_us']:>8.2f} {r['p99_us']:>8.2f} "
              f"{lo:>6.2f}-{hi:<7.2f} {r['max_abs_error_vs_model']:>10.1e}")
    meta = {
        "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
        "gated": gated.__version__, "machine": platform.machine(), "processor": _cpu_name(),
        "cpus": os.cpu_count(), "threads": THREADS, "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg(),
        "steps": args.steps, "batched_steps": args.batched_steps, "rounds": args.rounds,
    }
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)
        print(f"\nwrote {args.json}")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
