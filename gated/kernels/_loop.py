"""The step loops: the reference recurrence of a built-in cell, and a custom cell called once per timestep.

Masked steps follow Keras: the state is carried over unchanged and the output repeats the previous step's output
(zeros before the first valid step, or zeros at every masked step with ``zero_output_for_mask``).

Shape legend: B batch, T timesteps, F features, H units, G gates.
"""

from __future__ import annotations

from typing import Callable

import torch

Step = Callable[[int, list[torch.Tensor]], tuple[torch.Tensor, list[torch.Tensor]]]


def run_loop(layer, x: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor | None, layout,
             training: bool) -> tuple[torch.Tensor | None, torch.Tensor, list[torch.Tensor]]:
    """The reference recurrence: input projection for all steps at once, then one cell step per timestep."""
    cell = layer.cell
    input_masks, recurrent_masks = cell.dropout_masks(x.shape[0], x, training)
    projected = cell.project(x, input_masks)  # (B, T, G*H)
    return recur(lambda t, s: cell.step(projected[:, t], s, recurrent_masks), x.shape[1], states, mask,
                 layer.zero_output_for_mask, layer.return_sequences)


def run_cell_loop(layer, x: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor | None, layout,
                  training: bool) -> tuple[torch.Tensor | None, torch.Tensor, list[torch.Tensor]]:
    """The layer's cell called once per timestep (``layer.step_cell``, on flat states)."""
    return recur(lambda t, s: layer.step_cell(x[:, t], s, training), x.shape[1], states, mask,
                 layer.zero_output_for_mask, layer.return_sequences)


def recur(step: Step, steps: int, states: list[torch.Tensor], mask: torch.Tensor | None,
          zero_output_for_mask: bool, keep_sequence: bool) -> tuple[torch.Tensor | None, torch.Tensor,
                                                                    list[torch.Tensor]]:
    """``step(t, states) -> (output, new states)`` over ``steps`` timesteps with Keras's mask semantics.

    Returns the outputs (B, T, H) (None unless ``keep_sequence``), the last output (B, H) and the final states.
    """
    outputs = []
    output = None
    previous = None
    for t in range(steps):
        output, new_states = step(t, states)
        if mask is not None:
            valid = mask[:, t, None]
            new_states = [torch.where(valid, n, s) for n, s in zip(new_states, states)]
            if previous is None:
                previous = torch.zeros_like(output)
            fill = torch.zeros_like(output) if zero_output_for_mask else previous
            output = torch.where(valid, output, fill)
            previous = output
        states = new_states
        if keep_sequence:
            outputs.append(output)
    sequence = torch.stack(outputs, dim=1) if keep_sequence else None
    return sequence, output, states
