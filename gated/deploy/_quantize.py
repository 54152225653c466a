"""int8 dynamic quantization for CPU inference: ``quantize(model)`` -> ``InferenceModel``.

The model's layers are rebuilt as plain ``torch.nn`` modules with the same weights (``CONVERSIONS``, a table keyed by
layer class; gate order is translated by ``gated.saving._convert``, the one place that does), and torch's own dynamic
quantization
(``torch.ao.quantization.quantize_dynamic``) turns every ``nn.GRU``, ``nn.LSTM`` and ``nn.Linear`` into its int8
counterpart: weights stored as int8 with one scale per tensor, activations quantized on the fly per call,
accumulation in int32, outputs in float32. Embeddings stay float32.

``quantize_dynamic`` is deprecated since torch 2.10 (torch points to torchao) and still present in 2.13; its two
deprecation warnings are silenced here, by message, around the calls that emit them and nowhere else. A torch
without it (or without a quantized CPU engine) raises ``RuntimeError`` saying so.

Supported layers: GRU (reset_after=True, tanh/sigmoid), LSTM (tanh/sigmoid), Bidirectional of those (every
merge_mode), Dense, TimeDistributed(Dense/Dropout/Activation), Embedding (mask_zero=False), Dropout, Activation,
RepeatVector, Concatenate, Add, Flatten, Reshape; return_sequences, return_state, go_backwards and initial_state
from other layers. Anything else raises ``ValueError`` naming the layer.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from ..kernels import _dispatch
from ..layers._base import Layer
from ..layers._bidirectional import Bidirectional
from ..layers._core import (
    Activation, Add, Concatenate, Dense, Dropout, Embedding, Flatten, Masking, RepeatVector, Reshape,
)
from ..layers._recurrent import GRU, LSTM, RNN, SimpleRNN
from ..layers._symbolic import SymbolicTensor
from ..layers._wrappers import TimeDistributed
from ..utils._tree import flatten_structure, map_structure
from ..saving import _convert
from ._trace import trace

# The warnings torch 2.10+ emits from quantize_dynamic and from building quantized RNN weights.
_TORCH_QUANTIZATION_WARNINGS = (
    (DeprecationWarning, r"torch\.ao\.quantization is deprecated"),
    (UserWarning, r"torch\.quantize_per_tensor, torch\.quantize_per_channel and other quantized tensor creation "
                  r"functions"),
)


@contextlib.contextmanager
def _quiet_torch_quantization() -> Iterator[None]:
    with warnings.catch_warnings():
        for category, message in _TORCH_QUANTIZATION_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


def _quantize_dynamic():
    """torch's ``quantize_dynamic``, or a RuntimeError that says what is missing."""
    with _quiet_torch_quantization():
        try:
            from torch.ao.quantization import quantize_dynamic
        except ImportError as err:
            raise RuntimeError(
                f"int8 quantization uses torch.ao.quantization.quantize_dynamic, which torch {torch.__version__} "
                f"does not provide ({err}). It was deprecated in torch 2.10; install a torch that still has it "
                "(2.3 to 2.13 do), or deploy the float32 model."
            ) from None
    engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    if not engines:
        raise RuntimeError(f"torch {torch.__version__} was built without a quantized CPU engine (fbgemm/x86/"
                           "qnnpack), so int8 kernels cannot run here.")
    return quantize_dynamic


def _error(layer: Layer, why: str) -> ValueError:
    return ValueError(f"int8 quantization cannot convert {layer._describe()}: {why}.")


