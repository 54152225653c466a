"""Shared fixtures. Real Keras (torch backend) is the numerical oracle; import it through ``keras_oracle``."""

from __future__ import annotations

import os
import random

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def _seeded():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def keras():
    """Real Keras 3 on the torch backend."""
    import keras  # a test dependency: a missing keras is an error, not a skip

    if keras.backend.backend() != "torch":
        pytest.fail(f"Keras must run on the torch backend for parity tests, found {keras.backend.backend()}.")
    return keras


@pytest.fixture
def ieee_fp32():
    """GPU comparisons in full fp32: TF32 off for cuDNN and matmuls while the test runs (TF32 is its own choice)."""
    previous = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = previous
