"""Which capabilities each public layer has, computed from the code that provides them, against the table they
should be.

No capability is listed by hand on the computed side; each comes from where it lives:

* fused CPU / fused GPU: the fused kernels the dispatch module has for the cell's spec
  (``gated.kernels._dispatch.fused_kernels``: its ``CPU_KERNELS`` / ``GPU_KERNELS`` tables and the spec's torch
  modes), preferred first;
* ONNX: the export's converter tables (``_onnx_layers.CONVERTERS``, ``_onnx_rnn.CONVERTERS``, keyed by class) and
  their problem checks;
* int8: the quantizer's conversion of the built layer (``_quantize.CONVERSIONS``, ``INT8_RECURRENT``);
* streaming: the kernel a ``Streamer`` runs the layer with in an example model (``streamer.paths``), or "no" when
  the streamer refuses it;
* capture: the ``capture_blocker()`` of the layer and of everything it runs (a CUDA-graph captured step).

A cell's row is ``RNN(cell)``'s; ``RNN``'s row is ``RNN`` of a custom cell. A new public layer without an expected
row fails here, as does a layer that loses (or gains) a capability: the failure prints both tables.
"""

from __future__ import annotations

import pytest
import torch

import gated
import gated.layers as L
from gated.deploy import Streamer
from gated.deploy import _quantize
from gated.export import _onnx_layers, _onnx_rnn
from gated.kernels import _dispatch

COLUMNS = ("fused CPU", "fused GPU", "ONNX", "int8", "streaming", "capture")
NOT_COMPUTATIONS = {"Layer", "InputLayer"}  # the base class, and the graph's entry (every backend takes inputs)