# ---------------------------------------------------------------------------------------------------- modules
class _Recurrent(nn.Module):
    """A GRU / LSTM layer or a Bidirectional of one, with Keras's outputs, around one torch.nn.GRU / LSTM."""

    def __init__(self, layer: Layer):
        super().__init__()
        bidirectional = isinstance(layer, Bidirectional)
        parts = [layer.forward_layer, layer.backward_layer] if bidirectional else [layer]
        first = parts[0]
        for part in parts:
            _check_recurrent(layer, part)
        if bidirectional:
            if first.go_backwards or not layer.backward_layer.go_backwards:
                raise _error(layer, "its forward layer must read forwards and its backward layer backwards")
            if layer.backward_layer.get_config() | {"name": "", "go_backwards": False} != \
                    first.get_config() | {"name": "", "go_backwards": False}:
                raise _error(layer, "its backward layer is configured differently from its forward layer, which "
                                    "one bidirectional torch module cannot hold")
        cell = first.cell
        self.rnn = INT8_RECURRENT[_entry_class(INT8_RECURRENT, type(first))](
            cell.input_dim, cell.units, bias=cell.use_bias, batch_first=True, bidirectional=bidirectional)
        for direction, part in enumerate(parts):
            weights = [w.detach().float().cpu() for w in part.cell.weights]
            _convert.keras_to_torch_rnn(weights, cell.spec, self.rnn, 0, direction)
        self.lstm = cell.spec.states == 2  # states (h, c)
        self.bidirectional = bidirectional
        self.merge_mode = layer.merge_mode if bidirectional else None
        self.return_sequences = first.return_sequences
        self.return_state = first.return_state
        self.go_backwards = first.go_backwards and not bidirectional
        self.units = cell.units

    def forward(self, x: torch.Tensor, initial_state: Any = None) -> Any:
        hx = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            per_direction = 2 if self.lstm else 1
            directions = [states[:per_direction], states[per_direction:]] if self.bidirectional else [states]
            h0 = torch.stack([d[0] for d in directions]).float()  # (D, B, H)
            hx = (h0, torch.stack([d[1] for d in directions]).float()) if self.lstm else h0
        if self.go_backwards:
            x = x.flip(1)
        out, final = self.rnn(x, hx)  # (B, T, D*H)
        h_n, c_n = final if self.lstm else (final, None)
        if not self.bidirectional:
            output = out if self.return_sequences else out[:, -1]
            if not self.return_state:
                return output
            return (output, h_n[0], c_n[0]) if self.lstm else (output, h_n[0])
        u = self.units
        if self.return_sequences:  # torch already aligns the backward outputs with the input steps
            y, y_rev = out[..., :u], out[..., u:]
        else:
            y, y_rev = h_n[0], h_n[1]
        merged = {"concat": lambda: torch.cat([y, y_rev], dim=-1), "sum": lambda: y + y_rev,
                  "ave": lambda: (y + y_rev) / 2, "mul": lambda: y * y_rev, None: lambda: (y, y_rev)}
        output = merged[self.merge_mode]()
        outputs = list(output) if self.merge_mode is None else [output]
        if self.return_state:
            for d in range(2):
                outputs += [h_n[d], c_n[d]] if self.lstm else [h_n[d]]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _check_recurrent(wrapper: Layer, layer: Layer) -> None:
    if isinstance(layer, SimpleRNN):
        raise _error(wrapper, "torch has no int8 kernel for SimpleRNN (quantize_dynamic covers GRU, LSTM and "
                              "Linear); use a GRU or LSTM, or deploy this model in float32")
    if _entry_class(INT8_RECURRENT, type(layer)) is None:
        raise _error(wrapper, f"{type(layer).__name__} with cell {type(layer.cell).__name__} has no int8 torch "
                              "module; GRU and LSTM layers do")
    weights = layer.cell.weight_ih
    blockers = _dispatch.fused_blockers(layer.cell, _dispatch.NO_MASK, False, weights.device, weights.dtype)
    if blockers:
        raise _error(wrapper, f"torch's int8 {type(layer).__name__} computes only the standard cell, but the "
                              f"layer has {'; '.join(blockers)}")


class _Dense(nn.Module):
    def __init__(self, layer: Dense):
        super().__init__()
        self.linear = nn.Linear(layer.kernel.shape[0], layer.units, bias=layer.bias is not None)
        with torch.no_grad():
            self.linear.weight.copy_(layer.kernel.detach().t())
            if layer.bias is not None:
                self.linear.bias.copy_(layer.bias.detach())
        self.activation = layer.activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x))


class _Embedding(nn.Module):
    def __init__(self, layer: Embedding):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(layer.embeddings.detach().float().cpu().clone(), freeze=True)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids.long())


class _Function(nn.Module):
    """A weightless layer's computation (activation, repeat, reshape, merge)."""

    def __init__(self, fn: Any):
        super().__init__()
        self.fn = fn

    def forward(self, *args: Any) -> Any:
        return self.fn(*args)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _time_distributed(layer: TimeDistributed) -> nn.Module:
    inner = layer.layer
    if isinstance(inner, (Dense, Dropout, Activation)):
        return _module_for(inner)  # these act on the last axis, with or without a time axis
    raise _error(layer, f"TimeDistributed converts Dense, Dropout and Activation only; it wraps "
                        f"{type(inner).__name__}")


# The recurrent layers torch quantizes (layer class -> the torch module ``quantize_dynamic`` turns int8).
INT8_RECURRENT: dict[type, type[nn.RNNBase]] = {GRU: nn.GRU, LSTM: nn.LSTM}
# How each layer becomes a torch module (layer class, looked up along its MRO -> conversion). Recurrent layers
# other than INT8_RECURRENT's are refused by ``_Recurrent`` with the reason.
CONVERSIONS: dict[type, Any] = {
    RNN: _Recurrent, Bidirectional: _Recurrent, TimeDistributed: _time_distributed, Dense: _Dense,
    Embedding: _Embedding, Dropout: lambda layer: _Function(_identity),
    Activation: lambda layer: _Function(layer.activation),
    # no weights: the layer's own computation
    **{cls: lambda layer: _Function(layer.forward) for cls in (RepeatVector, Concatenate, Add, Flatten, Reshape)},
}


def _entry_class(table: dict[type, Any], cls: type) -> type | None:
    """``cls`` or its closest base class with an entry in ``table`` (None when none has one)."""
    return next((c for c in cls.__mro__ if c in table), None)


