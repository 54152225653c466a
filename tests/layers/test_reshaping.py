"""Reshaping layers against real Keras 3 (torch backend): outputs for each argument form and data format, symbolic
shapes, masks (dropped, as Keras drops them), configs and errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

import gated.layers as gl
from gated.layers import (
    Cropping1D, Cropping2D, Input, Masking, Permute, UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D,
)

SEQUENCE, IMAGE = (3, 6, 4), (2, 5, 6, 3)
CASES = {  # id -> (gated layer, its Keras twin, input shape)
    "permute": (lambda L: L.Permute((2, 1)), SEQUENCE),
    "permute-3": (lambda L: L.Permute((3, 1, 2)), IMAGE),
    "zero-padding-1d": (lambda L: L.ZeroPadding1D(), SEQUENCE),
    "zero-padding-1d-pair": (lambda L: L.ZeroPadding1D((0, 3)), SEQUENCE),
    "zero-padding-1d-first": (lambda L: L.ZeroPadding1D(2, data_format="channels_first"), SEQUENCE),
    "cropping-1d": (lambda L: L.Cropping1D(), SEQUENCE),
    "cropping-1d-end": (lambda L: L.Cropping1D((2, 0)), SEQUENCE),
    "up-sampling-1d": (lambda L: L.UpSampling1D(3), SEQUENCE),
    "zero-padding-2d": (lambda L: L.ZeroPadding2D(1), IMAGE),
    "zero-padding-2d-pairs": (lambda L: L.ZeroPadding2D(((1, 0), (0, 2))), IMAGE),
    "zero-padding-2d-first": (lambda L: L.ZeroPadding2D((1, 2), data_format="channels_first"), IMAGE),
    "cropping-2d": (lambda L: L.Cropping2D(1), IMAGE),
    "cropping-2d-pairs": (lambda L: L.Cropping2D(((1, 0), (0, 2))), IMAGE),
    "cropping-2d-first": (lambda L: L.Cropping2D(((0, 1), (1, 1)), data_format="channels_first"), IMAGE),
    "up-sampling-2d": (lambda L: L.UpSampling2D((2, 3)), IMAGE),
    "up-sampling-2d-bilinear": (lambda L: L.UpSampling2D(2, interpolation="bilinear"), IMAGE),
    "up-sampling-2d-bicubic-first": (lambda L: L.UpSampling2D((1, 2), data_format="channels_first",
                                                              interpolation="bicubic"), IMAGE),
}


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@pytest.mark.parametrize("case", list(CASES))
def test_reshaping_layers_match_keras(keras, case):
    make, shape = CASES[case]
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    ours, theirs = make(gl), make(keras.layers)
    out = ours(x)
    np.testing.assert_allclose(_np(out), _np(theirs(x)), atol=1e-6, rtol=1e-6)
    assert out.dtype == torch.float32
    for batch_shape in [(None,) + shape[1:], (None, None) + shape[2:]]:
        if case.startswith(("cropping-2d-first", "zero-padding-1d-first", "up-sampling-2d-bicubic")) and \
                batch_shape[1] is None:
            continue  # axis 1 holds the channels there: keep it known
        symbolic = make(gl)(Input(batch_shape=batch_shape))
        assert symbolic.shape == tuple(make(keras.layers).compute_output_shape(batch_shape))
    config = json.loads(json.dumps(ours.get_config()))
    assert config.keys() == theirs.get_config().keys()
    keras_config = json.loads(json.dumps(theirs.get_config()))
    assert {k: v for k, v in config.items() if k not in ("name", "dtype")} == {
        k: v for k, v in keras_config.items() if k not in ("name", "dtype")}
    clone = type(ours).from_config(config)
    np.testing.assert_array_equal(_np(clone(x)), _np(out))


@pytest.mark.parametrize("make", [lambda L: L.Permute((2, 1)), lambda L: L.ZeroPadding1D(1),
                                  lambda L: L.Cropping1D(1), lambda L: L.UpSampling1D(2)])
def test_reshaping_layers_drop_the_mask_like_keras(keras, make):
    x = np.random.default_rng(1).standard_normal(SEQUENCE).astype("float32")
    x[0, 4:] = 0.0
    out = make(gl)(Masking()(torch.as_tensor(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns that the layer destroys the mask
        expected = make(keras.layers)(keras.layers.Masking()(x))
    assert getattr(expected, "_keras_mask", None) is None
    assert getattr(out, "_keras_mask", None) is None


def test_up_sampling_and_padding_against_numpy():
    x = np.arange(2 * 3 * 2, dtype="float32").reshape(2, 3, 2)
    np.testing.assert_array_equal(_np(UpSampling1D(2)(x)), np.repeat(x, 2, axis=1))
    np.testing.assert_array_equal(_np(ZeroPadding1D((1, 2))(x)), np.pad(x, ((0, 0), (1, 2), (0, 0))))
    np.testing.assert_array_equal(_np(Cropping1D((1, 1))(x)), x[:, 1:2])
    np.testing.assert_array_equal(_np(Permute((2, 1))(x)), x.transpose(0, 2, 1))


@pytest.mark.parametrize("make, error, match", [
    (lambda: Permute((1, 3)), ValueError, r"`dims` must hold each axis 1\.\.n once .* received dims=\(1, 3\)"),
    (lambda: ZeroPadding1D(-1), ValueError, r"`padding` must be an integer or a tuple of 2 integers >= 0, received "
                                            r"padding=-1"),
    (lambda: ZeroPadding1D((1, 2, 3)), ValueError, r"received padding=\(1, 2, 3\)"),
    (lambda: ZeroPadding1D(1, data_format="nhwc"), ValueError, r"`data_format` must be 'channels_last' or "
                                                               r"'channels_first', received 'nhwc'"),
    (lambda: Cropping2D("1"), ValueError, r"`cropping` must be an int, a tuple of 2 ints"),
    (lambda: UpSampling1D(0), ValueError, r"`size` must be a positive integer, received size=0"),
    (lambda: UpSampling1D(1.5), TypeError, r"`size` must be an integer, received size=1.5"),
    (lambda: UpSampling2D((2, 0)), ValueError, r"`size` must be an integer or a tuple of 2 integers > 0"),
    (lambda: UpSampling2D(interpolation="lanczos3"), ValueError, r"`interpolation` must be one of nearest, bilinear, "
                                                                 r"bicubic, received interpolation='lanczos3'"),
])
def test_reshaping_layers_reject_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("call, match", [
    (lambda: Cropping1D((3, 3))(torch.zeros(2, 6, 4)),
     r"removes 6 steps \(cropping=\(3, 3\)\) from inputs of shape \(2, 6, 4\) with 6 steps; at least one step must "
     r"remain"),
    (lambda: Cropping1D((3, 3))(Input((5, 4))), r"removes 6 steps"),
    (lambda: Cropping2D(((2, 3), (0, 0)))(torch.zeros(1, 5, 5, 1)), r"removes 5 of the 5 entries of axis 1"),
    (lambda: ZeroPadding2D()(torch.zeros(2, 3, 4)), r"expects input of shape \(batch, height, width, channels\), but "
                                                    r"received a 3-D array of shape \(2, 3, 4\)"),
    (lambda: UpSampling1D()(torch.zeros(2, 3)), r"expects input of shape \(batch, steps, features\)"),
    (lambda: Permute((2, 1))(torch.zeros(2, 3, 4, 5)), r"permutes 2 axes after the batch axis, so it expects input of "
                                                       r"rank 3"),
])
def test_reshaping_layers_reject_inputs_they_cannot_take(call, match):
    with pytest.raises(ValueError, match=match):
        call()
