"""The bad-input matrix at the public API: every row is a mistake users make, and each gets a ValueError or
TypeError saying what was received, what was expected and how to fix it - and leaves the model exactly as it was
(weights, optimizer state, history).

docs/RELIABILITY.md shows the messages these rows produce.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import gated
from gated.data import FileFormatError, read_csv_table, read_ts
from gated.layers import GRU, LSTM, Dense
from gated.utils import to_categorical

RNG = np.random.default_rng(8)
X = RNG.normal(size=(16, 5, 3)).astype("float32")  # (B, T, F)
Y_BINARY = RNG.integers(0, 2, size=(16, 1)).astype("float32")
LABELS = RNG.integers(0, 3, size=(16,))


def binary_model(return_sequences: bool = False) -> gated.Sequential:
    model = gated.Sequential([GRU(4, input_shape=(None, 3), return_sequences=return_sequences),
                              Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cpu")
    return model


def sparse_model() -> gated.Sequential:
    model = gated.Sequential([GRU(4, input_shape=(None, 3)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], device="cpu")
    return model


def categorical_model() -> gated.Sequential:
    model = gated.Sequential([GRU(4, input_shape=(None, 3)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", device="cpu")
    return model


def trained(kind: str) -> gated.Sequential:
    """A model after one epoch of training: it has weights, optimizer slots and a history to lose."""
    model = {"binary": binary_model, "sparse": sparse_model}[kind]()
    model.fit(X, Y_BINARY if kind == "binary" else LABELS, epochs=1, batch_size=8, verbose=0)
    return model


def _plain(value):
    """A deep copy of an optimizer state dict with tensors as numpy arrays."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return copy.deepcopy(value)


def _assert_same(a, b, where: str = "state") -> None:
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_same(u, v, f"{where}[{i}]")
    else:
        assert a == b, where


class Snapshot:
    """Weights, optimizer state and history of a model, to prove a rejected call changed none of them."""

    def __init__(self, model):
        self.weights = [w.copy() for w in model.get_weights()]
        optimizer = model.optimizer
        self.optimizer = _plain(optimizer.state_dict()) if optimizer is not None and optimizer.built else None
        self.history = model.history
        self.logs = copy.deepcopy(model.history.history) if model.history is not None else None
        self.epochs = list(model.history.epoch) if model.history is not None else None

    def assert_unchanged(self, model) -> None:
        weights = model.get_weights()
        assert len(weights) == len(self.weights)
        for before, after in zip(self.weights, weights):
            np.testing.assert_array_equal(before, after)
        if self.optimizer is not None:
            _assert_same(self.optimizer, _plain(model.optimizer.state_dict()), "optimizer")
            assert self.optimizer["iterations"] > 0  # the snapshot held real optimizer state
        assert model.history is self.history
        if self.history is not None:
            assert model.history.history == self.logs and list(model.history.epoch) == self.epochs


def replaced(array: np.ndarray, index: tuple, value: float = np.nan) -> np.ndarray:
    array = array.copy()
    array[index] = value
    return array


def labels_with(value: int, index: int) -> np.ndarray:
    labels = LABELS.copy()
    labels[index] = value
    return labels


