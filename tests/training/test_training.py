"""The training loop's own behaviour: data sources, modes, errors that explain, models usable as torch modules."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gated
from gated import Model, Sequential
from gated.layers import GRU, LSTM, Dense, Dropout, Embedding, Input
from gated.utils import to_categorical

RNG = np.random.default_rng(3)


def seq_model(units_out=1, activation="sigmoid", return_sequences=True, name="gru"):
    return Sequential([GRU(8, input_shape=(None, 1), return_sequences=return_sequences, name=name),
                       Dense(units_out, activation=activation, name="dense")])


def data(n=64, steps=10):
    x = RNG.random((n, steps, 1)).astype("float32")
    return x, (x[..., 0] > 0.5).astype("float32")


# ---------------------------------------------------------------- the tutorial's mistake and its relatives
def test_tutorial_one_hot_targets_stop_before_training_with_both_fixes(capsys):
    x, _ = data()
    y = to_categorical(RNG.integers(0, 2, size=(64, 10)))
    model = seq_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    expected = (
        "Targets of shape (32, 10, 2) do not match the model output (32, 10, 1) for loss 'binary_crossentropy'.\n"
        "The targets look one-hot encoded (2 classes), while the last layer has 1 unit with a sigmoid.\n"
        "Either pass the integer labels without to_categorical (and keep the 1-unit output), or end the model with "
        "Dense(2, activation='softmax') and use loss='categorical_crossentropy'.")
    with pytest.raises(ValueError, match=re.escape(expected)):
        model.fit(x, y, epochs=10, batch_size=32, validation_data=(x, y))
    assert capsys.readouterr().out == ""  # stopped before the first epoch line
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_one_hot_targets_with_sparse_loss_suggest_categorical():
    x, _ = data()
    y = to_categorical(RNG.integers(0, 3, size=(64,)), 3)
    model = seq_model(3, "softmax", return_sequences=False)
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=re.escape(
            "The targets look one-hot encoded (3 classes), but 'sparse_categorical_crossentropy' expects integer "
            "class labels of shape (32,).\nEither pass the integer labels (y.argmax(-1), or skip to_categorical), "
            "or use loss='categorical_crossentropy'.")):
        model.fit(x, y, verbose=0)


def test_integer_labels_with_categorical_loss_suggest_sparse():
    x, _ = data()
    model = seq_model(3, "softmax", return_sequences=False)
    model.compile(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=re.escape(
            "use loss='sparse_categorical_crossentropy', or one-hot encode the labels with "
            "gated.utils.to_categorical(y, 3)")):
        model.fit(x, RNG.integers(0, 3, size=(64,)), verbose=0)


def test_per_sequence_targets_against_return_sequences_name_the_layer():
    x, _ = data()
    model = seq_model(3, "softmax", return_sequences=True)
    model.compile(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=re.escape(
            "Targets of shape (32, 3) do not match the model output (32, 10, 3) for loss 'categorical_crossentropy'."
            "\nThe model outputs one prediction per timestep (return_sequences=True on layer 'gru'), but the targets "
            "have one value per sequence.\nEither set return_sequences=False")):
        model.fit(x, to_categorical(RNG.integers(0, 3, size=(64,)), 3), verbose=0)


def test_per_step_targets_against_a_per_sequence_model_suggest_return_sequences():
    x, y = data()
    model = seq_model(1, "sigmoid", return_sequences=False)
    model.compile(loss="binary_crossentropy")
    with pytest.raises(ValueError, match=re.escape(
            "The targets have a time axis (10 steps), but the model predicts once per sequence.\nEither set "
            "return_sequences=True on layer 'gru'")):
        model.fit(x, y[..., None], verbose=0)


def test_wrong_number_of_target_columns_says_what_to_change():
    x, _ = data()
    model = seq_model(1, None, return_sequences=False)
    model.compile(loss="mse")
    with pytest.raises(ValueError, match=re.escape("The targets have 4 values per prediction but the last layer has "
                                                   "1 unit with no activation.\nMake the last layer's units match "
                                                   "the targets: Dense(4).")):
        model.fit(x, RNG.random((64, 4)), verbose=0)


# ---------------------------------------------------------------- arguments checked up front
@pytest.mark.parametrize("kwargs,message", [
    ({"batch_size": 0}, "batch_size must be a positive integer, received 0"),
    ({"batch_size": -3}, "batch_size must be a positive integer, received -3"),
    ({"validation_split": 1.0}, re.escape("validation_split must be a fraction in [0, 1), received 1.0")),
    ({"epochs": -1}, "epochs must be a non-negative integer, received -1"),
])
def test_bad_fit_arguments_are_rejected(kwargs, message):
    x, y = data()
    model = seq_model()
    model.compile(loss="binary_crossentropy")
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0, **kwargs)


def test_x_and_y_of_different_lengths_are_named():
    x, y = data()
    model = seq_model()
    model.compile(loss="binary_crossentropy")
    with pytest.raises(ValueError, match="x has 64, y has 50"):
        model.fit(x, y[:50], verbose=0)


def test_fit_before_compile_explains():
    x, y = data()
    with pytest.raises(ValueError, match=re.escape("must be compiled before fit(): call model.compile(")):
        seq_model().fit(x, y)


def test_missing_loss_and_unknown_names_fail_at_compile():
    with pytest.raises(ValueError, match="compile\\(\\) needs a loss"):
        seq_model().compile(optimizer="adam")
    with pytest.raises(ValueError, match="Did you mean 'binary_crossentropy'"):
        seq_model().compile(loss="binary_crossentropyy")
    with pytest.raises(ValueError, match="Did you mean 'adam'"):
        seq_model().compile(optimizer="adma", loss="mse")


# ---------------------------------------------------------------- data sources
def test_dataloader_dataset_and_generator_train_like_arrays():
    x, y = data(n=64)
    results = {}
    for kind in ("arrays", "dataset", "loader", "generator"):
        gated.utils.set_random_seed(1)
        model = seq_model()
        model.compile(optimizer=gated.optimizers.SGD(0.5), loss="binary_crossentropy", device="cpu")
        if kind == "arrays":
            model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        elif kind == "dataset":
            model.fit(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=16, epochs=2,
                      shuffle=False, verbose=0)
        elif kind == "loader":
            loader = DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=16)
            model.fit(loader, epochs=2, verbose=0)
        else:
            def batches():
                while True:
                    for i in range(0, 64, 16):
                        yield x[i:i + 16], y[i:i + 16]
            model.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
        results[kind] = model.get_weights()
    for kind in ("dataset", "loader", "generator"):
        for a, b in zip(results["arrays"], results[kind]):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_dict_inputs_by_input_name_and_dict_outputs():
    a, b = Input((5, 2), name="signal"), Input((3,), dtype="int32", name="tokens")
    h = GRU(4)(a)
    e = GRU(4)(Embedding(10, 3)(b))
    out = Dense(1, name="score")(gated.layers.Concatenate()([h, e]))
    model = Model({"signal": a, "tokens": b}, {"score": out})
    model.compile(optimizer="adam", loss={"score": "mse"}, device="cpu")
    x = {"signal": RNG.random((20, 5, 2)), "tokens": RNG.integers(0, 10, (20, 3))}
    history = model.fit(x, {"score": RNG.random((20, 1))}, epochs=2, verbose=0)
    assert list(history.history) == ["loss"] and len(history.history["loss"]) == 2
    predictions = model.predict(x, batch_size=7, verbose=0)
    assert set(predictions) == {"score"} and predictions["score"].shape == (20, 1)
    direct = model({k: torch.as_tensor(v) for k, v in x.items()})["score"].detach().numpy()
    np.testing.assert_allclose(predictions["score"], direct, atol=1e-6)


def test_predict_is_batched_inference_and_restores_mode():
    model = Sequential([GRU(6, input_shape=(None, 1), dropout=0.5, recurrent_dropout=0.5), Dense(1)])
    x, _ = data(n=50)
    model.train()
    first = model.predict(x, batch_size=8, verbose=0)
    np.testing.assert_allclose(first, model.predict(x, batch_size=50, verbose=0), atol=1e-6)  # no dropout
    assert isinstance(first, np.ndarray) and first.shape == (50, 1)
    assert model.training  # the mode the user set is kept
    model.eval()
    np.testing.assert_allclose(first, model(torch.as_tensor(x)).detach().numpy(), atol=1e-6)


def test_fit_turns_dropout_on_and_leaves_model_in_its_mode():
    model = Sequential([Dense(64, input_shape=(4,)), Dropout(0.9, seed=1), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    x, y = RNG.random((32, 4)), RNG.random((32, 1))
    calls = []
    model.layers[1].register_forward_hook(lambda mod, args, out: calls.append(mod.training))
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert calls == [False, True]  # the target check runs in inference mode, the step in training mode
    assert not model.training


def test_model_is_a_plain_torch_module():
    model = seq_model()
    x = torch.rand(3, 10, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(x).sum()
    loss.backward()
    optimizer.step()
    assert {name for name, _ in model.named_parameters()} >= {"_stack.0.cell.weight_ih", "_stack.1.kernel"}
    state = model.state_dict()
    clone = seq_model()
    clone.load_state_dict(state)
    torch.testing.assert_close(clone(x), model(x))


def test_train_on_batch_and_test_on_batch_return_keras_lists():
    model = seq_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cpu")
    x, y = data(n=16)
    loss, accuracy = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    logs = model.test_on_batch(x, y, return_dict=True)
    assert list(logs) == ["accuracy", "loss"]
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, verbose=0))


def test_learns_a_sequence_task_well_above_chance():
    gated.utils.set_random_seed(0)
    x = RNG.random((512, 10, 1)).astype("float32")
    y = (np.cumsum(x[..., 0], axis=1) / np.arange(1, 11) > 0.5).astype("float32")
    model = Sequential([GRU(32, input_shape=(None, 1), return_sequences=True), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cpu")
    history = model.fit(x[:400], y[:400], epochs=8, batch_size=32, validation_data=(x[400:], y[400:]), verbose=0)
    assert history.history["val_accuracy"][-1] > 0.85


def test_weights_file_round_trip_and_mismatch(tmp_path):
    model = seq_model()
    path = tmp_path / "w.safetensors"
    model.save_weights(path)
    other = seq_model()
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    wrong = Sequential([LSTM(8, input_shape=(None, 1)), Dense(1)])
    with pytest.raises(ValueError, match="'kernel' expects shape \\(1, 32\\), received \\(1, 24\\)"):
        wrong.load_weights(path)
