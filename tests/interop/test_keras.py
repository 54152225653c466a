"""Keras 3 interop: .keras files, .weights.h5 files and live models import with predictions equal to Keras's."""

from __future__ import annotations

import json
import sys
import zipfile

import numpy as np
import pytest

import gated
import gated.layers as L
from gated.interop import from_keras, load_keras_weights, to_keras

ATOL = 1e-5
RNG = np.random.default_rng(11)


def floats(*shape):
    return RNG.normal(size=shape).astype("float32")


def predictions(model, x):
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def assert_same_predictions(keras_model, gated_model, x):
    want, got = predictions(keras_model, x), predictions(gated_model, x)
    assert len(want) == len(got)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, atol=ATOL, rtol=0)


def saved(keras_model, tmp_path, name="model.keras"):
    path = tmp_path / name
    keras_model.save(path)
    return path


def randomize_biases(keras_model):
    """Keras starts biases at zero (LSTM forget gate at one); random ones exercise every bias path."""
    for layer in keras_model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([w + RNG.normal(scale=0.1, size=w.shape).astype(w.dtype) for w in weights])


RECURRENT = {
    "gru": ("GRU", {}),
    "gru_reset_after_false": ("GRU", {"reset_after": False}),
    "lstm": ("LSTM", {}),
    "simple_rnn": ("SimpleRNN", {}),
}


@pytest.mark.parametrize("kind", list(RECURRENT))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_sequential_keras_file_imports_with_keras_predictions(keras, tmp_path, kind, go_backwards):
    name, extra = RECURRENT[kind]
    cls = getattr(keras.layers, name)
    k = keras.Sequential([
        keras.Input((None, 3)),
        cls(6, return_sequences=True, go_backwards=go_backwards, **extra),
        cls(5, **extra),
        keras.layers.Dense(2, activation="softmax"),
    ])
    randomize_biases(k)
    g = from_keras(saved(k, tmp_path))
    assert isinstance(g, gated.Sequential)
    assert [type(layer).__name__ for layer in g.layers] == [name, name, "Dense"]
    assert [layer.name for layer in g.layers] == [layer.name for layer in k.layers]
    assert g.layers[0].go_backwards is go_backwards
    if name == "GRU":
        assert g.layers[0].reset_after is extra.get("reset_after", True)
    assert_same_predictions(k, g, floats(4, 7, 3))


def test_embedding_mask_bidirectional_and_time_distributed_match_keras(keras, tmp_path):
    ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(20, 8, mask_zero=True)(ids)
    x = keras.layers.Bidirectional(keras.layers.GRU(5, return_sequences=True, reset_after=False))(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), merge_mode="sum")(x)
    x = keras.layers.GRU(4, return_sequences=True)(x)
    x = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="softmax"))(x)
    k = keras.Model(ids, x)
    randomize_biases(k)
    g = from_keras(saved(k, tmp_path))
    data = RNG.integers(1, 20, size=(5, 7)).astype("int32")
    data[1, 4:] = 0  # right padding
    data[2, :3] = 0  # left padding
    data[3, 2] = 0  # a hole
    data[4, :] = 0  # nothing at all
    assert_same_predictions(k, g, data)


def test_masking_layer_matches_keras(keras, tmp_path):
    k = keras.Sequential([keras.Input((None, 3)), keras.layers.Masking(0.0),
                          keras.layers.LSTM(4, return_sequences=True), keras.layers.SimpleRNN(3)])
    randomize_biases(k)
    g = from_keras(saved(k, tmp_path))
    x = floats(3, 6, 3)
    x[0, 4:] = 0.0
    x[2, :2] = 0.0
    assert_same_predictions(k, g, x)


