# Source: https://keras.io/examples/vision/captcha_ocr/
#   https://github.com/keras-team/keras-io/blob/master/examples/vision/captcha_ocr.py (Keras 3 version,
#   Last modified 2024/03/13)
# Author: A_K_Nain; converted to Keras 3 by Sitam Meur. keras-io is licensed under the Apache License 2.0.
# Changed for the test suite:
#   - `os.environ["KERAS_BACKEND"] = "tensorflow"` is left out (the suite runs every program on torch).
#   - the captcha_images_v2.zip download and the PNG files are replaced by seeded synthetic images: each
#     character is drawn as its own fixed random glyph, five glyphs side by side plus noise; the labels are the
#     strings those images show (file names in the original). 1040 -> 160 images, 200x50 -> 80x16 pixels.
#   - TensorFlow-only parts replaced by numpy/Keras equivalents: tf.io.read_file/decode_png/convert_image_dtype
#     (the synthetic images are already float32 in [0, 1]), tf.strings.unicode_split + StringLookup (StringLookup
#     needs TensorFlow) -> the same vocabulary as a Python dict; tf.data pipelines -> dicts of numpy arrays given
#     to fit with batch_size; the loss body `tf.compat.v1.nn.ctc_loss(log(y_pred), sparse labels)` ->
#     `keras.ops.ctc_loss` on the same log-probabilities with the last class as the blank (TensorFlow's
#     convention there), so ctc_label_dense_to_sparse (tf.SparseTensor) is gone; tf.sparse.to_dense after
#     ops.ctc_decode is not needed (ops.ctc_decode returns a dense array here).
#   - epochs 100 -> 5; early_stopping_patience stays 10. The matplotlib figures draw to the Agg backend.
#   - appended: the validation CTC loss and the RESULT line. The prose cells are left out.
"""
Title: OCR model for reading Captchas
Author: [A_K_Nain](https://twitter.com/A_K_Nain)
Date created: 2020/06/14
Last modified: 2024/03/13
Description: How to implement an OCR model using CNNs, RNNs and CTC loss.
Converted to Keras 3 by: [Sitam Meur](https://github.com/sitamgithub-MSIT)
"""

"""
## Setup
"""

import os

import numpy as np
import matplotlib.pyplot as plt

from pathlib import Path
from collections import Counter

import keras
from keras import ops
from keras import layers

"""
## Load the data (replaced: synthetic captchas)
"""

_rng = np.random.default_rng(int(os.environ.get("PROGRAM_SEED", "0")))
_alphabet = list("2345678bcdefgmnpwxy")[:10]
_glyphs = {c: (np.random.default_rng(100 + i).random((16, 16)) < 0.45).astype("float32")
           for i, c in enumerate(_alphabet)}


def _synthetic_captcha(label):
    image = np.concatenate([_glyphs[c] for c in label], axis=1)  # (16, 80): height, width
    return np.clip(image * 0.8 + _rng.random(image.shape) * 0.3, 0, 1).astype("float32")


labels = ["".join(_rng.choice(_alphabet, size=5)) for _ in range(160)]
images = np.stack([_synthetic_captcha(label) for label in labels])[..., None]  # decoded PNGs, (n, 16, 80, 1)
characters = set(char for label in labels for char in label)
characters = sorted(list(characters))

print("Number of images found: ", len(images))
print("Number of labels found: ", len(labels))
print("Number of unique characters: ", len(characters))
print("Characters present: ", characters)

# Batch size for training and validation
batch_size = 16

# Desired image dimensions
img_width = 80
img_height = 16

# Factor by which the image is going to be downsampled
# by the convolutional blocks. We will be using two
# convolution blocks and each block will have
# a pooling layer which downsample the features by a factor of 2.
# Hence total downsampling factor would be 4.
downsample_factor = 4

# Maximum length of any captcha in the dataset
max_length = max([len(label) for label in labels])


"""
## Preprocessing
"""

# Mapping characters to integers (was: layers.StringLookup(vocabulary=list(characters), mask_token=None))
_vocabulary = ["[UNK]"] + list(characters)
char_to_num = {char: index for index, char in enumerate(_vocabulary)}

