"""MinGRU and MinLSTM: the parallel log-space scan equals the step loop, and the layers behave like the GRU.

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gated import Sequential
from gated.kernels._dispatch import Choice, Kernel
from gated.layers import GRU, Bidirectional, Dense, Input, MinGRU, MinLSTM
from gated.optimizers import Adam

KINDS = [MinGRU, MinLSTM]
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}


def _layer(cls, dtype=torch.float64, features=4, units=6, **kwargs):
    """A built layer with random nonzero weights (biases included), so every gate matters."""
    layer = cls(units, dtype=dtype, **kwargs)
    layer._build_now((None, None, features))
    with torch.no_grad():
        layer.set_weights([torch.randn(w.shape, dtype=torch.float64).numpy() for w in layer.get_weights()])
    return layer


def _both_paths(layer, x, **kwargs):
    layer.parallel = True
    parallel = layer(x, **kwargs)
    layer.parallel = False
    sequential = layer(x, **kwargs)
    layer.parallel = True
    return parallel, sequential


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("cls", KINDS)
def test_parallel_scan_matches_step_loop_on_outputs_states_and_gradients(cls, dtype):
    layer = _layer(cls, dtype, return_sequences=True, return_state=True)
    x = torch.randn(3, 17, 4, dtype=dtype)
    h0 = torch.randn(3, 6, dtype=dtype)  # any sign: the initial state enters the scan linearly
    results = []
    for parallel in (True, False):
        layer.parallel = parallel
        xi, hi = x.clone().requires_grad_(), h0.clone().requires_grad_()
        y, h = layer(xi, initial_state=[hi])
        assert layer.last_path.kernel is (Kernel.SCAN if parallel else Kernel.LOOP), str(layer.last_path)
        ((y * torch.linspace(-1, 1, y.shape[-1], dtype=dtype)).sum() + (h ** 2).sum()).backward()
        grads = [xi.grad, hi.grad] + [p.grad.clone() for p in layer.parameters()]
        layer.zero_grad()
        results.append((y.detach(), h.detach(), grads))
    (y1, h1, g1), (y2, h2, g2) = results
    tol = TOL[dtype]
    torch.testing.assert_close(y1, y2, atol=tol, rtol=tol)
    torch.testing.assert_close(h1, h2, atol=tol, rtol=tol)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=tol * 10, rtol=tol * 10)


@pytest.mark.parametrize("parallel, kernel", [(True, Kernel.SCAN), (False, Kernel.LOOP)], ids=["scan", "loop"])
@pytest.mark.parametrize("cls", KINDS)
def test_dispatch_answers_with_the_typed_choice_the_call_records(cls, parallel, kernel):
    layer = cls(6, parallel=parallel)
    planned = layer.dispatch()  # the scan does not depend on the weights' device: an unbuilt layer answers
    assert isinstance(planned, Choice) and planned.kernel is kernel
    assert planned.reason == f"parallel={parallel}" and planned.name == kernel.value
    mask = torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1]], dtype=torch.bool)
    layer(torch.randn(2, 4, 3), mask=mask, training=True)
    assert layer.last_path == planned == layer.dispatch(mask, training=True)


@pytest.mark.parametrize("cls", KINDS)
def test_step_streams_the_sequence_one_timestep_at_a_time(cls):
    layer = _layer(cls, return_sequences=True, return_state=True)
    x, h = torch.randn(2, 9, 4, dtype=torch.float64), torch.randn(2, 6, dtype=torch.float64)
    y, final = layer(x, initial_state=[h])
    states = [h]
    for t in range(9):
        out, states = layer.step(x[:, t], states)
        torch.testing.assert_close(out, y[:, t], atol=1e-12, rtol=0)
    torch.testing.assert_close(states[0], final, atol=1e-12, rtol=0)


@pytest.mark.parametrize("cls", KINDS)
def test_two_chunks_with_carried_state_equal_the_whole_sequence(cls):
    layer = _layer(cls, return_sequences=True, return_state=True)
    x = torch.randn(2, 20, 4, dtype=torch.float64)
    y, h = layer(x)
    y1, h1 = layer(x[:, :8])
    y2, h2 = layer(x[:, 8:], initial_state=[h1])
    torch.testing.assert_close(torch.cat([y1, y2], 1), y, atol=1e-12, rtol=0)
    torch.testing.assert_close(h2, h, atol=1e-12, rtol=0)


@pytest.mark.parametrize("cls", KINDS)
def test_stateful_layer_carries_the_state_between_calls(cls):
    layer = _layer(cls, return_sequences=True, stateful=True)
    x = torch.randn(2, 10, 4, dtype=torch.float64)
    whole = _layer(cls, return_sequences=True)
    whole.set_weights(layer.get_weights())
    expected = whole(x)
    torch.testing.assert_close(torch.cat([layer(x[:, :4]), layer(x[:, 4:])], 1), expected, atol=1e-12, rtol=0)
    layer.reset_state()
    torch.testing.assert_close(layer(x), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("cls", KINDS)
def test_go_backwards_equals_the_forward_layer_on_the_flipped_input(cls):
    forward = _layer(cls, return_sequences=True, return_state=True)
    backward = cls(6, dtype=torch.float64, return_sequences=True, return_state=True, go_backwards=True)
    backward._build_now((None, None, 4))
    backward.set_weights(forward.get_weights())
    x = torch.randn(2, 11, 4, dtype=torch.float64)
    mask = torch.ones(2, 11, dtype=torch.bool)
    mask[0, 7:] = False
    for (yb, hb), (yf, hf) in [(backward(x), forward(x.flip(1))),
                               (backward(x, mask=mask), forward(x.flip(1), mask=mask.flip(1)))]:
        torch.testing.assert_close(yb, yf, atol=1e-12, rtol=0)  # outputs in processing order, as Keras
        torch.testing.assert_close(hb, hf, atol=1e-12, rtol=0)


@pytest.mark.parametrize("padding", ["right", "left"])
@pytest.mark.parametrize("cls", KINDS)
def test_padding_with_a_mask_leaves_final_state_and_last_output_unchanged(cls, padding):
    layer = _layer(cls, return_state=True)
    x = torch.randn(2, 8, 4, dtype=torch.float64)
    h0 = torch.randn(2, 6, dtype=torch.float64)
    pad = torch.full((2, 5, 4), 7.0, dtype=torch.float64)  # garbage that must not leak in
    padded = torch.cat([x, pad], 1) if padding == "right" else torch.cat([pad, x], 1)
    mask = torch.zeros(2, 13, dtype=torch.bool)
    mask[:, :8] = padding == "right"
    mask[:, 5:] |= padding == "left"
    expected_y, expected_h = layer(x, initial_state=[h0])
    for y, h in _both_paths(layer, padded, mask=mask, initial_state=[h0]):
        torch.testing.assert_close(h, expected_h, atol=1e-12, rtol=0)
        torch.testing.assert_close(y, expected_y, atol=1e-12, rtol=0)


@pytest.mark.parametrize("cls", KINDS)
def test_masked_outputs_follow_the_gru(cls):
    """Masked steps repeat the previous output, zeros before the first valid step; gradients stay finite."""
    layer = _layer(cls, return_sequences=True, return_state=True)
    gru = GRU(6, dtype=torch.float64, return_sequences=True, return_state=True)
    x = torch.randn(3, 9, 4, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(3, 6, dtype=torch.float64)
    mask = torch.tensor([[0, 0, 1, 1, 0, 1, 0, 0, 0], [1] * 9, [0] * 9], dtype=torch.bool)
    (y, h), (y_loop, h_loop) = _both_paths(layer, x, mask=mask, initial_state=[h0])
    torch.testing.assert_close(y, y_loop, atol=1e-12, rtol=0)
    torch.testing.assert_close(h, h_loop, atol=1e-12, rtol=0)
    y_gru, _ = gru(x, mask=mask, initial_state=[h0])
    torch.testing.assert_close(y == 0, y_gru == 0)  # zeros exactly where the GRU has zeros
    torch.testing.assert_close(y[0, 4], y[0, 3])
    torch.testing.assert_close(y[0, 8], y[0, 5])
    torch.testing.assert_close(h[2], h0[2])  # a fully masked row keeps its initial state
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert (x.grad[0, ~mask[0]] == 0).all()


@pytest.mark.parametrize("cls", KINDS)
def test_long_sequences_stay_finite_with_gradients(cls):
    layer = cls(16, return_sequences=True)
    x = torch.randn(2, 4096, 3, requires_grad=True)
    y = layer(x)
    y.mean().backward()
    assert torch.isfinite(y).all() and torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())
    layer.parallel = False
    torch.testing.assert_close(layer(x[:, :512]), y[:, :512], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("cls", KINDS)
def test_bidirectional_wraps_the_minimal_layers(cls):
    layer = Bidirectional(cls(5, return_sequences=True), input_shape=(7, 3))
    x = torch.randn(2, 7, 3)
    y = layer(x)
    assert tuple(y.shape) == (2, 7, 10)
    torch.testing.assert_close(y[..., :5], layer.forward_layer(x))
    torch.testing.assert_close(y[..., 5:], layer.backward_layer(x).flip(1))
    clone = Bidirectional.from_config(layer.get_config())
    clone.set_weights(layer.get_weights())
    torch.testing.assert_close(clone(x), y)
    out, *states = Bidirectional(cls(5, return_state=True))(x)
    assert tuple(out.shape) == (2, 10) and [tuple(s.shape) for s in states] == [(2, 5), (2, 5)]


@pytest.mark.parametrize("cls, gates", [(MinGRU, 2), (MinLSTM, 3)])
def test_weights_config_and_parameter_count(cls, gates):
    layer = cls(6, return_sequences=True, go_backwards=True, parallel=False, input_shape=(None, 4))
    assert [s.name for s in layer.weight_specs()] == ["kernel", "bias"]
    assert [w.shape for w in layer.get_weights()] == [(4, gates * 6), (gates * 6,)]
    assert layer.count_params() == (4 + 1) * gates * 6
    assert cls(6, use_bias=False, input_shape=(None, 4)).count_params() == 4 * gates * 6
    config = layer.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    clone.set_weights(layer.get_weights())
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(clone(x), layer(x))
    with pytest.raises(ValueError, match="units to be a positive integer"):
        cls(0)


@pytest.mark.parametrize("cls", KINDS)
def test_trains_in_a_sequential_model_above_chance(cls):
    """Sign of the sum of the first feature over time: needs memory across the whole sequence."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 12, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
    model = Sequential([Input((12, 2)), cls(16, return_sequences=True), cls(16), Dense(2, activation="softmax")])
    model.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.85


def test_a_model_with_mingru_saves_and_loads_with_identical_predictions(tmp_path):
    from gated import load_model

    model = Sequential([Input((9, 3)), Bidirectional(MinGRU(5, return_sequences=True)), MinLSTM(4), Dense(2)])
    x = torch.randn(4, 9, 3)
    path = str(tmp_path / "min.gated")
    model.save(path)
    torch.testing.assert_close(load_model(path)(x), model(x))


def test_recipes_and_cli_accept_mingru():
    from gated.cli._main import build_parser
    from gated.recipes._classify import build_classifier
    from gated.recipes._forecast import build_forecaster

    classifier = build_classifier(24, 1, 2, cell="mingru")
    assert any(isinstance(layer, MinGRU) for layer in classifier.layers)
    assert isinstance(classifier.layers[0].forward_layer, MinGRU)
    assert any(isinstance(layer, MinGRU) for layer in build_forecaster(12, 3, cell="mingru").layers)
    assert build_parser().parse_args(["train", "--train", "x", "--model", "mingru"]).model == "mingru"
    assert build_parser().parse_args(["forecast", "--csv", "x", "--horizon", "3", "--model", "mingru"]).model == "mingru"