def test_functional_encoder_decoder_with_initial_state_matches_keras(keras, tmp_path):
    encoder_in = keras.Input((None, 3), name="encoder_in")
    decoder_in = keras.Input((None, 4), name="decoder_in")
    _, h, c = keras.layers.LSTM(5, return_state=True)(keras.layers.Masking()(encoder_in))
    decoded = keras.layers.LSTM(5, return_sequences=True)(decoder_in, initial_state=[h, c])
    _, state = keras.layers.GRU(5, return_state=True)(decoded, initial_state=h)
    tokens = keras.layers.TimeDistributed(keras.layers.Dense(6, activation="softmax"))(decoded)
    k = keras.Model([encoder_in, decoder_in], [tokens, state])
    randomize_biases(k)
    g = from_keras(saved(k, tmp_path))
    assert g.input_names == ["encoder_in", "decoder_in"]
    encoder_x = floats(3, 5, 3)
    encoder_x[1, 3:] = 0.0
    assert_same_predictions(k, g, [encoder_x, floats(3, 4, 4)])


def test_shape_and_merge_layers_and_shared_layers_match_keras(keras, tmp_path):
    a = keras.Input((6,), name="a")
    b = keras.Input((6,), name="b")
    shared = keras.layers.Dense(4, activation="tanh", name="shared")
    merged = keras.layers.Concatenate()([shared(a), shared(b)])
    added = keras.layers.Add()([keras.layers.Dense(8)(merged), merged])
    sequence = keras.layers.RepeatVector(3)(keras.layers.Dropout(0.3)(keras.layers.Activation("relu")(added)))
    sequence = keras.layers.SimpleRNN(4, return_sequences=True, activation="relu")(sequence)
    out = keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Reshape((4, 3))(sequence)))
    k = keras.Model([a, b], out)
    randomize_biases(k)
    g = from_keras(saved(k, tmp_path))
    assert_same_predictions(k, g, [floats(5, 6), floats(5, 6)])


def test_live_keras_models_import_without_a_file(keras):
    k = keras.Sequential([keras.Input((None, 2)), keras.layers.GRU(4, reset_after=False), keras.layers.Dense(1)])
    randomize_biases(k)
    assert_same_predictions(k, from_keras(k), floats(3, 5, 2))
    inputs = keras.Input((None, 2))
    kf = keras.Model(inputs, keras.layers.Bidirectional(keras.layers.LSTM(3))(inputs))
    randomize_biases(kf)
    assert_same_predictions(kf, from_keras(kf), floats(3, 5, 2))


def test_weights_file_loads_into_a_gated_model_of_the_same_architecture(keras, tmp_path):
    k = keras.Sequential([keras.Input((None, 3)), keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True)),
                          keras.layers.LSTM(3), keras.layers.Dense(2)])
    randomize_biases(k)
    path = tmp_path / "model.weights.h5"
    k.save_weights(path)
    g = gated.Sequential([L.Input((None, 3)), L.Bidirectional(L.GRU(4, return_sequences=True)), L.LSTM(3),
                          L.Dense(2)])
    assert from_keras(path, model=g) is g
    assert_same_predictions(k, g, floats(2, 5, 3))
    other = gated.Sequential([L.Input((None, 3)), L.Bidirectional(L.GRU(4, return_sequences=True)), L.LSTM(3),
                              L.Dense(2)])
    load_keras_weights(other, path)
    assert_same_predictions(k, other, floats(2, 5, 3))


def test_weights_file_without_a_model_explains_what_to_pass(keras, tmp_path):
    k = keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(2)])
    path = tmp_path / "model.weights.h5"
    k.save_weights(path)
    with pytest.raises(ValueError, match=r"is a Keras weights file: it holds weights but no architecture\. Build "
                                         r"the same model in gated and pass it: gated\.interop\.from_keras\(path, "
                                         r"model=model\)"):
        from_keras(path)


