"""Every epoch gets data, or fit says why: PyDataset / Sequence, re-iterables, one-shot generators with and without
steps_per_epoch, validation and evaluate/predict on them. Values are compared with real Keras given the same
weights and batches, or with gated's in-memory path on the same batches."""

from __future__ import annotations

import random
import threading
import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gated
from gated.utils import PyDataset, Sequence, timeseries_dataset_from_array

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3)).astype("float32")
Y = (X @ np.array([[0.5], [-1.0], [0.25]], dtype="float32") + 0.1).astype("float32")
BATCH = 8  # 5 batches


def gated_model(lr=0.05):
    model = gated.Sequential([gated.layers.Dense(4, activation="tanh", input_shape=(3,)), gated.layers.Dense(1)])
    model.compile(optimizer=gated.optimizers.SGD(lr), loss="mse", metrics=["mae"], device="cpu")
    return model


def keras_model(keras, weights, lr=0.05):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse", metrics=["mae"])
    model.set_weights(weights)
    return model


def batches(n_batches=5, start=0):
    for i in range(start, start + n_batches):
        j = (i % 5) * BATCH
        yield X[j:j + BATCH], Y[j:j + BATCH]


def assert_same_weights(ours, theirs, atol=1e-6):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), atol=atol)


def make_py_dataset(base, **kwargs):
    class Windows(base):
        """Batch i of X, Y; counts the epoch hooks and the threads that read."""

        def __init__(self, **kw):
            super().__init__(**kw)
            self.ends = self.begins = 0
            self.threads = set()

        def __len__(self):
            return 5

        def __getitem__(self, index):
            self.threads.add(threading.current_thread().name)
            return X[index * BATCH:(index + 1) * BATCH], Y[index * BATCH:(index + 1) * BATCH]

        def on_epoch_begin(self):
            self.begins += 1

        def on_epoch_end(self):
            self.ends += 1

    return Windows(**kwargs)


# ------------------------------------------------------------------------------------------------- PyDataset
def test_py_dataset_trains_every_epoch_like_keras(keras):
    ours, ours_data = gated_model(), make_py_dataset(PyDataset)
    theirs, their_data = keras_model(keras, ours.get_weights()), make_py_dataset(keras.utils.PyDataset)
    ours_history = ours.fit(ours_data, epochs=3, verbose=0, shuffle=False)
    their_history = theirs.fit(their_data, epochs=3, verbose=0, shuffle=False)
    np.testing.assert_allclose(ours_history.history["loss"], their_history.history["loss"], rtol=1e-5)
    assert_same_weights(ours, theirs)
    assert ours_data.begins == ours_data.ends == 3


def test_py_dataset_shuffle_draws_a_new_batch_order_each_epoch_with_random_shuffle():
    """Keras's rule (random.shuffle of the batch indices per epoch); Keras itself also spends one draw on a first
    peek at the data, which gated does not."""
    class Logged(PyDataset):
        def __init__(self):
            super().__init__()
            self.read = []

        def __len__(self):
            return 5

        def __getitem__(self, index):
            self.read.append(index)
            return X[index * BATCH:(index + 1) * BATCH], Y[index * BATCH:(index + 1) * BATCH]

    data = Logged()
    random.seed(7)
    gated_model().fit(data, epochs=3, verbose=0)  # fit's default shuffle=True
    random.seed(7)
    expected = []
    for _ in range(3):
        order = list(range(5))
        random.shuffle(order)
        expected += order
    assert data.read == expected


def test_py_dataset_workers_read_on_threads_in_index_order(keras):
    single, threaded = gated_model(), gated_model()
    threaded.set_weights(single.get_weights())
    one = make_py_dataset(PyDataset)
    many = make_py_dataset(PyDataset, workers=3, use_multiprocessing=True, max_queue_size=2)
    assert (many.workers, many.use_multiprocessing, many.max_queue_size) == (3, True, 2)
    single.fit(one, epochs=2, verbose=0, shuffle=False)
    threaded.fit(many, epochs=2, verbose=0, shuffle=False)
    assert_same_weights(single, threaded, atol=0)
    assert one.threads == {threading.main_thread().name}
    assert many.threads and threading.main_thread().name not in many.threads


