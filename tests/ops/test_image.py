"""gated.ops.image against keras.ops.image: resizing (every interpolation, antialias, crop/pad to the aspect ratio,
integer images), colour spaces, crops and pads, patches, map_coordinates, affine and perspective warps, Gaussian
blur; channels last and first, batched and single images; the errors for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gated import ops
from gated.utils import _config
from tests.ops.support import RNG, assert_same

LAST = RNG.random((2, 7, 9, 3)).astype("float32")                 # (B, H, W, C) in [0, 1]
FIRST = np.ascontiguousarray(LAST.transpose(0, 3, 1, 2))         # (B, C, H, W)
SINGLE = LAST[0]                                                  # (H, W, C)
UINT8 = (LAST * 255).astype("uint8")
F64 = LAST.astype("float64")
GREY = LAST[..., :1]
VOLUMES = RNG.random((2, 5, 6, 4, 2)).astype("float32")         # (B, D, H, W, C)
AFFINE = np.array([[1.1, 0.2, -1.03, -0.1, 0.9, 0.47, 0.0, 0.0],
                   [0.8, -0.3, 2.11, 0.25, 1.2, -1.57, 0.0, 0.0]], "float32")
START = np.array([[0, 0], [8, 0], [0, 6], [8, 6]], "float32")
END = np.array([[1, 0.5], [7, 1], [0.5, 5], [8, 6]], "float32")


def _case(name, *args, **kwargs):
    label = name + "".join(f",{k}={v}" for k, v in kwargs.items() if not isinstance(v, np.ndarray))
    return pytest.param(name, args, kwargs, id=f"{label}-{'x'.join(str(d) for d in np.shape(args[0]))}")


CASES = (
    [_case("resize", LAST, (4, 5), interpolation=i, antialias=a)
     for i in ("bilinear", "nearest", "bicubic") for a in (False, True)]
    + [_case("resize", LAST, (13, 20), interpolation=i) for i in ("bilinear", "nearest", "bicubic")]
    + [_case("resize", SINGLE, [5, 4]), _case("resize", F64, (3, 11)), _case("resize", UINT8, (5, 6)),
       _case("resize", UINT8, (11, 13), interpolation="bicubic"),
       _case("resize", FIRST, (5, 4), data_format="channels_first"),
       _case("resize", FIRST[0], (5, 4), data_format="channels_first", interpolation="nearest"),
       _case("resize", LAST, (4, 4), crop_to_aspect_ratio=True),
       _case("resize", LAST, (3, 9), crop_to_aspect_ratio=True),
       _case("resize", LAST, (4, 4), pad_to_aspect_ratio=True, fill_value=0.5),
       _case("resize", LAST, (2, 9), pad_to_aspect_ratio=True),
       _case("resize", FIRST, (4, 4), pad_to_aspect_ratio=True, data_format="channels_first")]
    + [_case(n, x, **kw) for n in ("rgb_to_grayscale", "rgb_to_hsv") for x, kw in
       ((LAST, {}), (SINGLE, {}), (F64, {}), (FIRST, {"data_format": "channels_first"}))]
    + [_case("rgb_to_grayscale", GREY), _case("rgb_to_grayscale", UINT8)]
    + [_case("hsv_to_rgb", LAST), _case("hsv_to_rgb", SINGLE * 3 - 1),
       _case("hsv_to_rgb", FIRST, data_format="channels_first")]
    + [_case("crop_images", LAST, 1, 2, 3, 1), _case("crop_images", LAST, top_cropping=2, target_height=4,
                                                     left_cropping=0, target_width=5),
       _case("crop_images", SINGLE, bottom_cropping=1, target_height=5, right_cropping=2, target_width=3),
       _case("crop_images", FIRST, 1, 1, 1, 1, data_format="channels_first")]
    + [_case("pad_images", LAST, 1, 2, 3, 0), _case("pad_images", LAST, top_padding=2, target_height=12,
                                                    left_padding=0, target_width=10),
       _case("pad_images", SINGLE, bottom_padding=1, target_height=9, right_padding=2, target_width=12),
       _case("pad_images", FIRST, 1, 1, 1, 1, data_format="channels_first")]
    + [_case("extract_patches", LAST, 3), _case("extract_patches", LAST, (2, 3), strides=(1, 2)),
       _case("extract_patches", LAST, 3, strides=2, padding="same"),
       _case("extract_patches", LAST, 2, strides=1, dilation_rate=2),
       _case("extract_patches", SINGLE, 2),
       _case("extract_patches", FIRST, 2, data_format="channels_first"),
       _case("extract_patches", VOLUMES, (2, 3, 2)), _case("extract_patches_3d", VOLUMES, 2, strides=1),
       _case("extract_patches_3d", VOLUMES[0], (1, 2, 3), strides=(1, 2, 1), padding="same"),
       _case("extract_patches_3d", VOLUMES, 2, dilation_rate=2, strides=1),
       _case("extract_patches_3d", np.ascontiguousarray(np.moveaxis(VOLUMES, -1, 1)), 2,
             data_format="channels_first")]
    + [_case("affine_transform", LAST, AFFINE, interpolation=i, fill_mode=m, fill_value=0.3)
       for i in ("bilinear", "nearest") for m in ("constant", "nearest", "wrap", "mirror", "reflect")]
    + [_case("affine_transform", SINGLE, AFFINE[0]),
       _case("affine_transform", SINGLE, AFFINE[1], interpolation="nearest"),
       _case("affine_transform", FIRST, AFFINE, data_format="channels_first", fill_mode="reflect"),
       _case("affine_transform", LAST[:1], np.array([[1, 0, 0.5, 0, 1, -0.5, 0.1, 0.2]], "float32"))]
    + [_case("perspective_transform", LAST, START, END, interpolation=i) for i in ("bilinear", "nearest")]
    + [_case("perspective_transform", SINGLE, START, END, fill_value=0.7),
       _case("perspective_transform", FIRST, np.stack([START, START]), np.stack([END, START]),
             data_format="channels_first")]
    + [_case("gaussian_blur", LAST, data_format="channels_last"),
       _case("gaussian_blur", LAST, (5, 5), (1.5, 0.7), data_format="channels_last"),
       _case("gaussian_blur", SINGLE, (3, 3), (0.5, 2.0), data_format="channels_last"),
       _case("gaussian_blur", FIRST, (3, 3), (1.0, 1.0), data_format="channels_first"),
       _case("gaussian_blur", F64, data_format="channels_last")]
    + [_case("scale_and_translate", LAST, (2, 4, 13, 3), np.array([0.6, 1.4], "float32"),
             np.array([0.3, -1.2], "float32"), (1, 2), m, antialias=a)
       for m in ("linear", "bicubic", "lanczos3", "lanczos5") for a in (True, False)]
    + [_case("scale_and_translate", UINT8, (2, 9, 5, 3), np.array([1.3, 0.5]), np.array([0.0, 0.5]), (-3, -2),
             "cubic"),
       _case("scale_and_translate", F64[0], (7, 9, 3), [1.0, 1.0], [0.0, 0.0], (), "trilinear")]
    + [_case("sobel_edges", LAST), _case("sobel_edges", FIRST, data_format="channels_first"),
       _case("sobel_edges", F64)]
    + [_case("ssim", RNG.random((2, 16, 14, 3)).astype("float32"), RNG.random((2, 16, 14, 3)).astype("float32")),
       _case("ssim", LAST[0], LAST[0] * 0.8 + 0.1, filter_size=5, filter_sigma=1.0),
       _case("ssim", FIRST, FIRST ** 2, max_val=2.0, filter_size=3, k1=0.02, data_format="channels_first"),
       _case("ssim", UINT8, (UINT8 // 2), max_val=255.0, filter_size=5)]
)


@pytest.mark.parametrize("name, args, kwargs", CASES)
def test_image_op_matches_keras(keras, name, args, kwargs):
    theirs = getattr(keras.ops.image, name)(*args, **kwargs)
    ours = getattr(ops.image, name)(*args, **kwargs)
    assert_same(ours, theirs, rtol=1e-5, atol=1e-5, where=name)


COORDS = (RNG.random((2, 4, 5)) * np.array([9, 11])[:, None, None] - 1.5).astype("float32")   # some outside
PLANE = RNG.standard_normal((7, 9)).astype("float32")


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_map_coordinates_matches_keras(keras, order, fill_mode):
    theirs = keras.ops.image.map_coordinates(PLANE, COORDS, order, fill_mode=fill_mode, fill_value=-2.0)
    ours = ops.image.map_coordinates(PLANE, COORDS, order, fill_mode=fill_mode, fill_value=-2.0)
    assert_same(ours, theirs, where=f"map_coordinates({order}, {fill_mode})")


def test_map_coordinates_of_integers_and_volumes_matches_keras(keras):
    ints = RNG.integers(0, 50, (4, 5, 3)).astype("int32")
    coords = (RNG.random((3, 6)) * np.array([4, 5, 3])[:, None]).astype("float32")
    assert_same(ops.image.map_coordinates(ints, coords, 1), keras.ops.image.map_coordinates(ints, coords, 1))


def test_resize_keeps_gradients_and_matches_keras_gradient(keras):
    x = torch.tensor(LAST, requires_grad=True)
    ops.image.resize(x, (4, 13), interpolation="bicubic").square().sum().backward()
    theirs = torch.tensor(LAST, requires_grad=True)
    keras.ops.image.resize(theirs, (4, 13), interpolation="bicubic").square().sum().backward()
    assert_same(x.grad, theirs.grad)


def test_defaults_follow_the_image_data_format(keras):
    _config.set_image_data_format("channels_first")
    keras.config.set_image_data_format("channels_first")
    try:
        assert_same(ops.image.resize(FIRST, (3, 4)), keras.ops.image.resize(FIRST, (3, 4)))
        assert_same(ops.image.rgb_to_grayscale(FIRST), keras.ops.image.rgb_to_grayscale(FIRST))
    finally:
        _config.set_image_data_format("channels_last")
        keras.config.set_image_data_format("channels_last")


def test_gaussian_blur_defaults_to_channels_last():
    """Keras's torch gaussian_blur reads data_format=None as channels first; gated follows image_data_format()."""
    ours = ops.image.gaussian_blur(LAST)
    assert_same(ours, ops.image.gaussian_blur(LAST, data_format="channels_last"))


