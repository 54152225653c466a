"""The tutorial model's full training step on a GPU: gated captured (CUDA graph), gated eager, plain PyTorch.

    python benchmarks/gpu_train_step.py [--device cuda] [--epochs 3] [--repeats 5] [--json PATH]

GRU(128, return_sequences=True) -> Dense(1, sigmoid), x (1000, 10, 1) float32, batch 32 (31 full batches and one
of 8 per epoch), Adam, binary cross-entropy, accuracy metric. Timed: ``fit`` time per batch over ``--epochs``
epochs after a warm-up epoch, CUDA synchronised before each clock read, the variants interleaved ``--repeats``
times; the table gives the median and the range. Variants:

* gated captured: ``fit`` with the default ``jit_compile='auto'`` (whole step replayed as one CUDA graph; the short
  last batch runs eagerly). CUDA only.
* gated eager: ``compile(jit_compile=False)``.
* torch: nn.GRU(batch_first) + nn.Linear + sigmoid + BCELoss + torch.optim.Adam; per batch index_select of the
  shuffled rows, zero_grad, forward, backward, step; no host sync per step.

Correctness beside the timing: the warm-up epoch runs the two gated variants from the same weights without
shuffling, and the largest weight difference between them is reported (and must stay below 1e-4).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np
import torch

import gated
from gated.layers import GRU, Dense

SAMPLES, STEPS, FEATURES, UNITS, BATCH = 1000, 10, 1, 128, 32


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _data(device: str):
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, STEPS, FEATURES), dtype=np.float32)
    y = (x > 0.5).astype(np.float32)
    return x, y, torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)


class GatedRunner:
    def __init__(self, name: str, jit, device: str, x, y, weights):
        self.name, self.device, self.x, self.y = name, device, x, y
        torch.manual_seed(0)
        self.model = gated.Sequential([GRU(UNITS, return_sequences=True, input_shape=(STEPS, FEATURES)),
                                       Dense(1, activation="sigmoid")])
        self.model.set_weights(weights)
        self.model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device=device,
                           jit_compile=jit)

    def warm_up(self) -> None:
        self.model.fit(self.x, self.y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)

    def run(self, epochs: int) -> float:
        self.model.fit(self.x, self.y, batch_size=BATCH, epochs=epochs, verbose=0)
        return self.model.history.history["loss"][-1]


class TorchRunner:
    def __init__(self, device: str, x, y):
        self.name = "torch (cuDNN)" if device == "cuda" else "torch (ATen CPU)"
        torch.manual_seed(0)
        self.device, self.x, self.y = device, x, y
        self.gru = torch.nn.GRU(FEATURES, UNITS, batch_first=True).to(device)
        self.dense = torch.nn.Linear(UNITS, 1).to(device)
        self.optimizer = torch.optim.Adam([*self.gru.parameters(), *self.dense.parameters()], lr=1e-3)
        self.loss_fn = torch.nn.BCELoss()

    def epoch(self) -> torch.Tensor:
        order = torch.randperm(SAMPLES, device=self.device)
        loss = None
        for start in range(0, SAMPLES, BATCH):
            index = order[start:start + BATCH]
            xb, yb = self.x.index_select(0, index), self.y.index_select(0, index)
            self.optimizer.zero_grad(set_to_none=True)
            hidden, _ = self.gru(xb)  # (B, T, H)
            loss = self.loss_fn(torch.sigmoid(self.dense(hidden)), yb)
            loss.backward()
            self.optimizer.step()
        return loss

    def warm_up(self) -> None:
        self.epoch()

    def run(self, epochs: int) -> float:
        for _ in range(epochs):
            loss = self.epoch()
        return float(loss.detach())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    options = parser.parse_args()
    device = options.device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device here; use --device cpu (eager and torch only).")
    x, y, xt, yt = _data(device)
    weights = gated.Sequential([GRU(UNITS, return_sequences=True, input_shape=(STEPS, FEATURES)),
                                Dense(1, activation="sigmoid")]).get_weights()
    runners = []
    if device == "cuda":
        runners.append(GatedRunner("gated captured", "auto", device, x, y, weights))
    runners += [GatedRunner("gated eager", False, device, x, y, weights), TorchRunner(device, xt, yt)]
    for runner in runners:
        runner.warm_up()
    _sync(device)
    check = None
    if device == "cuda":
        captured, eager = runners[0].model, runners[1].model
        check = max(float(np.abs(a - b).max()) for a, b in zip(captured.get_weights(), eager.get_weights()))
        if check > 1e-4:
            raise SystemExit(f"captured and eager weights differ by {check:.3g} after the warm-up epoch (> 1e-4).")
    steps = options.epochs * -(-SAMPLES // BATCH)
    times: dict[str, list[float]] = {r.name: [] for r in runners}
    losses: dict[str, float] = {}
    for _ in range(options.repeats):
        for runner in runners:
            _sync(device)
            start = time.perf_counter()
            losses[runner.name] = runner.run(options.epochs)
            _sync(device)
            times[runner.name].append((time.perf_counter() - start) / steps * 1e3)
    reference = statistics.median(times[runners[-1].name])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        rows.append({"variant": name, "ms_per_step_median": median, "ms_per_step_min": min(values),
                     "ms_per_step_max": max(values), "speedup_vs_torch": reference / median,
                     "final_loss": losses[name]})
    device_name = torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu"
    print(f"tutorial training step, x ({SAMPLES}, {STEPS}, {FEATURES}), batch {BATCH}, {device_name}, torch "
          f"{torch.__version__}; {options.repeats} repeats x {options.epochs} epochs ({steps} steps)")
    print(f"{'variant':<24} {'ms/step median':>15} {'range':>17} {'vs torch':>9} {'loss':>8}")
    for row in rows:
        print(f"{row['variant']:<24} {row['ms_per_step_median']:>15.3f} "
              f"{row['ms_per_step_min']:>8.3f}-{row['ms_per_step_max']:<8.3f} {row['speedup_vs_torch']:>8.2f}x "
              f"{row['final_loss']:>8.4f}")
    if check is not None:
        print(f"check: captured vs eager weights after one epoch from the same start: max |diff| = {check:.3g}")
    if options.json:
        result = {"benchmark": "gpu_train_step", "device": device, "device_name": device_name,
                  "torch": torch.__version__, "epochs": options.epochs, "repeats": options.repeats,
                  "steps_per_repeat": steps, "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
                  "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32, "rows": rows,
                  "check_max_weight_diff_captured_vs_eager": check,
                  "command": "python benchmarks/gpu_train_step.py --device " + device}
        with open(options.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
