"""Properties of the recurrent layers that hold for any shapes, weights, data and masks (hypothesis, float64).

* two chunks with the state carried (``return_state`` + ``initial_state``, or ``stateful=True``) compute the whole
  sequence; ``reset_state()`` starts over;
* ``go_backwards`` is the forward layer on the flipped input (and flipped mask), outputs in processing order;
* permuting the batch permutes the outputs and states;
* padding (right or left) plus a mask leaves final states and last outputs as on the unpadded rows;
* a fully masked row returns its initial state and zero outputs, and does not disturb the other rows.

Each runs on the fused path and on the loop (``use_cudnn=False``), for GRU (both ``reset_after``), LSTM and
SimpleRNN. Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gated.layers import GRU, LSTM, SimpleRNN

ATOL = 1e-12
KINDS = ["gru", "gru_reset_before", "lstm", "simple_rnn"]


def prop(test):
    """A hypothesis property run for every kind on both paths, so no combination is left to chance."""
    test = given(data=st.data())(test)
    test = settings(max_examples=25, deadline=None)(test)
    test = pytest.mark.parametrize("use_cudnn", ["auto", False], ids=["fused", "loop"])(test)
    return pytest.mark.parametrize("kind", KINDS)(test)


def _layer(kind: str, features: int, units: int, seed: int, use_cudnn, batch: int = 1, **kwargs):
    """A built float64 layer with random weights (nonzero biases) drawn from ``seed``.

    A stateful layer is built on a batch of ``batch`` rows and reset, so it holds zero states of that size.
    """
    if kind == "gru":
        layer = GRU(units, dtype="float64", use_cudnn=use_cudnn, **kwargs)
    elif kind == "gru_reset_before":
        layer = GRU(units, reset_after=False, dtype="float64", use_cudnn=use_cudnn, **kwargs)
    elif kind == "lstm":
        layer = LSTM(units, dtype="float64", use_cudnn=use_cudnn, **kwargs)
    else:
        layer = SimpleRNN(units, dtype="float64", use_cudnn=use_cudnn, **kwargs)
    layer(torch.zeros(batch, 1, features, dtype=torch.float64))
    if layer.stateful:
        layer.reset_state()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * 0.6)
    return layer


@st.composite
def problems(draw, kind: str, use_cudnn, min_steps: int = 1):
    """A layer's arguments and its data: (layer args, x (B, T, F), initial states)."""
    batch = draw(st.integers(1, 3))
    steps = draw(st.integers(min_steps, 6))
    features = draw(st.integers(1, 3))
    units = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, steps, features, generator=generator, dtype=torch.float64)
    num_states = 2 if kind == "lstm" else 1
    states = [torch.randn(batch, units, generator=generator, dtype=torch.float64) for _ in range(num_states)]
    return dict(kind=kind, use_cudnn=use_cudnn, features=features, units=units, seed=seed), x, states


def _masks(draw, batch: int, steps: int) -> torch.Tensor:
    rows = draw(st.lists(st.lists(st.booleans(), min_size=steps, max_size=steps), min_size=batch, max_size=batch))
    return torch.tensor(rows, dtype=torch.bool).reshape(batch, steps)


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    diff = (actual - expected).abs().max().item() if actual.numel() else 0.0
    assert diff <= ATOL, f"{what}: max abs difference {diff:.3e}"


# ------------------------------------------------------------------------------------------------ chunking
@prop
def test_two_chunks_with_carried_state_equal_the_whole_sequence(kind, use_cudnn, data):
    args, x, states = data.draw(problems(kind, use_cudnn, min_steps=2))
    split = data.draw(st.integers(1, x.shape[1] - 1))
    layer = _layer(**args, return_sequences=True, return_state=True)
    y, *finals = layer(x, initial_state=states)
    y1, *middle = layer(x[:, :split], initial_state=states)
    y2, *finals2 = layer(x[:, split:], initial_state=middle)
    _close(torch.cat([y1, y2], dim=1), y, "outputs")
    for a, b in zip(finals2, finals):
        _close(a, b, "final states")


@prop
def test_stateful_chunks_equal_the_whole_sequence_and_reset_state_restarts(kind, use_cudnn, data):
    args, x, _ = data.draw(problems(kind, use_cudnn, min_steps=2))
    split = data.draw(st.integers(1, x.shape[1] - 1))
    whole = _layer(**args, return_sequences=True)
    stateful = _layer(**args, return_sequences=True, stateful=True, batch=x.shape[0])
    y = whole(x)
    first = stateful(x[:, :split])
    second = stateful(x[:, split:])
    _close(torch.cat([first, second], dim=1), y, "outputs")
    stateful.reset_state()
    assert all(bool((s == 0).all()) for s in stateful.states)
    _close(stateful(x[:, :split]), first, "outputs after reset_state()")


