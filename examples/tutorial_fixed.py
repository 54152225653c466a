"""The tutorial's example, fixed both ways gated's error message suggests, then trained on a task it can learn.

Run: python examples/tutorial_fixed.py
"""

import numpy as np

from gated import Sequential
from gated.layers import GRU, Dense
from gated.utils import set_random_seed, to_categorical

set_random_seed(0)
X_train = np.random.random((1000, 10, 1))
labels_train = np.random.randint(2, size=(1000, 10))
X_test = np.random.random((200, 10, 1))
labels_test = np.random.randint(2, size=(200, 10))


def tutorial_model(units_out, activation):
    model = Sequential()
    model.add(GRU(128, input_shape=(None, 1), return_sequences=True))
    model.add(Dense(units_out, activation=activation))
    return model


# Fix 1: keep Dense(1, sigmoid) and binary crossentropy; pass the integer labels, without to_categorical.
model = tutorial_model(1, "sigmoid")
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X_train, labels_train, epochs=2, batch_size=32, validation_data=(X_test, labels_test), verbose=2)
loss, accuracy = model.evaluate(X_test, labels_test, verbose=0)
print(f"fix 1 (integer labels, Dense(1, sigmoid)):        test loss {loss:.4f}, accuracy {accuracy:.3f}")

# Fix 2: keep the one-hot labels; end with Dense(2, softmax) and categorical crossentropy.
model = tutorial_model(2, "softmax")
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
y_train, y_test = to_categorical(labels_train), to_categorical(labels_test)
model.fit(X_train, y_train, epochs=2, batch_size=32, validation_data=(X_test, y_test), verbose=2)
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print(f"fix 2 (one-hot labels, Dense(2, softmax)):        test loss {loss:.4f}, accuracy {accuracy:.3f}")
print("Both sit at chance (0.5): the tutorial's labels are random, so there is nothing to learn.\n")

# A task with something to learn: is the running mean of the sequence so far above 0.5?
# The answer at step t depends on every earlier step, so the model needs its recurrent state.
y_train = (np.cumsum(X_train[..., 0], axis=1) / np.arange(1, 11) > 0.5).astype("float32")
y_test = (np.cumsum(X_test[..., 0], axis=1) / np.arange(1, 11) > 0.5).astype("float32")
model = tutorial_model(1, "sigmoid")
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=10, batch_size=32, validation_data=(X_test, y_test), verbose=2)
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print(f"running-mean task:                                 test loss {loss:.4f}, accuracy {accuracy:.3f}")
