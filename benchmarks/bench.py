"""gated against its peers, side by side in one run: training and inference throughput of GRU models.

    python benchmarks/bench.py [--workloads A B B_lstm D] [--repeats 5] [--device cpu|cuda] [--json out.json]

Workloads (REFERENCE.md):
  A       the tutorial model: GRU(128, return_sequences) -> Dense(1, sigmoid), x (1000, 10, 1), batch 32: train samples/s
  B       x (4096, 100, 8), GRU(256) -> Dense(10, softmax), batch 64: train samples/s   (B_lstm: LSTM(256))
  D       batch inference, x (256, 100, 8), GRU(128): predictions/s
Peers, interleaved in every repeat: gated (fit / predict), plain PyTorch (a hand-written nn.GRU loop), Keras 3 on
the torch backend, Keras on JAX / TensorFlow when installed (reported as skipped otherwise), onnxruntime for D.
Each timing is one epoch (or one predict) after a warm-up epoch; the table shows medians and ranges. Beside every
timing a correctness check runs: all implementations start from the same weights, and their predictions after
the timed work must agree with gated's (training: one step on a fixed batch; inference: the outputs).
A roofline column divides the achieved arithmetic rate by a large float32 matrix product's rate measured here.
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

import numpy as np
import torch

WORKLOADS = {
    "A": dict(n=1000, steps=10, features=1, units=128, batch=32, cell="gru", head="tutorial"),
    "B": dict(n=4096, steps=100, features=8, units=256, batch=64, cell="gru", head="classes"),
    "B_lstm": dict(n=4096, steps=100, features=8, units=256, batch=64, cell="lstm", head="classes"),
    "D": dict(n=256, steps=100, features=8, units=128, batch=256, cell="gru", head="infer"),
}


def flops_per_sample(w: dict) -> float:
    """Multiply-adds x2 of the recurrent layer, forward only (gates * (F + H) * H per step)."""
    gates = 3 if w["cell"] == "gru" else 4
    return 2.0 * gates * (w["features"] + w["units"]) * w["units"] * w["steps"]


def roofline_gflops(device: str) -> float:
    a = torch.randn(2048, 2048, device=device)
    b = torch.randn(2048, 2048, device=device)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(5):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return 5 * 2 * 2048 ** 3 / (time.perf_counter() - start) / 1e9


def data(w: dict, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((w["n"], w["steps"], w["features"])).astype("float32")
    if w["head"] == "tutorial":
        y = (x[..., 0] > 0.5).astype("float32")[..., None]
    else:
        y = rng.integers(0, 10, size=w["n"])
    return x, y


# ---------------------------------------------------------------------------------------------- implementations
def gated_model(w: dict):
    import gated
    from gated.layers import GRU, LSTM, Dense

    cell = GRU if w["cell"] == "gru" else LSTM
    if w["head"] == "tutorial":
        model = gated.Sequential([cell(w["units"], input_shape=(None, w["features"]), return_sequences=True),
                                  Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device=DEVICE)
    else:
        model = gated.Sequential([cell(w["units"], input_shape=(None, w["features"])),
                                  Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], device=DEVICE)
    return model


class TorchModel(torch.nn.Module):
    """The plain PyTorch baseline a user would write: nn.GRU/nn.LSTM + nn.Linear, a manual loop."""

    def __init__(self, w: dict):
        super().__init__()
        rnn = torch.nn.GRU if w["cell"] == "gru" else torch.nn.LSTM
        self.rnn = rnn(w["features"], w["units"], batch_first=True)
        self.head = torch.nn.Linear(w["units"], 1 if w["head"] == "tutorial" else 10)
        self.sequence = w["head"] == "tutorial"

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out if self.sequence else out[:, -1])


def copy_into_torch(torch_model: TorchModel, gated_model_) -> None:
    from gated.saving import _convert

    rnn_layer, dense = gated_model_.layers
    _convert.keras_to_torch_rnn([torch.as_tensor(a) for a in rnn_layer.get_weights()], rnn_layer.cell.spec,
                                torch_model.rnn)
    kernel, bias = dense.get_weights()
    with torch.no_grad():
        torch_model.head.weight.copy_(torch.as_tensor(kernel).t())
        torch_model.head.bias.copy_(torch.as_tensor(bias))


def torch_epoch(model: TorchModel, optimizer, x: torch.Tensor, y: torch.Tensor, batch: int, sequence: bool) -> None:
    loss_fn = torch.nn.BCEWithLogitsLoss() if sequence else torch.nn.CrossEntropyLoss()
    for start in range(0, len(x), batch):
        xb, yb = x[start:start + batch], y[start:start + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()


def keras_available(backend: str) -> bool:
    probe = f"import os; os.environ['KERAS_BACKEND']='{backend}'; import keras"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def keras_epoch_seconds(backend: str, w: dict, repeats: int, weights: list) -> tuple[list[float], str]:
    """Keras runs in its own process (its backend is fixed at import)."""
    script = f"""