@pytest.mark.parametrize("call, match", [
    (lambda: ops.image.resize(LAST, (3, 3), interpolation="lanczos3"), "Lanczos"),
    (lambda: ops.image.resize(LAST, (3, 3), interpolation="cubic"), "interpolation must be one of"),
    (lambda: ops.image.resize(LAST, (3, 3, 3)), r"size must be \(height, width\)"),
    (lambda: ops.image.resize(LAST, (3, 3), fill_mode="reflect"), "fill_mode='constant'"),
    (lambda: ops.image.resize(LAST, (3, 3), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), "at most one"),
    (lambda: ops.image.resize(LAST[0, 0], (3, 3)), r"received an array of shape \(9, 3\)"),
    (lambda: ops.image.resize(LAST, (3, 3), data_format="nhwc"), "data_format must be"),
    (lambda: ops.image.rgb_to_grayscale(LAST[..., :2]), "3 \\(RGB\\) or 1"),
    (lambda: ops.image.rgb_to_hsv(UINT8), "float images; received dtype uint8"),
    (lambda: ops.image.crop_images(LAST, 1, 1), "exactly two of top_cropping"),
    (lambda: ops.image.crop_images(LAST, 1, 1, target_height=9, target_width=2), "does not fit"),
    (lambda: ops.image.pad_images(LAST, 1, 1, target_height=3, target_width=20), "smaller than the images"),
    (lambda: ops.image.pad_images(LAST, -1, 1, 1, 1), "top_padding must be >= 0"),
    (lambda: ops.image.affine_transform(LAST, AFFINE, fill_mode="edge"), "fill_mode must be one of"),
    (lambda: ops.image.affine_transform(LAST, AFFINE[None]), r"\(8,\) or a batch"),
    (lambda: ops.image.map_coordinates(PLANE, COORDS[:1], 1), "one coordinate array per input axis"),
    (lambda: ops.image.map_coordinates(PLANE, COORDS, 3), "order 0"),
    (lambda: ops.image.perspective_transform(LAST, START[:3], END), r"\(4, 2\)"),
    (lambda: ops.image.extract_patches(SINGLE, (2, 2, 2)), "Patches of volumes need"),
    (lambda: ops.image.extract_patches(LAST, (2, 2, 2, 2)), "takes size as an int"),
    (lambda: ops.image.extract_patches_3d(VOLUMES, 2, strides=(1, 1)), "strides as an int or 3"),
    (lambda: ops.image.sobel_edges(SINGLE), "rank 4"),
    (lambda: ops.image.scale_and_translate(LAST, (2, 3, 3, 3), [1, 1], [0, 0], (1, 2), "area"), "method must be"),
    (lambda: ops.image.ssim(LAST, SINGLE), "same shape"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=match):
        call()


@pytest.mark.parametrize("kwargs", [{}, {"interpolation": "nearest", "fill_mode": "constant", "fill_value": 0.5},
                                    {"alpha": 5.0, "sigma": 1.0, "fill_mode": "wrap"},
                                    {"data_format": "channels_first"}])
def test_elastic_transform_matches_keras_from_the_same_torch_seed(keras, kwargs):
    images = FIRST if kwargs.get("data_format") == "channels_first" else LAST
    torch.manual_seed(3)
    theirs = keras.ops.image.elastic_transform(images, **kwargs)
    torch.manual_seed(3)
    ours = ops.image.elastic_transform(images, **kwargs)
    assert_same(ours, theirs, where="elastic_transform")


def test_elastic_transform_with_a_seed_is_reproducible():
    first = ops.image.elastic_transform(LAST, seed=5)
    assert_same(ops.image.elastic_transform(LAST, seed=5), first.numpy())
    assert not torch.equal(ops.image.elastic_transform(LAST, seed=6), first)
