"""Attention and AdditiveAttention against real Keras 3 (torch backend): scores, masks, weights, configs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gated import Model
from gated.layers import AdditiveAttention, Attention, Dense, Embedding, Input

ATOL = 1e-6


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _inputs(rng, key_dim: int = 5):
    query = rng.standard_normal((3, 4, key_dim)).astype("float32")
    value = rng.standard_normal((3, 6, 7)).astype("float32")
    key = rng.standard_normal((3, 6, key_dim)).astype("float32")
    query_mask = np.ones((3, 4), bool)
    query_mask[1, 3] = False
    value_mask = np.ones((3, 6), bool)
    value_mask[0, 4:] = False  # right padding
    value_mask[2, 1:] = False  # a single real step
    return query, value, key, query_mask, value_mask


CONFIGS = [
    (Attention, {}), (Attention, {"use_scale": True}), (Attention, {"score_mode": "concat"}),
    (Attention, {"score_mode": "concat", "use_scale": True}),
    (AdditiveAttention, {}), (AdditiveAttention, {"use_scale": False}),
]


@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=lambda v: getattr(v, "__name__", None) or str(v))
@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_matches_keras(keras, cls, kwargs, with_key, causal):
    rng = np.random.default_rng(1)
    query, value, key, query_mask, value_mask = _inputs(rng)
    inputs = [query, value, key] if with_key else [query, value]
    if not with_key:
        query = rng.standard_normal((3, 4, 7)).astype("float32")
        inputs = [query, value]
    ours = cls(**kwargs)
    theirs = getattr(keras.layers, cls.__name__)(**kwargs)
    theirs.build([x.shape for x in inputs])
    # Scales away from their initial values, so that a missing scale would show.
    weights = [w * 1.7 - 0.2 for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.build([x.shape for x in inputs])
    ours.set_weights(weights)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    expected, expected_scores = theirs(inputs, mask=[query_mask, value_mask], return_attention_scores=True,
                                       use_causal_mask=causal)
    got, scores = ours([torch.as_tensor(x) for x in inputs], mask=[torch.as_tensor(query_mask),
                                                                   torch.as_tensor(value_mask)],
                       return_attention_scores=True, use_causal_mask=causal)
    np.testing.assert_allclose(_np(got), _np(expected), atol=ATOL)
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=ATOL)


@pytest.mark.parametrize("cls", [Attention, AdditiveAttention])
def test_weights_sum_to_one_over_unmasked_steps(cls):
    rng = np.random.default_rng(2)
    query, value, key, _, value_mask = _inputs(rng)
    layer = cls()
    _, weights = layer([torch.as_tensor(query), torch.as_tensor(value), torch.as_tensor(key)],
                       mask=[None, torch.as_tensor(value_mask)], return_attention_scores=True)
    weights = _np(weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert np.all(weights[~np.broadcast_to(value_mask[:, None, :], weights.shape)] == 0.0)
    np.testing.assert_allclose(weights[2, :, 0], 1.0, atol=1e-6)  # one real step takes all the weight


def test_masks_travel_from_embeddings_in_the_functional_api(keras):
    """query and value masks come from Embedding(mask_zero=True), as in Keras; the output keeps the query mask."""
    rng = np.random.default_rng(4)
    queries, values = Input((None,), dtype="int32"), Input((None,), dtype="int32")
    ours = [Embedding(9, 4, mask_zero=True), Embedding(9, 4, mask_zero=True), Dense(4), Attention(use_scale=True)]
    model = Model([queries, values], ours[3]([ours[0](queries), ours[2](ours[1](values))]))

    kq, kv = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    theirs = [keras.layers.Embedding(9, 4, mask_zero=True), keras.layers.Embedding(9, 4, mask_zero=True),
              keras.layers.Dense(4), keras.layers.Attention(use_scale=True)]
    kmodel = keras.Model([kq, kv], theirs[3]([theirs[0](kq), theirs[2](theirs[1](kv))]))
    for layer, twin in zip(ours, theirs):  # layer by layer: the two list a functional model's weights differently
        weights = [rng.standard_normal(w.shape).astype("float32") for w in layer.get_weights()]
        layer.set_weights(weights)
        twin.set_weights(weights)
    q_ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    v_ids = np.array([[6, 7, 0, 0, 0], [8, 1, 2, 3, 4]])
    got = model([torch.as_tensor(q_ids), torch.as_tensor(v_ids)])
    np.testing.assert_allclose(_np(got), _np(kmodel([q_ids, v_ids])), atol=ATOL)
    np.testing.assert_array_equal(_np(got._keras_mask), q_ids != 0)


def test_config_round_trip():
    layer = Attention(use_scale=True, score_mode="concat", dropout=0.25, name="att")
    again = Attention.from_config(layer.get_config())
    assert (again.use_scale, again.score_mode, again.dropout, again.name) == (True, "concat", 0.25, "att")
    additive = AdditiveAttention.from_config(AdditiveAttention(use_scale=False).get_config())
    assert additive.use_scale is False


def test_dropout_only_while_training():
    rng = np.random.default_rng(3)
    query, value, *_ = _inputs(rng, key_dim=7)
    layer = Attention(dropout=0.5)
    inputs = [torch.as_tensor(query), torch.as_tensor(value)]
    _, inference = layer(inputs, return_attention_scores=True)
    np.testing.assert_allclose(_np(inference).sum(-1), 1.0, atol=1e-6)
    _, training = layer(inputs, return_attention_scores=True, training=True)
    dropped = _np(training) == 0.0
    assert dropped.any() and not dropped.all()
    kept = ~dropped
    np.testing.assert_allclose(_np(training)[kept], _np(inference)[kept] * 2.0, rtol=1e-6)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"takes a list \[query, value\] or \[query, value, key\], but received a "
                                         r"Tensor"):
        Attention()(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="query has 4 features but key has 5.*Project one of them with a Dense"):
        Attention()([torch.zeros(2, 3, 4), torch.zeros(2, 6, 5)])
    with pytest.raises(ValueError, match="key has 2 steps but value has 6"):
        Attention()([torch.zeros(2, 3, 4), torch.zeros(2, 6, 5), torch.zeros(2, 2, 4)])
    with pytest.raises(ValueError, match="expects a 3-D query .* but received a 2-D array of shape \\(2, 4\\)"):
        Attention()([torch.zeros(2, 4), torch.zeros(2, 6, 4)])
    with pytest.raises(ValueError, match="score_mode must be 'dot' or 'concat', received score_mode='general'"):
        Attention(score_mode="general")
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), received dropout=1.5"):
        AdditiveAttention(dropout=1.5)
