"""The layer tests run torch on one thread: the CPU dispatch depends on the thread count (gated's LSTM kernel is
picked on one thread only, as measured), so the paths asserted here must not depend on the machine's cores."""

from __future__ import annotations

import pytest
import torch

from gated.kernels import _cpu_gru, _fused

from .support import ModuleSpy


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def kernel_spy(monkeypatch):
    """A spy in place of the compiled C++ module (GRU and LSTM entry points): ``kernel_spy.calls``."""
    assert _cpu_gru.status() is None, _cpu_gru.status()
    spy = ModuleSpy(_cpu_gru.load())
    monkeypatch.setattr(_cpu_gru, "_module", spy)
    return spy


@pytest.fixture
def vf_calls(monkeypatch):
    """The names of torch's fused RNN kernels (``torch._VF.gru``, ``lstm``, ...) the layers call, in order."""
    calls = []
    real = _fused._VF

    class Spy:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(real, name)

    monkeypatch.setattr(_fused, "_VF", Spy())
    return calls
