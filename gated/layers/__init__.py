"""Layers with Keras's names, arguments and defaults; each one a ``torch.nn.Module``."""

from ._attention import AdditiveAttention, Attention
from ._base import Layer, WeightSpec
from ._bidirectional import Bidirectional
from ._conv import (
    Conv1D, Conv1DTranspose, Conv2D, Conv3D, Convolution1D, Convolution1DTranspose, Convolution2D, Convolution3D,
    DepthwiseConv1D, SeparableConv1D, SeparableConvolution1D,
)
from ._conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from ._cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ._core import (
    Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Lambda, Masking, RepeatVector, Reshape,
)
from ._merge import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from ._minimal import MinGRU, MinLSTM
from ._multi_head_attention import MultiHeadAttention
from ._noise import GaussianDropout, GaussianNoise, SpatialDropout1D
from ._normalization import BatchNormalization, GroupNormalization, LayerNormalization
from ._pooling import (
    AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
    MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D,
)
from ._preprocessing import Normalization, Rescaling
from ._recurrent import GRU, LSTM, RNN, SimpleRNN
from ._reshaping import (
    Cropping1D, Cropping2D, Permute, UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D,
)
from ._symbolic import SymbolicTensor
from ._text import IntegerLookup, StringLookup, TextVectorization
from ._torch_module import TorchModuleWrapper
from ._variable import Variable, WeightView
from ._wrappers import TimeDistributed

__all__ = [
    "Layer", "WeightSpec", "SymbolicTensor", "Variable", "WeightView", "TorchModuleWrapper",
    "Activation", "Add", "Concatenate", "Dense", "Dropout", "Embedding", "Flatten", "Input", "InputLayer", "Lambda",
    "Masking", "RepeatVector", "Reshape",
    "TimeDistributed",
    "GRU", "LSTM", "SimpleRNN", "RNN", "GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells", "Bidirectional",
    "MinGRU", "MinLSTM",
    "Attention", "AdditiveAttention", "MultiHeadAttention",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot",
    "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "GaussianNoise", "GaussianDropout", "SpatialDropout1D",
    "Permute", "ZeroPadding1D", "Cropping1D", "UpSampling1D", "ZeroPadding2D", "Cropping2D", "UpSampling2D",
    "Rescaling", "Normalization",
    "TextVectorization", "StringLookup", "IntegerLookup",
    "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "SeparableConv1D", "Conv1DTranspose",
    "Convolution1D", "Convolution2D", "Convolution3D", "SeparableConvolution1D", "Convolution1DTranspose",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalMaxPool1D", "GlobalAvgPool2D",
    "GlobalMaxPool2D",
]
