"""MultiHeadAttention against real Keras 3 (torch backend) with the same weights: projections, heads, attention
axes, every mask source (the inputs' masks, attention_mask, causal, sliding window), the scores, one SGD step,
functional and subclassed models, configs and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated.layers import Embedding, Input, MultiHeadAttention

ATOL = 1e-5


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _floats(rng, *shape) -> np.ndarray:
    return rng.standard_normal(shape).astype("float32")


def _pair(keras, kwargs, shapes, seed=0):
    """Our layer and Keras's, built on ``shapes`` (query, value[, key]), with the same random weights."""
    rng = np.random.default_rng(seed)
    theirs = keras.layers.MultiHeadAttention(**kwargs)
    ours = MultiHeadAttention(**kwargs)
    inputs = [_floats(rng, *s) for s in shapes]
    theirs(*inputs)
    ours(*[torch.as_tensor(x) for x in inputs])
    weights = [_floats(rng, *w.shape) * 0.5 for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs


def _tensors(arrays, masks=None):
    """Fresh torch tensors (Keras removes the masks it reads), each carrying its ``_keras_mask``."""
    out = []
    for i, a in enumerate(arrays):
        t = torch.as_tensor(a).clone()
        if masks is not None and masks[i] is not None:
            t._keras_mask = torch.as_tensor(masks[i])
        out.append(t)
    return out


def _same(ours, theirs, arrays, masks=None, **call):
    expected = theirs(*_tensors(arrays, masks), **call)
    got = ours(*_tensors(arrays, masks), **call)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_allclose(_np(g), _np(e), atol=ATOL, rtol=0)
    return got


OPTIONS = [
    {"num_heads": 2, "key_dim": 3},
    {"num_heads": 1, "key_dim": 4, "use_bias": False},
    {"num_heads": 3, "key_dim": 2, "value_dim": 5},
    {"num_heads": 2, "key_dim": 3, "output_shape": 6},
    {"num_heads": 2, "key_dim": 3, "value_dim": 4, "output_shape": (2, 3)},
    {"num_heads": 2, "key_dim": 3, "use_gate": True},
]


@pytest.mark.parametrize("kwargs", OPTIONS, ids=str)
@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("scores", [False, True])
def test_matches_keras_over_heads_dims_and_projections(keras, kwargs, with_key, scores):
    shapes = [(2, 4, 5), (2, 6, 7)] + ([(2, 6, 3)] if with_key else [])
    ours, theirs = _pair(keras, kwargs, shapes)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours._weight_paths() == [w.path.split("/", 1)[1] for w in theirs.weights]
    rng = np.random.default_rng(1)
    _same(ours, theirs, [_floats(rng, *s) for s in shapes], return_attention_scores=scores)


@pytest.mark.parametrize("axes, shape", [(None, (2, 3, 4, 5)), ((2,), (2, 3, 4, 5)), ((1,), (2, 3, 4, 5)),
                                         (-2, (2, 3, 4, 5)), ((1, 3), (2, 2, 3, 4, 5)), ((3, 1), (2, 2, 3, 4, 5))])
@pytest.mark.parametrize("scores", [False, True])
def test_matches_keras_over_attention_axes(keras, axes, shape, scores):
    value_shape = shape[:-1] + (6,)
    ours, theirs = _pair(keras, {"num_heads": 2, "key_dim": 3, "attention_axes": axes}, [shape, value_shape])
    rng = np.random.default_rng(2)
    _same(ours, theirs, [_floats(rng, *shape), _floats(rng, *value_shape)], return_attention_scores=scores)


def _masks():
    query_mask = np.ones((3, 4), bool)
    query_mask[1, 3] = False
    query_mask[2] = False  # a fully masked query row: no key left to attend to
    value_mask = np.ones((3, 6), bool)
    value_mask[0, 4:] = False
    value_mask[1, :5] = False
    return query_mask, value_mask


@pytest.mark.parametrize("dropout", [0.0, 0.3])  # 0.3 in inference: Keras's explicit (unfused) path
@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("sources", ["query", "value", "key", "attention_mask", "all"])
def test_masks_combine_as_in_keras(keras, dropout, scores, causal, sources):
    """Masks from the inputs' ``_keras_mask``, attention_mask and the causal mask, ANDed; fully masked rows get
    uniform weights on Keras's fused path and zero weights on its explicit one, in both frameworks."""
    rng = np.random.default_rng(3)
    arrays = [_floats(rng, 3, 4, 5), _floats(rng, 3, 6, 7), _floats(rng, 3, 6, 2)]
    ours, theirs = _pair(keras, {"num_heads": 2, "key_dim": 3, "dropout": dropout},
                         [a.shape for a in arrays])
    query_mask, value_mask = _masks()
    key_mask = np.ones((3, 6), bool)
    key_mask[0, 0] = False
    attention_mask = rng.random((3, 4, 6)) > 0.4
    attention_mask[0, 1] = False
    use = {"query": [query_mask, None, None], "value": [None, value_mask, None], "key": [None, None, key_mask],
           "attention_mask": [None] * 3, "all": [query_mask, value_mask, key_mask]}[sources]
    call = {"return_attention_scores": scores, "use_causal_mask": causal, "training": False}
    if sources in ("attention_mask", "all"):
        call["attention_mask"] = attention_mask
    got = _same(ours, theirs, arrays, use, **call)
    if use[0] is not None:
        np.testing.assert_array_equal(_np(got[0]._keras_mask), query_mask)


def test_value_mask_without_a_key_and_a_sliding_window_match_keras(keras):
    rng = np.random.default_rng(4)
    arrays = [_floats(rng, 2, 5, 4), _floats(rng, 2, 5, 4)]
    ours, theirs = _pair(keras, {"num_heads": 2, "key_dim": 2, "sliding_window": 2}, [a.shape for a in arrays])
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    for causal in (False, True):
        for scores in (False, True):
            _same(ours, theirs, arrays, [None, value_mask], use_causal_mask=causal, return_attention_scores=scores)


def test_fully_masked_rows_follow_keras_on_each_path(keras):
    """The behaviour this reproduces, spelled out: uniform weights on the fused path, zero on the explicit."""
    rng = np.random.default_rng(5)
    arrays = [_floats(rng, 1, 2, 3), _floats(rng, 1, 3, 3)]
    layer = MultiHeadAttention(1, 3)
    mask = np.array([[[True, False, True], [False, False, False]]])
    fused = layer(*_tensors(arrays), attention_mask=mask)
    explicit, weights = layer(*_tensors(arrays), attention_mask=mask, return_attention_scores=True)
    np.testing.assert_array_equal(_np(weights)[0, 0, 1], 0.0)
    np.testing.assert_allclose(_np(fused)[0, 0], _np(explicit)[0, 0], atol=1e-6)
    value = torch.as_tensor(arrays[1]) @ layer.value_kernel[:, 0] + layer.value_bias[0]  # (1, 3, 3)
    uniform = value.mean(1) @ layer.attention_output_kernel[0] + layer.attention_output_bias
    np.testing.assert_allclose(_np(fused)[0, 1], _np(uniform)[0], atol=1e-6)
    np.testing.assert_allclose(_np(explicit)[0, 1], _np(layer.attention_output_bias), atol=1e-6)


def test_float64_matches_a_numpy_reference():
    """Heads, scaling, softmax and projections checked in float64 against a plain loop."""
    rng = np.random.default_rng(6)
    q, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 6))
    layer = MultiHeadAttention(2, 3, value_dim=2, dtype="float64")
    out = _np(layer(torch.as_tensor(q), torch.as_tensor(v)))
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    expected = np.zeros((2, 3, 4))
    for b in range(2):
        for head in range(2):
            qh = q[b] @ wq[:, head] + bq[head]
            kh = v[b] @ wk[:, head] + bk[head]
            vh = v[b] @ wv[:, head] + bv[head]
            logits = qh @ kh.T / np.sqrt(3.0)
            weights = np.exp(logits - logits.max(-1, keepdims=True))
            weights /= weights.sum(-1, keepdims=True)
            expected[b] += (weights @ vh) @ wo[head]
        expected[b] += bo
    np.testing.assert_allclose(out, expected, atol=1e-12)


