# Source: https://keras.io/examples/nlp/bidirectional_lstm_imdb/
#   https://github.com/keras-team/keras-io/blob/master/examples/nlp/bidirectional_lstm_imdb.py (the Keras 3 version)
# Author: fchollet. keras-io is licensed under the Apache License 2.0.
# Changed for the test suite:
#   - keras.datasets.imdb.load_data (a download) is replaced by seeded synthetic reviews of the same form: lists
#     of word indices of varying length; a review is positive when it holds more words from a "positive" set
#     than from a "negative" set.
#   - sizes: max_features 20000 -> 2000, maxlen 200 -> 30, 25000 -> 640 training and 320 validation reviews.
#   - appended: evaluate on the validation reviews and print the RESULT line.
"""
Title: Bidirectional LSTM on IMDB
Author: [fchollet](https://twitter.com/fchollet)
Date created: 2020/05/03
Last modified: 2020/05/03
Description: Train a 2-layer bidirectional LSTM on the IMDB movie review sentiment classification dataset.
"""
"""
## Setup
"""

import numpy as np
import keras
from keras import layers

max_features = 2000  # Only consider the top 20k words
maxlen = 30  # Only consider the first 200 words of each movie review

"""
## Build the model
"""

# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a 128-dimensional vector
x = layers.Embedding(max_features, 128)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(64))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

"""
## Load the IMDB movie review sentiment data (replaced: synthetic reviews)
"""

import os

_rng = np.random.default_rng(int(os.environ.get("PROGRAM_SEED", "0")))
_positive_words, _negative_words = np.arange(10, 30), np.arange(30, 50)


def _synthetic_reviews(count):
    reviews, labels = [], []
    for _ in range(count):
        words = list(_rng.integers(50, max_features, size=_rng.integers(10, 45)))
        label = int(_rng.integers(0, 2))
        strong, weak = (_positive_words, _negative_words) if label else (_negative_words, _positive_words)
        for _ in range(int(_rng.integers(3, 6))):
            words.insert(int(_rng.integers(0, len(words))), int(_rng.choice(strong)))
        for _ in range(int(_rng.integers(0, 2))):
            words.insert(int(_rng.integers(0, len(words))), int(_rng.choice(weak)))
        reviews.append([1] + [int(w) for w in words])  # 1 marks the start of a review, as in the IMDB data
        labels.append(label)
    return np.array(reviews, dtype=object), np.array(labels)


(x_train, y_train), (x_val, y_val) = _synthetic_reviews(640), _synthetic_reviews(320)
print(len(x_train), "Training sequences")
print(len(x_val), "Validation sequences")
# Use pad_sequence to standardize sequence length:
# this will truncate sequences longer than 200 words and zero-pad sequences shorter than 200 words.
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

"""
## Train and evaluate the model
"""

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))

# --- appended for the test suite ---
import json

_, val_accuracy = model.evaluate(x_val, y_val, verbose=0)
print("RESULT " + json.dumps({"metric": "val_accuracy", "value": float(val_accuracy), "higher_is_better": True}))
