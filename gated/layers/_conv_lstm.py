"""Convolutional LSTMs with Keras's names, arguments, weight layout and numerics: ``ConvLSTM1D``, ``ConvLSTM2D``,
``ConvLSTM3D`` (Shi et al., 2015), each an ``RNN`` over a ``ConvLSTMCell``.

An LSTM whose input and recurrent transformations are convolutions: for a rank-r layer the input is
(B, T, *S, C) (``channels_last``, Keras's default) or (B, T, C, *S) (``channels_first``) with r spatial axes S;
the states h and c, and each output step, are (B, *S', filters) (or (B, filters, *S')), S' the input
convolution's output size (``strides``, ``padding``, ``dilation_rate``). The recurrent convolution always has
stride 1 and ``"same"`` padding. Gates i, f, c, o as Keras's LSTM:

    i = σ(x*W_i + h*U_i + b_i)   f = σ(x*W_f + h*U_f + b_f)   o = σ(x*W_o + h*U_o + b_o)
    c' = f c + i tanh(x*W_c + h*U_c + b_c)   h' = o tanh(c')

Weights exchange in Keras's layout: ``kernel`` (*k, C, 4·filters), ``recurrent_kernel`` (*k, filters,
4·filters), ``bias`` (4·filters,), gates i, f, c, o along the last axis. They are stored in torch's convolution
layout (4·filters, C, *k) and translated only by ``get_weights``/``set_weights``. ``"same"`` pads as Keras does:
``(k - 1) * dilation`` in all for stride 1, else what makes the output ``ceil(n / stride)``; an odd total puts the
extra step at the end.

Masks, ``go_backwards``, ``return_sequences``/``return_state``, ``stateful`` and ``zero_output_for_mask`` behave as
in ``RNN``; the call runs a step loop with the input convolution of every timestep hoisted into one call
(``layer.last_path`` says so). Input dropout draws one mask per gate over the whole input step, recurrent dropout
one per gate over h, each reused at every timestep, as Keras does.

Shape legend: B batch, T timesteps, S spatial axes, C input channels, F filters.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .. import activations, constraints, initializers, regularizers
from ..kernels import _dispatch, _loop
from ..utils._config import image_data_format
from ..utils._naming import unique_name
from ._base import Layer, WeightSpec, describe_array
from ._recurrent import RNN

_CONVS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
LOOP = "python loop over timesteps, input convolutions hoisted (torch.nn.functional.conv{rank}d)"
REASON = "a convolutional recurrence: torch has no fused kernel for it"


def _tuple(layer: str, name: str, value: Any, rank: int) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(values, (list, tuple)) or len(values) != rank or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{layer}: `{name}` must be a positive integer or a tuple of {rank} positive integers, "
                         f"received {name}={value!r}.")
    return tuple(values)


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """Keras's ``"same"`` padding of one axis: (before, after)."""
    span = (kernel - 1) * dilation + 1
    total = span - 1 if stride == 1 else max(0, (-(-size // stride) - 1) * stride + span - size)
    return total // 2, total - total // 2


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    if padding == "same":
        return -(-size // stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, strides: Sequence[int],
          padding: str, dilation: Sequence[int]) -> torch.Tensor:
    """A convolution of channels-first ``x`` (N, C, *S) with Keras's padding rule."""
    pads: Any = 0
    if padding == "same":
        per_axis = [same_padding(n, k, s, d) for n, k, s, d in zip(x.shape[2:], weight.shape[2:], strides, dilation)]
        if all(before == after for before, after in per_axis):
            pads = [before for before, _ in per_axis]
        else:
            x = F.pad(x, [p for pair in reversed(per_axis) for p in pair])
    return _CONVS[len(strides)](x, weight, bias, stride=tuple(strides), padding=pads, dilation=tuple(dilation))


def _keras_to_torch(kernel: torch.Tensor) -> torch.Tensor:
    """(*k, in, out) -> (out, in, *k)."""
    rank = kernel.ndim - 2
    return kernel.permute(rank + 1, rank, *range(rank))


def _torch_to_keras(weight: torch.Tensor) -> torch.Tensor:
    """(out, in, *k) -> (*k, in, out)."""
    return weight.permute(*range(2, weight.ndim), 1, 0)


class ConvLSTMCell(Layer):
    """One ConvLSTM step on channels-first tensors, the numerical reference of the ConvLSTM layers.

    ``project(x, input_masks)``: the input convolution of (B, T, C, *S) for all timesteps -> (B, T, 4F, *S');
    ``step(projected_t, [h, c], recurrent_masks)``: one recurrence on (B, F, *S'). ``cell(x_t, [h, c])`` runs
    both on one step given in the cell's ``data_format``, as Keras's cell does.
    """

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        where = f"ConvLSTM{rank}D" if rank in _CONVS else "ConvLSTMCell"
        if rank not in _CONVS:
            raise ValueError(f"ConvLSTMCell: rank must be 1, 2 or 3 (the number of spatial axes), received {rank!r}.")
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{where}: `filters` must be a positive integer, received filters={filters!r}.")
        self.rank = rank
        self.filters = filters
        self.kernel_size = _tuple(where, "kernel_size", kernel_size, rank)
        self.strides = _tuple(where, "strides", strides, rank)
        self.dilation_rate = _tuple(where, "dilation_rate", dilation_rate, rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{where}: strides > 1 cannot be combined with dilation_rate > 1, received "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}. Set one of them to 1.")
        self.padding = padding.lower() if isinstance(padding, str) else padding
        if self.padding not in ("valid", "same"):
            raise ValueError(f"{where}: padding must be 'valid' or 'same', received padding={padding!r}.")
        data_format = image_data_format() if data_format is None else data_format
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{where}: data_format must be 'channels_last' or 'channels_first', received "
                             f"data_format={data_format!r}.")
        self.data_format = data_format
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._generator: torch.Generator | None = None
        self.state_size = [filters, filters]  # channels of h and c; their spatial size follows the input's
        self.spatial: tuple[int, ...] | None = None  # the input's spatial size, once built
        self.input_dim: int | None = None
        self.weight_ih: nn.Parameter | None = None  # (4F, C, *k)
        self.weight_hh: nn.Parameter | None = None  # (4F, F, *k)
        self.bias: nn.Parameter | None = None  # (4F,)

    # ------------------------------------------------------------------ build and weights
    def build(self, input_shape: Any) -> None:
        """``input_shape``: one step, (B, *S, C) or (B, C, *S) by ``data_format``."""
        shape = tuple(input_shape)
        channels, spatial = (shape[-1], shape[1:-1]) if self.data_format == "channels_last" else (shape[1], shape[2:])
        self.spatial, self.input_dim = tuple(spatial), channels
        f4 = 4 * self.filters
        kernel = torch.as_tensor(self.kernel_initializer(self.kernel_size + (channels, f4), dtype=self._dtype))
        recurrent = torch.as_tensor(self.recurrent_initializer(self.kernel_size + (self.filters, f4),
                                                               dtype=self._dtype))
        self.weight_ih = nn.Parameter(_keras_to_torch(kernel).to(self._dtype).contiguous())
        self.weight_hh = nn.Parameter(_keras_to_torch(recurrent).to(self._dtype).contiguous())
        if self.use_bias:
            if self.unit_forget_bias:
                f = self.filters
                bias = torch.cat([torch.as_tensor(self.bias_initializer((f,), dtype=self._dtype)),
                                  torch.ones(f, dtype=self._dtype),
                                  torch.as_tensor(self.bias_initializer((2 * f,), dtype=self._dtype))])
            else:
                bias = torch.as_tensor(self.bias_initializer((f4,), dtype=self._dtype))
            self.bias = nn.Parameter(bias.to(self._dtype).clone())
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return
        yield WeightSpec("kernel", get=lambda: _torch_to_keras(self.weight_ih),
                         set=lambda value: self.weight_ih.copy_(_keras_to_torch(value)),
                         regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        yield WeightSpec("recurrent_kernel", get=lambda: _torch_to_keras(self.weight_hh),
                         set=lambda value: self.weight_hh.copy_(_keras_to_torch(value)),
                         regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            yield WeightSpec("bias", get=lambda: self.bias, set=lambda value: self.bias.copy_(value),
                             regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    # ------------------------------------------------------------------ sizes and layouts
    def output_spatial(self, spatial: Sequence[int | None]) -> tuple[int | None, ...]:
        """S' for an input of spatial size S."""
        return tuple(None if n is None else conv_output_size(n, k, s, d, self.padding)
                     for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def state_shape(self, batch: int | None) -> tuple[int | None, ...]:
        """The shape of h (and c) in the cell's ``data_format``."""
        spatial = self.output_spatial(self.spatial)
        if self.data_format == "channels_last":
            return (batch, *spatial, self.filters)
        return (batch, self.filters, *spatial)

    def to_channels_first(self, x: torch.Tensor, leading: int) -> torch.Tensor:
        """(lead..., *S, C) -> (lead..., C, *S) for channels_last; ``leading`` axes before the spatial ones."""
        if self.data_format == "channels_first":
            return x
        return x.movedim(-1, leading)

    def to_data_format(self, x: torch.Tensor, leading: int) -> torch.Tensor:
        if self.data_format == "channels_first":
            return x
        return x.movedim(leading, -1)

    # ------------------------------------------------------------------ dropout masks
    def _draw(self, shape: tuple[int, ...], rate: float, like: torch.Tensor) -> torch.Tensor:
        if self.seed is not None and self._generator is None:
            self._generator = torch.Generator(device=like.device).manual_seed(self.seed)
        keep = torch.rand(shape, generator=self._generator, device=like.device, dtype=like.dtype) >= rate
        return keep.to(like.dtype) / (1.0 - rate)

    def dropout_masks(self, x: torch.Tensor, h: torch.Tensor,
                      training: bool) -> tuple[list[torch.Tensor] | None, list[torch.Tensor] | None]:
        """Per-sequence masks, one per gate: over an input step (B, C, *S) and over h (B, F, *S')."""
        if not training:
            return None, None

        def masks(shape: tuple[int, ...], rate: float, like: torch.Tensor) -> list[torch.Tensor] | None:
            return [self._draw(shape, rate, like) for _ in range(4)] if 0.0 < rate < 1.0 else None

        step = (x.shape[0], *x.shape[2:])
        return masks(step, self.dropout, x), masks(tuple(h.shape), self.recurrent_dropout, h)

    # ------------------------------------------------------------------ computation
    def project(self, x: torch.Tensor, input_masks: list[torch.Tensor] | None = None) -> torch.Tensor:
        """The input convolution of every timestep: (B, T, C, *S) -> (B, T, 4F, *S'), bias included."""
        batch, steps = x.shape[:2]
        flat = x.reshape(batch * steps, *x.shape[2:])

        def conv(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
            return _conv(inputs, weight, bias, self.strides, self.padding, self.dilation_rate)

        if input_masks is None:
            out = conv(flat, self.weight_ih, self.bias)
        else:
            f = self.filters
            out = torch.cat([
                conv((x * mask[:, None]).reshape(flat.shape), self.weight_ih[g * f:(g + 1) * f],
                     None if self.bias is None else self.bias[g * f:(g + 1) * f])
                for g, mask in enumerate(input_masks)], dim=1)
        return out.reshape(batch, steps, *out.shape[1:])

    def step(self, projected: torch.Tensor, states: Sequence[torch.Tensor],
             recurrent_masks: list[torch.Tensor] | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One recurrence: the projected input (B, 4F, *S') and [h, c] (B, F, *S') -> (h', [h', c'])."""
        h, c = states
        ones = (1,) * self.rank
        if recurrent_masks is None:
            recurrent = _conv(h, self.weight_hh, None, ones, "same", ones)
        else:
            f = self.filters
            recurrent = torch.cat([_conv(h * mask, self.weight_hh[g * f:(g + 1) * f], None, ones, "same", ones)
                                   for g, mask in enumerate(recurrent_masks)], dim=1)
        z = projected + recurrent
        input_gate, forget_gate, cell, output_gate = z.chunk(4, dim=1)
        c = self.recurrent_activation(forget_gate) * c + self.recurrent_activation(input_gate) * self.activation(cell)
        h = self.recurrent_activation(output_gate) * self.activation(c)
        return h, [h, c]

    def forward(self, inputs: torch.Tensor, states: Sequence[torch.Tensor],
                training: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One step in the cell's ``data_format``: x_t (B, *S, C) and [h, c] (B, *S', F) -> (h', [h', c'])."""
        x = self.to_channels_first(inputs, 1)[:, None]  # (B, 1, C, *S)
        h, c = (self.to_channels_first(s, 1) for s in states)
        input_masks, recurrent_masks = self.dropout_masks(x, h, training)
        output, (h, c) = self.step(self.project(x, input_masks)[:, 0], [h, c], recurrent_masks)
        h, c = self.to_data_format(h, 1), self.to_data_format(c, 1)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "ConvLSTMCell":
        return cls(**config)


def run_conv_lstm(layer: "ConvLSTM", x: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor | None,
                  layout: Any, training: bool) -> tuple[torch.Tensor | None, torch.Tensor, list[torch.Tensor]]:
    """The step loop: x (B, T, C, *S) in processing order, states [h, c] (B, F, *S'), mask (B, T) or None ->
    (outputs (B, T, F, *S') or None, last output (B, F, *S'), [h, c]).

    The steps run on flattened states (B, F·|S'|), so ``_loop.recur`` applies Keras's mask rules unchanged."""
    cell = layer.cell
    input_masks, recurrent_masks = cell.dropout_masks(x, states[0], training)
    projected = cell.project(x, input_masks)  # (B, T, 4F, *S')
    shape = states[0].shape  # (B, F, *S')

    def step(t: int, flat: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h, new = cell.step(projected[:, t], [s.reshape(shape) for s in flat], recurrent_masks)
        return h.flatten(1), [s.flatten(1) for s in new]

    outputs, last, finals = _loop.recur(step, x.shape[1], [s.flatten(1) for s in states], mask,
                                        layer.zero_output_for_mask, layer.return_sequences)
    outputs = None if outputs is None else outputs.reshape(outputs.shape[0], outputs.shape[1], *shape[1:])
    return outputs, last.reshape(shape), [s.reshape(shape) for s in finals]


def _forward_cell_attribute(name: str) -> property:
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's ``{name}``.")


_CELL_ARGS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
              "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
              "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed")


class ConvLSTM(RNN):
    """The N-D convolutional LSTM layer (``rank`` spatial axes); ``ConvLSTM1D``/``2D``/``3D`` fix the rank."""

    cell_class = ConvLSTMCell  # RNN.get_config: the cell is built from the arguments, not serialized
    rank = 0

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False, **kwargs: Any):
        if "use_cudnn" in kwargs:
            raise TypeError(f"{type(self).__name__} got an unexpected keyword argument 'use_cudnn': it has no fused "
                            "kernel to choose (Keras's ConvLSTM takes no use_cudnn either).")
        cell = ConvLSTMCell(
            self.rank, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell", dtype=kwargs.get("dtype"))
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(f"conv_lstm{self.rank}d")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)

    # ------------------------------------------------------------------ build and shapes
    def _step_shape(self, input_shape: Sequence[int | None]) -> tuple:
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 3:
            raise ValueError(f"{self._describe()} expects inputs of rank {self.rank + 3}, {self._layout()}, but was "
                             f"built for shape {shape}.")
        step = self._step_shape(shape)
        spatial = step[1:-1] if self.cell.data_format == "channels_last" else step[2:]
        channels = step[-1] if self.cell.data_format == "channels_last" else step[1]
        if None in spatial or channels is None:
            raise ValueError(f"{self._describe()} needs known spatial sizes and channels, {self._layout()}, but was "
                             f"built for shape {shape}. Pass input_shape=(timesteps, ...) with every size but "
                             "timesteps given.")
        too_small = [n for n, m in zip(spatial, self.cell.output_spatial(spatial)) if m <= 0]
        if too_small:
            raise ValueError(f"{self._describe()}: inputs of spatial size {tuple(spatial)} are smaller than the "
                             f"kernel {self.cell.kernel_size} (dilation {self.cell.dilation_rate}) with "
                             "padding='valid', which leaves no output. Use padding='same' or larger inputs.")
        if not self.cell.built:
            self.cell._build_now(step)
        super().build(input_shape)  # the stateful check; the cell is built already

    def _layout(self) -> str:
        axes = ", ".join(f"s{i + 1}" for i in range(self.rank))
        if self.cell.data_format == "channels_last":
            return f"(batch, timesteps, {axes}, channels)"
        return f"(batch, timesteps, channels, {axes})"

    def compute_output_shape(self, input_shape: Any, initial_state_shape: Any = None) -> Any:
        shape = tuple(input_shape)
        cell = self.cell
        spatial = shape[2:-1] if cell.data_format == "channels_last" else shape[3:]
        out = cell.output_spatial(spatial)
        step = (*out, cell.filters) if cell.data_format == "channels_last" else (cell.filters, *out)
        output = (shape[0], shape[1], *step) if self.return_sequences else (shape[0], *step)
        if self.return_state:
            return (output, (shape[0], *step), (shape[0], *step))
        return output

    def validate_input(self, inputs: Any) -> None:
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"{self._describe()} expects a single tensor or array, received {type(inputs).__name__}.")
        expected = self._expected_input()
        if inputs.ndim == self.rank + 3 and tuple(inputs.shape[2:]) == expected[2:] and inputs.shape[1] > 0:
            return
        if inputs.ndim == self.rank + 3 and inputs.shape[1] == 0:
            raise ValueError(f"{self._describe()} received a sequence with 0 timesteps: shape "
                             f"{tuple(inputs.shape)}. Every sample needs at least one timestep.")
        if inputs.ndim == self.rank + 2:
            fix = " If these are single-step samples, add a time axis: x[:, None]."
        elif inputs.ndim == self.rank + 3:
            fix = (" The layer was built for that step shape (its state sizes follow from it); pass inputs of that "
                   "shape or create a new layer.")
        else:
            fix = f" A ConvLSTM{self.rank}D takes {self.rank} spatial axes between the time and channel axes."
        raise ValueError(f"{self._describe()} expects input of shape {self._layout()} = "
                         f"{('batch', 'timesteps') + expected[2:]}, but received {describe_array(inputs)}.{fix}")

    def _expected_input(self) -> tuple:
        cell = self.cell
        if cell.data_format == "channels_last":
            return (None, None, *cell.spatial, cell.input_dim)
        return (None, None, cell.input_dim, *cell.spatial)

    def _summary_args(self) -> str:
        return f"filters={self.cell.filters}, kernel_size={self.cell.kernel_size}"

    # ------------------------------------------------------------------ states (in the cell's data_format)
    def get_initial_state(self, batch_size: int) -> list[torch.Tensor]:
        like = self._first_parameter()
        like = torch.empty(0, dtype=self._dtype) if like is None else like
        return [like.new_zeros(self.cell.state_shape(batch_size)) for _ in range(2)]

    def _check_states(self, states: Sequence[Any], batch: int, where: str) -> list[torch.Tensor]:
        """States given in the cell's data_format, returned channels-first as the loop runs them."""
        like = next(self.parameters())
        states = [torch.as_tensor(s, dtype=like.dtype, device=like.device) for s in states]
        expected = [self.cell.state_shape(batch)] * 2
        received = [tuple(s.shape) for s in states]
        if received != expected:
            raise ValueError(
                f"{self._describe()}: {where} expects 2 state tensors [h, c] of shape {expected[0]} (batch, the "
                f"output's spatial size and filters in {self.cell.data_format} order), received {len(received)} "
                f"of shape(s) {received}."
            )
        return [self.cell.to_channels_first(s, 1) for s in states]

    def _initial_states(self, initial_state: Any, batch: int) -> list[torch.Tensor]:
        if initial_state is None and not (self.stateful and self._states is not None):
            like = self._first_parameter()
            spatial = self.cell.output_spatial(self.cell.spatial)
            return [like.new_zeros((batch, self.cell.filters, *spatial)) for _ in range(2)]
        return super()._initial_states(initial_state, batch)

    @property
    def states(self) -> list[torch.Tensor] | None:
        if self._states is None:
            return None
        return [self.cell.to_data_format(s, 1) for s in self._states]

    # ------------------------------------------------------------------ running
    def _choice(self) -> _dispatch.Choice:
        return _dispatch.Choice(_dispatch.Kernel.LOOP, LOOP.format(rank=self.rank), REASON, run_conv_lstm)

    def dispatch(self, mask: Any = None, training: bool = False, inputs: Any = None) -> _dispatch.Choice:
        """What a call runs, and why (nothing runs): always the step loop."""
        return self._choice()

    def forward(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None,
                training: bool | None = None) -> Any:
        training = self.training if training is None else bool(training)
        batch, steps = inputs.shape[0], inputs.shape[1]
        cell = self.cell
        states = self._initial_states(initial_state, batch)
        mask = self._standardize_mask(mask, batch, steps, inputs.device)
        x = cell.to_channels_first(inputs, 2)  # (B, T, C, *S)
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        choice = self._choice()
        self.last_path = choice
        outputs, last, finals = choice.run(self, x, states, mask, _dispatch.analyse_mask(mask), training)
        if self.stateful:
            self._states = [s.detach() for s in finals]
        output = cell.to_data_format(outputs, 2) if self.return_sequences else cell.to_data_format(last, 1)
        if self.return_state:
            return (output, *(cell.to_data_format(s, 1) for s in finals))
        return output

    def step_cell(self, x_t: torch.Tensor, states: list[torch.Tensor],
                  training: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One timestep in the cell's ``data_format``: x_t (B, *S, C), [h, c] -> (output, [h, c])."""
        return self.cell(x_t, states, training=training)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    def capture_blocker(self) -> str | None:
        reasons = [r for r in [super().capture_blocker()] if r is not None]
        if self.cell.seed is not None and (self.cell.dropout > 0 or self.cell.recurrent_dropout > 0):
            reasons.append(f"layer '{self.name}' ({type(self).__name__}) draws dropout masks from its own seeded "
                           "generator")
        return "; ".join(reasons) or None


for _name in _CELL_ARGS:
    setattr(ConvLSTM, _name, _forward_cell_attribute(_name))


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM, ``keras.layers.ConvLSTM1D``: (B, T, length, C) -> (B, length', filters), or
    (B, T, length', filters) with ``return_sequences``; ``kernel`` (k, C, 4F)."""

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM, ``keras.layers.ConvLSTM2D``: (B, T, rows, cols, C) -> (B, rows', cols', filters),
    or (B, T, rows', cols', filters) with ``return_sequences``; ``kernel`` (kr, kc, C, 4F)."""

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM, ``keras.layers.ConvLSTM3D``: (B, T, d1, d2, d3, C) -> (B, d1', d2', d3', filters),
    or with the time axis by ``return_sequences``; ``kernel`` (k1, k2, k3, C, 4F)."""

    rank = 3