def test_sequence_is_keras_2s_name_for_py_dataset(keras):
    assert Sequence is PyDataset and keras.utils.Sequence is keras.utils.PyDataset
    model = gated_model()
    history = model.fit(make_py_dataset(gated.utils.Sequence), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and len(history.history["loss"]) == 2


def test_py_dataset_without_super_init_and_an_endless_one():
    class NoInit(PyDataset):
        def __init__(self):  # no super().__init__(): the Keras defaults apply
            pass

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return X[:4], Y[:4]

    class Endless(NoInit):
        @property
        def num_batches(self):
            return None

    assert (NoInit().workers, NoInit().max_queue_size) == (1, 10)
    model = gated_model()
    assert len(model.fit(NoInit(), epochs=2, verbose=0).history["loss"]) == 2
    assert len(model.fit(Endless(), epochs=2, steps_per_epoch=3, verbose=0).history["loss"]) == 2
    with pytest.raises(ValueError, match="workers must be an integer >= 0"):
        make_py_dataset(PyDataset, workers=-1)


# ------------------------------------------------------------------------------------------------- re-iterables
def test_timeseries_dataset_restarts_every_epoch_like_the_same_arrays():
    series = np.sin(np.arange(60, dtype="float32") / 4)[:, None]
    dataset = timeseries_dataset_from_array(series[:-4], series[4:], sequence_length=4, batch_size=8)
    windows_x = np.concatenate([x for x, _ in dataset])
    windows_y = np.concatenate([y for _, y in dataset])
    from_dataset, from_arrays = (gated.Sequential([gated.layers.GRU(3, input_shape=(4, 1)), gated.layers.Dense(1)])
                                 for _ in range(2))
    from_arrays.build((None, 4, 1))
    from_dataset.build((None, 4, 1))
    from_arrays.set_weights(from_dataset.get_weights())
    for model in (from_dataset, from_arrays):
        model.compile(optimizer="adam", loss="mse", device="cpu")
    history = from_dataset.fit(dataset, epochs=3, verbose=0)
    expected = from_arrays.fit(windows_x, windows_y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"]).all()  # every epoch had data (it used to be nan after the first)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-6)
    assert_same_weights(from_dataset, from_arrays, atol=0)


def test_dataloader_with_steps_per_epoch_reads_on_and_restarts_like_keras(keras):
    loader = DataLoader(TensorDataset(torch.as_tensor(X), torch.as_tensor(Y)), batch_size=BATCH)
    ours = gated_model()
    theirs = keras_model(keras, ours.get_weights())
    # 5 batches, 2 per epoch: epochs read batches 0-1, 2-3, 4 (the loader ends: a warning), then 0-1 again
    with pytest.warns(RuntimeWarning, match=r"ran out of data after 1 of the 2 batches.*next epoch starts a new"):
        ours_history = ours.fit(loader, epochs=4, steps_per_epoch=2, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras: "Your input ran out of data"
        their_history = theirs.fit(loader, epochs=4, steps_per_epoch=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(ours_history.history["loss"], their_history.history["loss"], rtol=1e-5)
    assert_same_weights(ours, theirs)


def test_an_empty_re_iterable_is_an_error_not_nan():
    class Empty(PyDataset):
        def __len__(self):
            return 0

    with pytest.raises(ValueError, match="x produced no batches: a new pass over the Empty yielded nothing"):
        gated_model().fit(Empty(), epochs=1, verbose=0)


# ------------------------------------------------------------------------------------------------- generators
def test_a_generator_feeds_one_epoch_and_several_epochs_are_refused_before_training():
    model = gated_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"x is a one-shot generator: the first of 3 passes would use it up.*"
                                         r"the generator is exhausted.*pass a re-iterable \(a PyDataset.*or "
                                         r"steps_per_epoch"):
        model.fit(batches(), epochs=3, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    history = model.fit(batches(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_a_generator_with_steps_per_epoch_is_read_on_across_epochs_like_keras(keras):
    ours = gated_model()
    theirs = keras_model(keras, ours.get_weights())
    ours_history = ours.fit(batches(12), epochs=4, steps_per_epoch=3, verbose=0)
    their_history = theirs.fit(batches(12), epochs=4, steps_per_epoch=3, verbose=0, shuffle=False)
    np.testing.assert_allclose(ours_history.history["loss"], their_history.history["loss"], rtol=1e-5)
    assert_same_weights(ours, theirs)


def test_a_generator_that_runs_out_warns_then_the_next_epoch_is_an_error():
    model = gated_model()
    generator = batches(5)
    with pytest.warns(RuntimeWarning, match="ran out of data after 2 of the 3 batches.*one-shot iterator"):
        with pytest.raises(ValueError, match="x produced no batches: the generator is exhausted"):
            model.fit(generator, epochs=3, steps_per_epoch=3, verbose=0)
    assert len(model.history.history["loss"]) == 2  # the two epochs that had data
    assert np.isfinite(model.history.history["loss"]).all()


# ------------------------------------------------------------------------------------------------- validation
def test_validation_on_a_py_dataset_every_epoch_like_keras(keras):
    ours = gated_model()
    theirs = keras_model(keras, ours.get_weights())
    ours_val, their_val = make_py_dataset(PyDataset), make_py_dataset(keras.utils.PyDataset)
    ours_history = ours.fit(X, Y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0, validation_data=ours_val)
    their_history = theirs.fit(X, Y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0,
                               validation_data=their_val)
    for key in ("val_loss", "val_mae"):
        np.testing.assert_allclose(ours_history.history[key], their_history.history[key], rtol=1e-5)


def test_a_validation_generator_needs_validation_steps_for_several_epochs(keras):
    model = gated_model()
    with pytest.raises(ValueError, match=r"validation_data is a one-shot generator: the first of 2 passes.*"
                                         "validation_steps=N"):
        model.fit(X, Y, epochs=2, verbose=0, validation_data=batches())
    model.fit(X, Y, epochs=1, verbose=0, validation_data=batches())  # one validation run: fine
    theirs = keras_model(keras, model.get_weights())
    ours_history = model.fit(X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0,
                             validation_data=batches(4), validation_steps=2)
    their_history = theirs.fit(X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0,
                               validation_data=batches(4), validation_steps=2)
    np.testing.assert_allclose(ours_history.history["val_loss"][0], their_history.history["val_loss"][0],
                               rtol=1e-5)
    # the second validation reads the next two batches (Keras re-reads the two it peeked at first)
    assert ours_history.history["val_loss"][1] == pytest.approx(
        model.evaluate(batches(2, start=2), verbose=0, return_dict=True)["loss"], rel=1e-6)


# ------------------------------------------------------------------------------------------------- evaluate, predict
def test_evaluate_and_predict_on_generators_match_keras_and_an_exhausted_one_is_an_error(keras):
    ours = gated_model()
    theirs = keras_model(keras, ours.get_weights())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras: "Your input ran out of data"
        expected = [theirs.evaluate(batches(), verbose=0), theirs.predict(((x,) for x, _ in batches()), verbose=0),
                    theirs.evaluate(make_py_dataset(keras.utils.PyDataset), verbose=0)]
    np.testing.assert_allclose(ours.evaluate(batches(), verbose=0), expected[0], rtol=1e-6)
    np.testing.assert_allclose(ours.predict((x for x, _ in batches()), verbose=0), expected[1], rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(ours.evaluate(make_py_dataset(PyDataset), verbose=0), expected[2], rtol=1e-6)
    used = batches()
    ours.evaluate(used, verbose=0)
    with pytest.raises(ValueError, match="the generator is exhausted"):
        ours.evaluate(used, verbose=0)
    with pytest.raises(ValueError, match="the generator is exhausted"):
        ours.predict(used, verbose=0)
