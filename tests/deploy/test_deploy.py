"""gated.deploy: streaming equals the full model at every step; int8 stays close to float32; clear refusals."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import torch

import gated
from gated import layers as L
from gated.deploy import InferenceModel, Streamer, quantize
from gated.deploy._quantize import _quiet_torch_quantization, float_inference_model
from gated.kernels._dispatch import Kernel

from ..models.support import built_subclassed_model

TOL = {"float32": 1e-5, "float64": 1e-12}


@contextlib.contextmanager
def one_thread():
    """Small inputs only: a second torch thread adds nothing but waiting for a core on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


def stream_all(streamer: Streamer, x: np.ndarray) -> np.ndarray:
    """Step through x (B, T, ...) and stack the outputs along a new time axis."""
    return np.stack([streamer.step(x[:, t]) for t in range(x.shape[1])], axis=1)


def recurrent(kind: str, units: int, dtype: str, **kwargs):
    if kind == "gru":
        return L.GRU(units, dtype=dtype, **kwargs)
    if kind == "gru_reset_before":
        return L.GRU(units, reset_after=False, dtype=dtype, **kwargs)
    if kind == "lstm":
        return L.LSTM(units, dtype=dtype, **kwargs)
    if kind == "simple_rnn_relu":
        return L.SimpleRNN(units, activation="relu", dtype=dtype, **kwargs)
    return L.SimpleRNN(units, dtype=dtype, **kwargs)