class _CustomCell(L.Layer):
    """A cell gated knows nothing about: ``h' = tanh(x W + h)``."""

    def __init__(self, units: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = torch.nn.Parameter(torch.randn(input_shape[-1], self.units) * 0.3)
        self.built = True

    def forward(self, inputs, states):
        h = torch.tanh(inputs @ self.kernel + states)
        return h, h


def _sequence(layer, features=3, steps=None):
    x = L.Input((steps, features))
    return gated.Model(x, layer(x))


def _pair(layer):
    a, b = L.Input((None, 3)), L.Input((None, 3))
    return gated.Model([a, b], layer([a, b]))


def _ids(layer):
    x = L.Input((None,), dtype="int64")
    return gated.Model(x, layer(x))


def _strings(layer):
    x = L.Input((1,), dtype="string")
    return gated.Model(x, layer(x))


def _image(layer):
    x = L.Input((4, 4, 3))
    return gated.Model(x, layer(x))


def _volume(layer):
    x = L.Input((3, 4, 4, 2))
    return gated.Model(x, layer(x))


def _after_a_reduced_sequence(layer):
    x = L.Input((None, 3))
    return gated.Model(x, layer(L.GRU(4)(x)))


def _frames(*step_shape):
    """A model over sequences of frames (batch, timesteps, *step_shape), for the ConvLSTM layers."""
    def in_model(layer):
        x = L.Input((None, *step_shape))
        return gated.Model(x, layer(x))

    return in_model


EXAMPLES = {  # public class -> (the layer, the model it runs in)
    "Activation": (lambda: L.Activation("tanh"), _sequence),
    "Add": (L.Add, _pair),
    "Concatenate": (L.Concatenate, _pair),
    "Dense": (lambda: L.Dense(2), _sequence),
    "Dropout": (lambda: L.Dropout(0.5), _sequence),
    "Embedding": (lambda: L.Embedding(10, 3), _ids),
    "Flatten": (L.Flatten, lambda layer: _sequence(layer, steps=5)),
    "Lambda": (lambda: L.Lambda(lambda x: x * 2), _sequence),
    "Masking": (L.Masking, _sequence),
    "RepeatVector": (lambda: L.RepeatVector(2), _after_a_reduced_sequence),
    "Reshape": (lambda: L.Reshape((15,)), lambda layer: _sequence(layer, steps=5)),
    "TimeDistributed": (lambda: L.TimeDistributed(L.Dense(2)), _sequence),
    "GRU": (lambda: L.GRU(4), _sequence),
    "LSTM": (lambda: L.LSTM(4), _sequence),
    "SimpleRNN": (lambda: L.SimpleRNN(4), _sequence),
    "RNN": (lambda: L.RNN(_CustomCell()), _sequence),
    "GRUCell": (lambda: L.RNN(L.GRUCell(4)), _sequence),
    "LSTMCell": (lambda: L.RNN(L.LSTMCell(4)), _sequence),
    "SimpleRNNCell": (lambda: L.RNN(L.SimpleRNNCell(4)), _sequence),
    "StackedRNNCells": (lambda: L.RNN(L.StackedRNNCells([L.GRUCell(4), L.LSTMCell(4)])), _sequence),
    "Bidirectional": (lambda: L.Bidirectional(L.GRU(4)), _sequence),
    "MinGRU": (lambda: L.MinGRU(4), _sequence),
    "MinLSTM": (lambda: L.MinLSTM(4), _sequence),
    "Attention": (L.Attention, _pair),
    "AdditiveAttention": (L.AdditiveAttention, _pair),
    "MultiHeadAttention": (lambda: L.MultiHeadAttention(2, 3), _pair),
    "ConvLSTM1D": (lambda: L.ConvLSTM1D(2, 3, return_sequences=True), _frames(6, 2)),
    "ConvLSTM2D": (lambda: L.ConvLSTM2D(2, 3, padding="same"), _frames(4, 4, 2)),
    "ConvLSTM3D": (lambda: L.ConvLSTM3D(2, 2), _frames(3, 3, 3, 1)),
    "Subtract": (L.Subtract, _pair),
    "Multiply": (L.Multiply, _pair),
    "Average": (L.Average, _pair),
    "Maximum": (L.Maximum, _pair),
    "Minimum": (L.Minimum, _pair),
    "Dot": (lambda: L.Dot(axes=2), _pair),
    "BatchNormalization": (L.BatchNormalization, _sequence),
    "LayerNormalization": (L.LayerNormalization, _sequence),
    "GroupNormalization": (lambda: L.GroupNormalization(groups=3), _sequence),
    "GaussianNoise": (lambda: L.GaussianNoise(0.1), _sequence),
    "GaussianDropout": (lambda: L.GaussianDropout(0.1), _sequence),
    "SpatialDropout1D": (lambda: L.SpatialDropout1D(0.2), _sequence),
    "Permute": (lambda: L.Permute((2, 1)), _sequence),
    "ZeroPadding1D": (L.ZeroPadding1D, _sequence),
    "Cropping1D": (L.Cropping1D, lambda layer: _sequence(layer, steps=5)),
    "UpSampling1D": (L.UpSampling1D, _sequence),
    "ZeroPadding2D": (L.ZeroPadding2D, _image),
    "Cropping2D": (lambda: L.Cropping2D(1), _image),
    "UpSampling2D": (L.UpSampling2D, _image),
    "Rescaling": (lambda: L.Rescaling(0.5), _sequence),
    "Normalization": (L.Normalization, _sequence),
    "TextVectorization": (lambda: L.TextVectorization(vocabulary=["a", "b"]), _strings),
    "StringLookup": (lambda: L.StringLookup(vocabulary=["a", "b"]), _strings),
    "IntegerLookup": (lambda: L.IntegerLookup(vocabulary=[3, 7, 9]), _ids),
    "Conv1D": (lambda: L.Conv1D(2, 3, padding="causal"), _sequence),
    "Conv2D": (lambda: L.Conv2D(2, 3, padding="same"), _image),
    "Conv3D": (lambda: L.Conv3D(2, 2), _volume),
    "DepthwiseConv1D": (lambda: L.DepthwiseConv1D(3, padding="same"), _sequence),
    "SeparableConv1D": (lambda: L.SeparableConv1D(2, 3, padding="same"), _sequence),
    "Conv1DTranspose": (lambda: L.Conv1DTranspose(2, 3, strides=2), _sequence),
    "MaxPooling1D": (L.MaxPooling1D, _sequence),
    "MaxPooling2D": (L.MaxPooling2D, _image),
    "AveragePooling1D": (lambda: L.AveragePooling1D(2), _sequence),
    "AveragePooling2D": (lambda: L.AveragePooling2D(2), _image),
    "GlobalAveragePooling1D": (L.GlobalAveragePooling1D, _sequence),
    "GlobalMaxPooling1D": (L.GlobalMaxPooling1D, _sequence),
    "GlobalAveragePooling2D": (L.GlobalAveragePooling2D, _image),
    "GlobalMaxPooling2D": (L.GlobalMaxPooling2D, _image),
    "TorchModuleWrapper": (lambda: L.TorchModuleWrapper(torch.nn.Linear(3, 2)), _sequence),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(3, padding="same"), _image),
    "SeparableConv2D": (lambda: L.SeparableConv2D(2, 3, padding="same"), _image),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(2, 3, strides=2), _image),
    "Conv3DTranspose": (lambda: L.Conv3DTranspose(2, 2), _volume),
    "MaxPooling3D": (lambda: L.MaxPooling3D(1), _volume),
    "AveragePooling3D": (lambda: L.AveragePooling3D(1), _volume),
    "GlobalAveragePooling3D": (L.GlobalAveragePooling3D, _volume),
    "GlobalMaxPooling3D": (L.GlobalMaxPooling3D, _volume),
    "ZeroPadding3D": (L.ZeroPadding3D, _volume),
    "Cropping3D": (lambda: L.Cropping3D(1), _volume),
    "UpSampling3D": (L.UpSampling3D, _volume),
    "Identity": (L.Identity, _sequence),
    "ActivityRegularization": (lambda: L.ActivityRegularization(l1=0.01), _sequence),
    "ReLU": (L.ReLU, _sequence),
    "LeakyReLU": (L.LeakyReLU, _sequence),
    "ELU": (L.ELU, _sequence),
    "PReLU": (lambda: L.PReLU(shared_axes=[1]), _sequence),
    "Softmax": (L.Softmax, _sequence),
    "UnitNormalization": (L.UnitNormalization, _sequence),
    "RMSNormalization": (L.RMSNormalization, _sequence),
    "AlphaDropout": (lambda: L.AlphaDropout(0.2), _sequence),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.2), _image),
    "SpatialDropout3D": (lambda: L.SpatialDropout3D(0.2), _volume),
}

