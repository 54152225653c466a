"""gated.ops's core ops against keras.ops: control flow (cond, scan, fori_loop, while_loop, switch, map,
vectorized_map, associative_scan), scatter and slice updates, casts; and the list of keras.ops names gated lacks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated.ops
from gated import ops
from tests.ops.support import A, B, CUBE, INTS, ROW, assert_same

# Names of keras.ops that gated.ops does not provide. It may only shrink: implement a name, then remove it here.
MISSING_FROM_KERAS_OPS = ["istft", "rearrange"]


def test_the_names_gated_ops_lacks_are_exactly_the_committed_list(keras):
    theirs = sorted(name for name in dir(keras.ops) if not name.startswith("_"))
    missing = [name for name in theirs if not hasattr(gated.ops, name)]
    assert missing == MISSING_FROM_KERAS_OPS
    for namespace in ("nn", "numpy", "linalg", "image"):
        module = getattr(keras.ops, namespace)
        lacking = [n for n in dir(module) if not n.startswith("_") and not hasattr(getattr(gated.ops, namespace), n)]
        assert lacking == [], f"gated.ops.{namespace} lacks {lacking}"


def _both(keras, name, *args, **kwargs):
    return getattr(ops, name)(*args, **kwargs), getattr(keras.ops, name)(*args, **kwargs)


@pytest.mark.parametrize("pred", [True, False])
def test_cond_matches_keras(keras, pred):
    ours, theirs = _both(keras, "cond", torch.tensor(pred), lambda: ops.add(A, 1.0), lambda: ops.multiply(A, 2.0))
    assert_same(ours, theirs)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_matches_keras(keras, reverse):
    def step(carry, x):
        total = carry + x
        return total, total * 2

    ours, theirs = _both(keras, "scan", step, np.zeros(4, "float32"), A, reverse=reverse)
    assert_same(ours, theirs)


def test_scan_with_nested_carry_and_length_matches_keras(keras):
    def step(carry, _):
        a, b = carry
        return (b, a + b), a

    ours, theirs = _both(keras, "scan", step, (np.float32(0.0), np.float32(1.0)), None, length=6)
    assert_same(ours, theirs)


def test_fori_loop_and_while_loop_match_keras(keras):
    ours, theirs = _both(keras, "fori_loop", 0, 5, lambda i, v: v * 2 + i, np.ones(3, "float32"))
    assert_same(ours, theirs)
    ours, theirs = _both(keras, "while_loop", lambda i, x: i < 4, lambda i, x: (i + 1, x * 1.5), (0, np.ones(2)))
    assert_same(ours, theirs)
    ours, theirs = _both(keras, "while_loop", lambda x: ops.sum(x) < 50, lambda x: x * 2, np.ones(3, "float32"),
                         maximum_iterations=3)
    assert_same(ours, theirs)


def test_switch_map_vectorized_map_and_associative_scan_match_keras(keras):
    branches = [lambda x: x + 1, lambda x: x * 3, lambda x: -x]
    for index in (0, 2, 7, -1):
        assert_same(*_both(keras, "switch", index, branches, A), where=f"switch {index}")
    assert_same(*_both(keras, "map", lambda x: ops.sum(x * x), A))
    assert_same(*_both(keras, "vectorized_map", lambda x: ops.matmul(x, ROW), torch.tensor(CUBE)))
    assert_same(*_both(keras, "associative_scan", lambda a, b: a + b, A), rtol=1e-5)
    assert_same(*_both(keras, "associative_scan", lambda a, b: a * b, CUBE, reverse=True, axis=2), rtol=1e-5)
    assert_same(*_both(keras, "associative_scan", lambda a, b: ops.maximum(a, b), ROW.repeat(3)))


def test_scatter_slices_and_updates_match_keras(keras):
    assert_same(*_both(keras, "scatter", np.array([[0, 1], [2, 3], [0, 1]]), np.array([1.0, 2.0, 3.0], "float32"),
                       (3, 4)))
    assert_same(*_both(keras, "scatter", np.array([[1], [0]]), A[:2], (3, 4)))
    assert_same(*_both(keras, "scatter_update", A, np.array([[0, 1], [2, 2]]), np.array([9.0, 8.0], "float32")))
    assert_same(*_both(keras, "scatter_update", A, np.array([[1]]), np.ones((1, 4), "float32")))
    for reduction in ("add", "max", "min", "mul"):
        assert_same(*_both(keras, "scatter_update", A, np.array([[0, 1], [0, 1], [2, 0]]),
                           np.array([2.0, -3.0, 0.5], "float32"), reduction=reduction), where=reduction)
    assert_same(*_both(keras, "slice", CUBE, (0, 1, 1), (2, 2, 3)))
    assert_same(*_both(keras, "slice", CUBE, torch.tensor([1, 0, 2]), torch.tensor([1, 3, 2])))
    assert_same(*_both(keras, "slice_update", A, (1, 2), np.zeros((2, 2), "float32")))
    assert_same(*_both(keras, "unstack", torch.tensor(CUBE), axis=1))
    assert_same(ops.unstack(CUBE), list(torch.tensor(CUBE)))


@pytest.mark.parametrize("value,dtype", [(np.array([-1.0, 300.0, 3.7, 1e10], "float32"), "uint8"),
                                         (np.array([-70000, 5, 70000], "int32"), "int16"),
                                         (np.array([1e5, -1e39, 3.0], "float64"), "float16"),
                                         (np.array([-2.0, 0.0, 0.4], "float32"), "bool")])
def test_saturate_cast_matches_keras(keras, value, dtype):
    assert_same(*_both(keras, "saturate_cast", value, dtype))


def test_saturate_cast_to_int32_saturates_at_the_largest_float32_below_2_31():
    out = ops.saturate_cast(np.array([-1e10, 2.5, 3e9], "float32"), "int32")
    np.testing.assert_array_equal(out.numpy(), [-2**31, 2, 2**31 - 128])


def test_cast_shape_dtype_and_stop_gradient_match_keras(keras):
    assert_same(*_both(keras, "cast", A, "int32"))
    assert_same(*_both(keras, "cast", INTS, "bool"))
    assert ops.shape(CUBE) == tuple(keras.ops.shape(CUBE))
    assert ops.dtype(INTS) == keras.ops.dtype(INTS) and ops.dtype(2.0) == "float32"
    assert ops.is_tensor(torch.ones(1)) and not ops.is_tensor(A)
    x = torch.tensor(B, requires_grad=True)
    assert not ops.stop_gradient(x).requires_grad
    np.testing.assert_array_equal(ops.convert_to_numpy(x), B)


def test_control_flow_carries_gradients():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    carry, ys = ops.scan(lambda c, v: (c * v, c), torch.tensor(1.0), x)
    total = ops.fori_loop(0, 3, lambda i, v: v * x, torch.ones(2)).sum() + carry + ys.sum()
    total.backward()
    # d/dx of sum(x**3) + x0*x1 + (1 + x0) = 3x**2 + (x1 + 1, x0)
    np.testing.assert_allclose(x.grad.numpy(), [3 * 1 + 2 + 1, 3 * 4 + 1])


def test_custom_gradient_uses_the_given_gradient():
    @ops.custom_gradient
    def clipped_identity(x):
        def grad(*args, upstream=None):
            return torch.clamp(upstream, -0.5, 0.5)
        return x * 1.0, grad

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (clipped_identity(x) * torch.tensor([3.0, -0.2])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, -0.2])


def test_vectorize_matches_numpy():
    f = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
    np.testing.assert_allclose(f(CUBE, ROW).numpy(), (CUBE * ROW).sum(-1), rtol=1e-6)


def test_control_flow_errors_say_what_was_received():
    with pytest.raises(ValueError, match=r"cond needs a scalar predicate; received a tensor of shape \(3, 4\)"):
        ops.cond(torch.tensor(A) > 0, lambda: 1, lambda: 2)
    with pytest.raises(ValueError, match="scan needs xs to scan over, or length="):
        ops.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(TypeError, match="fori_loop needs a callable"):
        ops.fori_loop(0, 2, "body", 0)
    with pytest.raises(ValueError, match="reduction None, 'add', 'max', 'min' or 'mul'"):
        ops.scatter_update(A, [[0, 0]], [1.0], reduction="mean")
