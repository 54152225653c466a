"""gated.random: Keras's signatures, shapes and dtypes, reproducibility for a seed, and the distributions'
moments within sampling tolerance (checked against the closed forms)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from gated import random

N = 20000  # samples per moment check: the standard error of a mean is about 0.007 sigma


def test_signatures_match_keras(keras):
    for name in random.__all__:
        ours, theirs = getattr(random, name), getattr(keras.random, name)
        if inspect.isclass(ours):
            ours, theirs = ours.__init__, theirs.__init__
        assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters), name
        defaults = {k: v.default for k, v in inspect.signature(theirs).parameters.items()}
        assert {k: v.default for k, v in inspect.signature(ours).parameters.items()} == defaults, name


DRAWS = {
    "normal": lambda seed: random.normal((3, 4), seed=seed),
    "uniform": lambda seed: random.uniform((3, 4), minval=-1, maxval=2, seed=seed),
    "randint": lambda seed: random.randint((5,), 0, 10, seed=seed),
    "truncated_normal": lambda seed: random.truncated_normal((6,), seed=seed),
    "categorical": lambda seed: random.categorical(np.log([[0.2, 0.8], [0.5, 0.5]]), 5, seed=seed),
    "dropout": lambda seed: random.dropout(np.ones((4, 4), "float32"), 0.5, seed=seed),
    "shuffle": lambda seed: random.shuffle(np.arange(10), seed=seed),
    "gamma": lambda seed: random.gamma((4,), 2.0, seed=seed),
    "binomial": lambda seed: random.binomial((4,), 10, 0.3, seed=seed),
    "beta": lambda seed: random.beta((4,), 2.0, 3.0, seed=seed),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_an_int_seed_reproduces_and_a_seed_generator_advances(name):
    draw = DRAWS[name]
    np.testing.assert_array_equal(draw(11).numpy(), draw(11).numpy())
    generator = random.SeedGenerator(5)
    first, second = draw(generator).numpy(), draw(generator).numpy()
    replay = random.SeedGenerator(5)
    np.testing.assert_array_equal(draw(replay).numpy(), first)
    np.testing.assert_array_equal(draw(replay).numpy(), second)
    if name not in ("categorical",):  # two categorical draws of 10 values may coincide by chance only rarely
        assert not np.array_equal(first, second)


@pytest.mark.parametrize("name,shape,dtype", [
    ("normal", (2, 3), torch.float32), ("uniform", (4,), torch.float32), ("randint", (2, 2), torch.int32),
    ("truncated_normal", (3, 1), torch.float32), ("gamma", (5,), torch.float32), ("binomial", (2,), torch.float32),
    ("beta", (3,), torch.float32),
])
def test_shapes_and_default_dtypes_follow_keras(keras, name, shape, dtype):
    args = {"randint": (0, 5), "gamma": (2.0,), "binomial": (5, 0.5), "beta": (1.0, 2.0)}.get(name, ())
    ours = getattr(random, name)(shape, *args, seed=1)
    theirs = getattr(keras.random, name)(shape, *args, seed=1)
    assert ours.shape == shape == tuple(theirs.shape)
    assert ours.dtype == dtype == theirs.dtype
    assert getattr(random, name)(shape, *args, dtype="float64" if name != "randint" else "int64",
                                 seed=1).dtype in (torch.float64, torch.int64)


@pytest.mark.parametrize("name,draw,mean,var", [
    ("normal", lambda: random.normal((N,), mean=2.0, stddev=3.0, seed=1), 2.0, 9.0),
    ("uniform", lambda: random.uniform((N,), minval=-1.0, maxval=3.0, seed=2), 1.0, 16 / 12),
    ("randint", lambda: random.randint((N,), 0, 10, seed=3).double(), 4.5, 99 / 12),
    # the standard normal truncated to [-2, 2]: variance 1 - 2 * 2 * phi(2) / (2 * Phi(2) - 1)
    ("truncated_normal", lambda: random.truncated_normal((N,), mean=1.0, stddev=0.5, seed=4), 1.0,
     0.25 * (1 - 4 * np.exp(-2) / np.sqrt(2 * np.pi) / 0.9544997361036416)),
    ("gamma", lambda: random.gamma((N,), 3.0, seed=5), 3.0, 3.0),
    ("binomial", lambda: random.binomial((N,), 20, 0.25, seed=6), 5.0, 3.75),
    ("beta", lambda: random.beta((N,), 2.0, 5.0, seed=7), 2 / 7, 10 / (49 * 8)),
])
def test_moments_match_the_distribution(name, draw, mean, var):
    x = draw().double().numpy()
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / N)
    assert abs(x.var() - var) < 0.05 * var


def test_truncated_normal_stays_within_two_stddev():
    x = random.truncated_normal((N,), mean=-1.0, stddev=2.0, seed=9).numpy()
    assert x.min() >= -5.0 and x.max() <= 3.0
    assert x.min() < -4.9 and x.max() > 2.9  # and it reaches the bounds


def test_categorical_follows_the_probabilities():
    draws = random.categorical(np.log([[0.1, 0.6, 0.3]]), N, seed=3).numpy()[0]
    assert draws.dtype == np.int32
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / N, [0.1, 0.6, 0.3], atol=0.015)


def test_dropout_keeps_the_expected_value_and_shares_a_noise_shape():
    x = np.ones((200, 100), "float32")
    out = random.dropout(x, 0.3, seed=4).numpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.7)}
    assert abs(out.mean() - 1.0) < 0.02
    shared = random.dropout(x, 0.5, noise_shape=(200, 1), seed=4).numpy()
    assert (shared == shared[:, :1]).all()


def test_shuffle_permutes_along_the_axis():
    x = np.arange(12).reshape(3, 4)
    out = random.shuffle(x, axis=1, seed=2).numpy()
    np.testing.assert_array_equal(np.sort(out, axis=1), x)
    np.testing.assert_array_equal(x[:, out[0]], out)  # whole columns move


def test_bad_seeds_and_arguments_are_refused():
    with pytest.raises(ValueError, match="seed must be None, an int or a gated.random.SeedGenerator"):
        random.normal((2,), seed="7")
    with pytest.raises(ValueError, match="randint needs maxval > minval"):
        random.randint((2,), 5, 5)
    with pytest.raises(ValueError, match="dropout needs 0 <= rate < 1"):
        random.dropout(np.ones(2), 1.0)
    with pytest.raises(ValueError, match="normal draws floats"):
        random.normal((2,), dtype="int32")
