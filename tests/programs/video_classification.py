# Source: https://keras.io/examples/vision/video_classification/
#   https://github.com/keras-team/keras-io/blob/master/examples/vision/video_classification.py
#   (the Keras 3 version, Last modified 2023/12/07)
# Author: Sayak Paul. keras-io is licensed under the Apache License 2.0.
# Changed for the test suite:
#   - the UCF101 subset download (videos, train.csv/test.csv) and the frame reading (imutils, cv2, pandas: not
#     installed) are replaced by seeded synthetic data: prepare_all_videos returns frame features and frame
#     masks of the shapes it computes, (n, MAX_SEQ_LENGTH, NUM_FEATURES) float32 and (n, MAX_SEQ_LENGTH) bool,
#     for videos of 8 to 20 frames whose features are a class pattern plus noise.
#   - the InceptionV3 feature extractor (ImageNet weights: a download) is not built, since the frame features
#     are synthetic; build_feature_extractor stays in the program, uncalled.
#   - StringLookup needs TensorFlow: label_processor is the same vocabulary as a numpy lookup with
#     get_vocabulary(); 5 class names in place of the CSV's tags.
#   - sizes: NUM_FEATURES 2048 -> 256, 594/224 -> 400/100 videos, EPOCHS 10 -> 20 (the smaller set gives 5
#     steps an epoch, where the original gives 7); the GIF of the test video (imageio) is left out.
#   - the checkpoint path /tmp/video_classifier/... -> ./tmp/video_classifier/... (inside the run's directory).
#   - appended: run_experiment also returns the test accuracy it prints, and the RESULT line reports it. The
#     prose cells are left out.
"""
Title: Video Classification with a CNN-RNN Architecture
Author: [Sayak Paul](https://twitter.com/RisingSayak)
Date created: 2021/05/28
Last modified: 2023/12/07
Description: Training a video classifier with transfer learning and a recurrent model on the UCF101 dataset.
"""

"""
## Setup
"""
import os

import keras

import matplotlib.pyplot as plt
import numpy as np

"""
## Define hyperparameters
"""

IMG_SIZE = 224
BATCH_SIZE = 64
EPOCHS = 20

MAX_SEQ_LENGTH = 20
NUM_FEATURES = 256

"""
## Data preparation (replaced: synthetic videos)
"""

_rng = np.random.default_rng(int(os.environ.get("PROGRAM_SEED", "0")))
_tags = ["CricketShot", "PlayingCello", "Punch", "ShavingBeard", "TennisSwing"]
_patterns = np.random.default_rng(7).normal(0, 1, (len(_tags), NUM_FEATURES)).astype("float32")


def _synthetic_videos(count):
    tags = _rng.choice(_tags, size=count)
    lengths = _rng.integers(8, MAX_SEQ_LENGTH + 1, size=count)
    return {"video_name": [f"v_{tag}_{i:03d}.avi" for i, tag in enumerate(tags)], "tag": tags, "frames": lengths}


train_df = _synthetic_videos(400)
test_df = _synthetic_videos(100)

print(f"Total videos for training: {len(train_df['tag'])}")
print(f"Total videos for testing: {len(test_df['tag'])}")


def build_feature_extractor():
    feature_extractor = keras.applications.InceptionV3(
        weights="imagenet",
        include_top=False,
        pooling="avg",
        input_shape=(IMG_SIZE, IMG_SIZE, 3),
    )
    preprocess_input = keras.applications.inception_v3.preprocess_input

    inputs = keras.Input((IMG_SIZE, IMG_SIZE, 3))
    preprocessed = preprocess_input(inputs)

    outputs = feature_extractor(preprocessed)
    return keras.Model(inputs, outputs, name="feature_extractor")


class _Lookup:
    """What StringLookup(num_oov_indices=0, vocabulary=...) does here: tag -> index, and get_vocabulary()."""

    def __init__(self, vocabulary):
        self.vocabulary = [str(word) for word in vocabulary]

    def get_vocabulary(self):
        return list(self.vocabulary)

    def __call__(self, words):
        return np.vectorize(self.vocabulary.index)(np.asarray(words)).astype("int64")


label_processor = _Lookup(np.unique(train_df["tag"]))
print(label_processor.get_vocabulary())


