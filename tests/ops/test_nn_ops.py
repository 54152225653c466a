"""gated.ops.nn against keras.ops: activations, encodings, cross-entropies, normalizations, convolutions and
pooling, attention, CTC loss and decoding; gradients of matmul, softmax and ctc_loss against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gated import ops
from tests.ops.support import A, CUBE, INTS, RNG, ROW, assert_same

ACTIVATIONS = ["relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "gelu", "elu", "selu",
               "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "log_sigmoid", "celu", "hard_tanh",
               "tanh_shrink", "soft_shrink", "hard_shrink", "sparse_plus", "sparse_sigmoid", "squareplus", "glu"]
X = (A * 4).astype("float32")  # reaches every branch of the piecewise activations
IMAGES = RNG.standard_normal((2, 5, 6, 3)).astype("float32")     # (B, H, W, C)
SEQ = RNG.standard_normal((2, 7, 3)).astype("float32")           # (B, T, F)
PROBS = np.abs(A) / np.abs(A).sum(-1, keepdims=True)


def _case(name, *args, **kwargs):
    label = name + "".join(f",{k}={v}" for k, v in kwargs.items())
    return pytest.param(name, args, kwargs, id=f"{label}-{len(args)}")


CASES = (
    [_case(n, X) for n in ACTIVATIONS]
    + [_case("gelu", X, approximate=False), _case("leaky_relu", X, negative_slope=0.1), _case("elu", X, alpha=0.5),
       _case("celu", X, alpha=2.0), _case("threshold", X, 0.3, -1.0), _case("soft_shrink", X, threshold=1.0),
       _case("squareplus", X, b=1), _case("glu", CUBE, axis=1 - 2)]
    + [_case(n, CUBE, axis=ax) for n in ["softmax", "log_softmax"] for ax in (-1, 0, (1, 2), None)]
    + [_case("one_hot", INTS + 5, 11), _case("one_hot", np.array([0, 2, -1]), 3),
       _case("one_hot", np.array([[0, 2], [1, 1]]), 3, axis=0), _case("one_hot", np.array([1, 0]), 2, dtype="int32"),
       _case("multi_hot", np.array([[0, 2], [1, 1]]), 4), _case("multi_hot", np.array([3, 0]), 5)]
    + [_case("binary_crossentropy", (A > 0).astype("float32"), 1 / (1 + np.exp(-A))),
       _case("binary_crossentropy", (A > 0).astype("float32"), A, from_logits=True),
       _case("categorical_crossentropy", PROBS, np.abs(A)), _case("categorical_crossentropy", PROBS, A,
                                                                  from_logits=True),
       _case("categorical_crossentropy", PROBS.T, A.T, from_logits=True, axis=0),
       _case("sparse_categorical_crossentropy", np.array([0, 3, 1]), np.abs(A)),
       _case("sparse_categorical_crossentropy", np.array([[0], [3], [1]]), A, from_logits=True),
       _case("sparse_categorical_crossentropy", np.array([[0, 1, 2, 0], [2, 1, 0, 1]]), CUBE, from_logits=True,
             axis=1)]
    + [_case("moments", CUBE, axes=(0, 1)), _case("moments", CUBE, axes=[2], keepdims=True),
       _case("batch_normalization", A, ROW, np.abs(ROW), axis=-1),
       _case("batch_normalization", A, ROW, np.abs(ROW), axis=1, offset=ROW, scale=2 * ROW, epsilon=1e-2),
       _case("normalize", A), _case("normalize", A, axis=0, order=1), _case("normalize", A, order=3),
       _case("layer_normalization", CUBE), _case("layer_normalization", CUBE, ROW, ROW, axis=-1, epsilon=1e-3),
       _case("layer_normalization", CUBE, axis=(1, 2)), _case("rms_normalization", CUBE, ROW),
       _case("rms_normalization", CUBE, axis=(1, 2)), _case("psnr", A, A * 0.9, 1.0), _case("polar", A, A)]
    # convolutions and pooling, channels_last and channels_first, valid and same, strides, dilation
    + [_case("conv", SEQ, RNG.standard_normal((3, 3, 4)).astype("float32"), padding=p, strides=s, dilation_rate=d)
       for p in ("valid", "same") for s, d in ((1, 1), (2, 1), (1, 2))]
    + [_case("conv", IMAGES, RNG.standard_normal((3, 2, 3, 4)).astype("float32"), padding=p, strides=s)
       for p in ("valid", "same") for s in (1, 2, (2, 1))]
    + [_case("conv", IMAGES.transpose(0, 3, 1, 2), RNG.standard_normal((2, 2, 3, 2)).astype("float32"),
             padding="same", data_format="channels_first"),
       _case("conv", RNG.standard_normal((2, 4, 4, 4)).astype("float32"),
             RNG.standard_normal((2, 2, 2, 6)).astype("float32")),  # grouped: 2 groups of 2 channels
       _case("depthwise_conv", IMAGES, RNG.standard_normal((3, 3, 3, 2)).astype("float32"), padding="same"),
       _case("depthwise_conv", SEQ, RNG.standard_normal((2, 3, 1)).astype("float32"), strides=2),
       _case("separable_conv", IMAGES, RNG.standard_normal((2, 2, 3, 2)).astype("float32"),
             RNG.standard_normal((1, 1, 6, 4)).astype("float32"), padding="same"),
       _case("conv_transpose", IMAGES, RNG.standard_normal((3, 3, 4, 3)).astype("float32"), strides=2,
             padding="same"),
       _case("conv_transpose", SEQ, RNG.standard_normal((3, 2, 3)).astype("float32"), strides=2),
       _case("conv_transpose", SEQ, RNG.standard_normal((4, 2, 3)).astype("float32"), strides=3, padding="same"),
       _case("conv_transpose", SEQ, RNG.standard_normal((3, 2, 3)).astype("float32"), strides=2,
             output_padding=1)]
    + [_case(n, IMAGES, 2, padding=p, strides=s) for n in ("max_pool", "average_pool") for p in ("valid", "same")
       for s in (None, 1)]
    + [_case("max_pool", SEQ, 3, strides=2, padding="same"), _case("average_pool", SEQ, 3, strides=1,
                                                                   padding="same"),
       _case("max_pool", IMAGES.transpose(0, 3, 1, 2), (2, 3), data_format="channels_first"),
       _case("adaptive_average_pool", IMAGES, (2, 3)), _case("adaptive_max_pool", SEQ, 3),
       _case("unfold", torch.tensor(IMAGES.transpose(0, 3, 1, 2)), 2), _case("depth_to_space", RNG.standard_normal(
           (1, 2, 3, 8)).astype("float32"), 2), _case("space_to_depth", RNG.standard_normal((1, 4, 6, 2)).astype(
               "float32"), 2), _case("depth_to_space", RNG.standard_normal((1, 8, 2, 3)).astype("float32"), 2,
                                     data_format="channels_first"),
       _case("space_to_depth", RNG.standard_normal((1, 2, 4, 6)).astype("float32"), 2, data_format="channels_first")]
    + [_case("dot_product_attention", *[RNG.standard_normal((2, 4, 2, 3)).astype("float32") for _ in range(3)]),
       _case("dot_product_attention", *[RNG.standard_normal((2, 4, 2, 3)).astype("float32") for _ in range(3)],
             is_causal=True, scale=0.5),
       _case("dot_product_attention", RNG.standard_normal((1, 3, 4, 2)).astype("float32"),
             RNG.standard_normal((1, 5, 2, 2)).astype("float32"), RNG.standard_normal((1, 5, 2, 2)).astype("float32"),
             mask=RNG.random((1, 4, 3, 5)) > 0.3),
       _case("dot_product_attention", *[RNG.standard_normal((1, 3, 2, 4)).astype("float32") for _ in range(3)],
             bias=RNG.standard_normal((1, 2, 3, 3)).astype("float32"))]
)


@pytest.mark.parametrize("name,args,kwargs", CASES)
def test_nn_op_matches_keras(keras, name, args, kwargs):
    theirs = getattr(keras.ops, name)(*args, **kwargs)
    ours = getattr(ops.nn, name)(*args, **kwargs)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5, where=name)


def _sparsemax_reference(z: np.ndarray) -> np.ndarray:
    """The projection onto the simplex along the last axis, one row at a time (Martins & Astudillo, 2016)."""
    out = np.zeros_like(z, dtype="float64")
    for index in np.ndindex(z.shape[:-1]):
        row = z[index].astype("float64")
        ordered = np.sort(row)[::-1]
        k = max(j for j in range(1, row.size + 1) if 1 + j * ordered[j - 1] > ordered[:j].sum())
        tau = (ordered[:k].sum() - 1) / k
        out[index] = np.maximum(row - tau, 0)
    return out


@pytest.mark.parametrize("axis", [-1, 1])
def test_sparsemax_matches_the_simplex_projection(axis):
    """(Keras's torch sparsemax sums the running sums over the support, so its rows do not sum to 1 once two
    classes are in the support; gated follows the definition.)"""
    ours = ops.sparsemax(CUBE * 3, axis=axis).numpy()
    expected = np.moveaxis(_sparsemax_reference(np.moveaxis(CUBE * 3, axis, -1)), -1, axis)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.sum(axis=axis), 1.0, rtol=1e-5)


def test_fold_inverts_unfold_like_keras(keras):
    x = torch.tensor(IMAGES.transpose(0, 3, 1, 2))
    patches = ops.unfold(x, 2)
    assert_same(ops.fold(patches, (5, 6), 2), keras.ops.fold(keras.ops.unfold(x, 2), (5, 6), 2))


def test_average_pool_same_with_uneven_padding_averages_only_real_elements():
    """TensorFlow's rule (Keras's documented one): the padded positions do not count in the mean."""
    x = RNG.standard_normal((1, 5, 2)).astype("float32")                   # (B, T, C), pool 2 stride 2: pad 0 + 1
    out = ops.average_pool(x, 2, strides=2, padding="same").numpy()
    expected = np.stack([x[0, 0:2].mean(0), x[0, 2:4].mean(0), x[0, 4:5].mean(0)])[None]
    np.testing.assert_allclose(out, expected, rtol=1e-6)


# ------------------------------------------------------------------------------------------------ CTC
LOGITS = RNG.standard_normal((3, 8, 5)).astype("float32")             # (B, T, C)
TARGETS = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 1]], "int32")
TARGET_LENGTHS = np.array([3, 2, 4], "int32")
OUTPUT_LENGTHS = np.array([8, 6, 8], "int32")


@pytest.mark.parametrize("mask_index", [0, 4])
def test_ctc_loss_matches_keras(keras, mask_index):
    targets = np.where(TARGETS == mask_index, (mask_index + 1) % 5, TARGETS) if mask_index else TARGETS
    targets = np.where(np.arange(4)[None] < TARGET_LENGTHS[:, None], targets, 0).astype("int32")
    theirs = keras.ops.ctc_loss(targets, LOGITS, TARGET_LENGTHS, OUTPUT_LENGTHS, mask_index=mask_index)
    ours = ops.ctc_loss(targets, LOGITS, TARGET_LENGTHS, OUTPUT_LENGTHS, mask_index=mask_index)
    assert_same(ours, theirs, rtol=1e-5)


@pytest.mark.parametrize("merge_repeated", [True, False])
@pytest.mark.parametrize("mask_index", [0, 2, None])
def test_ctc_greedy_decode_matches_keras(keras, merge_repeated, mask_index):
    logits = np.repeat(LOGITS, 2, axis=1)  # repeated steps, so merging matters
    lengths = np.array([16, 9, 12], "int32")
    kwargs = dict(strategy="greedy", merge_repeated=merge_repeated, mask_index=mask_index)
    assert_same(ops.ctc_decode(logits, lengths, **kwargs), keras.ops.ctc_decode(logits, lengths, **kwargs))


@pytest.mark.parametrize("beam_width,top_paths,mask_index", [(4, 2, 0), (8, 3, None), (3, 1, 2), (16, 4, 0)])
def test_ctc_beam_search_decode_matches_keras(keras, beam_width, top_paths, mask_index):
    logits = (RNG.standard_normal((3, 7, 4)) * 2).astype("float32")
    lengths = np.array([7, 5, 3], "int32")
    kwargs = dict(strategy="beam_search", beam_width=beam_width, top_paths=top_paths, mask_index=mask_index)
    ours = ops.ctc_decode(logits, lengths, **kwargs)
    theirs = keras.ops.ctc_decode(logits, lengths, **kwargs)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


def test_ctc_beam_search_finds_the_most_probable_labelling_by_enumeration():
    """With a beam as wide as every prefix, the best path's score is the exact log-probability of its labels."""
    logits = RNG.standard_normal((1, 4, 3)).astype("float32")
    paths, scores = ops.ctc_decode(logits, [4], strategy="beam_search", beam_width=64, top_paths=1, mask_index=0)
    log_probs = np.log(np.exp(logits[0]) / np.exp(logits[0]).sum(-1, keepdims=True)).astype("float64")
    totals: dict[tuple, float] = {}
    for alignment in np.ndindex(*(3,) * 4):
        labels = tuple(c for i, c in enumerate(alignment) if c != 0 and (i == 0 or c != alignment[i - 1]))
        totals[labels] = np.logaddexp(totals.get(labels, -np.inf), sum(log_probs[t, c] for t, c in enumerate(alignment)))
    best = max(totals, key=totals.get)
    decoded = tuple(int(v) for v in paths[0, 0] if v >= 0)
    assert decoded == best
    assert float(scores[0, 0]) == pytest.approx(totals[best], rel=1e-5)