_GRU = ("gated-cpu, torch-fused", "gated-triton, cuDNN")
_TORCH_ONLY = ("torch-fused", "cuDNN")
_NONE = ("-", "-")
EXPECTED = {  # fused CPU, fused GPU, ONNX, int8, streaming, capture
    "Activation": (*_NONE, "yes", "yes", "numpy", "yes"),
    "Add": (*_NONE, "yes", "yes", "numpy", "yes"),
    "Concatenate": (*_NONE, "yes", "yes", "numpy", "yes"),
    "Dense": (*_NONE, "yes", "yes", "numpy", "yes"),
    "Dropout": (*_NONE, "yes", "yes", "identity", "yes"),
    "Embedding": (*_NONE, "yes", "yes", "numpy", "no"),
    "Flatten": (*_NONE, "yes", "yes", "no", "yes"),
    "Lambda": (*_NONE, "no", "no", "no", "yes"),
    "Masking": (*_NONE, "yes", "no", "no", "no"),
    "RepeatVector": (*_NONE, "yes", "yes", "torch", "yes"),
    "Reshape": (*_NONE, "yes", "yes", "no", "yes"),
    "TimeDistributed": (*_NONE, "yes", "yes", "numpy", "yes"),
    "GRU": (*_GRU, "yes", "yes", "gated-cpu", "yes"),
    "LSTM": ("gated-cpu, torch-fused", "cuDNN", "yes", "yes", "numpy", "yes"),
    "SimpleRNN": (*_TORCH_ONLY, "yes", "no", "numpy", "yes"),
    "RNN": (*_NONE, "no", "no", "torch", "yes"),
    "GRUCell": (*_GRU, "no", "no", "gated-cpu", "yes"),
    "LSTMCell": ("gated-cpu, torch-fused", "cuDNN", "no", "no", "numpy", "yes"),
    "SimpleRNNCell": (*_TORCH_ONLY, "no", "no", "numpy", "yes"),
    "StackedRNNCells": (*_NONE, "no", "no", "torch", "yes"),
    "Bidirectional": (*_GRU, "yes", "yes", "no", "yes"),
    "MinGRU": (*_NONE, "no", "no", "torch", "yes"),
    "MinLSTM": (*_NONE, "no", "no", "torch", "yes"),
    "Attention": (*_NONE, "no", "no", "no", "yes"),
    "AdditiveAttention": (*_NONE, "no", "no", "no", "yes"),
    "MultiHeadAttention": (*_NONE, "no", "no", "no", "yes"),
    "ConvLSTM1D": (*_NONE, "no", "no", "no", "yes"),
    "ConvLSTM2D": (*_NONE, "no", "no", "no", "yes"),
    "ConvLSTM3D": (*_NONE, "no", "no", "no", "yes"),
    "Subtract": (*_NONE, "no", "no", "no", "yes"),
    "Multiply": (*_NONE, "no", "no", "no", "yes"),
    "Average": (*_NONE, "no", "no", "no", "yes"),
    "Maximum": (*_NONE, "no", "no", "no", "yes"),
    "Minimum": (*_NONE, "no", "no", "no", "yes"),
    "Dot": (*_NONE, "no", "no", "no", "yes"),
    "BatchNormalization": (*_NONE, "no", "no", "no", "yes"),
    "LayerNormalization": (*_NONE, "no", "no", "no", "yes"),
    "GroupNormalization": (*_NONE, "no", "no", "no", "yes"),
    "GaussianNoise": (*_NONE, "no", "no", "no", "yes"),
    "SpatialDropout1D": (*_NONE, "no", "yes", "identity", "yes"),  # a Dropout: int8 and streaming run it as one
    "GaussianDropout": (*_NONE, "no", "no", "no", "yes"),
    "Permute": (*_NONE, "no", "no", "no", "yes"),
    "ZeroPadding1D": (*_NONE, "no", "no", "no", "yes"),
    "Cropping1D": (*_NONE, "no", "no", "no", "yes"),
    "UpSampling1D": (*_NONE, "no", "no", "no", "yes"),
    "ZeroPadding2D": (*_NONE, "no", "no", "no", "yes"),
    "Cropping2D": (*_NONE, "no", "no", "no", "yes"),
    "UpSampling2D": (*_NONE, "no", "no", "no", "yes"),
    "Rescaling": (*_NONE, "no", "no", "no", "yes"),
    "Normalization": (*_NONE, "no", "no", "no", "yes"),
    "TextVectorization": (*_NONE, "no", "no", "no", "no"),
    "StringLookup": (*_NONE, "no", "no", "no", "no"),
    "IntegerLookup": (*_NONE, "no", "no", "no", "no"),
    "Conv1D": (*_NONE, "no", "no", "no", "yes"),
    "Conv2D": (*_NONE, "no", "no", "no", "yes"),
    "Conv3D": (*_NONE, "no", "no", "no", "yes"),
    "DepthwiseConv1D": (*_NONE, "no", "no", "no", "yes"),
    "SeparableConv1D": (*_NONE, "no", "no", "no", "yes"),
    "Conv1DTranspose": (*_NONE, "no", "no", "no", "yes"),
    "MaxPooling1D": (*_NONE, "no", "no", "no", "yes"),
    "MaxPooling2D": (*_NONE, "no", "no", "no", "yes"),
    "AveragePooling1D": (*_NONE, "no", "no", "no", "yes"),
    "AveragePooling2D": (*_NONE, "no", "no", "no", "yes"),
    "GlobalAveragePooling1D": (*_NONE, "no", "no", "no", "yes"),
    "GlobalMaxPooling1D": (*_NONE, "no", "no", "no", "yes"),
    "GlobalAveragePooling2D": (*_NONE, "no", "no", "no", "yes"),
    "GlobalMaxPooling2D": (*_NONE, "no", "no", "no", "yes"),
    "TorchModuleWrapper": (*_NONE, "no", "no", "no", "yes"),
    "DepthwiseConv2D": (*_NONE, "no", "no", "no", "yes"),
    "SeparableConv2D": (*_NONE, "no", "no", "no", "yes"),
    "Conv2DTranspose": (*_NONE, "no", "no", "no", "yes"),
    "Conv3DTranspose": (*_NONE, "no", "no", "no", "yes"),
    "MaxPooling3D": (*_NONE, "no", "no", "no", "yes"),
    "AveragePooling3D": (*_NONE, "no", "no", "no", "yes"),
    "GlobalAveragePooling3D": (*_NONE, "no", "no", "no", "yes"),
    "GlobalMaxPooling3D": (*_NONE, "no", "no", "no", "yes"),
    "ZeroPadding3D": (*_NONE, "no", "no", "no", "yes"),
    "Cropping3D": (*_NONE, "no", "no", "no", "yes"),
    "UpSampling3D": (*_NONE, "no", "no", "no", "yes"),
    "Identity": (*_NONE, "no", "no", "no", "yes"),
    "ActivityRegularization": (*_NONE, "no", "no", "no", "yes"),
    "ReLU": (*_NONE, "no", "no", "no", "yes"),
    "LeakyReLU": (*_NONE, "no", "no", "no", "yes"),
    "ELU": (*_NONE, "no", "no", "no", "yes"),
    "PReLU": (*_NONE, "no", "no", "no", "yes"),
    "Softmax": (*_NONE, "no", "no", "no", "yes"),
    "UnitNormalization": (*_NONE, "no", "no", "no", "yes"),
    "RMSNormalization": (*_NONE, "no", "no", "no", "yes"),
    "AlphaDropout": (*_NONE, "no", "yes", "identity", "yes"),  # a Dropout at inference
    "SpatialDropout2D": (*_NONE, "no", "yes", "identity", "yes"),  # a Dropout at inference
    "SpatialDropout3D": (*_NONE, "no", "yes", "identity", "yes"),  # a Dropout at inference
}
# Keras's other names for the convolution and pooling classes: the same classes, so the same rows.
_ALIASES = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "SeparableConvolution1D": "SeparableConv1D", "Convolution1DTranspose": "Conv1DTranspose",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D", "AvgPool1D": "AveragePooling1D",
    "AvgPool2D": "AveragePooling2D", "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D", "SeparableConvolution2D": "SeparableConv2D",
    "Convolution2DTranspose": "Conv2DTranspose", "Convolution3DTranspose": "Conv3DTranspose",
    "MaxPool3D": "MaxPooling3D", "AvgPool3D": "AveragePooling3D", "GlobalAvgPool3D": "GlobalAveragePooling3D",
    "GlobalMaxPool3D": "GlobalMaxPooling3D",
}
EXAMPLES.update({alias: EXAMPLES[name] for alias, name in _ALIASES.items()})
EXPECTED.update({alias: EXPECTED[name] for alias, name in _ALIASES.items()})


