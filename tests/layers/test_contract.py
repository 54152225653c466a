"""The layer contract, one parametrized check over every public layer and a registered custom subclass of each
kind (a cell inside ``RNN``, a GRU subclass inside ``Bidirectional`` and ``TimeDistributed``, a plain layer in
Sequential and functional models), as Keras's ``run_layer_test`` and PyTorch's ``ModuleInfo`` tables do it:

build and call; output shape and dtype against ``compute_output_shape``; the weight count against Keras's layer
(or the layer's own formula where Keras has none); ``serialize`` -> JSON -> ``deserialize`` giving the same config
and identical outputs; ``save`` -> ``load_model`` -> identical predictions (functional, and Sequential where the
layer takes one tensor); one ``fit`` step that changes every trainable weight (layers without weights skip it).

A public layer without an entry in ``CASES`` fails ``test_every_public_layer_has_a_contract_case``.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
import torch
from torch import nn

import gated
from gated import layers as L
from gated.saving import deserialize, register_serializable, serialize

B, T, F, H = 3, 5, 4, 6  # batch, timesteps, features, units


# ------------------------------------------------------------------------------------------ registered custom kinds
def _parameter(*shape: int) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape) * 0.3)


def _specs(layer: L.Layer, *names: str):
    for name in names:
        yield L.WeightSpec(name, get=lambda name=name: getattr(layer, name),
                           set=lambda value, name=name: getattr(layer, name).copy_(value))


@register_serializable(package="contract")
class ContractCell(L.Layer):
    """A cell written from scratch (Keras's MinimalRNNCell): ``h = tanh(x @ kernel + h @ recurrent_kernel)``."""

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape: Any) -> None:
        self.kernel = _parameter(input_shape[-1], self.units)
        self.recurrent_kernel = _parameter(self.units, self.units)
        self.built = True

    def _own_weight_specs(self):
        return _specs(self, "kernel", "recurrent_kernel") if self.built else iter(())

    def forward(self, inputs: torch.Tensor, states: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)  # (B, H)
        return h, [h]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


@register_serializable(package="contract")
class ScaledGRU(L.GRU):
    """A GRU subclass with one more argument: its outputs (and states) times ``scale``."""

    def __init__(self, units: int, scale: float = 1.0, **kwargs: Any):
        super().__init__(units, **kwargs)
        self.scale = scale

    def forward(self, inputs: Any, initial_state: Any = None, mask: Any = None, training: bool | None = None) -> Any:
        out = super().forward(inputs, initial_state=initial_state, mask=mask, training=training)
        return type(out)(o * self.scale for o in out) if isinstance(out, (list, tuple)) else out * self.scale

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


@register_serializable(package="contract")
class FeatureScale(L.Layer):
    """A plain custom layer with one trainable weight: ``inputs * gain`` per feature."""

    supports_masking = True

    def __init__(self, offset: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape: Any) -> None:
        self.gain = nn.Parameter(torch.linspace(0.5, 1.5, input_shape[-1]))
        self.built = True

    def _own_weight_specs(self):
        return _specs(self, "gain") if self.built else iter(())

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self.gain + self.offset

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "offset": self.offset}


@register_serializable(package="contract")
def doubled(x: torch.Tensor) -> torch.Tensor:
    return 2.0 * x