def test_mismatched_weights_list_every_layer_and_change_nothing(keras, tmp_path):
    k = keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(4), keras.layers.Dense(2)])
    path = tmp_path / "model.weights.h5"
    k.save_weights(path)
    g = gated.Sequential([L.Input((None, 3)), L.GRU(4, reset_after=False), L.Dense(3)])
    before = [w.copy() for w in g.get_weights()]
    with pytest.raises(ValueError) as info:
        load_keras_weights(g, path)
    message = str(info.value)
    assert "do not fit the model" in message
    assert "(GRU, units=4) has weights [('kernel', (3, 12)), ('recurrent_kernel', (4, 12)), ('bias', (12,))], " \
           "the source holds shapes [(3, 12), (4, 12), (2, 12)]" in message
    assert "(Dense, units=3)" in message and "Nothing was changed" in message
    for old, new in zip(before, g.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_unsupported_layers_are_all_named_with_the_supported_list(keras, tmp_path):
    k = keras.Sequential([
        keras.Input((10, 3)),
        keras.layers.Conv1D(4, 3, name="conv"),
        keras.layers.GRU(4, return_sequences=True),
        keras.layers.TimeDistributed(keras.layers.LayerNormalization(name="norm"), name="per_step"),
        keras.layers.GlobalAveragePooling1D(name="pool"),
    ])
    with pytest.raises(ValueError) as info:
        from_keras(saved(k, tmp_path))
    message = str(info.value)
    assert message.startswith(f"Cannot import Keras model '{k.name}': gated does not support")
    assert "- 'conv' (Conv1D)" in message
    assert "- 'norm' (LayerNormalization) inside 'per_step' (TimeDistributed)" in message
    assert "- 'pool' (GlobalAveragePooling1D)" in message
    assert "Supported layers: InputLayer, Dense, Embedding, Masking, Dropout, RepeatVector" in message
    assert "GRU, LSTM, SimpleRNN, Bidirectional, TimeDistributed" in message


def test_keras_operations_in_the_graph_are_named(keras, tmp_path):
    inputs = keras.Input((None, 3))
    scaled = keras.ops.multiply(inputs, 2.0)
    k = keras.Model(inputs, keras.layers.GRU(2)(scaled))
    with pytest.raises(ValueError, match=r"- 'multiply' \(Multiply\), a keras\.ops operation in the graph"):
        from_keras(saved(k, tmp_path))


def test_a_mask_computed_with_keras_ops_is_named_rather_than_dropped(keras, tmp_path):
    ids = keras.Input((None,), dtype="int32")
    vectors = keras.layers.Embedding(10, 3)(ids)  # no mask_zero: gated would not derive this mask itself
    k = keras.Model(ids, keras.layers.GRU(2)(vectors, mask=keras.ops.not_equal(ids, 0)))
    with pytest.raises(ValueError, match=r"\(NotEqual\), a keras\.ops operation in the graph"):
        from_keras(saved(k, tmp_path))


def test_custom_activation_is_refused_naming_the_layer(keras, tmp_path):
    @keras.saving.register_keras_serializable(package="tests")
    def doubled_tanh(x):
        return 2 * keras.ops.tanh(x)

    k = keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(2, activation=doubled_tanh, name="odd_gru")])
    with pytest.raises(ValueError, match=r"Keras layer 'odd_gru' \(GRU\) uses a custom activation"):
        from_keras(saved(k, tmp_path))


def test_reading_a_keras_file_does_not_import_keras(keras, tmp_path, monkeypatch):
    k = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    path = saved(k, tmp_path)
    expected = k.predict(np.ones((1, 4, 3), "float32"), verbose=0)
    for name in [m for m in sys.modules if m == "keras" or m.startswith("keras.")]:
        monkeypatch.setitem(sys.modules, name, None)  # any import of keras now fails
    g = from_keras(path)
    np.testing.assert_allclose(g.predict(np.ones((1, 4, 3), "float32"), verbose=0), expected, atol=ATOL, rtol=0)


def test_foreign_files_are_refused_clearly(tmp_path):
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    with pytest.raises(ValueError, match=r"notes\.keras is neither a \.keras file \(a zip archive\) nor a Keras "
                                         r"\.weights\.h5 file \(HDF5\)"):
        from_keras(text)
    archive = tmp_path / "other.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match=r"zip archive without config\.json, so it is not a Keras 3 \.keras file"):
        from_keras(archive)
    with pytest.raises(FileNotFoundError, match=r"No Keras file at"):
        from_keras(tmp_path / "missing.keras")
    with pytest.raises(TypeError, match=r"from_keras takes a path to a \.keras or \.weights\.h5 file, or a "
                                        r"keras\.Model; received dict"):
        from_keras({"class_name": "Sequential"})


