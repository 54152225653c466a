"""Rescaling and Normalization against real Keras 3 (torch backend): outputs, statistics learned by adapt() from
arrays, tensors and iterables of batches, given statistics, invert, weights, saving and loading, configs, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import gated
from gated.layers import Dense, Input, Masking, Normalization, Rescaling

ATOL = 1e-5


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _data(*shape: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * 3.0 + 2.0).astype("float32")


def _close(actual, expected) -> None:
    np.testing.assert_allclose(_np(actual), _np(expected), atol=ATOL, rtol=ATOL)


# ------------------------------------------------------------------------------------------------ Rescaling
@pytest.mark.parametrize("scale, offset", [(1 / 255, 0.0), (2.0, -1.0), ([0.5, 1.0, 2.0, 4.0], 0.25),
                                           (np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 0.0, -1.0]))])
def test_rescaling_matches_keras(keras, scale, offset):
    x = _data(3, 5, 4)
    ours, theirs = Rescaling(scale, offset=offset), keras.layers.Rescaling(scale, offset=offset)
    _close(ours(x), theirs(x))
    config = json.loads(json.dumps(ours.get_config()))
    assert config.keys() == theirs.get_config().keys()
    _close(Rescaling.from_config(config)(x), ours(x))


def test_rescaling_turns_integer_images_into_floats_and_keeps_the_mask(keras):
    pixels = np.random.default_rng(1).integers(0, 256, (2, 4, 4, 3)).astype("uint8")
    out = Rescaling(1 / 127.5, offset=-1)(pixels)
    assert out.dtype == torch.float32
    _close(out, keras.layers.Rescaling(1 / 127.5, offset=-1)(pixels))
    x = _data(2, 5, 3)
    x[0, 3:] = 0.0
    masked = Rescaling(2.0)(Masking()(torch.as_tensor(x)))
    np.testing.assert_array_equal(_np(masked._keras_mask), x.any(-1))


def test_rescaling_rejects_what_cannot_scale():
    with pytest.raises(TypeError, match=r"`scale` must be a number or an array of numbers, received scale='big'"):
        Rescaling("big")
    with pytest.raises(ValueError, match=r"has a `scale` of shape \(3,\), which does not broadcast against a 3-D array "
                                         r"of shape \(2, 5, 4\)"):
        Rescaling([1.0, 2.0, 3.0])(_data(2, 5, 4))


# ------------------------------------------------------------------------------------------------ Normalization
@pytest.mark.parametrize("axis", [-1, 1, (1, 2), None], ids=["last", "steps", "both", "scalar"])
def test_adapt_on_an_array_matches_keras(keras, axis):
    data = _data(40, 5, 4)
    ours, theirs = Normalization(axis=axis), keras.layers.Normalization(axis=axis)
    ours.adapt(data)
    theirs.adapt(data)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        _close(mine, keras_weight)
    x = _data(3, 5, 4, seed=1)
    _close(ours(x), theirs(x))
    reduced = tuple(d for d in range(3) if d not in {a % 3 for a in ((axis,) if isinstance(axis, int) else axis or ())})
    np.testing.assert_allclose(ours.get_weights()[0], data.mean(axis=reduced), atol=ATOL)
    np.testing.assert_allclose(ours.get_weights()[1], data.var(axis=reduced), atol=1e-4)


def test_adapt_on_a_tensor_matches_adapt_on_the_array(keras):
    data = _data(30, 6)
    from_tensor, from_array = Normalization(), Normalization()
    from_tensor.adapt(torch.as_tensor(data))
    from_array.adapt(data)
    theirs = keras.layers.Normalization()
    theirs.adapt(torch.as_tensor(data))
    for a, b, c in zip(from_tensor.get_weights(), from_array.get_weights(), theirs.get_weights()):
        _close(a, b)
        _close(a, c)


def _keras_merge(batches: list[np.ndarray], reduce: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Keras's running merge of batch statistics (Normalization.adapt on an iterable), in float64 numpy."""
    total_mean = total_var = 0.0
    total_count = 0
    for batch in batches:
        batch = batch.astype("float64")
        mean, var = batch.mean(axis=reduce), batch.var(axis=reduce)
        count = int(np.prod([batch.shape[d] for d in reduce]))
        total_count += count
        weight = count / total_count
        new_mean = total_mean * (1 - weight) + mean * weight
        total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - weight) + (var + (mean - new_mean) ** 2) * weight
        total_mean = new_mean
    return total_mean, total_var


@pytest.mark.parametrize("axis, reduce", [(-1, (0, 1)), ((1, 2), (0,))])
def test_adapt_on_batches_merges_them_as_keras(keras, axis, reduce):
    """Keras merges an iterable's batches with its running formula (its own adapt on an iterable needs TensorFlow
    here); the merge is exact, so it also equals Keras's adapt of all the data at once."""
    data = _data(50, 5, 4, seed=2)
    batches = [data[:16], data[16:20], data[20:50]]  # uneven batch sizes
    ours, theirs = Normalization(axis=axis), keras.layers.Normalization(axis=axis)
    ours.adapt(batches)
    theirs.adapt(data)
    mean, var = _keras_merge(batches, reduce)
    _close(ours.get_weights()[0], mean)
    _close(ours.get_weights()[1], var)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        _close(mine, keras_weight)


