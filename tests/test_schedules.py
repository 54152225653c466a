"""Learning-rate schedules against real Keras: the rate at every step, configs both ways, and every optimizer
stepping with a gated schedule as Keras's optimizer steps with Keras's; ``apply`` / ``apply_gradients``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gated import optimizers
from gated.optimizers import schedules
from gated.optimizers.schedules import (CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay,
                                        LearningRateSchedule, PiecewiseConstantDecay, PolynomialDecay)
from tests.test_optimizers import assert_histories_close, gradient_sequence, initial_params, run_gated, run_keras

SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.7}),
    ("ExponentialDecay", {"initial_learning_rate": 0.05, "decay_steps": 4, "decay_rate": 0.5, "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [3, 7, 12], "values": [0.1, 0.05, 0.01, 0.001]}),
    ("PiecewiseConstantDecay", {"boundaries": [5], "values": [1.0, 0.5]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 6, "end_learning_rate": 0.01, "power": 2.0,
                         "cycle": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 1.5, "staircase": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 8, "alpha": 0.1}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 10, "warmup_target": 0.1, "warmup_steps": 5}),
    ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 6, "alpha": 0.2, "warmup_target": 0.2,
                     "warmup_steps": 3}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 4}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3, "t_mul": 1.0, "m_mul": 0.5}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 2, "t_mul": 1.5, "m_mul": 0.8,
                             "alpha": 0.05}),
]
IDS = [f"{name}-{'-'.join(k for k in kwargs if k not in ('initial_learning_rate',))}" for name, kwargs in SCHEDULES]
STEPS = 30


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=IDS)
def test_every_step_matches_keras(keras, name, kwargs):
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    ours = getattr(schedules, name)(**kwargs)
    expected = [float(np.asarray(theirs(step))) for step in range(STEPS)]
    got = [ours(step) for step in range(STEPS)]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    assert all(isinstance(value, float) for value in got)
    assert ours(torch.tensor(4)) == got[4]  # a step given as a tensor


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=IDS)
def test_configs_match_keras_and_round_trip(keras, name, kwargs):
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    ours = getattr(schedules, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    spec = json.loads(json.dumps(schedules.serialize(ours)))
    again = schedules.deserialize(spec)
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    from_keras = schedules.deserialize(json.loads(json.dumps(keras.optimizers.schedules.serialize(theirs))))
    assert type(from_keras) is type(ours)
    assert [from_keras(s) for s in range(12)] == [ours(s) for s in range(12)]


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "Nadam", "Adamax", "Adadelta"])
def test_every_optimizer_steps_with_a_schedule_as_keras(keras, name):
    kwargs = {"initial_learning_rate": 0.0, "decay_steps": 4, "warmup_target": 0.1, "warmup_steps": 2}
    grads = gradient_sequence(6)
    theirs = run_keras(keras, name, {"learning_rate": keras.optimizers.schedules.CosineDecay(**kwargs)}, 6, grads)
    optimizer = getattr(optimizers, name)(learning_rate=CosineDecay(**kwargs))
    ours = run_gated(optimizer, 6, grads)
    assert_histories_close(ours, theirs, atol=1e-6)
    assert optimizer.learning_rate == pytest.approx(CosineDecay(**kwargs)(6))


def test_optimizer_config_carries_the_schedule_both_ways(keras):
    ours = optimizers.Adam(learning_rate=ExponentialDecay(0.1, 3, 0.5))
    config = json.loads(json.dumps(optimizers.serialize(ours)))
    again = optimizers.deserialize(config)
    assert isinstance(again._schedule, ExponentialDecay)
    assert again._schedule.get_config() == ours._schedule.get_config()
    keras_adam = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.PolynomialDecay(0.1, 5))
    converted = optimizers.get(keras_adam)
    assert isinstance(converted._schedule, PolynomialDecay)
    keras_rates = [float(np.asarray(keras.optimizers.schedules.PolynomialDecay(0.1, 5)(s))) for s in range(7)]
    assert [converted._schedule(s) for s in range(7)] == pytest.approx(keras_rates, rel=1e-6)


def test_a_schedule_fixes_the_learning_rate():
    optimizer = optimizers.SGD(learning_rate=InverseTimeDecay(0.1, 1, 1.0))
    with pytest.raises(TypeError, match="created with a learning-rate schedule, so its learning rate is not settable"):
        optimizer.learning_rate = 0.01


def test_a_custom_schedule_subclass_works_and_its_errors_say_what_to_override():
    class Halving(LearningRateSchedule):
        def __call__(self, step):
            return 0.1 * 0.5 ** step

    optimizer = optimizers.SGD(learning_rate=Halving())
    params = [torch.nn.Parameter(torch.ones(2))]
    optimizer.apply([torch.ones(2)], params)
    optimizer.apply([torch.ones(2)], params)
    np.testing.assert_allclose(params[0].detach().numpy(), [1 - 0.1 - 0.05] * 2, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="must override get_config"):
        Halving().get_config()
    with pytest.raises(NotImplementedError, match=r"must override __call__\(step\)"):
        LearningRateSchedule()(0)


@pytest.mark.parametrize("make, match", [
    (lambda: ExponentialDecay(0.1, 0, 0.5), "ExponentialDecay needs decay_steps > 0"),
    (lambda: CosineDecay(0.1, -1), "CosineDecay needs decay_steps > 0"),
    (lambda: CosineDecayRestarts(0.1, 0), "first_decay_steps > 0"),
    (lambda: PolynomialDecay(0.1, 0), "PolynomialDecay needs decay_steps > 0"),
    (lambda: PiecewiseConstantDecay([1, 2], [0.1, 0.2]), "one value more than boundaries"),
    (lambda: PiecewiseConstantDecay([5, 2], [0.1, 0.2, 0.3]), "increasing boundaries"),
])
def test_bad_schedule_arguments_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_apply_gradients_and_apply_match_keras(keras):
    grads = gradient_sequence(4)
    theirs = run_keras(keras, "Adam", {"learning_rate": 0.05}, 4, grads)
    params = [torch.nn.Parameter(torch.tensor(p)) for p in initial_params()]
    own_grads = [torch.full_like(p, 7.0) for p in params]
    for p, g in zip(params, own_grads):
        p.grad = g
    optimizer = optimizers.Adam(learning_rate=0.05)
    ours = []
    for step in range(4):
        if step % 2 == 0:
            count = optimizer.apply_gradients(zip([torch.tensor(g) for g in grads[step]], params))
        else:
            count = optimizer.apply([g for g in grads[step]], params if step == 1 else None)  # numpy, then none
        assert count == step + 1
        ours.append([p.detach().numpy().copy() for p in params])
    assert_histories_close(ours, theirs)
    assert all(p.grad is g for p, g in zip(params, own_grads))  # .grad left as it was


def test_apply_on_a_subset_leaves_the_other_variables_alone(keras):
    params = [torch.nn.Parameter(torch.tensor(p)) for p in initial_params()]
    before = [p.detach().clone() for p in params]
    optimizer = optimizers.SGD(0.1)
    optimizer.build(params)
    optimizer.apply([torch.ones_like(params[1])], [params[1]])
    torch.testing.assert_close(params[0].detach(), before[0])
    torch.testing.assert_close(params[1].detach(), before[1] - 0.1)
    torch.testing.assert_close(params[2].detach(), before[2])


def test_apply_misuse_is_reported():
    params = [torch.nn.Parameter(torch.zeros(3))]
    optimizer = optimizers.SGD(0.1)
    with pytest.raises(ValueError, match="not built yet"):
        optimizer.apply([torch.zeros(3)])
    with pytest.raises(ValueError, match="received 2 gradients for 1 variables"):
        optimizer.apply([torch.zeros(3), torch.zeros(3)], params)
    with pytest.raises(TypeError, match="variable 0 is ndarray"):
        optimizer.apply([np.zeros(3)], [np.zeros(3)])
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\) was given for a variable of shape \(3,\)"):
        optimizer.apply([torch.zeros(2)], params)
    with pytest.raises(ValueError, match=r"not among them"):
        optimizer.apply([torch.zeros(3)], [torch.nn.Parameter(torch.zeros(3))])
    with pytest.raises(TypeError, match=r"takes \(gradient, variable\) pairs"):
        optimizer.apply_gradients([torch.zeros(3)])
