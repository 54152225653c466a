"""Linear recurrences ``h_t = a_t * h_{t-1} + b_t`` (``MinGRU``, ``MinLSTM``): the parallel scan and the step loop.

The cell gives the coefficients (``cell.log_coefficients(x)``: log a and log b, each (B, T, H)) or one step with
plain gates (``cell.step(x_t, h)``); this module runs them over the sequence. The scan solves the recurrence in
parallel over time in log space (Heinsen's scan)::

    log h_t = a*_t + logcumsumexp_{s<=t}(log b_s - a*_s),    a*_t = sum_{r<=t} log a_r

over chunks of ``SCAN_CHUNK`` steps, carrying the state between them, to keep float32 precision on long
sequences; the initial state may have any sign and enters as ``exp(a*_t) * h_0``. The step loop
(``parallel=False``) is the reference the scan is tested against.

Masks follow the GRU layer: a masked step carries the state (a = 1, b = 0) and repeats the previous output
(zeros before the first valid step, or zeros at every masked step with ``zero_output_for_mask``).

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import torch

SCAN_CHUNK = 64  # timesteps per log-space scan; the state is carried between chunks
SCAN = f"log-space parallel scan, chunks of {SCAN_CHUNK} steps"
STEPS = "python loop over the cell's step"


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


def run_scan(layer, x: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor | None, layout,
             training: bool) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """The whole sequence by the log-space scan."""
    log_a, log_b = layer.cell.log_coefficients(x)  # (B, T, H) each
    if mask is not None:
        valid = mask[:, :, None]
        log_a = torch.where(valid, log_a, torch.zeros_like(log_a))  # a = 1: the state carries
        # b = 0 at masked steps; a huge finite negative keeps logcumsumexp's gradient finite
        log_b = torch.where(valid, log_b, torch.full_like(log_b, torch.finfo(log_b.dtype).min / 4))
    return _outputs(log_space_scan(log_a, log_b, states[0]), mask, layer.zero_output_for_mask)


def run_steps(layer, x: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor | None, layout,
              training: bool) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """The whole sequence one ``cell.step`` at a time."""
    cell = layer.cell
    h, hs = states[0], []
    for t in range(x.shape[1]):
        new = cell.step(x[:, t], h)
        h = new if mask is None else torch.where(mask[:, t, None], new, h)
        hs.append(h)
    return _outputs(torch.stack(hs, dim=1), mask, layer.zero_output_for_mask)


def _outputs(states: torch.Tensor, mask: torch.Tensor | None,
             zero_output_for_mask: bool) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """(outputs (B, T, H), last output (B, H), [final h]) from every step's state (B, T, H)."""
    outputs = states
    if mask is not None:
        seen = mask.cummax(dim=1).values if not zero_output_for_mask else mask  # (B, T)
        outputs = torch.where(seen[:, :, None], states, torch.zeros_like(states))
    return outputs, outputs[:, -1], [states[:, -1]]
