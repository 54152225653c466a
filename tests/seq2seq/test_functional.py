"""The Keras character-level seq2seq pattern in gated's functional API: an encoder with return_state, a decoder
with initial_state trained with teacher forcing, and separate encoder / decoder inference models that decode one
step at a time. Checked against real Keras 3 (same weights) and against the teacher-forced model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated import Model

LATENT, IN_TOKENS, OUT_TOKENS = 16, 7, 6


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _one_hot(ids: np.ndarray, depth: int) -> np.ndarray:
    return np.eye(depth, dtype="float32")[ids]


def _build(lib, cell: str):
    """The example's three models, from gated's or Keras's layers."""
    layers = lib.layers
    rnn = getattr(layers, cell.upper())
    make_input = lib.layers.Input if lib is gated else lib.Input
    model_cls = lib.Model
    encoder_inputs = make_input(shape=(None, IN_TOKENS))
    encoder = rnn(LATENT, return_state=True)
    _, *encoder_states = encoder(encoder_inputs)
    decoder_inputs = make_input(shape=(None, OUT_TOKENS))
    decoder_rnn = rnn(LATENT, return_sequences=True, return_state=True)
    decoder_outputs, *_ = decoder_rnn(decoder_inputs, initial_state=encoder_states)
    decoder_dense = layers.Dense(OUT_TOKENS, activation="softmax")
    model = model_cls([encoder_inputs, decoder_inputs], decoder_dense(decoder_outputs))

    encoder_model = model_cls(encoder_inputs, encoder_states)
    state_inputs = [make_input(shape=(LATENT,)) for _ in encoder_states]
    step_outputs, *step_states = decoder_rnn(decoder_inputs, initial_state=state_inputs)
    decoder_model = model_cls([decoder_inputs] + state_inputs, [decoder_dense(step_outputs)] + step_states)
    return model, encoder_model, decoder_model, (encoder, decoder_rnn, decoder_dense)


def _data(rng, n: int = 64):
    source = rng.integers(1, IN_TOKENS, size=(n, 5))
    target = (source[:, ::-1] % (OUT_TOKENS - 1)) + 1  # a reversal into another alphabet
    start = np.zeros((n, 1), dtype=int)
    decoder_in = np.concatenate([start, target[:, :-1]], axis=1)
    return _one_hot(source, IN_TOKENS), _one_hot(decoder_in, OUT_TOKENS), _one_hot(target, OUT_TOKENS)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_inference_models_decode_like_the_teacher_forced_model(cell):
    gated.utils.set_random_seed(0)
    model, encoder_model, decoder_model, _ = _build(gated, cell)
    x_enc, x_dec, y = _data(np.random.default_rng(0))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([x_enc, x_dec], y, batch_size=16, epochs=3, validation_split=0.2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]

    forced = model.predict([x_enc, x_dec], verbose=0)
    states = encoder_model.predict(x_enc, verbose=0)
    states = states if isinstance(states, list) else [states]
    stepped = []
    for t in range(x_dec.shape[1]):
        probs, *states = decoder_model.predict([x_dec[:, t:t + 1]] + states, verbose=0)
        stepped.append(probs[:, 0])
    np.testing.assert_allclose(np.stack(stepped, axis=1), forced, atol=1e-6)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_three_models_match_keras(keras, cell):
    ours = _build(gated, cell)
    theirs = _build(keras, cell)
    rng = np.random.default_rng(1)
    for layer, twin in zip(ours[3], theirs[3]):
        weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.get_weights()]
        layer.set_weights(weights)
        twin.set_weights(weights)
    x_enc, x_dec, _ = _data(rng, n=8)
    np.testing.assert_allclose(_np(ours[0]([torch.as_tensor(x_enc), torch.as_tensor(x_dec)])),
                               _np(theirs[0]([x_enc, x_dec])), atol=1e-5)
    # Like Keras, a model whose outputs are a one-element list returns the tensor itself (GRU: one state).
    our_states, their_states = ours[1](torch.as_tensor(x_enc)), theirs[1](x_enc)
    assert isinstance(our_states, torch.Tensor) == (cell == "gru")
    our_states = [our_states] if cell == "gru" else our_states
    their_states = [their_states] if cell == "gru" else their_states
    for a, b in zip(our_states, their_states):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)
    step_in = [x_dec[:, :1]] + [_np(s) for s in their_states]
    for a, b in zip(ours[2]([torch.as_tensor(v) for v in step_in]), theirs[2](step_in)):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)