def test_ctc_decode_refuses_an_unknown_strategy():
    with pytest.raises(ValueError, match="strategy 'greedy' or 'beam_search'; received strategy='beam'"):
        ops.ctc_decode(LOGITS, OUTPUT_LENGTHS, strategy="beam")


# ------------------------------------------------------------------------------------------------ gradients
def _finite_difference(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


def _scalar(fn):
    return lambda value: float(fn(torch.tensor(value)))


def test_matmul_gradient_matches_finite_differences():
    a = RNG.standard_normal((2, 3))
    b = RNG.standard_normal((3, 4))
    weights = torch.tensor(RNG.standard_normal((2, 4)))
    ta = torch.tensor(a, requires_grad=True)
    (ops.matmul(ta, b) * weights).sum().backward()
    numeric = _finite_difference(_scalar(lambda t: (ops.matmul(t, b) * weights).sum()), a)
    np.testing.assert_allclose(ta.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("axis", [-1, 0, (0, 1)])
def test_softmax_gradient_matches_finite_differences(axis):
    x = RNG.standard_normal((3, 4))
    weights = torch.tensor(RNG.standard_normal((3, 4)))
    tx = torch.tensor(x, requires_grad=True)
    (ops.softmax(tx, axis=axis) * weights).sum().backward()
    numeric = _finite_difference(_scalar(lambda t: (ops.softmax(t, axis=axis) * weights).sum()), x)
    np.testing.assert_allclose(tx.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_ctc_loss_gradient_matches_finite_differences():
    logits = RNG.standard_normal((2, 5, 4))
    targets, target_lengths, output_lengths = np.array([[1, 2], [3, 0]]), np.array([2, 1]), np.array([5, 4])
    t = torch.tensor(logits, requires_grad=True)
    ops.ctc_loss(targets, t, target_lengths, output_lengths).sum().backward()
    numeric = _finite_difference(
        _scalar(lambda v: ops.ctc_loss(targets, v, target_lengths, output_lengths).sum()), logits)
    np.testing.assert_allclose(t.grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_nn_errors_say_what_was_received():
    with pytest.raises(ValueError, match=r"target \(3,\) and output \(3, 4\)"):
        ops.binary_crossentropy(np.zeros(3), A)
    with pytest.raises(ValueError, match=r"target of shape \(3,\)"):
        ops.sparse_categorical_crossentropy(np.zeros((3, 2)), A)
    with pytest.raises(ValueError, match="4-D"):
        ops.dot_product_attention(A, A, A)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        ops.conv(SEQ, np.ones((2, 3, 1), "float32"), padding="full")
    with pytest.raises(ValueError, match="divide"):
        ops.conv(SEQ, np.ones((2, 2, 1), "float32"))