# (row id, model kind, the bad call, exception type, the message it must show)
ROWS = [
    # NaN and infinity, with the position of the first one and the opt-out
    ("nan_in_x_fit", "binary", lambda m: m.fit(replaced(X, (2, 3, 1)), Y_BINARY, verbose=0), ValueError,
     r"x holds nan at index \(2, 3, 1\) \(sample 2, timestep 3, feature 1\); 1 of its 240 values is NaN or "
     r"infinite.*Fill or drop them first.*or pass check_finite=False"),
    ("inf_in_y_fit", "binary", lambda m: m.fit(X, replaced(Y_BINARY, (5, 0), np.inf), verbose=0), ValueError,
     r"y holds inf at index \(5, 0\) \(sample 5, column 0\).*check_finite=False"),
    ("nan_late_in_y_fit", "binary",  # batch 2 of 2: found before the first batch trains
     lambda m: m.fit(X, replaced(Y_BINARY, (15, 0)), batch_size=8, verbose=0), ValueError,
     r"y holds nan at index \(15, 0\)"),
    ("nan_in_sample_weight", "binary",
     lambda m: m.fit(X, Y_BINARY, sample_weight=replaced(np.ones(16, "float32"), (4,)), verbose=0), ValueError,
     r"sample_weight holds nan at index \(4,\) \(sample 4\)"),
    ("nan_in_validation_data", "binary",
     lambda m: m.fit(X, Y_BINARY, validation_data=(replaced(X, (0, 1, 2)), Y_BINARY), verbose=0), ValueError,
     r"validation_data: x holds nan at index \(0, 1, 2\)"),
    ("neg_inf_in_x_evaluate", "binary", lambda m: m.evaluate(replaced(X, (1, 0, 0), -np.inf), Y_BINARY, verbose=0),
     ValueError, r"x holds -inf at index \(1, 0, 0\)"),
    ("nan_in_x_predict", "binary", lambda m: m.predict(replaced(X, (3, 4, 2)), verbose=0), ValueError,
     r"x holds nan at index \(3, 4, 2\) \(sample 3, timestep 4, feature 2\)"),
    # shapes
    ("x_rank_2", "binary", lambda m: m.fit(X[:, :, 0], Y_BINARY, verbose=0), ValueError,
     r"expects input of shape \(batch, timesteps, features\) with features=3, but received a 2-D array of shape "
     r"\(16, 5\)\. If these are univariate series of length 5, add a feature axis: x\[\.\.\., None\]"),
    ("x_rank_4", "binary", lambda m: m.predict(X[..., None], verbose=0), ValueError,
     r"received a 4-D array of shape \(16, 5, 3, 1\)\. Reshape the input to \(batch, timesteps, features\)"),
    ("feature_count_fit", "binary", lambda m: m.fit(np.zeros((16, 5, 4), "float32"), Y_BINARY, verbose=0),
     ValueError, r"Layer 'gru.*' \(GRU, units=4\) expects .* with features=3, but received a 3-D array of shape "
                 r"\(16, 5, 4\)\. The layer was built for 3 features"),
    ("feature_count_predict", "binary", lambda m: m.predict(np.zeros((2, 5, 2), "float32"), verbose=0), ValueError,
     r"with features=3, but received a 3-D array of shape \(2, 5, 2\)"),
    ("feature_count_validation_data", "binary",  # checked before the first epoch, not after it
     lambda m: m.fit(X, Y_BINARY, validation_data=(np.zeros((4, 5, 2), "float32"), Y_BINARY[:4]), verbose=0),
     ValueError, r"with features=3, but received a 3-D array of shape \(4, 5, 2\)"),
    ("one_hot_validation_targets", "binary",  # checked before the first epoch, not after it
     lambda m: m.fit(X, Y_BINARY, validation_data=(X, to_categorical(Y_BINARY, 2)), verbose=0), ValueError,
     r"The targets look one-hot encoded \(2 classes\), while the last layer has 1 unit with a sigmoid"),
    ("x_y_lengths", "binary", lambda m: m.fit(X, Y_BINARY[:10], verbose=0), ValueError,
     r"The data arrays have different numbers of samples: x has 16, y has 10\. Every array needs one row per "
     r"sample"),
    ("sample_weight_length", "binary", lambda m: m.fit(X, Y_BINARY, sample_weight=np.ones(3), verbose=0), ValueError,
     r"x has 16, y has 16, sample_weight has 3"),
    ("empty_fit", "binary", lambda m: m.fit(X[:0], Y_BINARY[:0], verbose=0), ValueError,
     r"The data is empty: x has shape \(0, 5, 3\)\. Pass at least one sample"),
    ("empty_predict", "binary", lambda m: m.predict(np.zeros((0, 5, 3)), verbose=0), ValueError,
     r"The data is empty: x has shape \(0, 5, 3\)"),
    # batch size
    ("batch_size_zero", "binary", lambda m: m.fit(X, Y_BINARY, batch_size=0, verbose=0), ValueError,
     r"batch_size must be a positive integer, received 0\. The usual choices are 16 to 256"),
    ("batch_size_negative_predict", "binary", lambda m: m.predict(X, batch_size=-4, verbose=0), ValueError,
     r"batch_size must be a positive integer, received -4"),
    ("batch_size_float_evaluate", "binary", lambda m: m.evaluate(X, Y_BINARY, batch_size=2.5, verbose=0),
     ValueError, r"batch_size must be a positive integer, received 2\.5"),
    # dtypes and ragged lists
    ("string_x", "binary", lambda m: m.fit(np.full((16, 5, 3), "a"), Y_BINARY, verbose=0), TypeError,
     r"GRU, units=4\) expects numeric input, but received an array of dtype <U1 and shape \(16, 5, 3\)\. "
     r"Convert strings to numbers first"),
    ("object_y", "binary", lambda m: m.fit(X, np.array(["yes", "no"] * 8, dtype=object), verbose=0), TypeError,
     r"y has dtype object \(shape \(16,\)\); expected numbers"),
    ("string_labels_sparse", "sparse", lambda m: m.fit(X, np.array(["a", "b"] * 8), verbose=0), TypeError,
     r"y has dtype <U1.*Only model inputs \(x\) may be strings.*integer class ids"),
    ("ragged_python_list", "binary",
     lambda m: m.fit([[[0.1, 0.2, 0.3]], [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]], [0, 1], verbose=0), ValueError,
     r"x is a ragged nested list: its sequences have different lengths \(the first ones: 1, 2\).*"
     r"gated\.utils\.pad_sequences\(sequences, padding='post', dtype='float32'\)"),
    ("ragged_python_list_predict", "binary", lambda m: m.predict([[[1.0, 2.0, 3.0]], []], verbose=0), ValueError,
     r"x is a ragged nested list.*pad_sequences"),
    ("list_of_sequences", "binary",
     lambda m: m.fit([np.zeros((5, 3)), np.zeros((7, 3)), np.zeros((4, 3))], [0, 1, 0], verbose=0), ValueError,
     r"x\[0\] has 5, x\[1\] has 7, x\[2\] has 4, y has 3.*If x is a list of 3 sequences \(one array per "
     r"sample\).*pad_sequences\(x, padding='post'"),
    # labels and targets against the loss and the output
    ("label_above_range", "sparse", lambda m: m.fit(X, labels_with(3, 13), batch_size=4, verbose=0), ValueError,
     r"received the integer label 3, but the predictions have 3 classes, so labels must lie in \[0, 2\] \(the "
     r"first label outside is at index \(13,\) of the targets\)\. Check that the last layer has one unit per class"),
    ("label_negative", "sparse", lambda m: m.evaluate(X, labels_with(-1, 2), verbose=0), ValueError,
     r"received the integer label -1.*labels must lie in \[0, 2\].*index \(2,\)"),
    ("label_out_of_range_validation", "sparse",
     lambda m: m.fit(X, LABELS, validation_data=(X, labels_with(7, 0)), verbose=0), ValueError,
     r"received the integer label 7"),
    ("one_hot_against_one_unit", "binary", lambda m: m.fit(X, to_categorical(Y_BINARY, 2), verbose=0), ValueError,
     r"Targets of shape \(16, 2\) do not match the model output \(16, 1\) for loss 'binary_crossentropy'\.\nThe "
     r"targets look one-hot encoded \(2 classes\), while the last layer has 1 unit with a sigmoid\.\nEither pass "
     r"the integer labels without to_categorical .*Dense\(2, activation='softmax'\)"),
    ("one_hot_against_sparse_loss", "sparse", lambda m: m.fit(X, to_categorical(LABELS, 3), verbose=0), ValueError,
     r"The targets look one-hot encoded \(3 classes\), but 'sparse_categorical_crossentropy' expects integer class "
     r"labels of shape \(16,\)\.\nEither pass the integer labels \(y\.argmax\(-1\), or skip to_categorical\)"),
    ("too_many_target_columns", "binary", lambda m: m.fit(X, np.zeros((16, 3), "float32"), verbose=0), ValueError,
     r"Targets of shape \(16, 3\) do not match the model output \(16, 1\).*\nThe targets have 3 values per "
     r"prediction but the last layer has 1 unit with a sigmoid\.\nMake the last layer's units match the targets: "
     r"Dense\(3\)"),
    ("time_axis_targets_on_a_trained_model", "binary", lambda m: m.fit(X, np.zeros((16, 5, 1)), verbose=0),
     ValueError, r"Targets of shape \(16, 5, 1\) do not match the model output \(16, 1\).*\nThe targets have a time "
                 r"axis \(5 steps\), but the model predicts once per sequence"),
    ("labels_beyond_binary", "binary", lambda m: m.fit(X, replaced(Y_BINARY, (6, 0), 2.0), verbose=0), ValueError,
     r"binary_crossentropy received the target 2 \(at index \(6, 0\) of the targets\), but it needs targets in "
     r"\[0, 1\].*loss='sparse_categorical_crossentropy'"),
    ("one_hot_evaluate_on_a_trained_model", "binary", lambda m: m.evaluate(X, to_categorical(Y_BINARY, 2),
                                                                           verbose=0),
     ValueError, r"The targets look one-hot encoded \(2 classes\), while the last layer has 1 unit"),
    # fit arguments
    ("validation_split_one", "binary", lambda m: m.fit(X, Y_BINARY, validation_split=1.0, verbose=0), ValueError,
     r"validation_split must be a fraction in \[0, 1\), received 1\.0\. For example validation_split=0\.2"),
    ("validation_split_negative", "binary", lambda m: m.fit(X, Y_BINARY, validation_split=-0.1, verbose=0),
     ValueError, r"validation_split must be a fraction in \[0, 1\), received -0\.1"),
    ("validation_split_string", "binary", lambda m: m.fit(X, Y_BINARY, validation_split="0.2", verbose=0),
     ValueError, r"received '0\.2'"),
    ("validation_split_leaves_nothing", "binary", lambda m: m.fit(X[:1], Y_BINARY[:1], validation_split=0.5,
                                                                  verbose=0),
     ValueError, r"validation_split=0\.5 of 1 samples leaves no training samples.*validation_data=\(x_val, y_val\)"),
    ("epochs_negative", "binary", lambda m: m.fit(X, Y_BINARY, epochs=-1, verbose=0), ValueError,
     r"epochs must be a non-negative integer, received -1"),
    # names, with the closest valid one
    ("unknown_optimizer", "binary", lambda m: m.compile(optimizer="adma", loss="mse"), ValueError,
     r"Unknown optimizer 'adma'\. Did you mean 'adam'\? Known optimizers: adadelta"),
    ("unknown_loss", "binary", lambda m: m.compile(optimizer="adam", loss="mean_sqared_error"), ValueError,
     r"Unknown loss 'mean_sqared_error'\. Did you mean 'mean_squared_error'\?"),
    ("unknown_metric", "binary", lambda m: m.compile(optimizer="adam", loss="mse", metrics=["acuracy"]), ValueError,
     r"Unknown metric 'acuracy'\. Did you mean 'accuracy'\?"),
    ("unknown_weighted_metric", "binary",
     lambda m: m.compile(optimizer="adam", loss="mse", weighted_metrics=["mea"]), ValueError,
     r"Unknown metric 'mea'\. Did you mean '(mae|mean)'\?"),
    ("missing_loss", "binary", lambda m: m.compile(optimizer="adam"), ValueError,
     r"compile\(\) needs a loss for model .*'sparse_categorical_crossentropy' for integer class labels"),
    # weights
    ("set_weights_shapes", "binary",
     lambda m: m.set_weights([np.zeros((2, 12)), *m.get_weights()[1:-1], np.zeros(3)]), ValueError,
     r"(?s)Cannot set the weights of Layer 'sequential.*' \(Sequential\):\n"
     r"  - 'kernel' expects shape \(3, 12\), received \(2, 12\) \(weights\[0\], in layer 'gru.*/gru_cell.*'\)\n"
     r"  - 'bias' expects shape \(1,\), received \(3,\) \(weights\[4\], in layer 'dense.*'\)\n"
     r"Nothing was changed"),
    ("set_weights_count", "binary", lambda m: m.set_weights(m.get_weights()[:-1]), ValueError,
     r"expected 5 arrays \(gru.*/gru_cell.*/kernel \(3, 12\), .*dense.*/bias \(1,\)\), received 4"),
    ("set_weights_strings", "binary", lambda m: m.set_weights([w.astype(str) for w in m.get_weights()]), ValueError,
     r"(?s)'kernel' expects numbers, received dtype <U.*'bias' expects numbers"),
]