def _keras_model(keras, layer, shapes):
    inputs = [keras.Input(s[1:]) for s in shapes]
    model = keras.Model(inputs, layer(*inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


@pytest.mark.parametrize("kwargs", [{"num_heads": 2, "key_dim": 3}, {"num_heads": 2, "key_dim": 3, "use_gate": True,
                                                                     "output_shape": 4}], ids=str)
def test_one_sgd_step_in_a_functional_model_matches_keras(keras, kwargs):
    shapes = [(4, 5, 3), (4, 6, 2)]
    ours, theirs = _pair(keras, kwargs, shapes)
    rng = np.random.default_rng(7)
    x = [_floats(rng, *s) for s in shapes]
    their_model = _keras_model(keras, theirs, shapes)
    query, value = Input(shapes[0][1:]), Input(shapes[1][1:])
    model = gated.Model([query, value], ours(query, value))
    model.compile(optimizer=gated.optimizers.SGD(0.1), loss="mse", device="cpu")
    y = _floats(rng, *model.predict(x, verbose=0).shape)
    np.testing.assert_allclose(model.predict(x, verbose=0), _np(their_model.predict(x, verbose=0)), atol=ATOL)
    their_model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for got, expected in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, expected, atol=ATOL)


def test_embedding_masks_travel_through_a_functional_model(keras):
    """Self-attention after Embedding(mask_zero=True): the padded keys are masked, the output keeps the mask."""
    ids = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2]])
    inputs = Input((5,), dtype="int64")
    embedding, attention = Embedding(10, 4, mask_zero=True), MultiHeadAttention(2, 3)
    embedded = embedding(inputs)
    attended = attention(embedded, embedded)
    model = gated.Model(inputs, attended)
    k_inputs = keras.Input((5,), dtype="int64")
    k_embedded = keras.layers.Embedding(10, 4, mask_zero=True)(k_inputs)
    their_model = keras.Model(k_inputs, keras.layers.MultiHeadAttention(2, 3)(k_embedded, k_embedded))
    their_model.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(ids, verbose=0), _np(their_model.predict(ids, verbose=0)), atol=ATOL)
    x = embedding(torch.as_tensor(ids))
    out = attention(x, x)
    np.testing.assert_array_equal(_np(out._keras_mask), ids != 0)