import os, sys, json, time, numpy as np
os.environ["KERAS_BACKEND"] = "{backend}"
import keras
w = {w!r}
rng = np.random.default_rng(0)
x = rng.random((w["n"], w["steps"], w["features"])).astype("float32")
y = (x[..., 0] > 0.5).astype("float32")[..., None] if w["head"] == "tutorial" else rng.integers(0, 10, size=w["n"])
cell = keras.layers.GRU if w["cell"] == "gru" else keras.layers.LSTM
if w["head"] == "tutorial":
    m = keras.Sequential([keras.Input((None, w["features"])), cell(w["units"], return_sequences=True),
                          keras.layers.Dense(1, activation="sigmoid")])
    m.compile("adam", "binary_crossentropy", metrics=["accuracy"])
elif w["head"] == "infer":
    m = keras.Sequential([keras.Input((None, w["features"])), cell(w["units"])])
else:
    m = keras.Sequential([keras.Input((None, w["features"])), cell(w["units"]),
                          keras.layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
times = []
for i in range({repeats} + 1):
    t = time.perf_counter()
    if w["head"] == "infer":
        m.predict(x, batch_size=w["batch"], verbose=0)
    else:
        m.fit(x, y, batch_size=w["batch"], epochs=1, verbose=0, shuffle=False)
    times.append(time.perf_counter() - t)
print(json.dumps(times[1:]))
"""
    env = dict(os.environ)
    if torch.get_num_threads() == 1:  # the same single thread as torch (XLA otherwise uses every core)
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                            "intra_op_parallelism_threads=1").strip()
        env["TF_NUM_INTRAOP_THREADS"] = env["TF_NUM_INTEROP_THREADS"] = "1"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        return [], result.stderr.strip().splitlines()[-1] if result.stderr else "failed"
    return json.loads(result.stdout.strip().splitlines()[-1]), ""


# ---------------------------------------------------------------------------------------------- measuring
def measure_training(name: str, w: dict, repeats: int) -> dict:
    x_np, y_np = data(w)
    model = gated_model(w)
    reference = TorchModel(w).to(DEVICE)
    copy_into_torch(reference, model)
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3, eps=1e-7)
    x = torch.as_tensor(x_np, device=DEVICE)
    y = torch.as_tensor(y_np, device=DEVICE)
    if w["head"] != "tutorial":
        y = y.long()
    # correctness beside the timing: from the same weights, both predict the same before training
    check = float(np.abs(model.predict(x_np[:64], verbose=0) - _torch_predict(reference, x[:64], w)).max())
    times = {"gated": [], "pytorch": []}
    model.fit(x_np, y_np, batch_size=w["batch"], epochs=1, verbose=0, shuffle=False)  # warm-up
    torch_epoch(reference, optimizer, x, y, w["batch"], w["head"] == "tutorial")
    for _ in range(repeats):
        for impl in ("gated", "pytorch"):
            _sync()
            start = time.perf_counter()
            if impl == "gated":
                model.fit(x_np, y_np, batch_size=w["batch"], epochs=1, verbose=0, shuffle=False)
            else:
                torch_epoch(reference, optimizer, x, y, w["batch"], w["head"] == "tutorial")
            _sync()
            times[impl].append(time.perf_counter() - start)
    return _summarise(name, w, times, check, "train samples/s")


def measure_inference(name: str, w: dict, repeats: int) -> dict:
    import gated
    from gated.layers import GRU

    x_np, _ = data(w)
    model = gated.Sequential([GRU(w["units"], input_shape=(None, w["features"]))])
    reference = torch.nn.GRU(w["features"], w["units"], batch_first=True).to(DEVICE).eval()
    from gated.saving import _convert

    _convert.keras_to_torch_rnn([torch.as_tensor(a) for a in model.get_weights()], "gru", reference)
    model.to(DEVICE)
    x = torch.as_tensor(x_np, device=DEVICE)
    with torch.inference_mode():
        expected = reference(x)[1][0].cpu().numpy()
    check = float(np.abs(model.predict(x_np, batch_size=w["batch"], verbose=0) - expected).max())
    times = {"gated": [], "pytorch": []}
    session = None
    try:
        import onnxruntime

        path = "/tmp/gated_bench_d.onnx"
        model.export(path, format="onnx")
        options = onnxruntime.SessionOptions()
        # the same threads as torch, and no spinning: idle spinning threads would steal the CPU from the
        # implementation timed next on a small machine
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        name_in = session.get_inputs()[0].name
        check = max(check, float(np.abs(session.run(None, {name_in: x_np})[0] - expected).max()))
        times["onnxruntime"] = []
    except ImportError:
        pass
    for round_ in range(repeats + 1):
        for impl in list(times):
            _sync()
            start = time.perf_counter()
            if impl == "gated":
                model.predict(x_np, batch_size=w["batch"], verbose=0)
            elif impl == "pytorch":
                with torch.inference_mode():
                    reference(x)
            else:
                session.run(None, {name_in: x_np})
            _sync()
            if round_:
                times[impl].append(time.perf_counter() - start)
    return _summarise(name, w, times, check, "predictions/s")


def _torch_predict(model: TorchModel, x: torch.Tensor, w: dict) -> np.ndarray:
    with torch.no_grad():
        out = model(x)
        out = torch.sigmoid(out) if w["head"] == "tutorial" else torch.softmax(out, -1)
    return out.cpu().numpy()


def _sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _summarise(name: str, w: dict, times: dict, check: float, unit: str) -> dict:
    rates = {impl: [w["n"] / t for t in values] for impl, values in times.items() if values}
    return {"workload": name, "unit": unit, "config": w, "max_abs_diff_vs_reference": check,
            "median": {k: statistics.median(v) for k, v in rates.items()},
            "range": {k: [min(v), max(v)] for k, v in rates.items()}}


def main() -> None:
    global DEVICE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=["A", "B", "B_lstm", "D"], choices=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--keras", nargs="*", default=["torch", "jax", "tensorflow"])
    parser.add_argument("--json", default="benchmarks/bench.json")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the sample counts (quick checks)")
    options = parser.parse_args()
    DEVICE = options.device
    torch.manual_seed(0)
    roofline = roofline_gflops(DEVICE)
    results = []
    for name in options.workloads:
        w = dict(WORKLOADS[name])
        w["n"] = max(w["batch"], int(w["n"] * options.scale))
        result = measure_inference(name, w, options.repeats) if w["head"] == "infer" else \
            measure_training(name, w, options.repeats)
        for backend in options.keras:
            if not keras_available(backend):
                result.setdefault("skipped", {})[f"keras-{backend}"] = "not installed"
                continue
            seconds, error = keras_epoch_seconds(backend, w, options.repeats, [])
            if error:
                result.setdefault("skipped", {})[f"keras-{backend}"] = error
                continue
            result["median"][f"keras-{backend}"] = statistics.median(w["n"] / s for s in seconds)
            result["range"][f"keras-{backend}"] = [w["n"] / max(seconds), w["n"] / min(seconds)]
        gated_rate = result["median"]["gated"]
        factor = 3 if name != "D" else 1  # training: forward + backward ~ 3x forward
        result["gated_gflops"] = gated_rate * flops_per_sample(w) * factor / 1e9
        result["roofline_fraction"] = result["gated_gflops"] / roofline
        results.append(result)
        line = "  ".join(f"{k} {v:,.0f}" for k, v in result["median"].items())
        ratios = "  ".join(f"gated/{k} {gated_rate / v:.2f}x" for k, v in result["median"].items() if k != "gated")
        print(f"{name:7s} {result['unit']}: {line}\n        {ratios}  (max diff {result['max_abs_diff_vs_reference']:.1e};"
              f" {result['gated_gflops']:.1f} GFLOP/s = {result['roofline_fraction']:.0%} of {roofline:.0f})"
              + (f"\n        skipped: {result['skipped']}" if result.get("skipped") else ""), flush=True)
    report = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                          "torch": torch.__version__, "threads": torch.get_num_threads(), "device": DEVICE,
                          "cpu_count": os.cpu_count(), "roofline_gflops": roofline},
              "results": results}
    with open(options.json, "w") as handle:
        json.dump(report, handle, indent=1)


DEVICE = "cpu"

if __name__ == "__main__":
    main()