def _public_layers() -> list[str]:
    return [name for name in L.__all__ if isinstance(getattr(L, name), type)
            and issubclass(getattr(L, name), L.Layer) and name not in NOT_COMPUTATIONS]


def _cell_of(layer):
    inner = layer.forward_layer if isinstance(layer, L.Bidirectional) else layer
    return getattr(inner, "cell", None)


def _fused(layer, device_type: str) -> str:
    spec = getattr(_cell_of(layer), "spec", None)
    kernels = [k for k in _dispatch.fused_kernels(spec, device_type) if k.fused] if spec is not None else []
    return ", ".join(k.value for k in kernels) or "-"


def _onnx(layer) -> str:
    if type(layer) in _onnx_rnn.CONVERTERS:
        return "no" if _onnx_rnn.rnn_problems(layer) else "yes"
    if type(layer) in _onnx_layers.CONVERTERS:
        return "no" if _onnx_layers.layer_problems(layer) else "yes"
    return "no"


def _int8(layer) -> str:
    try:
        _quantize._module_for(layer)
    except ValueError:
        return "no"
    return "yes"


def _streaming(layer, model) -> str:
    try:
        paths = Streamer(model).paths
    except ValueError:
        return "no"
    return next(p.kernel.value for p in paths if p.layer == layer.name)