def test_functional_model_returns_scores_and_takes_an_attention_mask():
    query, value, allowed = Input((4, 3)), Input((6, 3)), Input((4, 6), dtype="bool")
    layer = MultiHeadAttention(2, 2)
    out, scores = layer(query, value, attention_mask=allowed, return_attention_scores=True)
    assert out.shape == (None, 4, 3) and scores.shape == (None, 2, 4, 6)
    model = gated.Model([query, value, allowed], [out, scores])
    rng = np.random.default_rng(8)
    x = [_floats(rng, 2, 4, 3), _floats(rng, 2, 6, 3), rng.random((2, 4, 6)) > 0.3]
    got_out, got_scores = model.predict(x, verbose=0)
    direct_out, direct_scores = layer(torch.as_tensor(x[0]), torch.as_tensor(x[1]), attention_mask=x[2],
                                      return_attention_scores=True)
    np.testing.assert_allclose(got_out, _np(direct_out), atol=1e-6)
    np.testing.assert_allclose(got_scores, _np(direct_scores), atol=1e-6)
    assert np.all(got_scores[~np.broadcast_to(x[2][:, None], got_scores.shape)] == 0)
    clone = gated.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0)[0], got_out, atol=0)


def test_subclassed_model_calls_it_with_keywords():
    class Decoder(gated.Model):
        def __init__(self):
            super().__init__()
            self.attention = MultiHeadAttention(2, 4)

        def call(self, inputs):
            return self.attention(query=inputs, value=inputs, use_causal_mask=True)

    model = Decoder()
    x = np.random.default_rng(9).standard_normal((2, 5, 3)).astype("float32")
    got = model(torch.as_tensor(x))
    expected = model.attention(torch.as_tensor(x), torch.as_tensor(x), attention_mask=np.tril(np.ones((5, 5), bool)))
    np.testing.assert_allclose(_np(got), _np(expected), atol=1e-6)
    # causal: the first step sees only itself, whatever comes later
    changed = x.copy()
    changed[:, 1:] += 1.0
    np.testing.assert_allclose(_np(model(torch.as_tensor(changed)))[:, 0], _np(got)[:, 0], atol=1e-6)


def test_dropout_only_while_training_and_seeded_dropout_repeats():
    rng = np.random.default_rng(10)
    x = torch.as_tensor(_floats(rng, 2, 5, 4))
    layer = MultiHeadAttention(2, 3, dropout=0.5, seed=3)
    plain = MultiHeadAttention(2, 3)
    plain(x, x)
    layer(x, x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(layer(x, x)), _np(plain(x, x)), atol=1e-6)
    trained = layer(x, x, training=True)
    assert not torch.allclose(trained, plain(x, x))
    _, scores = layer(x, x, training=True, return_attention_scores=True)
    np.testing.assert_allclose(_np(scores).sum(-1), 1.0, atol=1e-6)  # the scores are returned before dropout
    again = MultiHeadAttention(2, 3, dropout=0.5, seed=3)
    again(x, x)
    again.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(again(x, x, training=True)), _np(trained), atol=0)
    assert layer.capture_blocker() is not None and plain.capture_blocker() is None


