"""Layers with Keras's names, arguments and defaults; each one a ``torch.nn.Module``."""

from ._activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from ._attention import AdditiveAttention, Attention
from ._base import Layer, WeightSpec
from ._bidirectional import Bidirectional
from ._conv import Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D
from ._conv_depthwise import (
    DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D,
)
from ._conv_transpose import (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose, Convolution1DTranspose, Convolution2DTranspose,
    Convolution3DTranspose,
)
from ._conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from ._cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ._core import (
    Activation, ActivityRegularization, Dense, Dropout, Embedding, Flatten, Identity, Input, InputLayer, Lambda,
    Masking, RepeatVector, Reshape, deserialize, serialize,
)
from ._merge import (
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average, concatenate, dot, maximum,
    minimum, multiply, subtract,
)
from ._minimal import MinGRU, MinLSTM
from ._multi_head_attention import MultiHeadAttention
from ._noise import AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from ._normalization import (
    BatchNormalization, GroupNormalization, LayerNormalization, RMSNormalization, UnitNormalization,
)
from ._pooling import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D, GlobalAveragePooling1D,
    GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D,
    GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D, GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
    MaxPool1D, MaxPool2D, MaxPool3D, MaxPooling1D, MaxPooling2D, MaxPooling3D,
)
from ._preprocessing import Normalization, Rescaling
from ._recurrent import GRU, LSTM, RNN, SimpleRNN
from ._reshaping import (
    Cropping1D, Cropping2D, Cropping3D, Permute, UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D,
    ZeroPadding2D, ZeroPadding3D,
)
from ._symbolic import SymbolicTensor
from ._text import IntegerLookup, StringLookup, TextVectorization
from ._torch_module import TorchModuleWrapper
from ._variable import Variable, WeightView
from ._wrappers import TimeDistributed

__all__ = [
    "Layer", "WeightSpec", "SymbolicTensor", "Variable", "WeightView", "TorchModuleWrapper",
    "Activation", "Add", "Concatenate", "Dense", "Dropout", "Embedding", "Flatten", "Input", "InputLayer", "Lambda",
    "Masking", "RepeatVector", "Reshape", "Identity", "ActivityRegularization", "serialize", "deserialize",
    "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax",
    "TimeDistributed",
    "GRU", "LSTM", "SimpleRNN", "RNN", "GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells", "Bidirectional",
    "MinGRU", "MinLSTM",
    "Attention", "AdditiveAttention", "MultiHeadAttention",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization", "RMSNormalization",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "Permute", "ZeroPadding1D", "Cropping1D", "UpSampling1D", "ZeroPadding2D", "Cropping2D", "UpSampling2D",
    "ZeroPadding3D", "Cropping3D", "UpSampling3D",
    "Rescaling", "Normalization",
    "TextVectorization", "StringLookup", "IntegerLookup",
    "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "Convolution1D", "Convolution2D", "Convolution3D", "SeparableConvolution1D", "SeparableConvolution2D",
    "Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalMaxPool1D", "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling3D", "GlobalMaxPooling3D", "MaxPool3D", "AvgPool3D",
    "GlobalAvgPool3D", "GlobalMaxPool3D",
]
