"""ONNX export: onnxruntime runs the exported file and matches gated within 1e-5, on the standard recurrent ops."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import gated
import gated.layers as L
from gated.export import export_onnx

from ..models.support import built_subclassed_model

onnx = pytest.importorskip("onnx")  # both are test dependencies; importorskip only gives a clear message
ort = pytest.importorskip("onnxruntime")

ATOL = 1e-5
RNG = np.random.default_rng(7)


def session(model, tmp_path):
    path = tmp_path / "model.onnx"
    proto = export_onnx(model, path)
    return proto, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run(sess, *inputs):
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, inputs)))


def assert_matches(model, sess, *inputs, atol=ATOL):
    want = model.predict(list(inputs) if len(inputs) > 1 else inputs[0], verbose=0)
    want = list(want) if isinstance(want, (list, tuple)) else [want]
    got = run(sess, *inputs)
    assert len(got) == len(want)
    for w, g in zip(want, got):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, atol=atol, rtol=0)


def floats(*shape):
    return RNG.normal(size=shape).astype("float32")


# Different batch sizes and lengths on one exported file: the batch and time axes are dynamic.
SHAPES = [(2, 5), (7, 11), (1, 1)]

KINDS = {
    "gru": lambda **kw: L.GRU(6, **kw),
    "gru_reset_after_false": lambda **kw: L.GRU(6, reset_after=False, **kw),
    "lstm": lambda **kw: L.LSTM(6, **kw),
    "simple_rnn": lambda **kw: L.SimpleRNN(6, **kw),
}
OPERATOR = {"gru": "GRU", "gru_reset_after_false": "GRU", "lstm": "LSTM", "simple_rnn": "RNN"}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_recurrent_layer_matches_onnxruntime_on_any_batch_and_length(tmp_path, kind, return_sequences, go_backwards):
    model = gated.Sequential([L.Input((None, 3)), KINDS[kind](return_sequences=return_sequences,
                                                              go_backwards=go_backwards, use_bias=True)])
    with torch.no_grad():  # non-zero biases, so both halves of ONNX's B are exercised
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    proto, sess = session(model, tmp_path)
    ops = [n.op_type for n in proto.graph.node]
    assert OPERATOR[kind] in ops
    assert not {"Loop", "Scan", "If"} & set(ops)
    for batch, steps in SHAPES:
        assert_matches(model, sess, floats(batch, steps, 3))


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_maps_reset_after_to_linear_before_reset(tmp_path, reset_after):
    model = gated.Sequential([L.Input((None, 2)), L.GRU(3, reset_after=reset_after)])
    proto, sess = session(model, tmp_path)
    (gru,) = [n for n in proto.graph.node if n.op_type == "GRU"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in gru.attribute}
    assert attrs["linear_before_reset"] == int(reset_after)
    assert attrs["direction"] == b"forward"
    assert_matches(model, sess, floats(4, 6, 2))


def test_inputs_have_dynamic_batch_and_time_axes(tmp_path):
    model = gated.Sequential([L.GRU(4, input_shape=(10, 3)), L.Dense(2)])  # built for 10 steps
    proto, sess = session(model, tmp_path)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", "timesteps", 3]
    assert_matches(model, sess, floats(3, 17, 3))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("kind", ["gru", "lstm", "simple_rnn"])
def test_bidirectional_is_one_bidirectional_operator(tmp_path, merge_mode, kind):
    model = gated.Sequential([
        L.Input((None, 3)),
        L.Bidirectional(KINDS[kind](return_sequences=True), merge_mode=merge_mode),
        L.Bidirectional(KINDS[kind](), merge_mode=merge_mode),
    ])
    proto, sess = session(model, tmp_path)
    directions = [onnx.helper.get_attribute_value(a) for n in proto.graph.node for a in n.attribute
                  if a.name == "direction"]
    assert directions == [b"bidirectional", b"bidirectional"]
    for batch, steps in SHAPES[:2]:
        assert_matches(model, sess, floats(batch, steps, 3))


def test_bidirectional_without_merge_and_with_states_feeds_a_decoder(tmp_path):
    x = L.Input((None, 3))
    forward, backward, h_forward, c_forward, h_backward, c_backward = L.Bidirectional(
        L.LSTM(4, return_sequences=True, return_state=True), merge_mode=None)(x)
    decoded = L.LSTM(4, return_sequences=True, go_backwards=True)(forward, initial_state=[h_backward, c_backward])
    model = gated.Model(x, [forward, backward, h_forward, c_forward, decoded])
    _, sess = session(model, tmp_path)
    assert_matches(model, sess, floats(3, 6, 3))


def test_stacked_embedding_and_time_distributed_dense(tmp_path):
    model = gated.Sequential([
        L.Input((None,), dtype="int64"),
        L.Embedding(30, 8),
        L.GRU(8, return_sequences=True),
        L.Dropout(0.5),
        L.LSTM(6, return_sequences=True, go_backwards=True),
        L.SimpleRNN(5, return_sequences=True),
        L.TimeDistributed(L.Dense(4, activation="softmax")),
    ])
    proto, sess = session(model, tmp_path)
    assert "Gather" in [n.op_type for n in proto.graph.node]
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    for batch, steps in SHAPES:
        assert_matches(model, sess, RNG.integers(0, 30, size=(batch, steps)))


def test_right_padded_masks_match_including_fully_masked_rows(tmp_path):
    model = gated.Sequential([
        L.Input((None,), dtype="int32"),
        L.Embedding(20, 5, mask_zero=True),
        L.GRU(6, return_sequences=True),  # Keras repeats the last output at padded steps
        L.Bidirectional(L.LSTM(4, return_sequences=True)),  # zeros at padded steps
        L.GRU(5, return_sequences=True, go_backwards=True, reset_after=False),
        L.TimeDistributed(L.Dense(3)),
    ])
    ids = RNG.integers(1, 20, size=(4, 7)).astype("int32")
    ids[1, 5:] = 0
    ids[2, 1:] = 0
    ids[3, :] = 0
    _, sess = session(model, tmp_path)
    assert_matches(model, sess, ids)


def test_masking_layer_becomes_sequence_lengths(tmp_path):
    model = gated.Sequential([L.Input((None, 3)), L.Masking(0.0), L.LSTM(4, return_sequences=True), L.GRU(3)])
    x = floats(3, 6, 3)
    x[0, 4:] = 0.0
    x[2, 1:] = 0.0
    _, sess = session(model, tmp_path)
    assert_matches(model, sess, x)


def test_masks_onnx_cannot_express_give_nan_for_that_row_only(tmp_path):
    model = gated.Sequential([L.Input((None,), dtype="int64"), L.Embedding(9, 3, mask_zero=True), L.GRU(4)])
    ids = RNG.integers(1, 9, size=(3, 5))
    ids[1, :2] = 0  # left padding: sequence_lens cannot say which steps are real
    ids[2, 3:] = 0
    _, sess = session(model, tmp_path)
    (got,) = run(sess, ids)
    assert np.isnan(got[1]).all() and not np.isnan(got[[0, 2]]).any()
    np.testing.assert_allclose(got[[0, 2]], model.predict(ids, verbose=0)[[0, 2]], atol=ATOL, rtol=0)


def test_an_explicit_mask_input_is_exported(tmp_path):
    x = L.Input((None, 3), name="x")
    mask = L.Input((None,), dtype="bool", name="mask")
    sequence = L.GRU(4, return_sequences=True)(x, mask=mask)
    model = gated.Model([x, mask], [sequence, L.Bidirectional(L.SimpleRNN(2))(sequence, mask=mask)])
    valid = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], bool)
    _, sess = session(model, tmp_path)
    assert_matches(model, sess, floats(3, 5, 3), valid)


def test_functional_encoder_decoder_with_initial_state_and_merges(tmp_path):
    encoder_in = L.Input((None, 3), name="encoder_in")
    decoder_in = L.Input((None, 4), name="decoder_in")
    _, h, c = L.LSTM(5, return_state=True)(L.Masking()(encoder_in))
    decoded, h2, _ = L.LSTM(5, return_sequences=True, return_state=True)(decoder_in, initial_state=[h, c])
    tokens = L.TimeDistributed(L.Dense(6, activation="softmax"), name="tokens")(decoded)
    summary = L.Add(name="summary")([L.Dense(3)(L.Concatenate()([h, h2])), L.Dense(3, activation="tanh")(h2)])
    repeated = L.RepeatVector(2)(L.Activation("relu")(summary))
    flat = L.Flatten(name="flat")(repeated)
    model = gated.Model([encoder_in, decoder_in], [tokens, summary, flat])
    proto, sess = session(model, tmp_path)
    assert [i.name for i in proto.graph.input] == ["encoder_in", "decoder_in"]
    assert [o.name for o in proto.graph.output] == ["tokens", "summary", "flat"]
    encoder_x = floats(3, 6, 3)
    encoder_x[1, 2:] = 0.0
    assert_matches(model, sess, encoder_x, floats(3, 4, 4))
    assert_matches(model, sess, floats(2, 9, 3), floats(2, 2, 4))  # each input has its own time axis


@pytest.mark.parametrize("activation,recurrent_activation", [
    ("relu", "hard_sigmoid"), ("leaky_relu", "sigmoid"), ("elu", "hard_sigmoid"), ("softsign", "relu"),
    ("linear", "softplus"),
])
def test_recurrent_activations_match(tmp_path, activation, recurrent_activation):
    model = gated.Sequential([
        L.Input((None, 3)),
        L.GRU(4, activation=activation, recurrent_activation=recurrent_activation, return_sequences=True),
        L.LSTM(4, activation=activation, recurrent_activation=recurrent_activation, return_sequences=True),
        L.SimpleRNN(3, activation=activation),
    ])
    _, sess = session(model, tmp_path)
    assert_matches(model, sess, floats(2, 6, 3))


@pytest.mark.parametrize("activation", ["relu6", "selu", "silu", "gelu", "exponential", "hard_silu", "hard_tanh",
                                        "mish", "log_sigmoid", "log_softmax", "softmax", "softplus"])
def test_dense_activations_match(tmp_path, activation):
    model = gated.Sequential([L.Input((4,)), L.Dense(5, activation=activation)])
    _, sess = session(model, tmp_path)
    assert_matches(model, sess, floats(3, 4))


def test_float64_model_exports_float32(tmp_path):
    model = gated.Sequential([L.Input((None, 3)), L.GRU(4, dtype="float64", return_sequences=True),
                              L.Dense(2, dtype="float64")])
    _, sess = session(model, tmp_path)
    x = floats(2, 5, 3)
    np.testing.assert_allclose(run(sess, x)[0], model.predict(x.astype("float64"), verbose=0), atol=ATOL, rtol=0)


def test_model_export_method_uses_keras_spelling(tmp_path):
    model = gated.Sequential([L.Input((None, 2)), L.GRU(3)])
    path = tmp_path / "gru.onnx"
    assert model.export(str(path), format="onnx") is None
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert_matches(model, sess, floats(2, 4, 2))


def test_model_export_rejects_other_formats_listing_the_supported_one(tmp_path):
    model = gated.Sequential([L.Input((None, 2)), L.GRU(3)])
    with pytest.raises(ValueError, match=r"Unsupported export format 'tf_saved_model'; supported formats: onnx\."
                                         r".*gated\.interop\.to_keras"):
        model.export(str(tmp_path / "m"), format="tf_saved_model")
    assert not list(tmp_path.iterdir())


def test_unsupported_layers_and_settings_are_all_listed(tmp_path):
    model = gated.Sequential([
        L.Input((None, 3)),
        L.Lambda(lambda x: x * 2),
        L.GRU(4, return_sequences=True, activation=lambda x: torch.tanh(x)),
        L.LSTM(3, recurrent_activation="gelu", return_sequences=True),
        L.Dense(2, activation=lambda x: x),
    ])
    with pytest.raises(ValueError) as info:
        model.export(str(tmp_path / "m.onnx"))
    message = str(info.value)
    assert message.startswith(f"Cannot export model '{model.name}' to ONNX:")
    assert "Layer 'lambda" in message and "no ONNX conversion for Lambda layers" in message
    assert "GRU, units=4) has activation=" in message
    assert "has recurrent_activation='gelu'; ONNX's recurrent operators support tanh, sigmoid" in message
    assert "Dense, units=2" in message and "custom activation" in message
    assert "Layers with an ONNX conversion: Activation, Add, Bidirectional" in message
    assert not list(tmp_path.iterdir())  # nothing written


def test_stateful_layers_are_refused_with_the_fix():
    model = gated.Sequential([L.Input((None, 3), batch_size=2), L.GRU(4, stateful=True)])
    with pytest.raises(ValueError, match=r"GRU, units=4\) is stateful; an exported graph cannot keep states "
                                         r"between runs\. Export a copy with stateful=False"):
        export_onnx(model)


def test_generic_rnn_cell_and_subclassed_models_are_refused():
    model = gated.Sequential([L.Input((None, 3)), L.RNN(L.GRUCell(4))])
    with pytest.raises(ValueError, match=r"no ONNX conversion for RNN layers"):
        export_onnx(model)

    custom = built_subclassed_model()
    with pytest.raises(ValueError, match=r"is a subclassed model \(SubclassedGRU\); ONNX export converts Sequential and "
                                         r"functional models"):
        export_onnx(custom)


def test_unbuilt_model_says_how_to_build_it():
    with pytest.raises(ValueError, match=r"is not built yet.*model\.build\(shape\)"):
        export_onnx(gated.Sequential([L.GRU(3)]))


def test_missing_onnx_package_names_the_install_command(monkeypatch):
    model = gated.Sequential([L.Input((None, 2)), L.GRU(3)])
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"ONNX export needs the onnx package: pip install onnx"):
        export_onnx(model)


def test_failed_export_leaves_an_existing_file_untouched(tmp_path):
    path = tmp_path / "model.onnx"
    good = gated.Sequential([L.Input((None, 2)), L.GRU(3)])
    good.export(str(path))
    before = path.read_bytes()
    with pytest.raises(ValueError):
        gated.Sequential([L.Input((None, 2)), L.Lambda(lambda x: x)]).export(str(path))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
