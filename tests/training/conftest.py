"""Fixtures of the training tests."""

from __future__ import annotations

import pytest

from gated.training import _graphs


@pytest.fixture
def simulated(monkeypatch):
    """Capture 'succeeds' on the CPU: the captured body runs eagerly at each replay."""
    monkeypatch.setattr(_graphs, "_SIMULATE", True)
    real = _graphs.blockers
    monkeypatch.setattr(_graphs, "blockers", lambda model, device, jit, *a, **k: [
        r for r in real(model, device, jit, *a, **k) if "CUDA device" not in r])
