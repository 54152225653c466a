"""``MinGRU`` and ``MinLSTM``: the minimal recurrent layers of Feng et al. (2024), "Were RNNs All We Needed?".

The gates read only the input, never the previous state, so a whole sequence is one linear recurrence
``h_t = a_t * h_{t-1} + b_t``, solved in parallel over time in log space (Heinsen's scan, ``gated.kernels._scan``,
which the layers' dispatch picks for cells whose spec is ``linear``):

minGRU:  z = σ(x W_z + b_z), h~ = g(x W_h + b_h), a = 1 - z, b = z * h~, g(v) = v + 0.5 (v >= 0) else σ(v).
minLSTM: f = σ(x W_f + b_f), i = σ(x W_i + b_i), h~ = g(x W_h + b_h), a = f / (f + i), b = i / (f + i) * h~.

``h~ > 0``, so ``log b`` is finite. The sequential path (``parallel=False``, and ``step()`` for streaming one
timestep with constant memory) computes the same recurrence with plain gates, one step at a time: it is the
reference the scan is tested against.

Masks follow the GRU layer: a masked step carries the state (a = 1, b = 0) and repeats the previous output
(zeros before the first valid step, or zeros at every masked step with ``zero_output_for_mask``).

Shape legend: B batch, T timesteps, F features, H units, G gates.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from .. import initializers
from ..saving._convert import CellKind, CellSpec
from ._base import Layer, WeightSpec
from ._recurrent import RNN, with_cell_arguments


def _g(v: torch.Tensor) -> torch.Tensor:
    """The paper's positive activation: v + 0.5 for v >= 0, σ(v) below (continuous at 0)."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def _log_g(v: torch.Tensor) -> torch.Tensor:
    return torch.where(v >= 0, torch.log(F.relu(v) + 0.5), -F.softplus(-v))


class _MinCell(Layer):
    """The weights of a minimal cell: ``kernel`` (F, G*H) and ``bias`` (G*H,), gates in ``gate_names`` order."""

    spec: CellSpec | None = None

    @property
    def gate_names(self) -> tuple[str, ...]:
        return self.spec.keras_gates

    def __init__(self, units: int, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{type(self).__name__} expects units to be a positive integer; received {units!r}.")
        self.units = units
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.input_dim: int | None = None
        self.weight_ih: nn.Parameter | None = None  # (G*H, F), torch layout
        self.bias_ih: nn.Parameter | None = None  # (G*H,)

    @property
    def state_size(self) -> int:
        return self.units

    def build(self, input_shape: Any) -> None:
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"{self._describe()} needs a known number of features to build, got {input_shape}.")
        gh = len(self.gate_names) * self.units
        self.input_dim = int(features)
        self.weight_ih = nn.Parameter(self.kernel_initializer((features, gh)).T.contiguous().to(self._dtype))
        if self.use_bias:
            self.bias_ih = nn.Parameter(self.bias_initializer((gh,)).to(self._dtype))
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return

        def set_kernel(value: torch.Tensor) -> None:
            self.weight_ih.copy_(value.T)

        def set_bias(value: torch.Tensor) -> None:
            self.bias_ih.copy_(value)

        yield WeightSpec("kernel", lambda: self.weight_ih.T, set_kernel)
        if self.use_bias:
            yield WeightSpec("bias", lambda: self.bias_ih, set_bias)

    def project(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(B, T, F) -> G pre-activations of shape (B, T, H), in ``gate_names`` order."""
        return list(F.linear(x, self.weight_ih, self.bias_ih).split(self.units, dim=-1))

    def log_coefficients(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(log a, log b), each (B, T, H): the recurrence h_t = a_t h_{t-1} + b_t in log space."""
        raise NotImplementedError

    def step(self, x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One timestep with plain gates: (B, F), (B, H) -> (B, H)."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "units": self.units, "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        })
        return config


