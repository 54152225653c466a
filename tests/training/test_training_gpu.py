"""compile(device='cuda'): the same training as on the CPU, on cuDNN."""

from __future__ import annotations

import numpy as np
import pytest

import gated
from gated.layers import GRU, LSTM, Dense, Embedding

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("ieee_fp32")]


def _model():
    return gated.Sequential([Embedding(20, 8, mask_zero=True, input_shape=(12,)), GRU(16, return_sequences=True),
                             LSTM(8), Dense(3, activation="softmax")])


def test_fit_on_cuda_matches_fit_on_cpu(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, size=(96, 12))
    ids[::4, 8:] = 0
    labels = rng.integers(0, 3, size=96)
    cpu, gpu = _model(), _model()
    gpu.set_weights(cpu.get_weights())
    for model, device in ((cpu, "cpu"), (gpu, "cuda")):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], device=device)
    h_cpu = cpu.fit(ids, labels, epochs=2, batch_size=16, shuffle=False, verbose=0, validation_split=0.25)
    h_gpu = gpu.fit(ids, labels, epochs=2, batch_size=16, shuffle=False, verbose=0, validation_split=0.25)
    assert next(gpu.parameters()).is_cuda and "cuDNN" in gpu.layers[1].last_path.kernel
    for key in h_cpu.history:
        np.testing.assert_allclose(h_gpu.history[key], h_cpu.history[key], atol=1e-4)
    for a, b in zip(cpu.get_weights(), gpu.get_weights()):
        np.testing.assert_allclose(b, a, atol=1e-4)
    np.testing.assert_allclose(gpu.predict(ids, verbose=0), cpu.predict(ids, verbose=0), atol=1e-4)
    gpu.save(tmp_path / "gpu.gated")
    loaded = gated.load_model(tmp_path / "gpu.gated")
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), gpu.predict(ids, verbose=0), atol=1e-5)