def test_regularizers_and_constraints_apply_per_projection(keras):
    kwargs = {"num_heads": 2, "key_dim": 3, "kernel_regularizer": "l2", "bias_regularizer": "l1",
              "activity_regularizer": "l2"}
    ours, theirs = _pair(keras, kwargs, [(2, 4, 5), (2, 6, 7)])
    rng = np.random.default_rng(11)
    arrays = [_floats(rng, 2, 4, 5), _floats(rng, 2, 6, 7)]
    ours(*_tensors(arrays))
    theirs(*_tensors(arrays))
    assert len(ours.losses) == len(theirs.losses) == 12  # 4 kernels, 4 biases, 4 projection outputs
    np.testing.assert_allclose(sum(float(_np(l)) for l in ours.losses), sum(float(_np(l)) for l in theirs.losses),
                               rtol=1e-5)
    constrained = MultiHeadAttention(2, 3, kernel_constraint="non_neg")
    constrained(*_tensors(arrays))
    constrained.apply_constraints()
    assert all((w >= 0).all() for w in constrained.get_weights()[0::2])


def test_config_round_trip_and_keras_config_keys(keras):
    layer = MultiHeadAttention(3, 4, value_dim=2, dropout=0.1, output_shape=(2, 5), attention_axes=(1,),
                               use_gate=True, sliding_window=3, kernel_initializer="he_normal", seed=4,
                               name="attend")
    config = layer.get_config()
    twin = keras.layers.MultiHeadAttention(3, 4, value_dim=2, dropout=0.1, output_shape=(2, 5), attention_axes=(1,),
                                           use_gate=True, sliding_window=3, seed=4, name="attend")
    assert set(config) == set(twin.get_config())
    clone = MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    from_keras = MultiHeadAttention.from_config({k: v for k, v in twin.get_config().items()
                                                 if k not in ("dtype", "kernel_initializer", "bias_initializer")})
    assert (from_keras.num_heads, from_keras.value_dim, from_keras.attention_axes) == (3, 2, (1,))
    rng = np.random.default_rng(12)
    arrays = [_floats(rng, 2, 4, 5), _floats(rng, 2, 6, 7)]
    expected = layer(*_tensors(arrays))
    clone(*_tensors(arrays))
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(clone(*_tensors(arrays))), _np(expected), atol=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"num_heads": 0, "key_dim": 2}, "num_heads"),
    ({"num_heads": 2, "key_dim": 2.5}, "key_dim"),
    ({"num_heads": 2, "key_dim": 2, "dropout": 1.0}, "dropout"),
    ({"num_heads": 2, "key_dim": 2, "output_shape": "wide"}, "output_shape"),
    ({"num_heads": 2, "key_dim": 2, "attention_axes": "time"}, "attention_axes"),
    ({"num_heads": 2, "key_dim": 2, "sliding_window": 0}, "sliding_window"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiHeadAttention(**kwargs)


def test_bad_inputs_say_what_was_expected():
    rng = np.random.default_rng(13)
    q, v = torch.as_tensor(_floats(rng, 2, 4, 5)), torch.as_tensor(_floats(rng, 2, 6, 7))
    layer = MultiHeadAttention(2, 3)
    with pytest.raises(TypeError, match=r"layer\(query, value\).*received only query"):
        layer(q)
    layer(q, v)
    with pytest.raises(ValueError, match=r"built for a query with 5 features.*\(2, 4, 6\)"):
        layer(torch.zeros(2, 4, 6), v)
    with pytest.raises(ValueError, match=r"rank 3.*query that is a 2-D array of shape \(4, 5\)"):
        layer(q[0], v)
    with pytest.raises(ValueError, match=r"key .*all their axes but the last"):
        layer(q, v, torch.zeros(2, 5, 7))
    with pytest.raises(ValueError, match=r"axes \(0,\).*must be equal, received \(2,\) and \(3,\)"):
        layer(q, torch.zeros(3, 6, 7))
    with pytest.raises(ValueError, match=r"mask of shape \(2, 1, 4, 5\) does not broadcast to the attention scores "
                                         r"\(2, 2, 4, 6\)"):
        layer(q, v, attention_mask=np.ones((2, 4, 5), bool))
    masked = v.clone()
    masked._keras_mask = torch.ones(2, 6, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"cannot combine its masks: shapes \[\(2, 1, 6\), \(2, 4, 5\)\].*"
                                         r"\(batch, 4, 6\)"):
        layer(q, masked, attention_mask=np.ones((2, 4, 5), bool))
    with pytest.raises(ValueError, match=r"attention_axes=\(3,\).*pick them from \(1, 2\)"):
        MultiHeadAttention(2, 3, attention_axes=3)(torch.zeros(2, 3, 4, 5), torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"needs a query of shape \(batch, steps, \.\.\., features\)"):
        MultiHeadAttention(2, 3)(torch.zeros(2, 5), torch.zeros(2, 5))