def _module_for(layer: Layer) -> nn.Module:
    if isinstance(layer, Masking) or (isinstance(layer, Embedding) and layer.mask_zero):
        raise _error(layer, "masks are not supported by the int8 model; pad nothing, or deploy in float32")
    key = _entry_class(CONVERSIONS, type(layer))
    if key is None:
        raise _error(layer, "it is not among the layers with an int8 or weightless conversion (GRU, LSTM, "
                            "Bidirectional, Dense, TimeDistributed, Embedding, Dropout, Activation, RepeatVector, "
                            "Concatenate, Add, Flatten, Reshape)")
    return CONVERSIONS[key](layer)


# ---------------------------------------------------------------------------------------------------- the model
class InferenceModel(nn.Module):
    """An inference-only copy of a gated model as torch modules; ``predict(x)`` takes and returns numpy.

    Made by ``quantize(model)`` (int8 weights, ``weight_dtype == 'int8'``). Computes in float32 on the CPU.
    ``size_bytes()`` is the size of its serialized ``state_dict``. It holds no training state and is not saved to a
    file: keep the gated model file and quantize after ``gated.load_model`` (it takes milliseconds).
    """

    def __init__(self, model: Layer, weight_dtype: str):
        super().__init__()
        program = trace(model, "int8 quantization")
        self.name = model.name
        self.weight_dtype = weight_dtype
        modules: dict[int, int] = {}
        blocks: list[nn.Module] = []
        self._calls = []
        for call in program.calls:
            key = id(call.layer)
            if key not in modules:
                modules[key] = len(blocks)
                blocks.append(_module_for(call.layer))
            self._calls.append((modules[key], call.args, call.kwargs, call.outputs))
        self.blocks = nn.ModuleList(blocks)
        self._inputs = program.inputs
        self._outputs = program.outputs
        self._integer_inputs = [not t.dtype.is_floating_point for t in program.inputs]
        self.eval()

    def forward(self, *inputs: torch.Tensor) -> Any:
        if len(inputs) != len(self._inputs):
            raise ValueError(f"Model '{self.name}' takes {len(self._inputs)} input(s), received {len(inputs)}.")
        values: dict[int, Any] = {}
        for t, x, integer in zip(self._inputs, inputs, self._integer_inputs):
            values[id(t)] = x.long() if integer else x.float()

        def resolve(leaf: Any) -> Any:
            return values[id(leaf)] if isinstance(leaf, SymbolicTensor) else leaf

        for index, args, kwargs, outputs in self._calls:
            kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
            result = self.blocks[index](*map_structure(resolve, args), **map_structure(resolve, kwargs))
            results = flatten_structure(result) if isinstance(result, (list, tuple)) else [result]
            for t, r in zip(outputs, results):
                values[id(t)] = r
        return map_structure(resolve, self._outputs)

    def predict(self, x: Any, batch_size: int | None = 32) -> Any:
        """Outputs as numpy arrays, computed ``batch_size`` samples at a time (None: all at once)."""
        if isinstance(x, dict):
            xs = [x[t.name] for t in self._inputs]
        elif len(self._inputs) > 1:
            xs = list(x)
        else:
            xs = [x]
        arrays = [torch.as_tensor(np.asarray(a)) for a in xs]
        total = arrays[0].shape[0]
        step = total if batch_size is None else int(batch_size)
        chunks = []
        with torch.inference_mode():
            for start in range(0, total, max(step, 1)):
                out = self(*(a[start:start + step] for a in arrays))
                chunks.append([o.numpy() for o in flatten_structure(out)])
        merged = [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]
        it = iter(merged)
        return map_structure(lambda _: next(it), self._outputs)

    def size_bytes(self) -> int:
        """Bytes of ``torch.save(self.state_dict())`` (a measure of the weights' size; torch.save pickles)."""
        buffer = io.BytesIO()
        torch.save(self.state_dict(), buffer)
        return buffer.getbuffer().nbytes

    def extra_repr(self) -> str:
        return f"name='{self.name}', weight_dtype='{self.weight_dtype}'"


def quantize(model: Layer) -> InferenceModel:
    """An inference-only copy of ``model`` with int8 weights for GRU, LSTM and Dense layers (CPU).

    Uses ``torch.ao.quantization.quantize_dynamic`` (deprecated since torch 2.10; see the module docstring).
    Raises ``ValueError`` naming the first layer that cannot be converted.
    """
    quantize_dynamic = _quantize_dynamic()
    inference = InferenceModel(model, "int8")
    with _quiet_torch_quantization():
        quantize_dynamic(inference, {nn.GRU, nn.LSTM, nn.Linear}, dtype=torch.qint8, inplace=True)
    return inference


def float_inference_model(model: Layer) -> InferenceModel:
    """The same torch modules without quantization: the float32 baseline for ``quantize``."""
    return InferenceModel(model, "float32")