# Mapping integers back to original characters (was: StringLookup(..., invert=True))
num_to_char = dict(enumerate(_vocabulary))


def split_data(images, labels, train_size=0.9, shuffle=True):
    # 1. Get the total size of the dataset
    size = len(images)
    # 2. Make an indices array and shuffle it, if required
    indices = ops.arange(size)
    if shuffle:
        keras.random.shuffle(indices)
    # 3. Get the size of training samples
    train_samples = int(size * train_size)
    # 4. Split data into training and validation sets
    indices = ops.convert_to_numpy(indices)  # numpy cannot index with a torch tensor
    x_train, y_train = images[indices[:train_samples]], labels[indices[:train_samples]]
    x_valid, y_valid = images[indices[train_samples:]], labels[indices[train_samples:]]
    return x_train, x_valid, y_train, y_valid


# Splitting data into training and validation sets
x_train, x_valid, y_train, y_valid = split_data(np.array(images), np.array(labels))


def encode_single_sample(img, label):
    # 1.-3. (read, decode and convert the PNG: the synthetic image is already a float32 array in [0, 1])
    # 4. Resize to the desired size
    img = ops.image.resize(img, [img_height, img_width])
    # 5. Transpose the image because we want the time
    # dimension to correspond to the width of the image.
    img = ops.transpose(img, axes=[1, 0, 2])
    # 6. Map the characters in label to numbers
    label = np.array([char_to_num[char] for char in label], dtype="float32")
    # 7. Return a dict as our model is expecting two inputs
    return {"image": ops.convert_to_numpy(img), "label": label}


"""
## Create `Dataset` objects (replaced: dicts of numpy arrays)
"""


def _encode_all(images, labels):
    samples = [encode_single_sample(img, label) for img, label in zip(images, labels)]
    return {key: np.stack([sample[key] for sample in samples]) for key in ("image", "label")}


train_dataset = _encode_all(x_train, y_train)
validation_dataset = _encode_all(x_valid, y_valid)

"""
## Visualize the data
"""