class MinGRUCell(_MinCell):
    spec = CellSpec(CellKind.MIN_GRU, keras_gates=("update", "candidate"), torch_gates=("update", "candidate"),
                    linear=True)

    def log_coefficients(self, x):
        update, candidate = self.project(x)
        log_z = -F.softplus(-update)  # log σ(u)
        return -F.softplus(update), log_z + _log_g(candidate)  # log(1 - z), log(z h~)

    def step(self, x_t, h):
        update, candidate = self.project(x_t)
        z = torch.sigmoid(update)
        return (1 - z) * h + z * _g(candidate)


class MinLSTMCell(_MinCell):
    spec = CellSpec(CellKind.MIN_LSTM, keras_gates=("forget_gate", "input_gate", "cell"),
                    torch_gates=("forget_gate", "input_gate", "cell"), linear=True)

    def log_coefficients(self, x):
        forget, inp, candidate = self.project(x)
        diff = F.softplus(-forget) - F.softplus(-inp)  # log i - log f
        return -F.softplus(diff), -F.softplus(-diff) + _log_g(candidate)  # log f', log(i' h~)

    def step(self, x_t, h):
        forget, inp, candidate = self.project(x_t)
        f, i = torch.sigmoid(forget), torch.sigmoid(inp)
        return f / (f + i) * h + i / (f + i) * _g(candidate)


class _MinRNN(RNN):
    """A minimal recurrent layer: parallel log-space scan over the sequence, or one step at a time.

    ``RNN.forward`` runs it: the cell's spec is ``linear``, so the dispatch (``layer.last_path``,
    ``layer.dispatch()``) chooses ``Kernel.SCAN``, or ``Kernel.LOOP`` with ``parallel=False``.
    """

    cell_class: type[_MinCell] = _MinCell

    def __init__(self, units: int, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, parallel: bool = True,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 **kwargs: Any):
        cell = self.cell_class(units, use_bias=use_bias, kernel_initializer=kernel_initializer,
                               bias_initializer=bias_initializer, dtype=kwargs.get("dtype"))
        kwargs.pop("use_cudnn", None)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.parallel = bool(parallel)

    units = property(lambda self: self.cell.units)
    use_bias = property(lambda self: self.cell.use_bias)

    def step(self, x_t: Any, states: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Streaming inference: one timestep (B, F) and the states [h] -> (output (B, H), [h'])."""
        x_t = self._convert_inputs(x_t)
        if not self.built:
            self._build_now((x_t.shape[0], None, x_t.shape[-1]), x_t.device)
        h = self._check_states(states if isinstance(states, (list, tuple)) else [states], x_t.shape[0], "step")[0]
        h = self.cell.step(x_t, h)
        return h, [h]

    def step_cell(self, x_t: torch.Tensor, states: list[torch.Tensor],
                  training: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = self.cell.step(x_t, states[0])
        return h, [h]

    def _summary_args(self) -> str:
        return f"units={self.units}"

    def get_config(self) -> dict[str, Any]:
        config = with_cell_arguments(super().get_config(), self.cell)
        config["parallel"] = self.parallel
        return config


class MinGRU(_MinRNN):
    """minGRU (Feng et al. 2024): ``h_t = (1 - z_t) h_{t-1} + z_t g(x_t W_h + b_h)``, ``z_t = σ(x_t W_z + b_z)``.

    ``(B, T, F) -> (B, H)``, or ``(B, T, H)`` with ``return_sequences``; ``return_state`` adds the final ``h``
    (B, H). Weights in Keras's layout: ``kernel`` (F, 2H) and ``bias`` (2H,), gates update, candidate.
    ``parallel=True`` trains with the log-space scan; ``parallel=False`` runs the step loop; ``step(x_t, [h])``
    streams one timestep.
    """

    cell_class = MinGRUCell


class MinLSTM(_MinRNN):
    """minLSTM (Feng et al. 2024): ``h_t = f'_t h_{t-1} + i'_t g(x_t W_h + b_h)`` with ``f', i' = f, i / (f + i)``.

    One state ``h`` (B, H), no output gate. Weights in Keras's layout: ``kernel`` (F, 3H) and ``bias`` (3H,),
    gates forget_gate, input_gate, cell. Otherwise as ``MinGRU``.
    """

    cell_class = MinLSTMCell
