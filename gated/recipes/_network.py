"""The default classifier's network: a fully convolutional branch and a GRU branch, concatenated before the head.

Shapes: B series, T steps, C channels. Padded steps (variable-length series) are masked through every layer: the
convolutions see zeros there and write zeros there, batch normalisation leaves them out of its statistics, the
pooling that shortens the GRU's input counts only real steps, the GRU skips them and the global average is over
real steps only. A series therefore gets the same output whatever it is padded to.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from .. import layers as L
from ..layers import Layer
from ..models import Model


RECURRENT = {"gru": L.GRU, "lstm": L.LSTM, "simple_rnn": L.SimpleRNN, "mingru": L.MinGRU}  # cell= names


class MaskedConv1D(L.Conv1D):
    """``Conv1D`` with ``padding='same'`` and stride 1 that keeps a padding mask (B, T).

    The input's masked steps are set to 0 before the convolution (so a padded series convolves exactly as the same
    series zero-padded at its real end) and the output's masked steps are 0; the mask passes on unchanged.
    """

    supports_masking = True

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        kwargs.setdefault("padding", "same")
        if kwargs["padding"] != "same" or kwargs.get("strides", 1) not in (1, (1,), [1]):
            raise ValueError(f"MaskedConv1D keeps the series' length: padding must be 'same' and strides 1; received "
                             f"padding={kwargs['padding']!r}, strides={kwargs.get('strides', 1)!r}.")
        super().__init__(filters, kernel_size, **kwargs)

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        if mask is None:
            return super().forward(inputs)
        keep = torch.as_tensor(mask, device=inputs.device).unsqueeze(-1).to(inputs.dtype)  # (B, T, 1)
        return super().forward(inputs * keep) * keep


class MaskedAveragePooling1D(Layer):
    """Means over windows of ``pool_size`` steps (stride ``pool_size``), counting real steps only: (B, T, C) ->
    (B, ceil(T / pool_size), C). A window with no real step is 0 and masked in the output mask."""

    supports_masking = True

    def __init__(self, pool_size: int, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(f"MaskedAveragePooling1D: pool_size must be a positive integer; received {pool_size!r}.")
        self.pool_size = pool_size

    def _windows(self, values: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T', C) sums
        steps = values.shape[1]
        padded = F.pad(values, (0, 0, 0, -steps % self.pool_size))
        return padded.reshape(values.shape[0], -1, self.pool_size, values.shape[2]).sum(2)

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        if self.pool_size == 1:
            return inputs
        if mask is None:
            keep = torch.ones(inputs.shape[:2] + (1,), dtype=inputs.dtype, device=inputs.device)
        else:
            keep = torch.as_tensor(mask, device=inputs.device).unsqueeze(-1).to(inputs.dtype)
        count = self._windows(keep)  # (B, T', 1)
        return self._windows(inputs * keep) / count.clamp(min=1.0)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or self.pool_size == 1:
            return mask
        keep = torch.as_tensor(mask).unsqueeze(-1).to(torch.float32)
        return self._windows(keep)[..., 0] > 0

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else math.ceil(steps / self.pool_size), input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size}


def gru_pool_size(timesteps: int | None, gru_steps: int) -> int:
    """How many steps one GRU step sees, so that the GRU runs over at most ``gru_steps`` steps."""
    return max(1, math.ceil((timesteps or 1) / gru_steps))


def _conv_blocks(h: Any, filters: tuple[int, ...], kernel_sizes: tuple[int, ...], prefix: str = "") -> tuple:
    """Masked Conv1D-BatchNorm-ReLU blocks over ``h``: (the last block's output, the first block's output)."""
    first = None
    for i, (size, kernel) in enumerate(zip(filters, kernel_sizes)):
        h = MaskedConv1D(size, kernel, use_bias=False, name=f"{prefix}conv{i + 1}")(h)
        h = L.BatchNormalization(name=f"{prefix}norm{i + 1}")(h)
        h = L.Activation("relu", name=f"{prefix}relu{i + 1}")(h)
        first = h if first is None else first
    return h, first


def build_network(timesteps: int, channels: int, classes: int, *, filters: tuple[int, ...] = (128, 256, 128),
                  kernel_sizes: tuple[int, ...] = (8, 5, 3), units: int = 64, gru_steps: int = 64,
                  dropout: float = 0.2, masked: bool = False, cell: str = "gru", max_length: int | None = None,
                  coarse_lengths: tuple[int, ...] = (), name: str = "gru_fcn") -> Model:
    """GRU-FCN: Conv1D-BatchNorm-ReLU blocks with a global average, beside a GRU over the first block's features
    averaged to at most ``gru_steps`` steps; both concatenated, dropout, softmax over ``classes``. Series longer than
    ``max_length`` steps are first averaged over windows of ceil(timesteps / max_length) steps. For each length
    L in ``coarse_lengths`` that the series is more than twice as long as, another convolutional branch of the same
    blocks runs over the series averaged to at most L steps: the same kernels there span many more of the original
    steps (a heartbeat, not the edge of one); its global average joins the others.

    Input (B, timesteps, channels); output (B, classes) probabilities.
    """
    recurrent = RECURRENT.get(cell)
    if recurrent is None:
        raise ValueError(f"cell must be 'gru', 'lstm', 'mingru' or 'simple_rnn'; received {cell!r}.")
    if len(filters) != len(kernel_sizes) or not filters:
        raise ValueError(f"filters {filters} and kernel_sizes {kernel_sizes} must be equally long and not empty.")
    inputs = L.Input((timesteps, channels), name="series")
    h = L.Masking(0.0, name="padding")(inputs) if masked else inputs
    branches = []
    for length in coarse_lengths:
        if timesteps is None or timesteps <= 2 * length:
            continue
        coarse = MaskedAveragePooling1D(gru_pool_size(timesteps, length), name=f"coarse{length}_downsample")(h)
        coarse, _ = _conv_blocks(coarse, filters, kernel_sizes, f"coarse{length}_")
        branches.append(L.GlobalAveragePooling1D(name=f"coarse{length}_average")(coarse))
    if max_length is not None and timesteps is not None and timesteps > max_length:
        h = MaskedAveragePooling1D(gru_pool_size(timesteps, max_length), name="downsample")(h)
        timesteps = math.ceil(timesteps / gru_pool_size(timesteps, max_length))
    h, first = _conv_blocks(h, filters, kernel_sizes)
    convolutional = L.GlobalAveragePooling1D(name="average")(h)
    pooled = MaskedAveragePooling1D(gru_pool_size(timesteps, gru_steps), name="shorten")(first)
    sequential = recurrent(units, name=cell)(pooled)
    merged = L.Concatenate(name="join")([convolutional, *branches, sequential])
    merged = L.Dropout(dropout, name="dropout")(merged)
    outputs = L.Dense(classes, activation="softmax", name="classes")(merged)
    return Model(inputs, outputs, name=name)


def average_of(members: list[Model], name: str = "ensemble") -> Model:
    """One model whose output is the mean of the members' outputs (members need distinct names)."""
    if len(members) == 1:
        return members[0]
    inputs = L.Input(members[0].inputs[0].shape[1:], name="series")
    return Model(inputs, L.Average(name="mean")([member(inputs) for member in members]), name=name)