_, ax = plt.subplots(4, 4, figsize=(10, 5))
images = train_dataset["image"][:16]
labels = train_dataset["label"][:16]
for i in range(16):
    img = (images[i] * 255).astype("uint8")
    label = "".join(num_to_char[int(n)] for n in labels[i])
    ax[i // 4, i % 4].imshow(img[:, :, 0].T, cmap="gray")
    ax[i // 4, i % 4].set_title(label)
    ax[i // 4, i % 4].axis("off")
plt.show()

"""
## Model
"""


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    label_length = ops.cast(ops.squeeze(label_length, axis=-1), dtype="int32")
    input_length = ops.cast(ops.squeeze(input_length, axis=-1), dtype="int32")

    y_pred = ops.log(y_pred + keras.backend.epsilon())

    return ops.expand_dims(
        ops.ctc_loss(
            ops.cast(y_true, "int32"),
            y_pred,
            label_length,
            input_length,
            mask_index=ops.shape(y_pred)[-1] - 1,
        ),
        1,
    )


class CTCLayer(layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = ctc_batch_cost

    def call(self, y_true, y_pred):
        # Compute the training-time loss value and add it
        # to the layer using `self.add_loss()`.
        batch_len = ops.cast(ops.shape(y_true)[0], dtype="int64")
        input_length = ops.cast(ops.shape(y_pred)[1], dtype="int64")
        label_length = ops.cast(ops.shape(y_true)[1], dtype="int64")

        input_length = input_length * ops.ones(shape=(batch_len, 1), dtype="int64")
        label_length = label_length * ops.ones(shape=(batch_len, 1), dtype="int64")

        loss = self.loss_fn(y_true, y_pred, input_length, label_length)
        self.add_loss(loss)

        # At test time, just return the computed predictions
        return y_pred


def build_model():
    # Inputs to the model
    input_img = layers.Input(
        shape=(img_width, img_height, 1), name="image", dtype="float32"
    )
    labels = layers.Input(name="label", shape=(None,), dtype="float32")

    # First conv block
    x = layers.Conv2D(
        32,
        (3, 3),
        activation="relu",
        kernel_initializer="he_normal",
        padding="same",
        name="Conv1",
    )(input_img)
    x = layers.MaxPooling2D((2, 2), name="pool1")(x)

    # Second conv block
    x = layers.Conv2D(
        64,
        (3, 3),
        activation="relu",
        kernel_initializer="he_normal",
        padding="same",
        name="Conv2",
    )(x)
    x = layers.MaxPooling2D((2, 2), name="pool2")(x)

    # We have used two max pool with pool size and strides 2.
    # Hence, downsampled feature maps are 4x smaller. The number of
    # filters in the last layer is 64. Reshape accordingly before
    # passing the output to the RNN part of the model
    new_shape = ((img_width // 4), (img_height // 4) * 64)
    x = layers.Reshape(target_shape=new_shape, name="reshape")(x)
    x = layers.Dense(64, activation="relu", name="dense1")(x)
    x = layers.Dropout(0.2)(x)

    # RNNs
    x = layers.Bidirectional(layers.LSTM(128, return_sequences=True, dropout=0.25))(x)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True, dropout=0.25))(x)

    # Output layer
    x = layers.Dense(
        len(_vocabulary) + 1, activation="softmax", name="dense2"
    )(x)

    # Add CTC layer for calculating CTC loss at each step
    output = CTCLayer(name="ctc_loss")(labels, x)

    # Define the model
    model = keras.models.Model(
        inputs=[input_img, labels], outputs=output, name="ocr_model_v1"
    )
    # Optimizer
    opt = keras.optimizers.Adam()
    # Compile the model and return
    model.compile(optimizer=opt)
    return model


# Get the model
model = build_model()
model.summary()

"""
## Training
"""


epochs = 5
early_stopping_patience = 10
# Add early stopping
early_stopping = keras.callbacks.EarlyStopping(
    monitor="val_loss", patience=early_stopping_patience, restore_best_weights=True
)

# Train the model
history = model.fit(
    train_dataset,
    validation_data=(validation_dataset,),
    batch_size=batch_size,
    epochs=epochs,
    callbacks=[early_stopping],
)


"""
## Inference
"""


# Get the prediction model by extracting layers till the output layer
prediction_model = keras.models.Model(
    model.input[0], model.get_layer(name="dense2").output
)
prediction_model.summary()


# A utility function to decode the output of the network
def decode_batch_predictions(pred):
    input_len = np.ones(pred.shape[0]) * pred.shape[1]
    # Use greedy search. For complex tasks, you can use beam search
    results = ops.ctc_decode(pred, sequence_lengths=input_len, strategy="greedy")[0][0]
    # Slice the dense tensor to keep only up to max_length
    dense_results = ops.convert_to_numpy(results)[:, :max_length]
    # Iterate over the results and get back the text
    output_text = []
    for res in dense_results:
        res = "".join(num_to_char.get(int(n), "") for n in res if n >= 0)
        output_text.append(res)
    return output_text


#  Let's check results on some validation samples
batch_images = validation_dataset["image"][:16]
batch_labels = validation_dataset["label"][:16]

preds = prediction_model.predict(batch_images)
pred_texts = decode_batch_predictions(preds)

orig_texts = []
for label in batch_labels:
    label = "".join(num_to_char[int(n)] for n in label)
    orig_texts.append(label)

_, ax = plt.subplots(4, 4, figsize=(15, 5))
for i in range(len(pred_texts)):
    img = (batch_images[i, :, :, 0] * 255).astype(np.uint8)
    img = img.T
    title = f"Prediction: {pred_texts[i]}"
    ax[i // 4, i % 4].imshow(img, cmap="gray")
    ax[i // 4, i % 4].set_title(title)
    ax[i // 4, i % 4].axis("off")
plt.show()

# --- appended for the test suite ---
import json

val_loss = model.evaluate(validation_dataset, batch_size=batch_size, verbose=0)
print("RESULT " + json.dumps({"metric": "val_ctc_loss", "value": float(val_loss), "higher_is_better": False}))