def random_input(shape, dtype="float32") -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------------------------------- streaming
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["gru", "gru_reset_before", "lstm", "simple_rnn", "simple_rnn_relu"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_stream_equals_the_model_on_every_prefix(kind, dtype, fast, return_sequences):
    model = gated.Sequential([
        L.Input(shape=(None, 5), dtype=dtype),
        recurrent(kind, 12, dtype, return_sequences=True),
        recurrent(kind, 7, dtype, return_sequences=return_sequences),
        L.Dense(3, activation="softmax", dtype=dtype),
    ])
    x = random_input((3, 6, 5), dtype)
    streamer = Streamer(model, batch_size=3, fast=fast)
    streamed = stream_all(streamer, x)
    prefixes = [model(torch.as_tensor(x[:, :t + 1])).detach().numpy() for t in range(6)]
    expected = np.stack([p[:, -1] if return_sequences else p for p in prefixes], axis=1)
    assert streamed.dtype == np.dtype(dtype)
    np.testing.assert_allclose(streamed, expected, rtol=0, atol=TOL[dtype])


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid", "softmax", "gelu"])
@pytest.mark.parametrize("units", [1, 2, 4])
def test_stream_dense_heads_equal_the_layer(activation, units):
    model = gated.Sequential([L.Input(shape=(None, 4)), L.GRU(8), L.Dense(units, activation=activation)])
    x = random_input((2, 5, 4)) * 3
    expected = np.stack([model(torch.as_tensor(x[:, :t + 1])).detach().numpy() for t in range(5)], axis=1)
    np.testing.assert_allclose(stream_all(Streamer(model, batch_size=2), x), expected, rtol=0, atol=1e-5)


def test_stream_embedding_front_end_and_time_distributed_head():
    model = gated.Sequential([L.Input(shape=(None,), dtype="int64"), L.Embedding(20, 6),
                              L.LSTM(8, return_sequences=True), L.Dropout(0.5),
                              L.TimeDistributed(L.Dense(3, activation="softmax"))])
    ids = np.random.default_rng(1).integers(0, 20, size=(4, 7))
    expected = model(torch.as_tensor(ids)).detach().numpy()  # causal: step t of the whole run is the prefix's last
    np.testing.assert_allclose(stream_all(Streamer(model, batch_size=4), ids), expected, rtol=0, atol=1e-5)


def test_stream_functional_model_with_two_inputs_merges_and_return_state():
    a, b = L.Input(shape=(None, 3)), L.Input(shape=(None, 2))
    merged = L.Concatenate()([L.GRU(5, return_sequences=True)(a),
                              L.SimpleRNN(4, return_sequences=True, activation="relu")(b)])
    _, h, c = L.LSTM(6, return_state=True)(merged)
    out = L.Dense(2, activation="sigmoid")(L.Add()([h, c]))
    model = gated.Model([a, b], out)
    xa, xb = random_input((2, 5, 3)), random_input((2, 5, 2)) * 2
    streamer = Streamer(model, batch_size=2)
    for t in range(5):
        expected = model([torch.as_tensor(xa[:, :t + 1]), torch.as_tensor(xb[:, :t + 1])]).detach().numpy()
        np.testing.assert_allclose(streamer.step([xa[:, t], xb[:, t]]), expected, rtol=0, atol=1e-5)


def test_stream_reduced_sequence_feeds_a_decoder_through_the_layers_own_code():
    model = gated.Sequential([L.Input(shape=(None, 3)), L.GRU(8), L.RepeatVector(4),
                              L.GRU(8, return_sequences=True), L.TimeDistributed(L.Dense(2))])
    x = random_input((1, 6, 3))
    streamer = Streamer(model)
    for t in range(6):
        np.testing.assert_allclose(streamer.step(x[:, t]), model(torch.as_tensor(x[:, :t + 1])).detach().numpy(),
                                   rtol=0, atol=1e-5)
    kernels = {p.layer: (p.kernel, p.detail) for p in streamer.paths}
    # the per-step encoder
    assert kernels[model.layers[0].name] == (Kernel.GATED_CPU, "C++: gated-cpu GRU step on [x, h, 1]")
    assert kernels[model.layers[2].name] == (Kernel.TORCH, "torch: the layer's own call")


def test_stream_custom_and_stacked_cells_run_their_own_step():
    model = gated.Sequential([L.Input(shape=(None, 3)), L.RNN([L.GRUCell(4), L.LSTMCell(5)], return_sequences=True)])
    x = random_input((2, 5, 3))
    streamer = Streamer(model, batch_size=2)
    np.testing.assert_allclose(stream_all(streamer, x), model(torch.as_tensor(x)).detach().numpy(), atol=1e-6)
    assert streamer.paths[0].kernel is Kernel.TORCH and streamer.paths[0].detail == "torch: the cell's own step"
    assert "StackedRNNCells is not a built-in" in streamer.paths[0].reason


def test_stream_dispatch_reports_the_fast_kernel_and_why_not():
    standard = gated.Sequential([L.Input(shape=(None, 3)), L.GRU(4), L.Dense(2)])
    paths = Streamer(standard).paths
    assert paths[0].kernel is Kernel.GATED_CPU and paths[0].detail == "C++: gated-cpu GRU step on [x, h, 1]"
    assert paths[1].kernel is Kernel.NUMPY and paths[1].detail == "numpy: one np.dot with the bias folded in"
    assert str(paths[1]) == f"{standard.layers[1].name}: numpy: one np.dot with the bias folded in (Dense)"
    odd = gated.Sequential([L.Input(shape=(None, 3)),
                            L.GRU(4, activation="relu", recurrent_activation="hard_sigmoid")])
    (path,) = Streamer(odd).paths
    assert path.kernel is Kernel.TORCH and path.detail == "torch: the cell's own step"
    assert path.reason == "activation='relu' (tanh needed); recurrent_activation='hard_sigmoid' (sigmoid needed)"
    assert all(p.reason == "fast=False" for p in Streamer(standard, fast=False).paths)
    assert [p.kernel for p in Streamer(standard, fast=False).paths] == [Kernel.TORCH, Kernel.TORCH]


@pytest.mark.parametrize("kind, kernel, detail", [
    ("gru", Kernel.GATED_CPU, "C++: gated-cpu GRU step on [x, h, 1]"),
    ("gru_reset_before", Kernel.NUMPY, "numpy: one np.dot for [x, h, 1] reset_after=False"),
    ("lstm", Kernel.NUMPY, "numpy: one np.dot for [x, h, 1]"),
    ("simple_rnn_relu", Kernel.NUMPY, "numpy: one np.dot for [x, h, 1]"),
])
def test_stream_kernels_are_the_dispatch_modules_choice(kind, kernel, detail):
    """Streaming asks the layers' dispatch module (decide_step) which kernel steps a recurrent layer."""
    from gated.kernels import _dispatch

    model = gated.Sequential([L.Input(shape=(None, 3)), recurrent(kind, 4, "float32")])
    (path,) = Streamer(model).paths
    choice = _dispatch.decide_step(model.layers[0])
    assert (path.kernel, path.detail, path.reason) == (choice.kernel, choice.detail, choice.reason)
    assert (path.kernel, path.detail) == (kernel, detail)


@pytest.mark.parametrize("cls", [L.MinGRU, L.MinLSTM])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_stream_of_a_minimal_layer_runs_its_own_step_and_equals_the_model(cls, return_sequences):
    model = gated.Sequential([L.Input(shape=(None, 3)), cls(5, return_sequences=True),
                              cls(4, return_sequences=return_sequences), L.Dense(2)])
    x = random_input((2, 6, 3))
    streamer = Streamer(model, batch_size=2)
    assert [p.kernel for p in streamer.paths] == [Kernel.TORCH, Kernel.TORCH, Kernel.NUMPY]
    assert streamer.paths[0].reason == f"the cell {cls.__name__}Cell is not a built-in GRU, LSTM or SimpleRNN cell"
    prefixes = [model(torch.as_tensor(x[:, :t + 1])).detach().numpy() for t in range(6)]
    expected = np.stack([p[:, -1] if return_sequences else p for p in prefixes], axis=1)
    np.testing.assert_allclose(stream_all(streamer, x), expected, rtol=0, atol=1e-5)


def test_reset_starts_the_streams_over():
    model = gated.Sequential([L.Input(shape=(None, 3)), L.LSTM(6), L.Dense(2)])
    x = random_input((2, 4, 3))
    streamer = Streamer(model, batch_size=2)
    first = stream_all(streamer, x)
    streamer.reset()
    np.testing.assert_array_equal(stream_all(streamer, x), first)
    streamer.reset(batch_size=1)
    assert streamer.batch_size == 1
    # Not bit for bit: one stream's step multiplies a (1, F + H + 1) row buffer, two streams' a (2, ...) one, and
    # the BLAS behind np.dot sums them in a different order (OpenBLAS: matrix-vector vs matrix-matrix kernels), so
    # the same row differs by float32 rounding (measured: 5e-7 relative after four steps).
    np.testing.assert_allclose(stream_all(streamer, x[1:]), first[1:], rtol=0, atol=1e-6)


def test_functional_step_serves_sessions_without_touching_the_streamer():
    model = gated.Sequential([L.Input(shape=(None, 3)), L.GRU(5, return_sequences=True), L.LSTM(4), L.Dense(2)])
    x = random_input((3, 5, 3))
    expected = stream_all(Streamer(model, batch_size=3), x)
    streamer = Streamer(model)
    assert streamer.state_spec == [(model.layers[0].name, (5,)), (model.layers[1].name, (4,)),
                                   (model.layers[1].name, (4,))]
    sessions = [streamer.initial_state(1) for _ in range(3)]
    for t in range(5):  # sessions served one at a time, in any order
        for i in (2, 0, 1):
            y, sessions[i] = streamer.step(x[i:i + 1, t], sessions[i])
            np.testing.assert_allclose(y, expected[i:i + 1, t], atol=1e-6)
    assert all(np.all(s == 0) for s in streamer.state)  # the streamer's own state never moved
    # sessions stack along the batch axis: a batch of 3 continues from their states
    stacked = [np.concatenate(parts) for parts in zip(*sessions)]
    y, _ = streamer.step(x[:, 0], stacked)
    reference = Streamer(model, batch_size=3)
    reference.state = stacked
    np.testing.assert_array_equal(y, reference.step(x[:, 0]))


def test_state_get_and_set_round_trip():
    model = gated.Sequential([L.Input(shape=(None, 3)), L.GRU(5), L.Dense(2)])
    x = random_input((1, 6, 3))
    streamer = Streamer(model)
    stream_all(streamer, x[:, :3])
    saved = streamer.state
    later = stream_all(streamer, x[:, 3:])
    streamer.state = saved
    np.testing.assert_array_equal(stream_all(streamer, x[:, 3:]), later)


def test_single_stream_and_torch_inputs():
    model = gated.Sequential([L.Input(shape=(None, 3)), L.GRU(5), L.Dense(2)])
    x = random_input((1, 4, 3))
    expected = stream_all(Streamer(model), x)
    streamer = Streamer(model)
    unbatched = [streamer.step(x[0, t]) for t in range(4)]
    assert unbatched[0].shape == (2,)
    np.testing.assert_array_equal(np.stack(unbatched), expected[0])
    streamer.reset()
    y = streamer.step(torch.as_tensor(x[:, 0]))
    assert isinstance(y, torch.Tensor)
    np.testing.assert_array_equal(y.numpy(), expected[:, 0])


def test_stream_outputs_are_fresh_arrays():
    model = gated.Sequential([L.Input(shape=(None, 3)), L.GRU(5)])
    streamer = Streamer(model)
    x = random_input((1, 2, 3))
    first = streamer.step(x[:, 0])
    kept = first.copy()
    streamer.step(x[:, 1])
    np.testing.assert_array_equal(first, kept)


# ---------------------------------------------------------------------------------------------------- streaming errors
def seq(*layers, features=3, dtype=None):
    return gated.Sequential([L.Input(shape=(None, features), dtype=dtype), *layers])


@pytest.mark.parametrize("model, message", [
    (lambda: seq(L.Bidirectional(L.GRU(4, name="bi_gru"), name="bi")),
     r"Streaming cannot run Layer 'bi' \(Bidirectional.*\): a Bidirectional layer also reads the sequence "
     r"backwards, so its output at step t depends on steps that have not arrived yet"),
    (lambda: seq(L.GRU(4, go_backwards=True, name="back")),
     r"Layer 'back' \(GRU, units=4\): go_backwards=True processes the sequence from its last step"),
    (lambda: seq(L.Masking(0.0, name="mask"), L.GRU(4)),
     r"Layer 'mask' \(Masking, mask_value=0.0\): masks are not supported when streaming; send only the real "
     r"timesteps"),
    (lambda: gated.Sequential([L.Input(shape=(None,), dtype="int64"), L.Embedding(9, 3, mask_zero=True, name="emb"),
                               L.GRU(4)]),
     r"Layer 'emb' \(Embedding, input_dim=9, output_dim=3, mask_zero=True\): mask_zero=True makes id 0 a masked"),
    (lambda: gated.Sequential([L.Input(shape=(6, 3)), L.GRU(4, return_sequences=True), L.Flatten(name="flat"),
                               L.Dense(2)]),
     r"Layer 'flat' \(Flatten\): its output at one timestep depends on other timesteps"),
    (lambda: seq(L.TimeDistributed(L.Flatten(), name="td")),
     r"Layer 'td' \(TimeDistributed.*\): TimeDistributed streams Dense, Dropout, Activation and Embedding layers "
     r"only; it wraps Flatten"),
])
def test_unstreamable_layers_are_named_with_the_reason(model, message):
    with pytest.raises(ValueError, match=message):
        Streamer(model())


def test_initial_state_from_another_layer_cannot_stream():
    x = L.Input(shape=(None, 3))
    summary = L.GRU(4)(x)
    out = L.GRU(4, return_sequences=True, name="decoder")(x, initial_state=summary)
    with pytest.raises(ValueError, match=r"Layer 'decoder' \(GRU, units=4\): it takes \['initial_state'\] from "
                                         r"other layers; a streamed recurrent layer starts from zeros"):
        Streamer(gated.Model(x, out))


def test_stream_input_and_state_errors():
    model = seq(L.GRU(4), L.Dense(2))
    streamer = Streamer(model, batch_size=2)
    with pytest.raises(ValueError, match=r"Streaming input 'input' takes one timestep x\[:, t\] of shape \(2, 3\) "
                                         r"\(or \(3,\) for a single stream\), but received shape \(2, 5\)\.$"):
        streamer.step(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"received shape \(4, 3\)\. This streamer runs 2 stream\(s\); call "
                                         r"reset\(batch_size=4\) to change it, or pass a state"):
        streamer.step(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"The state must be 1 array\(s\) with one batch size B: gru\w* \('B', 4\); "
                                         r"received 1 of shape\(s\) \[\(2, 5\)\]\. Start from "
                                         r"streamer\.initial_state\(B\)\."):
        streamer.step(np.zeros((2, 3)), [np.zeros((2, 5))])
    with pytest.raises(TypeError, match="Streaming expects numeric input, received an array of dtype <U1"):
        streamer.step(np.array([["a", "b", "c"]] * 2))
    with pytest.raises(ValueError, match="batch_size is the number of streams, a positive integer; received 0"):
        Streamer(model, batch_size=0)


def test_embedding_ids_out_of_range_raise_the_layers_error():
    model = gated.Sequential([L.Input(shape=(None,), dtype="int64"), L.Embedding(5, 3, name="emb"), L.GRU(4)])
    streamer = Streamer(model)
    for bad in (7, -1):
        with pytest.raises(ValueError, match=rf"Layer 'emb' \(Embedding.*\) received index {bad}"):
            streamer.step(np.array([bad]))


def test_subclassed_and_unbuilt_models_are_refused():
    custom = built_subclassed_model()
    with pytest.raises(ValueError, match=r"subclassed model: its computation is Python code with no recorded layer "
                                         r"graph, so streaming cannot read it"):
        Streamer(custom)
    with pytest.raises(ValueError, match=r"is not built yet, so it has no weights for int8 quantization"):
        quantize(gated.Sequential([L.GRU(3)]))


# ---------------------------------------------------------------------------------------------------- int8
def encoder_decoder_model():
    a = L.Input(shape=(None, 8))
    _, h, c = L.LSTM(16, return_state=True)(a)
    b = L.Input(shape=(None, 4))
    decoded = L.Dense(3)(L.LSTM(16, return_sequences=True)(b, initial_state=[h, c]))
    return gated.Model([a, b], decoded)


def bidirectional_states_model():
    a = L.Input(shape=(None, 8))
    bi = L.Bidirectional(L.LSTM(16, return_state=True))(a)
    return gated.Model(a, L.Dense(2)(L.Concatenate()([bi[0], bi[1], bi[4]])))


CONVERSION_MODELS = {
    "gru_lstm_dense": lambda: seq(L.GRU(32, return_sequences=True), L.LSTM(16), L.Dense(4, activation="softmax"),
                                  features=8),
    "go_backwards": lambda: seq(L.GRU(16, go_backwards=True, return_sequences=True), L.TimeDistributed(L.Dense(3)),
                                features=8),
    "repeat_decoder": lambda: seq(L.GRU(16), L.RepeatVector(3), L.LSTM(8, return_sequences=True), L.Dropout(0.2),
                                  L.TimeDistributed(L.Dense(2)), features=8),
    "embedding": lambda: gated.Sequential([L.Input(shape=(None,), dtype="int64"), L.Embedding(30, 8), L.GRU(16),
                                           L.Dense(2, activation="softmax")]),
    "encoder_decoder": encoder_decoder_model,
    "bidirectional_states": bidirectional_states_model,
    "float64": lambda: seq(L.GRU(16, dtype="float64"), L.Dense(2, dtype="float64"), features=8, dtype="float64"),
    **{f"bidirectional_{mode}_{'seq' if rs else 'last'}":
       (lambda mode=mode, rs=rs: seq(L.Bidirectional(L.GRU(16, return_sequences=rs), merge_mode=mode), L.Dense(3),
                                     features=8))
       for mode in ("concat", "sum", "ave", "mul") for rs in (True, False)},
}


def conversion_inputs(name):
    rng = np.random.default_rng(2)
    if name == "embedding":
        return rng.integers(0, 30, size=(16, 10))
    x = rng.standard_normal((16, 10, 8)).astype("float32")
    if name == "encoder_decoder":
        return [x, rng.standard_normal((16, 5, 4)).astype("float32")]
    return x


@pytest.mark.parametrize("name", list(CONVERSION_MODELS))
def test_int8_model_computes_the_model_within_tolerance(name):
    model = CONVERSION_MODELS[name]()
    x = conversion_inputs(name)
    expected = model.predict(x, verbose=0)
    # the torch modules are exact in float32; quantization alone moves the outputs
    np.testing.assert_allclose(float_inference_model(model).predict(x), expected, rtol=0, atol=1e-5)
    int8 = quantize(model)
    assert isinstance(int8, InferenceModel) and int8.weight_dtype == "int8"
    got = int8.predict(x, batch_size=5)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.abs(got - expected).max() < 0.05
    assert "DynamicQuantized" in repr(int8)


def test_int8_weights_are_smaller():
    model = seq(L.GRU(64, return_sequences=True), L.GRU(64), L.Dense(4), features=8)
    assert quantize(model).size_bytes() < 0.4 * float_inference_model(model).size_bytes()


@pytest.fixture(scope="module")
def italy_classifier():
    import gated.datasets

    (x_train, y_train), (x_test, y_test) = gated.datasets.italy_power_demand.load_data()
    torch.manual_seed(0)
    model = seq(L.GRU(16), L.Dense(2, activation="softmax"), features=1)
    model.compile(optimizer=gated.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    with one_thread():
        model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)
    return model, np.asarray(x_test), np.asarray(y_test)


def test_int8_classifier_agrees_with_float32_on_a_real_dataset(italy_classifier):
    model, x_test, y_test = italy_classifier
    fp32 = model.predict(x_test, verbose=0)
    int8 = quantize(model).predict(x_test, batch_size=256)
    assert (fp32.argmax(1) == y_test).mean() > 0.85  # the model learned something
    assert (int8.argmax(1) == fp32.argmax(1)).mean() > 0.95
    # measured here: agreement 0.998, max change of a probability 0.03, mean 0.003
    assert np.abs(int8 - fp32).mean() < 0.02
    assert np.abs(int8 - fp32).max() < 0.2


def test_stream_of_a_trained_classifier_equals_predict(italy_classifier):
    model, x_test, _ = italy_classifier
    x = x_test[:64]
    streamer = Streamer(model, batch_size=64)
    for t in range(x.shape[1]):
        y = streamer.step(x[:, t])
    np.testing.assert_allclose(y, model.predict(x, verbose=0), rtol=0, atol=1e-5)


@pytest.mark.parametrize("layer, message", [
    (lambda: L.SimpleRNN(4, name="srnn"),
     r"int8 quantization cannot convert Layer 'srnn' \(SimpleRNN, units=4\): torch has no int8 kernel for SimpleRNN"),
    (lambda: L.GRU(4, reset_after=False, name="old_gru"),
     r"Layer 'old_gru' \(GRU, units=4\): torch's int8 GRU computes only the standard cell, but the layer has "
     r"reset_after=False"),
    (lambda: L.LSTM(4, activation="relu", name="relu_lstm"),
     r"Layer 'relu_lstm' \(LSTM, units=4\): .*activation='relu' \(tanh needed\)"),
    (lambda: L.Masking(0.0, name="mask"),
     r"Layer 'mask' \(Masking, mask_value=0.0\): masks are not supported by the int8 model"),
    (lambda: L.Lambda(lambda x: x * 2, name="double"),
     r"Layer 'double' \(Lambda.*\): it is not among the layers with an int8 or weightless conversion"),
    (lambda: L.TimeDistributed(L.Flatten(), name="td"),
     r"Layer 'td' \(TimeDistributed.*\): TimeDistributed converts Dense, Dropout and Activation only"),
])
def test_int8_refuses_unsupported_layers_by_name(layer, message):
    model = seq(layer(), features=4)
    with pytest.raises(ValueError, match=message):
        quantize(model)


def test_int8_without_torch_quantization_says_so(monkeypatch):
    import torch.ao.quantization

    monkeypatch.delattr(torch.ao.quantization, "quantize_dynamic")
    with pytest.raises(RuntimeError, match=r"int8 quantization uses torch\.ao\.quantization\.quantize_dynamic, "
                                           r"which torch .* does not provide"):
        quantize(seq(L.GRU(4)))


def test_only_torchs_quantization_deprecations_are_silenced():
    with _quiet_torch_quantization():
        with pytest.raises(DeprecationWarning, match="something else"):
            warnings.warn("something else is deprecated", DeprecationWarning)
        warnings.warn("torch.ao.quantization is deprecated and will be removed", DeprecationWarning)


def test_model_stream_is_a_streamer():
    model = seq(L.GRU(4), L.Dense(2))
    streamer = model.stream(batch_size=2)
    assert isinstance(streamer, Streamer) and streamer.batch_size == 2