# ------------------------------------------------------------------------------------------ the table
def _floats(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _padded() -> np.ndarray:
    x = _floats(B, T, F, seed=1)
    x[0, 3:] = 0.0  # padding at the end, for Masking
    x[1, 0] = 0.0
    return x


def _adapted_text() -> L.TextVectorization:
    layer = L.TextVectorization(output_mode="tf_idf", ngrams=2)
    layer.adapt(["the cat sat", "the dog ran far", "a cat ran"])
    return layer


def _adapted_normalization() -> L.Normalization:
    layer = L.Normalization()
    layer.adapt(_floats(4 * B, T, F, seed=7) * 2.0 + 1.0)
    return layer


def _pair_of(*shape: int) -> Callable[[], list[np.ndarray]]:
    return lambda: [_floats(*shape), _floats(*shape, seed=1)]


def _step_inputs(*state_sizes: int) -> tuple[np.ndarray, list[np.ndarray]]:
    return _floats(B, F, seed=2), [_floats(B, s, seed=3 + i) for i, s in enumerate(state_sizes)]


@dataclass(frozen=True)
class Case:
    make: Callable[[], L.Layer]
    inputs: Callable[[], Any]  # numpy, batch first; a list for several inputs; (x_t, states) for a cell
    weights: tuple[int, int]  # (number of weight arrays, number of parameters) once built on ``inputs``
    keras: Callable[[Any], Any] | None = None  # the Keras twin, built on the same inputs, where Keras has one
    cell: bool = False  # called as cell(x_t, states); its models run it inside RNN
    model: Callable[[L.Layer], Any] | None = None  # how it sits in a model, when not called on Inputs directly
    covers: tuple[str, ...] = ()  # public classes checked through this case besides the layer's own
    strings: bool = False  # text inputs: numpy arrays of str
    updates_state: bool = False  # a training call updates its non-trainable weights (BatchNormalization's moving
    # statistics): the fit step checks that they changed instead of that they stayed


def _gru_params(f: int, h: int) -> int:
    return f * 3 * h + h * 3 * h + 2 * 3 * h  # kernel, recurrent_kernel, bias (2, 3H) with reset_after


def _lstm_params(f: int, h: int) -> int:
    return f * 4 * h + h * 4 * h + 4 * h


def _simple_params(f: int, h: int) -> int:
    return f * h + h * h + h


class _PositionalCall:
    """A Keras twin whose call takes its inputs as separate arguments (``MultiHeadAttention(query, value)``),
    called on the list the table holds."""

    def __init__(self, layer: Any):
        self.layer = layer

    def __call__(self, inputs: list) -> Any:
        return self.layer(*inputs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.layer, name)


def _input_layer_model(layer: L.Layer) -> Any:
    return gated.Model(layer.output, L.Dense(2, name="head")(layer.output))


CASES: dict[str, Case] = {
    "Activation": Case(lambda: L.Activation("tanh"), lambda: _floats(B, T, F), (0, 0),
                       lambda k: k.layers.Activation("tanh")),
    "Add": Case(lambda: L.Add(), lambda: [_floats(B, T, F), _floats(B, T, F, seed=1)], (0, 0),
                lambda k: k.layers.Add()),
    "Concatenate": Case(lambda: L.Concatenate(), lambda: [_floats(B, T, F), _floats(B, T, 2, seed=1)], (0, 0),
                        lambda k: k.layers.Concatenate()),
    "Dense": Case(lambda: L.Dense(3, activation="relu"), lambda: _floats(B, T, F), (2, F * 3 + 3),
                  lambda k: k.layers.Dense(3, activation="relu")),
    "Dropout": Case(lambda: L.Dropout(0.5), lambda: _floats(B, T, F), (0, 0), lambda k: k.layers.Dropout(0.5)),
    "Embedding": Case(lambda: L.Embedding(10, F, mask_zero=True),
                      lambda: np.random.default_rng(0).integers(0, 10, (B, T)), (1, 10 * F),
                      lambda k: k.layers.Embedding(10, F, mask_zero=True)),
    "Flatten": Case(lambda: L.Flatten(), lambda: _floats(B, T, F), (0, 0), lambda k: k.layers.Flatten()),
    "InputLayer": Case(lambda: L.InputLayer(shape=(T, F)), lambda: _floats(B, T, F), (0, 0),
                       model=_input_layer_model),
    "Lambda": Case(lambda: L.Lambda(doubled), lambda: _floats(B, T, F), (0, 0),
                   lambda k: k.layers.Lambda(lambda x: 2.0 * x)),
    "Masking": Case(lambda: L.Masking(0.0), _padded, (0, 0), lambda k: k.layers.Masking(0.0)),
    "RepeatVector": Case(lambda: L.RepeatVector(3), lambda: _floats(B, F), (0, 0), lambda k: k.layers.RepeatVector(3)),
    "Reshape": Case(lambda: L.Reshape((2, 10)), lambda: _floats(B, T, F), (0, 0),
                    lambda k: k.layers.Reshape((2, 10))),
    "TimeDistributed": Case(lambda: L.TimeDistributed(L.Dense(3)), lambda: _floats(B, T, F), (2, F * 3 + 3),
                            lambda k: k.layers.TimeDistributed(k.layers.Dense(3))),
    "GRU": Case(lambda: L.GRU(H, return_sequences=True), lambda: _floats(B, T, F), (3, _gru_params(F, H)),
                lambda k: k.layers.GRU(H, return_sequences=True)),
    "LSTM": Case(lambda: L.LSTM(H), lambda: _floats(B, T, F), (3, _lstm_params(F, H)),
                 lambda k: k.layers.LSTM(H)),
    "SimpleRNN": Case(lambda: L.SimpleRNN(H), lambda: _floats(B, T, F), (3, _simple_params(F, H)),
                      lambda k: k.layers.SimpleRNN(H)),
    "RNN": Case(lambda: L.RNN(L.LSTMCell(H), return_sequences=True), lambda: _floats(B, T, F), (3, _lstm_params(F, H)),
                lambda k: k.layers.RNN(k.layers.LSTMCell(H), return_sequences=True)),
    "GRUCell": Case(lambda: L.GRUCell(H), lambda: _step_inputs(H), (3, _gru_params(F, H)),
                    lambda k: k.layers.GRUCell(H), cell=True),
    "LSTMCell": Case(lambda: L.LSTMCell(H), lambda: _step_inputs(H, H), (3, _lstm_params(F, H)),
                     lambda k: k.layers.LSTMCell(H), cell=True),
    "SimpleRNNCell": Case(lambda: L.SimpleRNNCell(H), lambda: _step_inputs(H), (3, _simple_params(F, H)),
                          lambda k: k.layers.SimpleRNNCell(H), cell=True),
    # StackedRNNCells has no call of its own (RNN steps through its cells), so it is checked inside RNN.
    "StackedRNNCells": Case(lambda: L.RNN(L.StackedRNNCells([L.GRUCell(H), L.SimpleRNNCell(2)])),
                            lambda: _floats(B, T, F), (6, _gru_params(F, H) + _simple_params(H, 2)),
                            lambda k: k.layers.RNN(k.layers.StackedRNNCells([k.layers.GRUCell(H),
                                                                             k.layers.SimpleRNNCell(2)])),
                            covers=("StackedRNNCells",)),
    "Bidirectional": Case(lambda: L.Bidirectional(L.GRU(H)), lambda: _floats(B, T, F), (6, 2 * _gru_params(F, H)),
                          lambda k: k.layers.Bidirectional(k.layers.GRU(H))),
    "MinGRU": Case(lambda: L.MinGRU(H, return_sequences=True), lambda: _floats(B, T, F), (2, F * 2 * H + 2 * H)),
    "MinLSTM": Case(lambda: L.MinLSTM(H), lambda: _floats(B, T, F), (2, F * 3 * H + 3 * H)),
    "Attention": Case(lambda: L.Attention(), lambda: [_floats(B, T, F), _floats(B, 7, F, seed=1)], (0, 0),
                      lambda k: k.layers.Attention()),
    "AdditiveAttention": Case(lambda: L.AdditiveAttention(), lambda: [_floats(B, T, F), _floats(B, 7, F, seed=1)],
                              (1, F), lambda k: k.layers.AdditiveAttention()),
    "MultiHeadAttention": Case(lambda: L.MultiHeadAttention(2, 3), lambda: [_floats(B, T, F), _floats(B, 7, F, seed=1)],
                               (8, 4 * (F * 2 * 3) + 3 * (2 * 3) + F),
                               lambda k: _PositionalCall(k.layers.MultiHeadAttention(2, 3))),
    "ConvLSTM1D": Case(lambda: L.ConvLSTM1D(3, 2, return_sequences=True), lambda: _floats(B, T, 6, 2),
                       (3, 2 * 2 * 12 + 2 * 3 * 12 + 12), lambda k: k.layers.ConvLSTM1D(3, 2, return_sequences=True)),
    "ConvLSTM2D": Case(lambda: L.ConvLSTM2D(2, 3, padding="same"), lambda: _floats(B, T, 4, 4, 2),
                       (3, 9 * 2 * 8 + 9 * 2 * 8 + 8), lambda k: k.layers.ConvLSTM2D(2, 3, padding="same")),
    "ConvLSTM3D": Case(lambda: L.ConvLSTM3D(2, 2), lambda: _floats(B, 2, 3, 3, 3, 1),
                       (3, 8 * 1 * 8 + 8 * 2 * 8 + 8), lambda k: k.layers.ConvLSTM3D(2, 2)),
    "TextVectorization": Case(_adapted_text, lambda: np.array(["the cat sat", "The dog.", "a cat ran far"]), (0, 0),
                              strings=True),
    "StringLookup": Case(lambda: L.StringLookup(vocabulary=["a", "b", "c"], output_mode="one_hot"),
                         lambda: np.array([["a"], ["c"], ["z"]]), (0, 0), strings=True),
    "IntegerLookup": Case(lambda: L.IntegerLookup(vocabulary=[3, 7, 9], output_mode="multi_hot"),
                          lambda: np.random.default_rng(0).integers(0, 12, (B, T)), (0, 0)),
    "Subtract": Case(lambda: L.Subtract(), _pair_of(B, T, F), (0, 0), lambda k: k.layers.Subtract()),
    "Multiply": Case(lambda: L.Multiply(), _pair_of(B, T, F), (0, 0), lambda k: k.layers.Multiply()),
    "Average": Case(lambda: L.Average(), _pair_of(B, T, F), (0, 0), lambda k: k.layers.Average()),
    "Maximum": Case(lambda: L.Maximum(), _pair_of(B, T, F), (0, 0), lambda k: k.layers.Maximum()),
    "Minimum": Case(lambda: L.Minimum(), _pair_of(B, T, F), (0, 0), lambda k: k.layers.Minimum()),
    "Dot": Case(lambda: L.Dot(axes=2), lambda: [_floats(B, T, F), _floats(B, 7, F, seed=1)], (0, 0),
                lambda k: k.layers.Dot(axes=2)),
    "BatchNormalization": Case(lambda: L.BatchNormalization(), lambda: _floats(B, T, F), (4, 4 * F),
                               lambda k: k.layers.BatchNormalization(), updates_state=True),
    "LayerNormalization": Case(lambda: L.LayerNormalization(), lambda: _floats(B, T, F), (2, 2 * F),
                               lambda k: k.layers.LayerNormalization()),
    "GroupNormalization": Case(lambda: L.GroupNormalization(groups=2), lambda: _floats(B, T, F), (2, 2 * F),
                               lambda k: k.layers.GroupNormalization(groups=2)),
    "GaussianNoise": Case(lambda: L.GaussianNoise(0.1), lambda: _floats(B, T, F), (0, 0),
                          lambda k: k.layers.GaussianNoise(0.1)),
    "GaussianDropout": Case(lambda: L.GaussianDropout(0.2), lambda: _floats(B, T, F), (0, 0),
                            lambda k: k.layers.GaussianDropout(0.2)),
    "SpatialDropout1D": Case(lambda: L.SpatialDropout1D(0.3), lambda: _floats(B, T, F), (0, 0),
                             lambda k: k.layers.SpatialDropout1D(0.3)),
    "Permute": Case(lambda: L.Permute((2, 1)), lambda: _floats(B, T, F), (0, 0), lambda k: k.layers.Permute((2, 1))),
    "ZeroPadding1D": Case(lambda: L.ZeroPadding1D((1, 2)), lambda: _floats(B, T, F), (0, 0),
                          lambda k: k.layers.ZeroPadding1D((1, 2))),
    "Cropping1D": Case(lambda: L.Cropping1D((1, 2)), lambda: _floats(B, T, F), (0, 0),
                       lambda k: k.layers.Cropping1D((1, 2))),
    "UpSampling1D": Case(lambda: L.UpSampling1D(3), lambda: _floats(B, T, F), (0, 0),
                         lambda k: k.layers.UpSampling1D(3)),
    "ZeroPadding2D": Case(lambda: L.ZeroPadding2D(((1, 0), (2, 1))), lambda: _floats(B, T, F, 2), (0, 0),
                          lambda k: k.layers.ZeroPadding2D(((1, 0), (2, 1)))),
    "Cropping2D": Case(lambda: L.Cropping2D(((1, 0), (0, 2))), lambda: _floats(B, T, F, 2), (0, 0),
                       lambda k: k.layers.Cropping2D(((1, 0), (0, 2)))),
    "UpSampling2D": Case(lambda: L.UpSampling2D((2, 1), interpolation="bilinear"), lambda: _floats(B, T, F, 2),
                         (0, 0), lambda k: k.layers.UpSampling2D((2, 1), interpolation="bilinear")),
    "Rescaling": Case(lambda: L.Rescaling(0.5, offset=0.25), lambda: _floats(B, T, F), (0, 0),
                      lambda k: k.layers.Rescaling(0.5, offset=0.25)),
    "Normalization": Case(_adapted_normalization, lambda: _floats(B, T, F), (3, 2 * F + 1),
                          lambda k: k.layers.Normalization()),
    "Conv1D": Case(lambda: L.Conv1D(H, 3, padding="causal"), lambda: _floats(B, T, F), (2, 3 * F * H + H),
                   lambda k: k.layers.Conv1D(H, 3, padding="causal"), covers=("Convolution1D",)),
    "Conv2D": Case(lambda: L.Conv2D(3, 2, padding="same"), lambda: _floats(B, T, F, 2), (2, 2 * 2 * 2 * 3 + 3),
                   lambda k: k.layers.Conv2D(3, 2, padding="same"), covers=("Convolution2D",)),
    "Conv3D": Case(lambda: L.Conv3D(2, 2), lambda: _floats(B, 3, F, F, 2), (2, 8 * 2 * 2 + 2),
                   lambda k: k.layers.Conv3D(2, 2), covers=("Convolution3D",)),
    "DepthwiseConv1D": Case(lambda: L.DepthwiseConv1D(3, depth_multiplier=2), lambda: _floats(B, T, F),
                            (2, 3 * F * 2 + F * 2), lambda k: k.layers.DepthwiseConv1D(3, depth_multiplier=2)),
    "SeparableConv1D": Case(lambda: L.SeparableConv1D(5, 3, padding="same"), lambda: _floats(B, T, F),
                            (3, 3 * F + F * 5 + 5), lambda k: k.layers.SeparableConv1D(5, 3, padding="same"),
                            covers=("SeparableConvolution1D",)),
    "Conv1DTranspose": Case(lambda: L.Conv1DTranspose(3, 3, strides=2), lambda: _floats(B, T, F), (2, 3 * 3 * F + 3),
                            lambda k: k.layers.Conv1DTranspose(3, 3, strides=2), covers=("Convolution1DTranspose",)),
    "DepthwiseConv2D": Case(lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
                            lambda: _floats(B, T, F, 2), (2, 3 * 3 * 2 * 2 + 2 * 2),
                            lambda k: k.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")),
    "SeparableConv2D": Case(lambda: L.SeparableConv2D(3, 2, padding="same"), lambda: _floats(B, T, F, 2),
                            (3, 2 * 2 * 2 + 2 * 3 + 3), lambda k: k.layers.SeparableConv2D(3, 2, padding="same"),
                            covers=("SeparableConvolution2D",)),
    "Conv2DTranspose": Case(lambda: L.Conv2DTranspose(3, 2, strides=2), lambda: _floats(B, T, F, 2),
                            (2, 2 * 2 * 3 * 2 + 3), lambda k: k.layers.Conv2DTranspose(3, 2, strides=2),
                            covers=("Convolution2DTranspose",)),
    "Conv3DTranspose": Case(lambda: L.Conv3DTranspose(2, 2), lambda: _floats(B, 3, F, F, 2), (2, 8 * 2 * 2 + 2),
                            lambda k: k.layers.Conv3DTranspose(2, 2), covers=("Convolution3DTranspose",)),
    "MaxPooling3D": Case(lambda: L.MaxPooling3D(2, padding="same"), lambda: _floats(B, 3, F, F, 2), (0, 0),
                         lambda k: k.layers.MaxPooling3D(2, padding="same"), covers=("MaxPool3D",)),
    "AveragePooling3D": Case(lambda: L.AveragePooling3D(2), lambda: _floats(B, 3, F, F, 2), (0, 0),
                             lambda k: k.layers.AveragePooling3D(2), covers=("AvgPool3D",)),
    "GlobalAveragePooling3D": Case(lambda: L.GlobalAveragePooling3D(), lambda: _floats(B, 3, F, F, 2), (0, 0),
                                   lambda k: k.layers.GlobalAveragePooling3D(), covers=("GlobalAvgPool3D",)),
    "GlobalMaxPooling3D": Case(lambda: L.GlobalMaxPooling3D(keepdims=True), lambda: _floats(B, 3, F, F, 2), (0, 0),
                               lambda k: k.layers.GlobalMaxPooling3D(keepdims=True), covers=("GlobalMaxPool3D",)),
    "ZeroPadding3D": Case(lambda: L.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), lambda: _floats(B, 3, F, F, 2), (0, 0),
                          lambda k: k.layers.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))),
    "Cropping3D": Case(lambda: L.Cropping3D(((1, 0), (0, 2), (1, 1))), lambda: _floats(B, 3, F, F, 2), (0, 0),
                       lambda k: k.layers.Cropping3D(((1, 0), (0, 2), (1, 1)))),
    "UpSampling3D": Case(lambda: L.UpSampling3D((2, 1, 2)), lambda: _floats(B, 3, F, F, 2), (0, 0),
                         lambda k: k.layers.UpSampling3D((2, 1, 2))),
    "Identity": Case(lambda: L.Identity(), lambda: _floats(B, T, F), (0, 0), lambda k: k.layers.Identity()),
    "ActivityRegularization": Case(lambda: L.ActivityRegularization(l1=0.01, l2=0.02), lambda: _floats(B, T, F),
                                   (0, 0), lambda k: k.layers.ActivityRegularization(l1=0.01, l2=0.02)),
    "ReLU": Case(lambda: L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2), lambda: _floats(B, T, F), (0, 0),
                 lambda k: k.layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2)),
    "LeakyReLU": Case(lambda: L.LeakyReLU(negative_slope=0.2), lambda: _floats(B, T, F), (0, 0),
                      lambda k: k.layers.LeakyReLU(negative_slope=0.2)),
    "ELU": Case(lambda: L.ELU(alpha=0.5), lambda: _floats(B, T, F), (0, 0), lambda k: k.layers.ELU(alpha=0.5)),
    "PReLU": Case(lambda: L.PReLU(shared_axes=[1]), lambda: _floats(B, T, F), (1, F),
                  lambda k: k.layers.PReLU(shared_axes=[1])),
    "Softmax": Case(lambda: L.Softmax(axis=1), lambda: _floats(B, T, F), (0, 0), lambda k: k.layers.Softmax(axis=1)),
    "UnitNormalization": Case(lambda: L.UnitNormalization(axis=[1, 2]), lambda: _floats(B, T, F), (0, 0),
                              lambda k: k.layers.UnitNormalization(axis=[1, 2])),
    "RMSNormalization": Case(lambda: L.RMSNormalization(), lambda: _floats(B, T, F), (1, F),
                             lambda k: k.layers.RMSNormalization()),
    "AlphaDropout": Case(lambda: L.AlphaDropout(0.3), lambda: _floats(B, T, F), (0, 0),
                         lambda k: k.layers.AlphaDropout(0.3)),
    "SpatialDropout2D": Case(lambda: L.SpatialDropout2D(0.3), lambda: _floats(B, T, F, 2), (0, 0),
                             lambda k: k.layers.SpatialDropout2D(0.3)),
    "SpatialDropout3D": Case(lambda: L.SpatialDropout3D(0.3), lambda: _floats(B, 3, F, F, 2), (0, 0),
                             lambda k: k.layers.SpatialDropout3D(0.3)),
    "MaxPooling1D": Case(lambda: L.MaxPooling1D(2), lambda: _floats(B, T, F), (0, 0),
                         lambda k: k.layers.MaxPooling1D(2), covers=("MaxPool1D",)),
    "MaxPooling2D": Case(lambda: L.MaxPooling2D(2, padding="same"), lambda: _floats(B, T, F, 2), (0, 0),
                         lambda k: k.layers.MaxPooling2D(2, padding="same"), covers=("MaxPool2D",)),
    "AveragePooling1D": Case(lambda: L.AveragePooling1D(3, strides=1, padding="same"), lambda: _floats(B, T, F),
                             (0, 0), lambda k: k.layers.AveragePooling1D(3, strides=1, padding="same"),
                             covers=("AvgPool1D",)),
    "AveragePooling2D": Case(lambda: L.AveragePooling2D(2), lambda: _floats(B, T, F, 2), (0, 0),
                             lambda k: k.layers.AveragePooling2D(2), covers=("AvgPool2D",)),
    "GlobalAveragePooling1D": Case(lambda: L.GlobalAveragePooling1D(), _padded, (0, 0),
                                   lambda k: k.layers.GlobalAveragePooling1D(), covers=("GlobalAvgPool1D",)),
    "GlobalMaxPooling1D": Case(lambda: L.GlobalMaxPooling1D(keepdims=True), lambda: _floats(B, T, F), (0, 0),
                               lambda k: k.layers.GlobalMaxPooling1D(keepdims=True), covers=("GlobalMaxPool1D",)),
    "GlobalAveragePooling2D": Case(lambda: L.GlobalAveragePooling2D(), lambda: _floats(B, T, F, 2), (0, 0),
                                   lambda k: k.layers.GlobalAveragePooling2D(), covers=("GlobalAvgPool2D",)),
    "GlobalMaxPooling2D": Case(lambda: L.GlobalMaxPooling2D(data_format="channels_first"),
                               lambda: _floats(B, T, F, 2), (0, 0),
                               lambda k: k.layers.GlobalMaxPooling2D(data_format="channels_first"),
                               covers=("GlobalMaxPool2D",)),
    # registered custom subclasses, one of each kind
    "custom cell in RNN": Case(lambda: L.RNN(ContractCell(H), return_sequences=True), lambda: _floats(B, T, F),
                               (2, F * H + H * H)),
    "custom cell": Case(lambda: ContractCell(H), lambda: _step_inputs(H), (2, F * H + H * H), cell=True),
    "custom cells stacked in RNN": Case(lambda: L.RNN([ContractCell(H), L.GRUCell(2)]), lambda: _floats(B, T, F),
                                        (5, F * H + H * H + _gru_params(H, 2))),
    "custom GRU in Bidirectional": Case(lambda: L.Bidirectional(ScaledGRU(H, scale=0.5, return_sequences=True)),
                                        lambda: _floats(B, T, F), (6, 2 * _gru_params(F, H)),
                                        lambda k: k.layers.Bidirectional(k.layers.GRU(H, return_sequences=True))),
    "custom GRU in TimeDistributed": Case(lambda: L.TimeDistributed(ScaledGRU(H, scale=0.5)),
                                          lambda: _floats(B, 2, T, F), (3, _gru_params(F, H)),
                                          lambda k: k.layers.TimeDistributed(k.layers.GRU(H))),
    "custom layer": Case(lambda: FeatureScale(offset=0.25), lambda: _floats(B, T, F), (1, F)),
}

