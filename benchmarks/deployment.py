"""Deployment figures on a real dataset: float32 vs int8 accuracy, size and speed; streaming latency.

    python benchmarks/deployment.py [--units 32] [--epochs 60] [--seeds 0 1 2] [--repeats 5] [--threads 1]

1. Trains a GRU classifier (GRU(units) -> Dense(2, softmax)) on ItalyPowerDemand (gated.datasets; UCR, 67 train /
   1029 test, 24 steps, 1 feature) once per seed.
2. Accuracy on the test set: the gated model (float32) and ``gated.deploy.quantize(model)`` (int8), their argmax
   agreement and the largest change of a class probability.
3. Size: the gated model file (``model.save``, safetensors, no optimizer), and ``torch.save(state_dict)`` bytes of
   the float32 torch modules and of the int8 ones (torch.save pickles; used here to measure size only).
4. Batch inference, predictions/s on the 1029 test sequences (batch 256) and on workload D of REFERENCE.md
   (256 x 100 x 8, GRU(128) -> Dense(10)): gated ``model.predict``, the same graph as plain ``torch.nn.GRU`` +
   ``nn.Linear`` modules in float32, and int8. Each figure is the median of ``--repeats`` timings (range given).
5. Streaming: ``gated.deploy.Streamer`` µs per step (batch 1) for the trained model, p50 and p99.

Every timed implementation is checked against the gated model beside its timing. Everything runs on one thread
unless ``--threads`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

from _threads import THREADS  # noqa: E402  (sets the thread variables before numpy and torch load)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gated  # noqa: E402
import gated.datasets  # noqa: E402
from gated import layers as L  # noqa: E402
from gated.deploy import Streamer, quantize  # noqa: E402
from gated.deploy._quantize import float_inference_model  # noqa: E402

torch.set_num_threads(THREADS)


def train(x, y, units: int, epochs: int, seed: int) -> gated.Sequential:
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = gated.Sequential([L.Input(shape=(None, x.shape[-1])), L.GRU(units), L.Dense(2, activation="softmax")])
    model.compile(optimizer=gated.optimizers.Adam(0.005), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return model


def throughput(predict, x: np.ndarray, repeats: int) -> tuple[float, list[float]]:
    predict(x[:64])  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(x)
        rates.append(len(x) / (time.perf_counter() - start))
    return float(np.median(rates)), [min(rates), max(rates)]


def file_size(model) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.gated")
        model.save(path, include_optimizer=False)
        return os.path.getsize(path)


def speed_rows(name: str, model, x: np.ndarray, repeats: int, batch: int) -> list[dict]:
    reference = model.predict(x, batch_size=batch, verbose=0)
    fp32_torch, int8 = float_inference_model(model), quantize(model)
    rows = []
    for label, predict in (
        ("gated model.predict (float32)", lambda a: model.predict(a, batch_size=batch, verbose=0)),
        ("torch.nn.GRU + nn.Linear (float32)", lambda a: fp32_torch.predict(a, batch_size=batch)),
        ("gated.deploy.quantize (int8)", lambda a: int8.predict(a, batch_size=batch)),
    ):
        error = float(np.abs(predict(x) - reference).max())
        rate, spread = throughput(predict, x, repeats)
        rows.append({"workload": name, "implementation": label, "batch": batch, "predictions_per_s": rate,
                     "range": spread, "max_abs_diff_vs_gated": error})
    return rows


def stream_latency(model, x: np.ndarray, steps: int) -> dict:
    streamer = Streamer(model)
    for t in range(x.shape[1]):  # correctness beside the timing: the streamed prediction equals predict
        y = streamer.step(x[:1, t])
    error = float(np.abs(y - model.predict(x[:1], verbose=0)).max())
    streamer.reset()
    x_t = np.ascontiguousarray(x[:1, 0])
    times = np.empty(steps)
    clock = time.perf_counter_ns
    for _ in range(steps // 10):
        streamer.step(x_t)
    for i in range(steps):
        start = clock()
        streamer.step(x_t)
        times[i] = clock() - start
    times /= 1e3
    return {"p50_us": float(np.percentile(times, 50)), "p99_us": float(np.percentile(times, 99)),
            "max_abs_diff_vs_predict": error}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stream-steps", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=1, help="torch / BLAS threads (default 1: comparable "
                        "numbers whatever else a shared machine is doing)")
    parser.add_argument("--json", default="benchmarks/deployment.json")
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = gated.datasets.italy_power_demand.load_data()
    x_train, y_train, x_test, y_test = map(np.asarray, (x_train, y_train, x_test, y_test))
    accuracy, models = [], []
    for seed in args.seeds:
        start = time.perf_counter()
        model = train(x_train, y_train, args.units, args.epochs, seed)
        seconds = time.perf_counter() - start
        fp32 = model.predict(x_test, verbose=0)
        int8 = quantize(model).predict(x_test, batch_size=256)
        accuracy.append({
            "seed": seed, "train_seconds": seconds,
            "fp32_accuracy": float((fp32.argmax(1) == y_test).mean()),
            "int8_accuracy": float((int8.argmax(1) == y_test).mean()),
            "argmax_agreement": float((fp32.argmax(1) == int8.argmax(1)).mean()),
            "max_abs_probability_change": float(np.abs(fp32 - int8).max()),
            "mean_abs_probability_change": float(np.abs(fp32 - int8).mean()),
        })
        models.append(model)
        print(f"seed {seed}: trained in {seconds:.0f} s; accuracy fp32 {accuracy[-1]['fp32_accuracy']:.4f}, "
              f"int8 {accuracy[-1]['int8_accuracy']:.4f}, agreement {accuracy[-1]['argmax_agreement']:.4f}")

    model = models[0]
    sizes = {"gated_file_bytes": file_size(model),
             "fp32_state_dict_bytes": float_inference_model(model).size_bytes(),
             "int8_state_dict_bytes": quantize(model).size_bytes(),
             "parameters": model.count_params()}
    torch.manual_seed(0)
    big = gated.Sequential([L.Input(shape=(None, 8)), L.GRU(128), L.Dense(10)])
    big_sizes = {"gated_file_bytes": file_size(big),
                 "fp32_state_dict_bytes": float_inference_model(big).size_bytes(),
                 "int8_state_dict_bytes": quantize(big).size_bytes(), "parameters": big.count_params()}
    x_big = np.random.default_rng(0).standard_normal((256, 100, 8)).astype(np.float32)
    speed = speed_rows(f"ItalyPowerDemand test (1029, 24, 1), GRU({args.units})", model, x_test, args.repeats, 256)
    speed += speed_rows("workload D (256, 100, 8), GRU(128) -> Dense(10)", big, x_big, args.repeats, 256)
    stream = stream_latency(model, x_test, args.stream_steps)

    summary = {
        "fp32_accuracy_mean": float(np.mean([a["fp32_accuracy"] for a in accuracy])),
        "int8_accuracy_mean": float(np.mean([a["int8_accuracy"] for a in accuracy])),
    }
    print(f"\nItalyPowerDemand, GRU({args.units}) -> Dense(2, softmax), {args.epochs} epochs, seeds {args.seeds}")
    print(f"{'seed':>4} {'fp32 acc':>9} {'int8 acc':>9} {'agree':>7} {'max |dp|':>9} {'mean |dp|':>9}")
    for a in accuracy:
        print(f"{a['seed']:>4} {a['fp32_accuracy']:>9.4f} {a['int8_accuracy']:>9.4f} {a['argmax_agreement']:>7.4f} "
              f"{a['max_abs_probability_change']:>9.4f} {a['mean_abs_probability_change']:>9.4f}")
    print(f"\n{'size (bytes)':<24} {'gated file':>11} {'fp32 torch':>11} {'int8 torch':>11} {'params':>8}")
    for label, s in ((f"GRU({args.units}) dataset model", sizes), ("GRU(128) -> Dense(10)", big_sizes)):
        print(f"{label:<24} {s['gated_file_bytes']:>11,} {s['fp32_state_dict_bytes']:>11,} "
              f"{s['int8_state_dict_bytes']:>11,} {s['parameters']:>8,}")
    workload = None
    for r in speed:
        if r["workload"] != workload:
            workload = r["workload"]
            print(f"\nbatch inference, {workload}, batch {r['batch']}")
            print(f"{'':<4}{'implementation':<36} {'pred/s':>10} {'range':>19} {'max |diff|':>10}")
        print(f"{'':<4}{r['implementation']:<36} {r['predictions_per_s']:>10,.0f} "
              f"{r['range'][0]:>9,.0f}-{r['range'][1]:<9,.0f} {r['max_abs_diff_vs_gated']:>10.1e}")
    print(f"\nstreaming the dataset model, batch 1: p50 {stream['p50_us']:.2f} µs, p99 {stream['p99_us']:.2f} µs "
          f"per step (max |diff| vs predict {stream['max_abs_diff_vs_predict']:.1e})")
    meta = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "gated": gated.__version__, "cpus": os.cpu_count(), "threads": THREADS,
            "quantized_engine": torch.backends.quantized.engine, "load_average": os.getloadavg(),
            "args": vars(args)}
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "accuracy": accuracy, "summary": summary, "sizes": sizes,
                       "sizes_gru128": big_sizes, "batch_inference": speed, "streaming": stream}, f, indent=2)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
