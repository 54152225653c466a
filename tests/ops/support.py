"""Comparison helpers for the ops tests: the same call on gated.ops and keras.ops, compared in values and dtype."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4)).astype("float32")            # (3, 4) floats
B = RNG.standard_normal((3, 4)).astype("float32")
POS = (np.abs(A) + 0.1).astype("float32")                    # strictly positive
UNIT = (np.tanh(A) * 0.9).astype("float32")                  # inside (-1, 1)
ROW = RNG.standard_normal((4,)).astype("float32")            # broadcasts against (3, 4)
CUBE = RNG.standard_normal((2, 3, 4)).astype("float32")
INTS = RNG.integers(-5, 6, (3, 4)).astype("int32")
NONZERO_INTS = np.where(INTS == 0, 3, INTS).astype("int32")
INT64 = RNG.integers(0, 9, (3, 4)).astype("int64")
BOOLS = RNG.random((3, 4)) > 0.5
F64 = RNG.standard_normal((3, 4))                            # float64
SQUARE = (RNG.standard_normal((3, 3)) + 3 * np.eye(3)).astype("float32")
SPD = (SQUARE @ SQUARE.T + np.eye(3)).astype("float32")      # symmetric positive definite


def numpy_of(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        x = x.detach()
        return (x.float() if x.dtype == torch.bfloat16 else x).cpu().numpy()
    return np.asarray(x)


def dtype_name(x: Any) -> str:
    return str(x.dtype).split(".")[-1] if isinstance(x, torch.Tensor) else np.asarray(x).dtype.name


def assert_same(ours: Any, theirs: Any, rtol: float = 1e-5, atol: float = 1e-6, check_dtype: bool = True,
                where: str = "result") -> None:
    """``ours`` equals Keras's ``theirs``: the same structure, shapes, dtypes and values (NaN equal to NaN)."""
    if isinstance(theirs, (list, tuple)) and not isinstance(ours, torch.Tensor):
        assert isinstance(ours, (list, tuple)), f"{where}: expected a sequence like Keras, got {type(ours)}"
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items, Keras gives {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, rtol, atol, check_dtype, f"{where}[{i}]")
        return
    if isinstance(theirs, (int, float, bool)) and not isinstance(ours, torch.Tensor):
        assert ours == theirs, f"{where}: {ours} != Keras's {theirs}"
        return
    assert isinstance(ours, torch.Tensor), f"{where}: gated returned {type(ours).__name__}, not a torch tensor"
    a, b = numpy_of(ours), numpy_of(theirs)
    assert a.shape == b.shape, f"{where}: shape {a.shape} != Keras's {b.shape}"
    if check_dtype:
        assert dtype_name(ours) == dtype_name(theirs), f"{where}: dtype {dtype_name(ours)} != Keras's " \
                                                       f"{dtype_name(theirs)}"
    if a.dtype == bool or b.dtype == bool or np.issubdtype(a.dtype, np.integer):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=where)
