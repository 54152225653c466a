# Source: https://keras.io/examples/vision/conv_lstm/
#   https://github.com/keras-team/keras-io/blob/master/examples/vision/conv_lstm.py (the Keras 3 version)
# Author: Amogh Joshi. keras-io is licensed under the Apache License 2.0.
# Changed for the test suite:
#   - the Moving MNIST download (mnist_test_seq.npy, uint8, (20, 10000, 64, 64)) is replaced by a seeded
#     synthetic array of the same layout and dtype: bright 4x4 squares moving with constant velocity, bouncing
#     off the borders; 10000 -> 60 sequences, 64x64 -> 16x16 pixels, 20 -> 10 frames.
#   - sizes: filters 64 -> 8 in each ConvLSTM2D, epochs 20 -> 3; 10 -> 4 predicted frames.
#   - the GIF / widget display at the end (imageio, IPython, ipywidgets: not installed) is left out;
#     matplotlib draws to the Agg backend.
#   - appended: the validation loss and the RESULT line. The prose cells are left out.
"""
Title: Next-Frame Video Prediction with Convolutional LSTMs
Author: [Amogh Joshi](https://github.com/amogh7joshi)
Date created: 2021/06/02
Last modified: 2021/06/05
Description: How to build and train a convolutional LSTM model for next-frame video prediction.
"""

"""
## Setup
"""

import numpy as np
import matplotlib.pyplot as plt

import keras
from keras import layers

"""
## Dataset Construction (the download replaced: synthetic moving squares)
"""

import os

_rng = np.random.default_rng(int(os.environ.get("PROGRAM_SEED", "0")))


def _moving_squares(frames=10, count=60, size=16, square=4):
    data = np.zeros((frames, count, size, size), dtype=np.uint8)
    for n in range(count):
        position = _rng.integers(0, size - square, size=2).astype(float)
        velocity = _rng.choice([-1.0, 1.0], size=2) * _rng.integers(1, 3, size=2)
        for f in range(frames):
            row, col = position.astype(int)
            data[f, n, row : row + square, col : col + square] = 255
            position += velocity
            for axis in range(2):
                if not 0 <= position[axis] <= size - square:
                    velocity[axis] *= -1
                    position[axis] = np.clip(position[axis], 0, size - square)
    return data


dataset = _moving_squares()

# Swap the axes representing the number of frames and number of data samples.
dataset = np.swapaxes(dataset, 0, 1)
# We'll pick out 1000 of the 10000 total examples and use those.
dataset = dataset[:1000, ...]
# Add a channel dimension since the images are grayscale.
dataset = np.expand_dims(dataset, axis=-1)

# Split into train and validation sets using indexing to optimize memory.
indexes = np.arange(dataset.shape[0])
np.random.shuffle(indexes)
train_index = indexes[: int(0.9 * dataset.shape[0])]
val_index = indexes[int(0.9 * dataset.shape[0]) :]
train_dataset = dataset[train_index]
val_dataset = dataset[val_index]

# Normalize the data to the 0-1 range.
train_dataset = train_dataset / 255
val_dataset = val_dataset / 255


# We'll define a helper function to shift the frames, where
# `x` is frames 0 to n - 1, and `y` is frames 1 to n.
def create_shifted_frames(data):
    x = data[:, 0 : data.shape[1] - 1, :, :]
    y = data[:, 1 : data.shape[1], :, :]
    return x, y


# Apply the processing function to the datasets.
x_train, y_train = create_shifted_frames(train_dataset)
x_val, y_val = create_shifted_frames(val_dataset)

# Inspect the dataset.
print("Training Dataset Shapes: " + str(x_train.shape) + ", " + str(y_train.shape))
print("Validation Dataset Shapes: " + str(x_val.shape) + ", " + str(y_val.shape))

"""
## Data Visualization
"""

# Construct a figure on which we will visualize the images.
fig, axes = plt.subplots(2, 5, figsize=(10, 4))

# Plot each of the sequential images for one random data example.
data_choice = np.random.choice(range(len(train_dataset)), size=1)[0]
for idx, ax in enumerate(axes.flat):
    ax.imshow(np.squeeze(train_dataset[data_choice][idx]), cmap="gray")
    ax.set_title(f"Frame {idx + 1}")
    ax.axis("off")

# Print information and display the figure.
print(f"Displaying frames for example {data_choice}.")
plt.show()

"""
## Model Construction
"""

# Construct the input layer with no definite frame size.
inp = layers.Input(shape=(None, *x_train.shape[2:]))

# We will construct 3 `ConvLSTM2D` layers with batch normalization,
# followed by a `Conv3D` layer for the spatiotemporal outputs.
x = layers.ConvLSTM2D(
    filters=8,
    kernel_size=(5, 5),
    padding="same",
    return_sequences=True,
    activation="relu",
)(inp)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(
    filters=8,
    kernel_size=(3, 3),
    padding="same",
    return_sequences=True,
    activation="relu",
)(x)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(
    filters=8,
    kernel_size=(1, 1),
    padding="same",
    return_sequences=True,
    activation="relu",
)(x)
x = layers.Conv3D(
    filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same"
)(x)

# Next, we will build the complete model and compile it.
model = keras.models.Model(inp, x)
model.compile(
    loss=keras.losses.binary_crossentropy,
    optimizer=keras.optimizers.Adam(),
)

"""
## Model Training
"""

# Define some callbacks to improve training.
early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)

# Define modifiable training hyperparameters.
epochs = 3
batch_size = 5

# Fit the model to the training data.
model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    callbacks=[early_stopping, reduce_lr],
)

"""
## Frame Prediction Visualizations
"""

# Select a random example from the validation dataset.
example = val_dataset[np.random.choice(range(len(val_dataset)), size=1)[0]]

# Pick the first/last ten frames from the example.
frames = example[:6, ...]
original_frames = example[6:, ...]

# Predict a new set of 10 frames.
for _ in range(4):
    # Extract the model's prediction and post-process it.
    new_prediction = model.predict(np.expand_dims(frames, axis=0))
    new_prediction = np.squeeze(new_prediction, axis=0)
    predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

    # Extend the set of prediction frames.
    frames = np.concatenate((frames, predicted_frame), axis=0)

# Construct a figure for the original and new frames.
fig, axes = plt.subplots(2, 4, figsize=(20, 4))

# Plot the original frames.
for idx, ax in enumerate(axes[0]):
    ax.imshow(np.squeeze(original_frames[idx]), cmap="gray")
    ax.set_title(f"Frame {idx + 7}")
    ax.axis("off")

# Plot the new frames.
new_frames = frames[6:, ...]
for idx, ax in enumerate(axes[1]):
    ax.imshow(np.squeeze(new_frames[idx]), cmap="gray")
    ax.set_title(f"Frame {idx + 7}")
    ax.axis("off")

# Display the figure.
plt.show()

# --- appended for the test suite ---
import json

val_loss = model.evaluate(x_val, y_val, verbose=0)
print("RESULT " + json.dumps({"metric": "val_loss", "value": float(val_loss), "higher_is_better": False}))