def _capture(layer) -> str:
    blockers = [m.capture_blocker() for m in layer.modules() if isinstance(m, L.Layer)]
    return "no" if any(b is not None for b in blockers) else "yes"


def _row(name: str) -> tuple[str, ...]:
    make, in_model = EXAMPLES[name]
    layer = make()
    model = in_model(layer)
    return (_fused(layer, "cpu"), _fused(layer, "cuda"), _onnx(layer), _int8(layer), _streaming(layer, model),
            _capture(layer))


def _table(rows: dict[str, tuple[str, ...]], other: dict[str, tuple[str, ...]]) -> str:
    """``rows`` as text; cells that differ from ``other`` are marked with '*'."""
    names = sorted(set(rows) | set(other))
    cells = {n: [c + ("*" if other.get(n, ())[i:i + 1] != (c,) else "") for i, c in enumerate(rows.get(n, ()))]
             for n in names}
    widths = [max([len("layer")] + [len(n) for n in names])]
    widths += [max([len(col)] + [len(cells[n][i]) for n in names if len(cells[n]) > i])
               for i, col in enumerate(COLUMNS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(("layer",) + COLUMNS, widths))]
    for n in names:
        shown = cells[n] or ["(no row)"]
        lines.append("  ".join(v.ljust(w) for v, w in zip([n] + shown, widths)))
    return "\n".join(lines)


