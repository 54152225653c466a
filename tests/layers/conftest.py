"""The layer tests run torch on one thread: the CPU dispatch depends on the thread count (gated's LSTM kernel is
picked on one thread only, as measured), so the paths asserted here must not depend on the machine's cores."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