# ---------------------------------------------------------------------------------------------- direction
@prop
def test_go_backwards_equals_the_forward_layer_on_the_flipped_input(kind, use_cudnn, data):
    args, x, states = data.draw(problems(kind, use_cudnn))
    mask = _masks(data.draw, x.shape[0], x.shape[1]) if data.draw(st.booleans()) else None
    forwards = _layer(**args, return_sequences=True, return_state=True)
    backwards = _layer(**args, return_sequences=True, return_state=True, go_backwards=True)
    y_b, *finals_b = backwards(x, initial_state=states, mask=mask)
    y_f, *finals_f = forwards(x.flip(1), initial_state=states, mask=None if mask is None else mask.flip(1))
    _close(y_b, y_f, "outputs (processing order)")
    for a, b in zip(finals_b, finals_f):
        _close(a, b, "final states")


# -------------------------------------------------------------------------------------------------- batch
@prop
def test_permuting_the_batch_permutes_outputs_and_states(kind, use_cudnn, data):
    args, x, states = data.draw(problems(kind, use_cudnn))
    mask = _masks(data.draw, x.shape[0], x.shape[1]) if data.draw(st.booleans()) else None
    perm = torch.tensor(data.draw(st.permutations(range(x.shape[0]))), dtype=torch.long)
    layer = _layer(**args, return_sequences=True, return_state=True)
    y, *finals = layer(x, initial_state=states, mask=mask)
    y_p, *finals_p = layer(x[perm], initial_state=[s[perm] for s in states],
                           mask=None if mask is None else mask[perm])
    _close(y_p, y[perm], "outputs")
    for a, b in zip(finals_p, finals):
        _close(a, b[perm], "final states")


# ---------------------------------------------------------------------------------------------- padding
@prop
def test_padding_with_a_mask_leaves_final_states_unchanged(kind, use_cudnn, data):
    """Each row, padded with garbage to the batch length and masked, ends where it ends unpadded."""
    args, x, states = data.draw(problems(kind, use_cudnn))
    padding = data.draw(st.sampled_from(["right", "left"]))
    batch, steps, _ = x.shape
    lengths = data.draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    total = steps + data.draw(st.integers(0, 2))
    garbage = torch.Generator().manual_seed(args["seed"] + 2)
    padded = torch.randn(batch, total, x.shape[2], generator=garbage, dtype=torch.float64) * 10
    mask = torch.zeros(batch, total, dtype=torch.bool)
    for b, length in enumerate(lengths):
        start = 0 if padding == "right" else total - length
        padded[b, start:start + length] = x[b, :length]
        mask[b, start:start + length] = True
    layer = _layer(**args, return_state=True)
    last, *finals = layer(padded, initial_state=states, mask=mask)
    assert layer.last_path.name == ("loop" if use_cudnn is False or kind == "gru_reset_before" else "fused")
    for b, length in enumerate(lengths):
        last_b, *finals_b = layer(x[b:b + 1, :length], initial_state=[s[b:b + 1] for s in states])
        _close(last[b:b + 1], last_b, f"last output of row {b}")
        for a, e in zip(finals, finals_b):
            _close(a[b:b + 1], e, f"final state of row {b}")


@prop
def test_a_fully_masked_row_returns_its_initial_state_and_zero_outputs(kind, use_cudnn, data):
    args, x, states = data.draw(problems(kind, use_cudnn))
    batch, steps, _ = x.shape
    mask = _masks(data.draw, batch, steps)
    empty = data.draw(st.integers(0, batch - 1))
    mask[empty] = False
    layer = _layer(**args, return_sequences=True, return_state=True)
    y, *finals = layer(x, initial_state=states, mask=mask)
    _close(y[empty], torch.zeros_like(y[empty]), "outputs of the fully masked row")
    for f, s in zip(finals, states):
        _close(f[empty], s[empty], "final state of the fully masked row")
    others = [b for b in range(batch) if b != empty]
    if others:  # the other rows compute what they compute without the empty row
        keep = torch.tensor(others)
        y_o, *finals_o = layer(x[keep], initial_state=[s[keep] for s in states], mask=mask[keep])
        _close(y[keep], y_o, "outputs of the other rows")
        for f, f_o in zip(finals, finals_o):
            _close(f[keep], f_o, "final states of the other rows")