def test_to_keras_gives_a_keras_model_with_the_same_predictions(keras):
    inputs = L.Input((None,), dtype="int32")
    x = L.Embedding(12, 4, mask_zero=True)(inputs)
    x = L.Bidirectional(L.GRU(3, return_sequences=True, reset_after=False))(x)
    out = L.TimeDistributed(L.Dense(2))(L.LSTM(3, return_sequences=True)(x))
    g = gated.Model(inputs, out)
    ids = RNG.integers(1, 12, size=(3, 5)).astype("int32")
    ids[0, 3:] = 0
    k = to_keras(g)
    assert isinstance(k, keras.Model)
    assert_same_predictions(k, g, ids)
    s = gated.Sequential([L.Input((None, 2)), L.SimpleRNN(3, return_sequences=True), L.GRU(2)])
    assert_same_predictions(to_keras(s), s, floats(2, 4, 2))


def test_keras_model_runs_in_onnxruntime_after_import(keras, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    k = keras.Sequential([keras.Input((None, 4)), keras.layers.GRU(8, return_sequences=True, reset_after=False),
                          keras.layers.LSTM(6), keras.layers.Dense(3, activation="softmax")])
    randomize_biases(k)
    g = from_keras(saved(k, tmp_path))
    g.export(str(tmp_path / "model.onnx"), format="onnx")
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    x = floats(5, 9, 4)
    (got,) = sess.run(None, {sess.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, k.predict(x, verbose=0), atol=ATOL, rtol=0)


def test_functional_weights_are_listed_in_keras_order(keras, tmp_path):
    """Branches of different depth: get_weights/set_weights follow Keras's order (deepest layers first, then the
    order a walk from the outputs meets them), so weights move between the two models as lists; model files
    written in the earlier order (by first call) still load, matched by name."""
    import torch
    from safetensors import safe_open
    from safetensors.numpy import save_file

    def build(lib, make_input):
        q, v = make_input((None,), dtype="int32"), make_input((None,), dtype="int32")
        a = lib.Embedding(9, 4, mask_zero=True)(q)
        b = lib.Embedding(9, 4)(v)
        out = lib.Concatenate()([lib.GRU(3)(a), lib.Dense(3)(lib.GRU(5)(b))])
        return q, v, out

    q, v, out = build(L, L.Input)
    ours = gated.Model([q, v], out)
    kq, kv, kout = build(keras.layers, keras.Input)
    theirs = keras.Model([kq, kv], kout)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    ids_q, ids_v = np.array([[1, 2, 3, 0]]), np.array([[4, 5, 6, 7, 8]])
    np.testing.assert_allclose(ours([torch.as_tensor(ids_q), torch.as_tensor(ids_v)]).detach().numpy(),
                               theirs([ids_q, ids_v]).detach().numpy(), atol=1e-5)
    # a file that lists the weights in the order of the layers' first calls loads by name
    path = tmp_path / "m.gated"
    ours.save(path)
    with safe_open(str(path), framework="np") as handle:
        metadata = dict(handle.metadata())
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    names = json.loads(metadata["weight_names"])
    called = [layer.name for layer in ours._graph.called_layers]
    order = sorted(range(len(names)), key=lambda i: called.index(names[i].split("/")[0]))
    assert order != list(range(len(names)))  # the old order really differs
    metadata["weight_names"] = json.dumps([names[i] for i in order])
    old = {f"weights/{j:04d}": tensors[f"weights/{i:04d}"] for j, i in enumerate(order)}
    old.update({k: t for k, t in tensors.items() if not k.startswith("weights/")})
    save_file(old, str(tmp_path / "old.gated"), metadata=metadata)
    again = gated.load_model(tmp_path / "old.gated")
    for a, b in zip(again.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
