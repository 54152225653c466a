# Source: https://keras.io/guides/understanding_masking_and_padding/
#   https://github.com/keras-team/keras-io/blob/master/guides/understanding_masking_and_padding.py
#   (the Keras 3 version, Last modified 2023/06/25; the same text as guides/keras_core/ in that repository)
# Authors: Scott Zhu, Francois Chollet. keras-io is licensed under the Apache License 2.0.
# Changed for the test suite:
#   - nothing in the guide's code; the prose cells are left out.
#   - appended: the guide trains nothing, so its metric counts how many mask entries the guide's layers got wrong
#     (Embedding(mask_zero=True), Masking, TemporalSplit, CustomEmbedding, the mask reaching MyActivation's
#     output) against the masks numpy computes from the same inputs, plus whether the masked LSTM ignores the
#     padded steps (its output on the padded batch equals its output on each sequence alone, unpadded).
"""
Title: Understanding masking & padding
Authors: Scott Zhu, Francois Chollet
Date created: 2019/07/16
Last modified: 2023/06/25
Description: Complete guide to using mask-aware sequence layers in Keras.
"""

"""
## Setup
"""

import numpy as np
import keras
from keras import ops
from keras import layers

"""
## Padding sequence data
"""

raw_inputs = [
    [711, 632, 71],
    [73, 8, 3215, 55, 927],
    [83, 91, 1, 645, 1253, 927],
]

# By default, this will pad using 0s; it is configurable via the
# "value" parameter.
# Note that you could use "pre" padding (at the beginning) or
# "post" padding (at the end).
# We recommend using "post" padding when working with RNN layers
# (in order to be able to use the
# CuDNN implementation of the layers).
padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
print(padded_inputs)


"""
## Mask-generating layers: `Embedding` and `Masking`
"""

embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
masked_output = embedding(padded_inputs)

print(masked_output._keras_mask)

masking_layer = layers.Masking()
# Simulate the embedding lookup by expanding the 2D input to 3D,
# with embedding dimension of 10.
unmasked_embedding = ops.cast(
    ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]),
    dtype="float32",
)

masked_embedding = masking_layer(unmasked_embedding)
print(masked_embedding._keras_mask)

"""
## Mask propagation in the Functional API and Sequential API
"""

model = keras.Sequential(
    [
        layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True),
        layers.LSTM(32),
    ]
)

"""
This is also the case for the following Functional API model:
"""

inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
outputs = layers.LSTM(32)(x)

model = keras.Model(inputs, outputs)

"""
## Passing mask tensors directly to layers
"""


class MyLayer(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
        self.lstm = layers.LSTM(32)

    def call(self, inputs):
        x = self.embedding(inputs)
        # Note that you could also prepare a `mask` tensor manually.
        # It only needs to be a boolean tensor
        # with the right shape, i.e. (batch_size, timesteps).
        mask = self.embedding.compute_mask(inputs)
        output = self.lstm(x, mask=mask)  # The layer will ignore the masked values
        return output


layer = MyLayer()
x = np.random.random((32, 10)) * 100
x = x.astype("int32")
layer(x)

"""
## Supporting masking in your custom layers
"""


class TemporalSplit(keras.layers.Layer):
    """Split the input tensor into 2 tensors along the time dimension."""

    def call(self, inputs):
        # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
        # subtensors along the time axis (axis 1).
        return ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        # Also split the mask into 2 if it presents.
        if mask is None:
            return None
        return ops.split(mask, 2, axis=1)


first_half, second_half = TemporalSplit()(masked_embedding)
print(first_half._keras_mask)
print(second_half._keras_mask)

"""
Here is another example of a `CustomEmbedding` layer that is capable of generating a
mask from input values:
"""


class CustomEmbedding(keras.layers.Layer):
    def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.mask_zero = mask_zero

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer="random_normal",
            dtype="float32",
        )

    def call(self, inputs):
        inputs = ops.cast(inputs, "int32")
        return ops.take(self.embeddings, inputs)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)


layer = CustomEmbedding(10, 32, mask_zero=True)
x = np.random.random((3, 10)) * 9
x = x.astype("int32")

y = layer(x)
mask = layer.compute_mask(x)

print(mask)

"""
## Opting-in to mask propagation on compatible layers
"""


class MyActivation(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Signal that the layer is safe for mask propagation
        self.supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
x = MyActivation()(x)  # Will pass the mask along
print("Mask found:", x._keras_mask)
outputs = layers.LSTM(32)(x)  # Will receive the mask

model = keras.Model(inputs, outputs)
y = model(np.random.randint(0, 5000, size=(32, 100)))

"""
## Writing layers that need mask information
"""


class TemporalSoftmax(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        inputs_exp = ops.exp(inputs) * broadcast_float_mask
        inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
        return inputs_exp / inputs_sum


inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
x = layers.Dense(1)(x)
outputs = TemporalSoftmax()(x)

model = keras.Model(inputs, outputs)
y = model(np.random.randint(0, 10, size=(32, 100)))

# --- appended for the test suite ---
import json

_expected = padded_inputs != 0
_errors = 0
_errors += int(np.sum(ops.convert_to_numpy(masked_output._keras_mask) != _expected))
_errors += int(np.sum(ops.convert_to_numpy(masked_embedding._keras_mask) != _expected))
_errors += int(np.sum(ops.convert_to_numpy(first_half._keras_mask) != _expected[:, :3]))
_errors += int(np.sum(ops.convert_to_numpy(second_half._keras_mask) != _expected[:, 3:]))
_custom_inputs = (np.random.random((3, 10)) * 9).astype("int32")
_errors += int(np.sum(ops.convert_to_numpy(layer.compute_mask(_custom_inputs)) != (_custom_inputs != 0)))
_inputs = keras.Input(shape=(None,), dtype="int32")
_activated = MyActivation()(layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(_inputs))
_errors += int(getattr(_activated, "_keras_mask", None) is None)
# The masked LSTM of MyLayer: the padded batch gives what each sequence gives alone.
_layer = MyLayer()
_padded_outputs = ops.convert_to_numpy(_layer(padded_inputs))
for _row, _sequence in enumerate(raw_inputs):
    _alone = ops.convert_to_numpy(_layer(np.array([_sequence])))[0]
    _errors += int(not np.allclose(_padded_outputs[_row], _alone, atol=1e-5))
print("RESULT " + json.dumps({"metric": "mask_errors", "value": _errors, "higher_is_better": False}))
