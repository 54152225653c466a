"""gated.ops's numpy-style ops against keras.ops on the same inputs: values, shapes and dtypes, over axis and
keepdims variants, integer, boolean and float64 inputs, python scalars and broadcasting."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from gated import ops
from tests.ops.support import (A, B, BOOLS, CUBE, F64, INT64, INTS, NONZERO_INTS, POS, ROW, SPD, SQUARE, UNIT,
                               assert_same)

UNARY_FLOAT = ["abs", "absolute", "negative", "sign", "exp", "exp2", "expm1", "sin", "cos", "tan", "sinh", "cosh",
               "tanh", "arctan", "arcsinh", "floor", "ceil", "round", "trunc", "square", "isnan", "isfinite",
               "isinf", "isneginf", "isposinf", "signbit", "sinc", "fabs", "cbrt", "deg2rad", "rad2deg",
               "logical_not", "reciprocal", "ravel", "copy", "real", "isreal", "nan_to_num", "i0", "angle"]
UNARY_POSITIVE = ["log", "log2", "log10", "log1p", "sqrt", "arccosh"]
UNARY_UNIT = ["arcsin", "arccos", "arctanh", "erf", "erfinv"]
UNARY_INT = ["abs", "negative", "sign", "exp", "sin", "floor", "ceil", "round", "square", "isnan", "fabs",
             "cbrt", "deg2rad", "logical_not", "sqrt", "trunc", "bitwise_invert"]
UNARY_INT64 = ["sqrt", "floor", "ceil", "deg2rad", "cbrt", "exp", "i0", "square"]
UNARY_BOOL = ["abs", "logical_not", "square", "trunc", "exp", "sqrt", "ceil"]

BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum", "fmax", "fmin",
          "arctan2", "logaddexp", "logaddexp2", "hypot", "equal", "not_equal", "greater", "greater_equal", "less",
          "less_equal", "logical_and", "logical_or", "logical_xor", "divide_no_nan", "mod", "fmod", "floor_divide",
          "heaviside", "nextafter", "isclose"]
BINARY_INT = ["add", "subtract", "multiply", "maximum", "minimum", "equal", "greater", "floor_divide", "mod",
              "bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm", "divide", "hypot", "heaviside"]

REDUCTIONS = ["sum", "mean", "max", "min", "prod", "std", "var", "all", "any", "amax", "amin", "ptp",
              "logsumexp", "nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "median"]
AXES = [None, 0, -1, (0, 1)]
# Keras's torch backend ignores keepdims=True with axis=None for these; gated keeps the dims as numpy does.
KEEPDIMS_DROPPED = ["sum", "max", "min", "prod", "amax", "amin", "ptp", "nanprod"]


def _case(name, *args, **kwargs):
    label = name + "(" + ",".join(_describe(a) for a in args) + "".join(f",{k}={v}" for k, v in kwargs.items()) + ")"
    return pytest.param(name, args, kwargs, id=label)


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"{value.dtype.name}{list(value.shape)}"
    return repr(value) if not isinstance(value, (list, tuple)) or len(repr(value)) < 20 else type(value).__name__


CASES = (
    [_case(n, A) for n in UNARY_FLOAT]
    + [_case(n, POS) for n in UNARY_POSITIVE]
    + [_case(n, UNIT) for n in UNARY_UNIT]
    + [_case(n, INTS) for n in UNARY_INT]
    + [_case(n, INT64) for n in UNARY_INT64]
    + [_case(n, BOOLS) for n in UNARY_BOOL]
    + [_case(n, A, B) for n in BINARY]
    + [_case(n, A, ROW) for n in ["add", "multiply", "maximum", "divide", "arctan2", "greater"]]  # broadcasting
    + [_case(n, A, 2.5) for n in ["add", "multiply", "maximum", "minimum", "power", "divide", "subtract"]]
    + [_case(n, INTS, 2) for n in ["add", "multiply", "maximum", "power", "floor_divide", "mod", "divide"]]
    + [_case(n, INTS, 1.5) for n in ["add", "multiply", "maximum", "divide"]]
    + [_case(n, INTS, NONZERO_INTS) for n in BINARY_INT]
    + [_case(n, BOOLS, BOOLS) for n in ["logical_and", "logical_xor", "add", "equal", "bitwise_and"]]
    + [_case("subtract", BOOLS, INTS), _case("ldexp", A, INTS), _case("power", POS, A), _case("allclose", A, A),
       _case("isclose", A, A + 1e-7), _case("isin", INTS, np.array([1, 2, 3], "int32"))]
    + [_case(n, x, axis=ax, keepdims=k) for n in REDUCTIONS for x in [A] for ax in AXES for k in (False, True)
       if not (n == "median" and ax == (0, 1) and k) and not (ax is None and k and n in KEEPDIMS_DROPPED)]
    + [_case(n, INTS, axis=ax) for n in ["sum", "mean", "max", "prod", "std", "var", "all", "any", "median"]
       for ax in (None, 1)]
    + [_case(n, BOOLS, axis=0) for n in ["sum", "mean", "all", "any", "prod", "count_nonzero"]]
    + [_case(n, INT64) for n in ["sum", "mean", "prod", "var"]]
    + [_case("sum", F64, axis=1), _case("mean", F64, axis=0), _case("mean", A, axis=()), _case("sum", A, axis=[])]
    + [_case(n, A, axis=ax) for n in ["argmax", "argmin", "argsort", "sort", "cumsum", "cumprod"] for ax in (None, 0, 1)]
    + [_case(n, A, axis=1, keepdims=True) for n in ["argmax", "argmin"]]
    + [_case(n, INTS, axis=1) for n in ["argmax", "argsort", "sort", "cumsum", "cumprod"]]
    + [_case(n, BOOLS, axis=1) for n in ["argmax", "cumsum", "sort"]]
    + [_case("cumsum", INTS, axis=0, dtype="float32"), _case("count_nonzero", INTS, axis=1),
       _case("count_nonzero", A), _case("average", A, axis=1, weights=ROW), _case("average", A),
       _case("average", INTS, axis=0), _case("quantile", A, 0.3, axis=1), _case("quantile", A, [0.2, 0.9]),
       _case("quantile", A, 0.7, axis=0, keepdims=True), _case("quantile", A, 0.5, method="nearest"),
       _case("percentile", A, 40, axis=1), _case("nanquantile", A, 0.25, axis=0), _case("nanmedian", A, axis=1),
       _case("nanargmax", A, axis=1), _case("nanargmin", A), _case("nancumsum", A, axis=1),
       _case("nancumprod", A, axis=0), _case("diff", A), _case("diff", A, n=2, axis=0),
       _case("trace", SQUARE), _case("trace", INTS.astype("int8")[:3, :3], offset=1)]
    # shapes, joins, splits, gathers
    + [_case("reshape", A, (2, 6)), _case("reshape", A, (-1,)), _case("reshape", A, (4, -1)),
       _case("transpose", A), _case("transpose", CUBE, (1, 0, 2)), _case("expand_dims", A, 1),
       _case("expand_dims", A, (0, 3)), _case("expand_dims", A, -1), _case("squeeze", A[None, :, None]),
       _case("squeeze", A[None], 0), _case("concatenate", [A, B], 1), _case("concatenate", [A, B]),
       _case("stack", [A, B]), _case("stack", [A, B], 2), _case("hstack", [A, B]), _case("vstack", [ROW, ROW]),
       _case("dstack", [A, B]), _case("split", A, 2, 1), _case("split", A, [1, 3], 1), _case("split", A, 3),
       _case("array_split", A, 3, 1), _case("hsplit", A, 2), _case("vsplit", A, 3), _case("dsplit", CUBE, 2),
       _case("tile", A, (2, 1)), _case("tile", ROW, 3), _case("repeat", A, 2), _case("repeat", A, 2, 1),
       _case("repeat", A, np.array([1, 2, 3]), 0), _case("broadcast_to", ROW, (3, 4)),
       _case("take", A, np.array([[0, 2], [1, 11]])), _case("take", A, np.array([3, 0]), 1),
       _case("take", A, np.array([2, 0]), 0), _case("take_along_axis", A, np.argsort(A, axis=1), 1),
       _case("take_along_axis", A, np.array([[0, 1, 2, 0]]), 0),
       _case("flip", A), _case("flip", A, 1), _case("fliplr", A), _case("flipud", A),
       _case("roll", A, 1), _case("roll", A, 2, 1), _case("roll", A, (1, 1), (0, 1)),
       _case("swapaxes", CUBE, 0, 2), _case("moveaxis", CUBE, 0, -1), _case("moveaxis", CUBE, (0, 1), (2, 0)),
       _case("rot90", A), _case("rot90", A, 3), _case("append", A, B), _case("append", A, B, 0),
       _case("diag", ROW), _case("diag", A, 1), _case("diagflat", ROW[:2]), _case("diagonal", CUBE, 0, 1, 2),
       _case("tril", A), _case("triu", A, 1), _case("tril", CUBE, -1), _case("where", A > 0, A, B),
       _case("where", BOOLS, INTS, 0.5), _case("where", BOOLS), _case("nonzero", INTS),
       _case("pad", A, ((1, 2), (0, 1))), _case("pad", A, ((1, 1), (2, 0)), constant_values=3.0),
       _case("pad", A, ((1, 2), (2, 1)), mode="reflect"),        _case("pad", INTS, ((1, 1), (1, 1))), _case("clip", A, -0.5, 0.5), _case("clip", INTS, -2, 3),
       _case("clip", BOOLS, 0, 1), _case("select", [A > 0.5, A < -0.5], [A, B], 0.0),
       _case("searchsorted", np.sort(ROW), A), _case("searchsorted", np.sort(ROW), A, side="right"),
       _case("digitize", A, np.array([-1.0, 0.0, 1.0], "float32")), _case("unravel_index", np.array([1, 7, 11]),
                                                                          (3, 4)),
       _case("ndim", CUBE), _case("size", CUBE), _case("get_item", A, 1), _case("view", A, "int32"),
       _case("unique", np.array([3, 1, 2, 3, 1])), _case("bincount", np.array([0, 1, 1, 4])),
       _case("bincount", np.array([0, 1, 1, 3]), weights=np.array([0.5, 1.0, 2.0, 1.0], "float32"), minlength=6),
       _case("bincount", np.array([[0, 1], [2, 2]]), minlength=4)]
    # constructors
    + [_case("arange", 5), _case("arange", 1, 7, 2), _case("arange", 0.5, 3.0), _case("arange", 5, dtype="float32"),
       _case("linspace", 0.0, 1.0, 5), _case("linspace", 0, 10, 4, endpoint=False), _case("linspace", 2, 3, 1),
       _case("linspace", np.array([0.0, 1.0], "float32"), np.array([1.0, 3.0], "float32"), 3),
       _case("logspace", 0.0, 2.0, 3), _case("logspace", 0, 3, 4, base=2, endpoint=False),
       _case("geomspace", 1.0, 1000.0, 4), _case("zeros", (2, 3)), _case("ones", 3, "int32"),
       _case("full", (2, 2), 7.0), _case("full", (2, 3), 2), _case("full", (2, 4), ROW),
       _case("zeros_like", INTS), _case("ones_like", A, dtype="int32"), _case("full_like", A, 3),
       _case("eye", 3), _case("eye", 3, 4, 1), _case("eye", 4, 3, k=-2), _case("identity", 2, "int32"),
       _case("tri", 3), _case("tri", 3, 4, -1), _case("meshgrid", ROW[:2], ROW[:3]),
       _case("meshgrid", ROW[:2], ROW[:3], indexing="ij"), _case("array", [[1, 2], [3, 4]]),
       _case("array", [1.0, 2]), _case("vander", ROW), _case("vander", ROW, 3, increasing=True),
       _case("bartlett", 5), _case("blackman", 5), _case("hamming", 5), _case("hanning", 6),
       _case("kaiser", 5, 2.0)]
    # products
    + [_case("matmul", A, B.T), _case("matmul", CUBE, B.T), _case("matmul", ROW, B.T), _case("matmul", A, ROW),
       _case("matmul", INTS, INTS.T), _case("matmul", INTS.astype("int8"), INTS.T.astype("int8")),
       _case("matmul", BOOLS, BOOLS.T), _case("dot", A, B.T), _case("dot", ROW, ROW),
       _case("dot", A, 2.0), _case("dot", INTS, INTS.T),
       _case("tensordot", A, B, 2), _case("tensordot", CUBE, A, ([1, 2], [0, 1])), _case("tensordot", A, B.T, 1),
       _case("tensordot", CUBE, B, (2, 1)), _case("einsum", "ij,kj->ik", A, B), _case("einsum", "bij->bji", CUBE),
       _case("einsum", "ij,ij->", INTS, INTS), _case("outer", ROW, ROW[:3]), _case("outer", A, ROW),
       _case("inner", A, B), _case("inner", INTS, INTS), _case("vdot", ROW, ROW), _case("kron", A[:2, :2], B[:2, :2]),
       _case("cross", A[:2, :3], B[:2, :3]), _case("correlate", ROW, ROW[:2]),
       _case("correlate", ROW, ROW[:3], mode="same"), _case("correlate", ROW, ROW[:3], mode="full"),
       _case("corrcoef", A), _case("trapezoid", A), _case("trapezoid", A, dx=0.5, axis=0),
       _case("trapezoid", A, ROW), _case("histogram", ROW, 3), _case("slogdet", SQUARE)]
    # linalg and math
    + [_case("inv", SQUARE), _case("det", SQUARE), _case("solve", SQUARE, A[:, :2]), _case("cholesky", SPD),
       _case("cholesky", SPD, upper=True), _case("cholesky_inverse", np.linalg.cholesky(SPD)),
       _case("norm", A), _case("norm", A, axis=1), _case("norm", A, 1, axis=0), _case("norm", A, "fro"),
       _case("norm", A, ord=np.inf, axis=1, keepdims=True), _case("norm", A, "nuc", (0, 1)),
       _case("solve_triangular", np.triu(SQUARE), A[:, :2]), _case("solve_triangular", np.tril(SQUARE), ROW[:3],
                                                                   lower=True),
       _case("eigh", SPD), _case("svd", SQUARE, compute_uv=False), _case("pinv", A), _case("matrix_rank", A),
       _case("lstsq", A.T, ROW), _case("logdet", SPD), _case("rsqrt", POS), _case("erfc", A),
       _case("segment_sum", A, np.array([0, 0, 2])), _case("segment_max", A, np.array([1, 0, 1]), 3),
       _case("segment_min", INTS, np.array([0, 1, 1])), _case("segment_prod", A, np.array([0, 0, 1])),
       _case("top_k", A, 2), _case("top_k", INTS, 3), _case("in_top_k", np.array([0, 3, 1]), A, 2),
       _case("cdist", A, B), _case("extract_sequences", A, 2, 1), _case("extract_sequences", CUBE, 3, 1),
       _case("rfft", A), _case("rfft", A, 6), _case("fft", (A, B)), _case("fft2", (A, B)), _case("ifft2", (A, B)),
       _case("irfft", (A, B)), _case("stft", np.tile(A, (1, 8)), 8, 4, 8), _case("stft", ROW.repeat(8), 6, 3, 8,
                                                                                    window="hamming"),
       _case("view_as_real", np.array([1 + 2j, 3 - 1j], "complex64"))]
)


@pytest.mark.parametrize("name,args,kwargs", CASES)
def test_op_matches_keras(keras, name, args, kwargs):
    with warnings.catch_warnings():  # Keras's own calls (x.T on 1-D, torch.cross without dim) warn
        warnings.simplefilter("ignore")
        theirs = getattr(keras.ops, name)(*args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    assert_same(ours, theirs, rtol=2e-5, atol=2e-5, where=name)


# Where Keras's torch backend departs from the numpy semantics it documents, gated follows numpy.
NUMPY_CASES = (
    [_case(n, A, axis=None, keepdims=True) for n in KEEPDIMS_DROPPED if n != "nanprod"]
    + [_case("take", A, np.array([[0, 2], [1, -1]])),                      # negative index into the flat x
       _case("pad", A, ((1, 0), (0, 2)), mode="symmetric"),               # Keras pads with edge values
       _case("dot", CUBE, CUBE.transpose(1, 2, 0)),                       # N-D dot, not matmul
       _case("vdot", A, B),                                               # flattened inputs
       _case("cross", A[:, :3], B[:, :3]), _case("cross", CUBE[:, :, :3], CUBE[:, :, 1:]),  # the last axis
       _case("imag", A), _case("nanprod", A, axis=None, keepdims=True)]
)


@pytest.mark.parametrize("name,args,kwargs", NUMPY_CASES)
def test_op_matches_numpy_where_keras_torch_departs_from_it(name, args, kwargs):
    ours = getattr(ops, name)(*args, **kwargs)
    expected = getattr(np, name)(*args, **kwargs)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert ours.shape == np.shape(expected)


def test_cross_of_2_vectors_is_the_z_component():
    a, b = A[:, :2], B[:, :2]
    np.testing.assert_allclose(ops.cross(a, b).numpy(), a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], rtol=1e-6)


def test_argpartition_partitions_like_numpy():
    x = np.array([[5.0, 1.0, 4.0, 2.0, 3.0], [0.5, 0.1, 0.9, 0.3, 0.2]], "float32")
    for kth in range(5):
        idx = ops.argpartition(x, kth, axis=-1).numpy()
        part = np.take_along_axis(x, idx, axis=-1)
        np.testing.assert_array_equal(part[:, kth], np.sort(x, axis=-1)[:, kth])
        assert (part[:, :kth] <= part[:, kth:kth + 1]).all() and (part[:, kth + 1:] >= part[:, kth:kth + 1]).all()


def test_imag_and_conjugate_of_complex_match_keras(keras):
    z = np.array([1 + 2j, -3 - 1j], "complex64")
    for name in ["imag", "real", "conjugate", "conj", "abs", "angle"]:
        assert_same(getattr(ops, name)(z), getattr(keras.ops, name)(z), where=name)


@pytest.mark.parametrize("name,args", [
    ("qr", (A,)), ("qr", (A.T,)), ("eig", (SPD,)), ("svd", (SQUARE,)), ("lu_factor", (SQUARE,)),
])
def test_factorizations_reconstruct_the_matrix_like_keras(keras, name, args):
    """Factors are unique only up to signs; the products, the pivots and the values match Keras."""
    ours, theirs = getattr(ops, name)(*args), getattr(keras.ops, name)(*args)
    if name == "qr":
        q, r = ours
        np.testing.assert_allclose((q @ r).numpy(), args[0], atol=1e-5)
        assert q.shape == tuple(theirs[0].shape) and r.shape == tuple(theirs[1].shape)
    elif name == "eig":
        np.testing.assert_allclose(np.sort(ours[0].real.numpy()), np.sort(keras.ops.convert_to_numpy(theirs[0]).real),
                                   rtol=1e-5)
    elif name == "svd":
        u, s, vh = ours
        np.testing.assert_allclose((u * s[None]) @ vh, args[0], atol=1e-5)
        assert_same(s, theirs[1])
    else:
        assert_same(ours, theirs)


@pytest.mark.parametrize("name,args", [
    ("matmul", (F64, F64.T)), ("dot", (F64, F64.T)), ("tensordot", (F64, F64, 2)), ("inner", (F64, F64)),
    ("einsum", ("ij,kj->ik", F64, F64)), ("prod", (F64,)), ("cumsum", (F64,)), ("quantile", (F64, 0.3)),
    ("maximum", (F64, 0.5)), ("arctan2", (F64, F64)), ("mean", (F64,)), ("var", (F64,)), ("add", (F64, A)),
])
def test_float64_inputs_keep_their_precision(name, args):
    """Keras's torch backend returns float32 for float64 products and several reductions (its promotion narrows
    64-bit results); gated keeps float64 and agrees with numpy in float64."""
    ours = getattr(ops, name)(*args)
    assert ours.dtype == torch.float64
    np.testing.assert_allclose(ours.numpy(), getattr(np, name)(*args), rtol=1e-12)


def test_conversion_follows_keras_dtype_rules(keras):
    for value in [1.0, 3, True, [1, 2], [1.0, 2], [[True, False]], np.arange(3), np.float64(2.0), np.int16(4),
                  np.arange(3, dtype="uint32"), 2**40, []]:
        assert_same(ops.convert_to_tensor(value), keras.ops.convert_to_tensor(value), where=repr(value))
    assert ops.convert_to_tensor([1, 2], dtype="float16").dtype == torch.float16
    t = torch.ones(2, dtype=torch.float64, requires_grad=True)
    assert ops.convert_to_tensor(t) is t


@pytest.mark.parametrize("dtypes", [("int32", "float32"), ("int64", "int64"), ("int8", "uint8"), ("bool", int),
                                    ("float16", float), ("int32", float), ("bfloat16", "float16"), (int, float),
                                    ("float64",), (), ("uint8", "int16"), ("bool", "bool")])
def test_result_type_is_keras_promotion(keras, dtypes):
    assert ops.result_type(*dtypes) == keras.backend.result_type(*dtypes)


def test_ops_return_torch_tensors_for_every_input_kind_and_keep_gradients():
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    out = ops.sum(ops.square(ops.matmul(x, np.eye(2, dtype="float32"))) + ops.abs(x) * 2)
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy() + 2 * np.sign(x.detach().numpy()))
    for value in ([1.0, 2.0], np.ones(2), 3.0, torch.ones(2)):
        assert isinstance(ops.add(value, 1), torch.Tensor)


def test_bad_input_errors_say_what_was_received_and_expected():
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor of shape \(3, 4\).*into \(5, 2\)"):
        ops.reshape(A, (5, 2))
    with pytest.raises(ValueError, match=r"matmul: the last axis of x1 \(3, 4\) \(4\) must equal"):
        ops.matmul(A, A)
    with pytest.raises(ValueError, match="3 sections do not divide"):
        ops.split(A, 3, axis=1)
    with pytest.raises(TypeError, match="Indices must be integers"):
        ops.take(A, np.array([0.5]))
    with pytest.raises(ValueError, match="axis 3 is out of range for a tensor of rank 2"):
        ops.expand_dims(A, 3)
    with pytest.raises(ValueError, match=r"axis 1 of a tensor of shape \(1, 3, 4\) has length 3, not 1"):
        ops.squeeze(A[None], 1)
    with pytest.raises(ValueError, match="Cannot compute the max of an empty tensor"):
        ops.max(np.zeros((0,)))
    with pytest.raises(TypeError, match="ops take numbers"):
        ops.convert_to_tensor(["a", "b"])
    with pytest.raises(ValueError, match="pad takes mode"):
        ops.pad(A, 1, mode="mirror")