def test_adapt_reads_x_of_x_y_batches_from_a_generator(keras):
    data = _data(24, 3, seed=3)

    def batches():
        for start in range(0, 24, 8):
            yield data[start:start + 8], np.zeros(8)

    ours, theirs = Normalization(), keras.layers.Normalization()
    ours.adapt(batches())
    theirs.adapt(data)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        _close(mine, keras_weight)
    _close(ours.get_weights()[1], _keras_merge([data[:8], data[8:16], data[16:]], (0,))[1])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(data)), batch_size=5)
    from_loader = Normalization()
    from_loader.adapt(batch[0] for batch in loader)
    _close(from_loader.get_weights()[0], ours.get_weights()[0])


@pytest.mark.parametrize("mean, variance, axis", [
    (2.0, 4.0, -1), ([1.0, 2.0, 3.0, 4.0], [1.0, 4.0, 0.25, 9.0], -1), ([[1.0], [2.0], [3.0], [0.0], [1.0]],
                                                                       [[1.0], [2.0], [3.0], [1.0], [0.5]], (1, 2)),
    ([1.0, 2.0, 3.0, 4.0], [1.0, 4.0, 0.25, 0.0], -1),
], ids=["scalar", "per-feature", "broadcast", "zero-variance"])
@pytest.mark.parametrize("invert", [False, True])
def test_given_mean_and_variance_match_keras(keras, mean, variance, axis, invert):
    x = _data(3, 5, 4, seed=4)
    ours = Normalization(axis=axis, mean=mean, variance=variance, invert=invert)
    theirs = keras.layers.Normalization(axis=axis, mean=mean, variance=variance, invert=invert)
    _close(ours(x), theirs(x))
    assert ours.get_weights() == theirs.get_weights() == []
    config = json.loads(json.dumps(ours.get_config()))
    assert config.keys() == theirs.get_config().keys()
    assert (config["mean"], config["variance"]) == (json.loads(json.dumps(theirs.get_config()["mean"])),
                                                    json.loads(json.dumps(theirs.get_config()["variance"])))
    _close(Normalization.from_config(config)(x), ours(x))


def test_invert_undoes_the_normalization(keras):
    data = _data(20, 4, seed=5)
    forward, inverse = Normalization(), Normalization(invert=True)
    forward.adapt(data)
    inverse(data)
    inverse.set_weights(forward.get_weights())
    _close(inverse(forward(data)), data)
    theirs = keras.layers.Normalization(invert=True)
    theirs(data)
    theirs.set_weights(forward.get_weights())
    _close(inverse(data), theirs(data))


def test_adapted_statistics_survive_save_and_load(tmp_path):
    data = _data(40, 5, 3, seed=6)
    normalization = Normalization(axis=(1, 2))
    normalization.adapt(data)
    for build in ("functional", "sequential"):
        if build == "functional":
            inputs = Input((5, 3))
            model = gated.Model(inputs, Dense(2)(normalization(inputs)))
        else:
            model = gated.Sequential([Input((5, 3)), normalization, Dense(2)])
        path = tmp_path / f"{build}.gated"
        model.save(path)
        loaded = gated.load_model(path)
        restored = next(layer for layer in loaded.layers if isinstance(layer, Normalization))
        for a, b in zip(restored.get_weights(), normalization.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))
        assert not np.allclose(restored.get_weights()[0], 0.0)  # the adapted mean, not the initial one


def test_normalization_weights_are_named_and_shaped_like_keras(keras):
    ours, theirs = Normalization(axis=(1, 2)), keras.layers.Normalization(axis=(1, 2))
    x = _data(2, 5, 3)
    ours(x)
    theirs(x)
    assert ours._weight_paths() == [w.path.split("/")[-1] for w in theirs.weights]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert ours.trainable_weights == [] and ours.count_params() == theirs.count_params()
    _close(ours(x), theirs(x))  # before adapt: mean 0, variance 1


@pytest.mark.parametrize("make, error, match", [
    (lambda: Normalization(mean=1.0), ValueError, r"pass both `mean` and `variance`, or neither"),
    (lambda: Normalization(mean=[1.0, 2.0], variance=[1.0]), ValueError, r"must have one shape, received shapes "
                                                                         r"\(2,\) and \(1,\)"),
    (lambda: Normalization(mean=[[1.0]], variance=[[1.0]]), ValueError, r"has more axes than `axis`=\(-1,\) keeps"),
    (lambda: Normalization(mean=0.0, variance=-1.0), ValueError, r"`variance` must be >= 0"),
    (lambda: Normalization(axis="last"), TypeError, r"`axis` must be an int, a tuple of ints or None"),
])
def test_normalization_rejects_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_normalization_rejects_data_of_another_layout():
    layer = Normalization()
    layer.adapt(_data(10, 4))
    with pytest.raises(ValueError, match=r"was built for inputs of rank 2 with sizes \{1: 4\} on the kept axes, but "
                                         r"adapt\(\) received data of shape \(10, 3\)"):
        layer.adapt(_data(10, 3))
    with pytest.raises(ValueError, match=r"but received a 2-D array of shape \(2, 5\)"):
        layer(_data(2, 5))
    with pytest.raises(ValueError, match=r"adapt\(\) received an empty iterable"):
        Normalization().adapt([])
    with pytest.raises(TypeError, match=r"adapt\(\) expects batches of arrays or tensors, but the first element is a "
                                        r"str"):
        Normalization().adapt(["a", "b"])
    with pytest.raises(ValueError, match=r"was given mean= and variance=, so there is nothing to adapt"):
        Normalization(mean=0.0, variance=1.0).adapt(_data(4, 2))
    with pytest.raises(ValueError, match=r"keeps axis=\(3,\), but its inputs have rank 2"):
        Normalization(axis=3).adapt(_data(4, 2))
