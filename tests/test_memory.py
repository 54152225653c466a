"""No memory kept per epoch or per call: the number of live tensors stays constant over a long fit and a stream of
predict calls (the fast, exact companion of benchmarks/soak.py, which measures resident memory over 300 epochs).
"""

from __future__ import annotations

import gc

import numpy as np
import torch

import gated
from gated.callbacks import Callback
from gated.layers import GRU, Dense


def live_tensors() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), torch.Tensor))  # type(): no proxy lookups


class CountTensors(Callback):
    def __init__(self):
        super().__init__()
        self.counts: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.counts.append(live_tensors())


def test_live_tensors_stay_constant_across_epochs_fit_calls_and_predict_calls():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 6, 3)).astype("float32"), rng.integers(0, 2, size=(48, 1)).astype("float32")
    model = gated.Sequential([GRU(8, input_shape=(None, 3)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cpu")
    count = CountTensors()
    model.fit(x, y, validation_split=0.25, epochs=12, batch_size=8, verbose=0, callbacks=[count])
    assert len(count.counts) == 12
    assert len(set(count.counts[2:])) == 1, count.counts  # after the first epochs built everything: flat
    after_first_fit = live_tensors()
    for _ in range(3):
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert live_tensors() == after_first_fit
    for _ in range(100):
        model.predict(x[:4], verbose=0)
    assert live_tensors() == after_first_fit