def test_every_public_layer_has_an_example_and_an_expected_row():
    missing = [name for name in _public_layers() if name not in EXAMPLES or name not in EXPECTED]
    assert not missing, (f"public layers without a row in tests/layers/test_capabilities.py: {missing}. Add an "
                         "example to EXAMPLES and the capabilities it should have to EXPECTED.")


def test_capabilities_of_every_public_layer_match_the_expected_table():
    with torch.no_grad():
        actual = {name: _row(name) for name in _public_layers() if name in EXAMPLES}
    expected = {name: EXPECTED[name] for name in actual}
    assert actual == expected, ("capabilities computed from the code (* differs from the expected):\n"
                                + _table(actual, expected) + "\n\nexpected:\n" + _table(expected, actual))


@pytest.mark.parametrize("name", ["GRU", "LSTM", "SimpleRNN", "GRUCell", "Bidirectional"])
def test_a_layer_runs_the_first_fused_cpu_kernel_of_its_row(name):
    """The table is what runs: on the CPU (one thread, as every layer test) a call takes the first kernel listed."""
    make, _ = EXAMPLES[name]
    layer = make()
    layer(torch.randn(2, 5, 3))
    first = EXPECTED[name][0].split(", ")[0]
    paths = layer.last_path if isinstance(layer, L.Bidirectional) else [layer.last_path]
    assert [p.kernel.value for p in paths] == [first] * len(paths), [str(p) for p in paths]
