"""Layers with Keras's names, arguments and defaults; each one a ``torch.nn.Module``."""

from ._attention import AdditiveAttention, Attention
from ._base import Layer, WeightSpec
from ._bidirectional import Bidirectional
from ._cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ._core import (
    Activation, Add, Concatenate, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Lambda, Masking,
    RepeatVector, Reshape,
)
from ._minimal import MinGRU, MinLSTM
from ._recurrent import GRU, LSTM, RNN, SimpleRNN
from ._symbolic import SymbolicTensor
from ._wrappers import TimeDistributed

__all__ = [
    "Layer", "WeightSpec", "SymbolicTensor",
    "Activation", "Add", "Concatenate", "Dense", "Dropout", "Embedding", "Flatten", "Input", "InputLayer", "Lambda",
    "Masking", "RepeatVector", "Reshape",
    "TimeDistributed",
    "GRU", "LSTM", "SimpleRNN", "RNN", "GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells", "Bidirectional",
    "MinGRU", "MinLSTM",
    "Attention", "AdditiveAttention",
]