@pytest.mark.parametrize("kind, call, error, message", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_bad_input_is_refused_with_a_clear_message_and_the_model_unchanged(kind, call, error, message):
    model = trained(kind)
    compiled = model.compiled
    before = Snapshot(model)
    with pytest.raises(error, match=message) as caught:
        call(model)
    assert type(caught.value) in (ValueError, TypeError, FileFormatError)
    before.assert_unchanged(model)
    assert model.compiled is compiled  # a refused compile() keeps the previous configuration


FRESH_ROWS = [
    # Target mismatches caught before the first step on a new model, with the tutorial's wording.
    ("tutorial_one_hot_against_sigmoid", lambda: binary_model(return_sequences=True),
     lambda m: m.fit(X, to_categorical(RNG.integers(0, 2, size=(16, 5))), verbose=0),
     r"Targets of shape \(16, 5, 2\) do not match the model output \(16, 5, 1\) for loss 'binary_crossentropy'\.\n"
     r"The targets look one-hot encoded \(2 classes\), while the last layer has 1 unit with a sigmoid\.\n"
     r"Either pass the integer labels without to_categorical \(and keep the 1-unit output\), or end the model with "
     r"Dense\(2, activation='softmax'\) and use loss='categorical_crossentropy'\."),
    ("integer_labels_against_categorical_loss", categorical_model, lambda m: m.fit(X, LABELS, verbose=0),
     r"The targets look like integer class labels, but 'categorical_crossentropy' expects one-hot targets of shape "
     r"\(16, 3\)\.\nEither use loss='sparse_categorical_crossentropy', or one-hot encode the labels with "
     r"gated\.utils\.to_categorical\(y, 3\)"),
    ("per_sequence_targets_against_return_sequences", lambda: binary_model(return_sequences=True),
     lambda m: m.fit(X, np.zeros((16, 3)), verbose=0),
     r"The model outputs one prediction per timestep \(return_sequences=True on layer 'gru.*'\), but the targets "
     r"have one value per sequence"),
    ("time_axis_targets_against_one_prediction", binary_model, lambda m: m.fit(X, np.zeros((16, 5, 1)), verbose=0),
     r"The targets have a time axis \(5 steps\), but the model predicts once per sequence\.\nEither set "
     r"return_sequences=True on layer 'gru.*'"),
    ("label_out_of_range_first_fit", sparse_model, lambda m: m.fit(X, labels_with(5, 9), batch_size=4, verbose=0),
     r"received the integer label 5.*index \(9,\)"),
    ("fit_before_compile", lambda: gated.Sequential([GRU(4, input_shape=(None, 3)), Dense(1)]),
     lambda m: m.fit(X, Y_BINARY, verbose=0),
     r"Model 'sequential.*' must be compiled before fit\(\): call model\.compile\(optimizer='adam', loss=\.\.\."),
]


@pytest.mark.parametrize("make, call, message", [row[1:] for row in FRESH_ROWS], ids=[row[0] for row in FRESH_ROWS])
def test_target_mismatches_stop_a_new_model_before_its_first_step(make, call, message):
    model = make()
    before = Snapshot(model)
    with pytest.raises(ValueError, match=message):
        call(model)
    before.assert_unchanged(model)
    assert model.optimizer is None or model.optimizer.iterations == 0


@pytest.mark.parametrize("layer, message", [
    (lambda: Dense(1, activation="sigmod"), r"Unknown activation 'sigmod'\. Did you mean 'sigmoid'\?"),
    (lambda: GRU(4, activation="tanhh"), r"Unknown activation 'tanhh'\. Did you mean 'tanh'\?"),
    (lambda: LSTM(4, recurrent_activation="hard_sigmod"), r"Did you mean 'hard_sigmoid'\?"),
], ids=["dense", "gru", "lstm_recurrent"])
def test_unknown_activation_names_suggest_the_closest(layer, message):
    with pytest.raises(ValueError, match=message + ".*Known activations: ") as caught:
        layer()
    listed = str(caught.value).split("Known activations: ")[1].split(";")[0].split(", ")
    assert listed == sorted(listed) and {"celu", "elu", "hard_sigmoid", "sigmoid", "tanh"} <= set(listed)


def test_check_finite_false_lets_nan_through_on_purpose():
    model = trained("binary")
    x = replaced(X, (3, 0, 0))
    outputs = model.predict(x, verbose=0, check_finite=False)
    assert np.isnan(outputs[3]).all() and np.isfinite(np.delete(outputs, 3, axis=0)).all()
    # In fit the NaN then reaches the loss, and the NaN-loss guard stops training before any weight changes.
    before = Snapshot(model)
    with pytest.warns(RuntimeWarning, match="Training stopped: the loss became nan at epoch 1, batch 1"):
        model.fit(x, Y_BINARY, batch_size=16, verbose=0, check_finite=False)
    for a, b in zip(before.weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_nested_python_list_of_numbers_is_one_array():
    model = trained("binary")
    from_list = model.predict(X.tolist(), verbose=0)
    np.testing.assert_allclose(from_list, model.predict(X, verbose=0), rtol=1e-6)
    model.fit(X.tolist(), Y_BINARY[:, 0].tolist(), epochs=1, verbose=0)  # plain lists train too


# ------------------------------------------------------------------------------------------ weights files
def test_load_weights_lists_every_mismatch_with_the_file_and_changes_nothing(tmp_path):
    path = tmp_path / "small.weights"
    source = gated.Sequential([GRU(5, input_shape=(None, 3)), Dense(1)])
    source.save_weights(path)
    model = trained("binary")
    before = Snapshot(model)
    with pytest.raises(ValueError, match=(
            r"(?s)small\.weights does not fit model 'sequential.*'\. Cannot set the weights of Layer .*\n"
            r"  - 'kernel' expects shape \(3, 12\), received \(3, 15\).*\n"
            r"  - 'recurrent_kernel' expects shape \(4, 12\), received \(5, 15\).*\n"
            r"  - 'bias' expects shape \(2, 12\), received \(2, 15\).*\n"
            r"  - 'kernel' expects shape \(4, 1\), received \(5, 1\).*Nothing was changed")):
        model.load_weights(path)
    before.assert_unchanged(model)


def test_load_weights_with_a_different_number_of_weights_names_both_lists(tmp_path):
    path = tmp_path / "two_layers.weights"
    gated.Sequential([GRU(4, input_shape=(None, 3)), GRU(4), Dense(1)]).save_weights(path)
    model = trained("binary")
    before = Snapshot(model)
    with pytest.raises(ValueError, match=r"(?s)two_layers\.weights holds 8 weights but model 'sequential.*' has 5\.\n"
                                         r"  in the file: \[.*\]\n  in the model: \[.*\]\nNothing was changed"):
        model.load_weights(path)
    before.assert_unchanged(model)


def test_load_weights_from_a_file_that_is_not_a_weights_file(tmp_path):
    path = tmp_path / "notes.weights"
    path.write_text("these are not weights")
    model = trained("binary")
    before = Snapshot(model)
    with pytest.raises(ValueError, match=r"notes\.weights is not a readable gated weights file"):
        model.load_weights(path)
    before.assert_unchanged(model)


# ------------------------------------------------------------------------------------------ data readers
TS_HEADER = "@problemName demo\n@timeStamps false\n@univariate true\n@classLabel true 1 2\n@data\n"

MALFORMED = [
    ("ts_label_not_declared", "bad.ts", TS_HEADER + "0.1,0.2,0.3:1\n0.1,0.2,0.3:3\n",
     r"bad\.ts, line 7: class label '3' is not one of the labels declared by @classLabel \('1', '2'\)"),
    ("ts_value_not_a_number", "bad.ts", TS_HEADER + "0.1,zz,0.3:1\n",
     r"bad\.ts, line 6: dimension 1, value 2: 'zz' is not a number"),
    ("ts_line_cut_short", "bad.ts", TS_HEADER + "0.1,0.2,0.3\n",
     r"bad\.ts, line 6: expected the values, then ':' and the label, found no ':' \(is the line cut short\?\)"),
    ("ts_no_series", "bad.ts", TS_HEADER, r"bad\.ts, line 5: no series after @data"),
    ("ts_data_before_header", "bad.ts", "@problemName demo\n0.1,0.2:1\n",
     r"bad\.ts, line 2: data before the @data line"),
    ("ts_wrong_dimension_count", "bad.ts",
     "@problemName d\n@univariate false\n@dimensions 2\n@classLabel true 1 2\n@data\n0.1,0.2:1\n",
     r"bad\.ts, line 6: expected 2 dimensions separated by ':', found 1"),
    ("ts_binary_bytes", "bad.ts", b"\x00\x01\xff\xfe garbage\n", r"bad\.ts, line 1: is not UTF-8 text.*save the file "
                                                                 r"as UTF-8"),
    ("csv_value_not_a_number", "bad.csv", "label,a,b,c\n1,0.1,0.2,0.3\n2,0.1,abc,0.3\n",
     r"bad\.csv, line 3: column 3 \('b'\): 'abc' is not a number"),
    ("csv_empty", "bad.csv", "", r"bad\.csv: the file has no rows"),
    ("csv_header_only", "bad.csv", "label,a,b\n", r"bad\.csv, line 1: the file has a header row and no data"),
]


@pytest.mark.parametrize("name, content, message", [row[1:] for row in MALFORMED], ids=[row[0] for row in MALFORMED])
def test_malformed_files_name_the_file_line_and_problem(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    reader = read_ts if name.endswith(".ts") else read_csv_table
    with pytest.raises(FileFormatError, match=message) as caught:
        reader(str(path))
    assert isinstance(caught.value, ValueError)
