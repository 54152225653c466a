"""Optimizers against real Keras (torch backend): one step and five steps on the same parameters and gradients."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from gated import optimizers

SHAPES = [(3, 4), (4,), (2, 3, 2)]

CONFIGS = [
    ("SGD", {}), ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}), ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("RMSprop", {"rho": 0.5, "epsilon": 1e-3}),
    ("Adagrad", {}), ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    ("Adam", {}), ("Adam", {"learning_rate": 0.05, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-2}),
    ("AdamW", {}), ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("Nadam", {}), ("Nadam", {"learning_rate": 0.05, "epsilon": 1e-3}),
    ("Adamax", {}), ("Adamax", {"learning_rate": 0.05, "epsilon": 1e-2}),
    ("Adadelta", {}), ("Adadelta", {"learning_rate": 1.0, "rho": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "weight_decay": 0.1}),
    ("Adam", {"learning_rate": 0.05, "weight_decay": 0.01}),
    ("Adam", {"learning_rate": 0.05, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("RMSprop", {"clipvalue": 0.1}),
    ("Nadam", {"learning_rate": 0.05, "global_clipnorm": 2.0}),
]


def gradient_sequence(steps: int, seed: int = 0) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    grads = [[(3 * rng.normal(size=s)).astype(np.float32) for s in SHAPES] for _ in range(steps)]
    grads[1][1][:] = 0.0  # a zero gradient: clipnorm's 0/0 guard, Adagrad's and RMSprop's epsilon
    return grads


def initial_params(seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(np.float32) for s in SHAPES]


def run_keras(keras, name, kwargs, steps, grads, on_step=None):
    variables = [keras.Variable(p) for p in initial_params()]
    optimizer = getattr(keras.optimizers, name)(**kwargs)
    history = []
    for step in range(steps):
        if on_step:
            on_step(step, optimizer)
        optimizer.apply_gradients(zip([torch.tensor(g) for g in grads[step]], variables))
        history.append([np.array(v.numpy()) for v in variables])
    return history


def run_gated(optimizer, steps, grads, on_step=None):
    params = [torch.nn.Parameter(torch.tensor(p)) for p in initial_params()]
    optimizer.build(params)
    history = []
    for step in range(steps):
        if on_step:
            on_step(step, optimizer)
        for p, g in zip(params, grads[step]):
            p.grad = torch.tensor(g)
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def assert_histories_close(ours, theirs, atol=2.5e-7):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, rtol=0, atol=atol, err_msg=f"step {step + 1}, parameter {i}")


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in CONFIGS])
def test_one_and_five_steps_match_keras(keras, name, kwargs):
    grads = gradient_sequence(5)
    theirs = run_keras(keras, name, kwargs, 5, grads)
    ours = run_gated(getattr(optimizers, name)(**kwargs), 5, grads)
    assert_histories_close(ours[:1], theirs[:1])  # one step
    assert_histories_close(ours, theirs)  # five steps


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}), ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9}),
    ("Adam", {"learning_rate": 0.05}), ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1}),
])
def test_changing_the_learning_rate_between_steps_matches_keras(keras, name, kwargs):
    """What ReduceLROnPlateau does; Keras's momentum buffers carry past learning rates, unlike torch's."""
    def halve_after_two(step, optimizer):
        if step == 2:
            optimizer.learning_rate = 0.5 * float(optimizer.learning_rate)

    grads = gradient_sequence(5)
    theirs = run_keras(keras, name, kwargs, 5, grads, halve_after_two)
    ours = run_gated(getattr(optimizers, name)(**kwargs), 5, grads, halve_after_two)
    assert_histories_close(ours, theirs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_learning_rate_schedule_matches_keras(keras, name):
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    grads = gradient_sequence(5)
    theirs = run_keras(keras, name, {"learning_rate": schedule}, 5, grads)
    ours_optimizer = getattr(optimizers, name)(learning_rate=schedule)
    ours = run_gated(ours_optimizer, 5, grads)
    assert_histories_close(ours, theirs)
    assert ours_optimizer.iterations == 5
    assert ours_optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 2.5)
    plain = optimizers.SGD(learning_rate=lambda step: 0.1 / (1 + step))
    run_gated(plain, 3, grads)
    assert plain.learning_rate == pytest.approx(0.1 / 4)


@pytest.mark.parametrize("clip", [{"clipnorm": 0.5}, {"global_clipnorm": 0.5}, {"clipvalue": 0.2}])
def test_clipping_around_a_torch_optimizer_matches_keras(keras, clip):
    """A wrapped torch.optim.SGD (same rule as Keras's SGD without momentum) gets Keras's clipping."""
    grads = gradient_sequence(3)
    theirs = run_keras(keras, "SGD", {"learning_rate": 0.1, **clip}, 3, grads)
    ours = run_gated(optimizers.TorchOptimizer(functools.partial(torch.optim.SGD, lr=0.1), **clip), 3, grads)
    assert_histories_close(ours, theirs)


def test_get_wraps_built_torch_optimizers():
    params = [torch.nn.Parameter(torch.ones(3))]
    torch_optimizer = torch.optim.Adam(params, lr=0.01)
    optimizer = optimizers.get(torch_optimizer)
    assert optimizer.built and optimizer.torch_optimizer is torch_optimizer and optimizer.name == "adam"
    assert optimizer.learning_rate == 0.01
    optimizer.learning_rate = 0.005
    assert torch_optimizer.param_groups[0]["lr"] == 0.005
    params[0].grad = torch.ones(3)
    optimizer.step()
    assert optimizer.iterations == 1 and params[0].detach().lt(1).all()
    by_class = optimizers.get(torch.optim.SGD, params)
    assert by_class.built and isinstance(by_class.torch_optimizer, torch.optim.SGD)


def test_get_resolves_names_with_keras_defaults():
    for name in ("adam", "Adam", "ADAM"):
        assert isinstance(optimizers.get(name), optimizers.Adam)
    adam = optimizers.get("adam")
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.001, 0.9, 0.999, 1e-7,
                                                                                         False)
    assert optimizers.get("adamw").weight_decay == 0.004
    sgd = optimizers.get("sgd")
    assert (sgd.learning_rate, sgd.momentum, sgd.nesterov) == (0.01, 0.0, False)
    rms = optimizers.get("rmsprop")
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    ada = optimizers.get("adagrad")
    assert (ada.learning_rate, ada.initial_accumulator_value, ada.epsilon) == (0.001, 0.1, 1e-7)
    assert optimizers.get("adadelta").rho == 0.95
    assert optimizers.get(None) is None
    params = [torch.nn.Parameter(torch.ones(2))]
    assert optimizers.get("nadam", params).built


def test_keras_optimizers_convert_through_their_config(keras):
    ours = optimizers.get(keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.5, clipnorm=1.0))
    assert isinstance(ours, optimizers.RMSprop)
    assert (ours.learning_rate, ours.momentum, ours.clipnorm) == (pytest.approx(0.01), 0.5, 1.0)
    config = {"class_name": "Adam", "config": keras.optimizers.Adam(beta_1=0.8).get_config()}
    assert optimizers.get(config).beta_1 == 0.8
    with pytest.raises(ValueError, match="use_ema=True is not supported"):
        optimizers.get(keras.optimizers.Adam(use_ema=True))


def test_state_dict_round_trip_continues_identically():
    grads = gradient_sequence(5)
    full = run_gated(optimizers.Nadam(learning_rate=0.05), 5, grads)
    first = optimizers.Nadam(learning_rate=0.05)
    run_gated(first, 2, grads)
    second = optimizers.Nadam(learning_rate=0.05)
    params = [torch.nn.Parameter(torch.tensor(p)) for p in full[1]]
    second.build(params)
    second.load_state_dict(first.state_dict())
    assert second.iterations == 2
    for step in range(2, 5):
        for p, g in zip(params, grads[step]):
            p.grad = torch.tensor(g)
        second.step()
    for x, y in zip(params, full[-1]):
        np.testing.assert_allclose(x.detach().numpy(), y, rtol=0, atol=1e-7)


def test_config_round_trip():
    adam = optimizers.Adam(learning_rate=0.01, amsgrad=True, clipnorm=2.0)
    again = optimizers.Adam.from_config(adam.get_config())
    assert again.get_config() == adam.get_config()


def test_zero_grad_and_parameters_without_gradients():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    optimizer = optimizers.Adam(learning_rate=0.1).build([a, b])
    a.grad = torch.ones(2)
    optimizer.step()  # b has no gradient: untouched, as Keras skips it
    assert a.detach().lt(1).all() and b.detach().eq(1).all()
    optimizer.zero_grad()
    assert a.grad is None


def test_unknown_optimizer_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adma'\. Did you mean 'adam'\?"):
        optimizers.get("adma")
    with pytest.raises(ValueError, match=r"Unknown optimizer 'rmsrop'\. Did you mean 'rmsprop'\?"):
        optimizers.get("rmsrop")
    with pytest.raises(TypeError, match="An optimizer must be a name"):
        optimizers.get(3)


def test_invalid_settings_and_misuse_are_reported():
    with pytest.raises(ValueError, match="Only one of clipnorm, clipvalue and global_clipnorm can be set; received "
                                         "clipnorm=1.0, clipvalue=0.5, global_clipnorm=None"):
        optimizers.Adam(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ValueError, match="AdamW needs weight_decay as a float"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match=r"SGD needs momentum in \[0.0, 1.0\]; received 1.5"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(TypeError, match="needs learning_rate as a float or a callable"):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(ValueError, match=r"Optimizer 'adam' is not built yet.*optimizer.build\(model.parameters\(\)\)"):
        optimizers.Adam().step()
    with pytest.raises(ValueError, match="received an empty list of parameters"):
        optimizers.Adam().build([])
    built = optimizers.Adam().build([torch.nn.Parameter(torch.ones(1))])
    with pytest.raises(ValueError, match="is already built"):
        built.build([torch.nn.Parameter(torch.ones(1))])
    scheduled = optimizers.SGD(learning_rate=lambda step: 0.1)
    with pytest.raises(TypeError, match="created with a learning-rate schedule, so its learning rate is not settable"):
        scheduled.learning_rate = 0.01


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore:Synchronization debug mode is a prototype:UserWarning")
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in CONFIGS])
def test_cuda_steps_match_cpu_without_host_syncs(name, kwargs):
    grads = gradient_sequence(5)
    cpu = run_gated(getattr(optimizers, name)(**kwargs), 5, grads)
    device = torch.device("cuda")
    params = [torch.nn.Parameter(torch.tensor(p, device=device)) for p in initial_params()]
    optimizer = getattr(optimizers, name)(**kwargs).build(params)
    cuda_grads = [[torch.tensor(g, device=device) for g in step] for step in grads]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(5):
            for p, g in zip(params, cuda_grads[step]):
                p.grad = g.clone()
            optimizer.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for x, y in zip(params, cpu[-1]):
        np.testing.assert_allclose(x.detach().cpu().numpy(), y, rtol=0, atol=1e-6)