# Names in gated.layers.__all__ that are not layers to run, and why.
NOT_LAYERS = {
    "Layer": "the abstract base: it has no call (each custom subclass above is checked instead)",
    "WeightSpec": "a weight's description, not a layer",
    "SymbolicTensor": "a placeholder, not a layer",
    "Input": "a function returning InputLayer's placeholder (InputLayer is checked)",
    "Variable": "a weight made by add_weight, not a layer (tests/layers/test_keras_custom_layers.py)",
    "WeightView": "a built-in layer's weight as layer.weights lists it, not a layer",
    "serialize": "a function: a layer's config as Keras writes it (tests/layers/test_merge.py)",
    "deserialize": "a function: the layer a config describes (tests/layers/test_merge.py)",
    **{name: f"a function building {name.capitalize()} and calling it (tests/layers/test_merge.py)"
       for name in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot")},
    "TorchModuleWrapper": "wraps a torch module, whose architecture is Python code with no config to round-trip; "
                          "checked in tests/models/test_functional_keras.py",
}

MODEL_CASES = list(CASES)


# ------------------------------------------------------------------------------------------ helpers
def _call(case: Case, layer: L.Layer, inputs: Any) -> Any:
    if case.cell:
        x, states = inputs
        return layer(torch.as_tensor(x), _tensors(states))
    return layer(_tensors(inputs))


def _tensors(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_tensors(v) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "USO":
        return value  # strings: torch has no string tensors, the text layers read numpy arrays
    return torch.as_tensor(value)


def _flat(value: Any) -> list[torch.Tensor]:
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat(v)]
    return [value]


def _shape_of(value: Any) -> Any:
    return [_shape_of(v) for v in value] if isinstance(value, list) else tuple(value.shape)


def _model(case: Case, layer: L.Layer, sequential: bool = False) -> Any:
    if case.model is not None:
        return case.model(layer)
    if case.cell:
        layer = L.RNN(layer, return_sequences=True)
        sample = _floats(B, T, F)
    else:
        sample = case.inputs()
    if sequential:
        return gated.Sequential([L.Input(sample.shape[1:], dtype=_dtype_name(sample)), layer])
    samples = sample if isinstance(sample, list) else [sample]
    inputs = [L.Input(s.shape[1:], dtype=_dtype_name(s)) for s in samples]
    return gated.Model(inputs if isinstance(sample, list) else inputs[0],
                       layer(inputs if isinstance(sample, list) else inputs[0]))


def _model_inputs(case: Case) -> Any:
    return _floats(B, T, F) if case.cell else case.inputs()


def _dtype_name(array: np.ndarray) -> str:
    return "int64" if array.dtype.kind in "iu" else "float32"


def _equal(actual: Any, expected: Any) -> None:
    for a, e in zip(_flat(actual), _flat(expected), strict=True):
        torch.testing.assert_close(a, e, rtol=0, atol=0)


def _one_tensor_in_and_out(case: Case) -> bool:
    return case.model is None and not case.cell and not isinstance(case.inputs(), list)


# ------------------------------------------------------------------------------------------ the contract
def test_every_public_layer_has_a_contract_case():
    covered = {name for case in CASES.values() for name in (type(case.make()).__name__, *case.covers)}
    missing, undecided = [], []
    for name in L.__all__:
        obj = getattr(L, name)
        if name in NOT_LAYERS:
            continue
        if inspect.isclass(obj) and issubclass(obj, L.Layer):
            if name not in covered:
                missing.append(name)
        else:
            undecided.append(name)
    assert not missing, f"public layers without a case in tests/layers/test_contract.py CASES: {missing}"
    assert not undecided, f"public names that are neither layers nor in NOT_LAYERS (say why): {undecided}"


@pytest.mark.parametrize("name", list(CASES))
def test_builds_calls_and_matches_its_output_shape_and_dtype(name):
    case = CASES[name]
    layer, inputs = case.make(), case.inputs()
    out = _call(case, layer, inputs)
    assert layer.built
    if case.cell:
        output, states = out
        assert tuple(output.shape) == (B, getattr(layer, "output_size", None) or layer.units)
        sizes = layer.state_size
        assert [tuple(s.shape) for s in _flat(states)] == [(B, s) for s in _flat_sizes(sizes)]
    else:
        expected = layer.compute_output_shape(_shape_of(_tensors(inputs)))
        outs, expected = (list(out), list(expected)) if isinstance(out, (list, tuple)) else ([out], [expected])
        assert len(outs) == len(expected)
        for tensor, shape in zip(outs, expected):
            assert len(tensor.shape) == len(shape) and all(
                e is None or e == a for e, a in zip(shape, tensor.shape)), (tuple(tensor.shape), shape)
    for tensor in _flat(out):
        assert tensor.dtype == layer.compute_dtype == torch.float32


def _flat_sizes(sizes: Any) -> list[int]:
    return [s for size in sizes for s in _flat_sizes(size)] if isinstance(sizes, (list, tuple)) else [sizes]


@pytest.mark.parametrize("name", list(CASES))
def test_weight_count_matches_keras_and_the_formula(name, keras):
    case = CASES[name]
    layer, inputs = case.make(), case.inputs()
    _call(case, layer, inputs)
    assert (len(layer.weights), layer.count_params()) == case.weights
    assert len(layer.get_weights()) == len(layer.trainable_weights) + len(layer.non_trainable_weights)
    if case.keras is None:
        return
    twin = case.keras(keras)
    if case.cell:
        twin.build((None, F))
    else:
        twin(inputs)
    assert (len(twin.weights), twin.count_params()) == case.weights
    assert [tuple(w.shape) for w in twin.get_weights()] == [w.shape for w in layer.get_weights()]


@pytest.mark.parametrize("name", list(CASES))
def test_config_round_trip_through_json_gives_identical_outputs(name):
    case = CASES[name]
    layer, inputs = case.make(), case.inputs()
    expected = _call(case, layer, inputs)
    spec = json.loads(json.dumps(serialize(layer)))
    clone = deserialize(spec)
    assert type(clone) is type(layer) and clone.name == layer.name
    assert json.loads(json.dumps(serialize(clone))) == spec
    _call(case, clone, inputs)  # builds it
    clone.set_weights(layer.get_weights())
    _equal(_call(case, clone, inputs), expected)
    direct = type(layer).from_config(layer.get_config())  # the class's own from_config, as Keras users call it
    assert json.loads(json.dumps(direct.get_config())) == spec["config"]


@pytest.mark.parametrize("name", MODEL_CASES)
def test_save_and_load_model_give_identical_predictions(name, tmp_path):
    case = CASES[name]
    kinds = [False] + ([True] if _one_tensor_in_and_out(case) else [])
    x = _model_inputs(case)
    for sequential in kinds:
        model = _model(case, case.make(), sequential=sequential)
        path = tmp_path / f"{'sequential' if sequential else 'functional'}.gated"
        model.save(path)
        loaded = gated.load_model(path)
        assert type(loaded) is type(model) and [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name", MODEL_CASES)
def test_one_fit_step_changes_every_trainable_weight(name):
    case = CASES[name]
    layer = case.make()
    model = _model(case, layer)
    x = _model_inputs(case)
    y = model.predict(x, verbose=0)
    if not layer.trainable_weights:
        pytest.skip(f"{name} has no weights: a step changes nothing (every other check ran)")
    model.compile(optimizer=gated.optimizers.SGD(0.1), loss="mse", device="cpu")
    trainable = [w.numpy().copy() for w in layer.trainable_weights]
    frozen = [w.numpy().copy() for w in layer.non_trainable_weights]
    target = y + np.random.default_rng(5).standard_normal(y.shape).astype("float32")
    model.fit(x, target, epochs=1, batch_size=B, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 1
    unchanged = [i for i, (before, after) in enumerate(zip(trainable, layer.trainable_weights))
                 if np.array_equal(before, after.numpy())]
    assert not unchanged, f"trainable weights {unchanged} of {name} did not change in a step"
    for index, (before, after) in enumerate(zip(frozen, layer.non_trainable_weights)):
        if case.updates_state:
            assert not np.array_equal(before, after.numpy()), f"state {index} of {name} did not change in a step"
        else:
            np.testing.assert_array_equal(before, after.numpy())