def prepare_all_videos(df, root_dir):
    num_samples = len(df["tag"])
    labels = df["tag"]
    labels = keras.ops.convert_to_numpy(label_processor(labels[..., None]))

    # `frame_masks` and `frame_features` are what we will feed to our sequence model.
    # `frame_masks` will contain a bunch of booleans denoting if a timestep is
    # masked with padding or not.
    frame_masks = np.zeros(shape=(num_samples, MAX_SEQ_LENGTH), dtype="bool")
    frame_features = np.zeros(
        shape=(num_samples, MAX_SEQ_LENGTH, NUM_FEATURES), dtype="float32"
    )

    # For each video (replaced: the features of its frames are synthetic).
    for idx, length in enumerate(df["frames"]):
        class_pattern = _patterns[labels[idx, 0]]
        noise = _rng.normal(0, 2.0, (length, NUM_FEATURES))
        frame_features[idx, :length] = class_pattern + noise
        frame_masks[idx, :length] = 1  # 1 = not masked, 0 = masked

    return (frame_features, frame_masks), labels


train_data, train_labels = prepare_all_videos(train_df, "train")
test_data, test_labels = prepare_all_videos(test_df, "test")

print(f"Frame features in train set: {train_data[0].shape}")
print(f"Frame masks in train set: {train_data[1].shape}")

"""
## The sequence model
"""


# Utility for our sequence model.
def get_sequence_model():
    class_vocab = label_processor.get_vocabulary()

    frame_features_input = keras.Input((MAX_SEQ_LENGTH, NUM_FEATURES))
    mask_input = keras.Input((MAX_SEQ_LENGTH,), dtype="bool")

    # Refer to the following tutorial to understand the significance of using `mask`:
    # https://keras.io/api/layers/recurrent_layers/gru/
    x = keras.layers.GRU(16, return_sequences=True)(
        frame_features_input, mask=mask_input
    )
    x = keras.layers.GRU(8)(x)
    x = keras.layers.Dropout(0.4)(x)
    x = keras.layers.Dense(8, activation="relu")(x)
    output = keras.layers.Dense(len(class_vocab), activation="softmax")(x)

    rnn_model = keras.Model([frame_features_input, mask_input], output)

    rnn_model.compile(
        loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
    )
    return rnn_model


# Utility for running experiments.
def run_experiment():
    filepath = "./tmp/video_classifier/ckpt.weights.h5"
    checkpoint = keras.callbacks.ModelCheckpoint(
        filepath, save_weights_only=True, save_best_only=True, verbose=1
    )

    seq_model = get_sequence_model()
    history = seq_model.fit(
        [train_data[0], train_data[1]],
        train_labels,
        validation_split=0.3,
        epochs=EPOCHS,
        callbacks=[checkpoint],
    )

    seq_model.load_weights(filepath)
    _, accuracy = seq_model.evaluate([test_data[0], test_data[1]], test_labels)
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")

    return history, seq_model, accuracy


_, sequence_model, _test_accuracy = run_experiment()

"""
## Inference
"""


def prepare_single_video(frames):
    frame_mask = np.zeros(
        shape=(
            1,
            MAX_SEQ_LENGTH,
        ),
        dtype="bool",
    )
    frame_features = np.zeros(shape=(1, MAX_SEQ_LENGTH, NUM_FEATURES), dtype="float32")

    video_length = frames.shape[0]
    length = min(MAX_SEQ_LENGTH, video_length)
    frame_features[0, :length] = frames[:length]  # was: feature_extractor.predict on each frame
    frame_mask[0, :length] = 1  # 1 = not masked, 0 = masked

    return frame_features, frame_mask


def sequence_prediction(index):
    class_vocab = label_processor.get_vocabulary()

    frames = test_data[0][index, : test_df["frames"][index]]  # was: load_video(os.path.join("test", path))
    frame_features, frame_mask = prepare_single_video(frames)
    probabilities = sequence_model.predict([frame_features, frame_mask])[0]

    for i in np.argsort(probabilities)[::-1]:
        print(f"  {class_vocab[i]}: {probabilities[i] * 100:5.2f}%")
    return frames


test_video = np.random.choice(len(test_df["tag"]))
print(f"Test video path: {test_df['video_name'][test_video]}")
test_frames = sequence_prediction(test_video)

# --- appended for the test suite ---
import json

print("RESULT " + json.dumps({"metric": "test_accuracy", "value": float(_test_accuracy), "higher_is_better": True}))
