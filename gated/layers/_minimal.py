"""``MinGRU`` and ``MinLSTM``: the minimal recurrent layers of Feng et al. (2024), "Were RNNs All We Needed?".

The gates read only the input, never the previous state, so a whole sequence is one linear recurrence
``h_t = a_t * h_{t-1} + b_t``, solved in parallel over time in log space (Heinsen's scan)::

    log h_t = a*_t + logcumsumexp_{s<=t}(log b_s - a*_s),    a*_t = sum_{r<=t} log a_r

minGRU:  z = σ(x W_z + b_z), h~ = g(x W_h + b_h), a = 1 - z, b = z * h~, g(v) = v + 0.5 (v >= 0) else σ(v).
minLSTM: f = σ(x W_f + b_f), i = σ(x W_i + b_i), h~ = g(x W_h + b_h), a = f / (f + i), b = i / (f + i) * h~.

``h~ > 0``, so ``log b`` is finite; the initial state may have any sign and enters as ``exp(a*_t) * h_0``. The scan runs
over chunks of 64 steps, carrying the state between them, to keep float32 precision on long sequences. The
sequential path (``parallel=False``, and ``step()`` for streaming one timestep with constant memory) computes
the same recurrence with plain gates, one step at a time: it is the reference the scan is tested against.

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
from ._base import Layer, WeightSpec
from ._recurrent import RNN, with_cell_arguments


def _g(v: torch.Tensor) -> torch.Tensor:
    """The paper's positive activation: v + 0.5 for v >= 0, σ(v) below (continuous at 0)."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def _log_g(v: torch.Tensor) -> torch.Tensor:
    return torch.where(v >= 0, torch.log(F.relu(v) + 0.5), -F.softplus(-v))


class _MinCell(Layer):
    """The weights of a minimal cell: ``kernel`` (F, G*H) and ``bias`` (G*H,), gates in ``gate_names`` order."""

    gate_names: tuple[str, ...] = ()

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
    gate_names = ("update", "candidate")

    def log_coefficients(self, x):
        update, candidate = self.project(x)
        log_z = -F.softplus(-update)  # log σ(u)
        return -F.softplus(update), log_z + _log_g(candidate)  # log(1 - z), log(z h~)

    def step(self, x_t, h):
        update, candidate = self.project(x_t)
        z = torch.sigmoid(update)
        return (1 - z) * h + z * _g(candidate)


class MinLSTMCell(_MinCell):
    gate_names = ("forget_gate", "input_gate", "cell")

    def log_coefficients(self, x):
        forget, inp, candidate = self.project(x)
        diff = F.softplus(-forget) - F.softplus(-inp)  # log i - log f
        return -F.softplus(diff), -F.softplus(-diff) + _log_g(candidate)  # log f', log(i' h~)

    def step(self, x_t, h):
        forget, inp, candidate = self.project(x_t)
        f, i = torch.sigmoid(forget), torch.sigmoid(inp)
        return f / (f + i) * h + i / (f + i) * _g(candidate)


SCAN_CHUNK = 64  # timesteps per log-space scan; the state is carried between chunks


def log_space_scan(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor,
                   chunk: int = SCAN_CHUNK) -> torch.Tensor:
    """All h_t of h_t = a_t h_{t-1} + b_t (a, b > 0 given as logs (B, T, H); h0 (B, H) of any sign) -> (B, T, H).

    Heinsen's scan, run over chunks of ``chunk`` steps with the state carried from one to the next: within a
    chunk ``a*`` stays small, so ``a*_t + logcumsumexp(log b - a*)`` loses no precision to cancellation (over
    thousands of steps it would, about |a*| float ulps).
    """
    outs, h = [], h0  # (B, H)
    for start in range(0, log_a.shape[1], chunk):
        la, lb = log_a[:, start:start + chunk], log_b[:, start:start + chunk]  # (B, C, H)
        a_star = torch.cumsum(la, dim=1)  # (B, C, H), <= 0
        hs = torch.exp(a_star) * h[:, None, :] + torch.exp(a_star + torch.logcumsumexp(lb - a_star, dim=1))
        outs.append(hs)
        h = hs[:, -1]
    return outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)


class _MinRNN(RNN):
    """A minimal recurrent layer: parallel log-space scan over the sequence, or one step at a time."""

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

    def dispatch(self, mask: Any = None, training: bool = False) -> str:
        return "scan" if self.parallel else "loop"

    def step(self, x_t: Any, states: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Streaming inference: one timestep (B, F) and the states [h] -> (output (B, H), [h'])."""
        x_t = self._convert_inputs(x_t)
        if not self.built:
            self._build_now((x_t.shape[0], None, x_t.shape[-1]), x_t.device)
        h = self._check_states(states if isinstance(states, (list, tuple)) else [states], x_t.shape[0], "step")[0]
        h = self.cell.step(x_t, h)
        return h, [h]

    def forward(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None,
                training: bool | None = None) -> Any:
        batch, steps = inputs.shape[0], inputs.shape[1]
        h0 = self._initial_states(initial_state, batch)[0]  # (B, H)
        mask = self._standardize_mask(mask, batch, steps, inputs.device)
        x = inputs.flip(1) if self.go_backwards else inputs  # processing order
        if mask is not None and self.go_backwards:
            mask = mask.flip(1)
        self.last_path = self.dispatch(mask, bool(training))
        if self.parallel:
            log_a, log_b = self.cell.log_coefficients(x)  # (B, T, H) each
            if mask is not None:
                valid = mask[:, :, None]
                log_a = torch.where(valid, log_a, torch.zeros_like(log_a))  # a = 1: the state carries
                # b = 0 at masked steps; a huge finite negative keeps logcumsumexp's gradient finite
                log_b = torch.where(valid, log_b, torch.full_like(log_b, torch.finfo(log_b.dtype).min / 4))
            states = log_space_scan(log_a, log_b, h0)  # (B, T, H)
        else:
            h, hs = h0, []
            for t in range(steps):
                new = self.cell.step(x[:, t], h)
                h = new if mask is None else torch.where(mask[:, t, None], new, h)
                hs.append(h)
            states = torch.stack(hs, dim=1)
        outputs = states
        if mask is not None:
            seen = mask.cummax(dim=1).values if not self.zero_output_for_mask else mask  # (B, T)
            outputs = torch.where(seen[:, :, None], states, torch.zeros_like(states))
        final = states[:, -1]
        if self.stateful:
            self._states = [final.detach()]
        output = outputs if self.return_sequences else outputs[:, -1]
        return (output, final) if self.return_state else output

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
