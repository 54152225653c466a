"""Run a whole sequence through torch's fused RNN kernels, with Keras's mask semantics.

Keras's masked recurrence: at a masked step the state is carried over unchanged and the output repeats the
previous step's output (zeros before the first valid step, or zeros everywhere masked when
``zero_output_for_mask``). When the valid steps of every row form one contiguous block, that is exactly a packed
sequence of each row's block: rows are shifted so their block starts at step 0, packed by length, run through the
kernel, and shifted back; the masked steps are then filled in. Fully masked rows keep their initial state.

Shape legend: B batch, T timesteps, F features, H units.
"""

from __future__ import annotations

import torch
from torch import _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


def vf_name(cell) -> str:
    """The ``torch._VF`` function of the cell's torch mode: 'gru', 'lstm', 'rnn_tanh' or 'rnn_relu'."""
    return cell.torch_mode.lower()


def _call_vf(cell, x: torch.Tensor, states: list[torch.Tensor],
             batch_sizes: torch.Tensor | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The raw kernel call. ``x`` is (B, T, F) batch-first, or packed data when ``batch_sizes`` is given."""
    weights = cell.fused_weights()
    has_biases = len(weights) == 4
    # The kernels' `train` flag only decides whether cuDNN keeps what its backward needs (dropout between layers
    # is 0 here), so it follows autograd, not the layer's training mode: eval-mode gradients must work too.
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in [x, *weights, *states])
    fn = getattr(_VF, vf_name(cell))
    hx = [s.unsqueeze(0) for s in states]
    hx_arg = tuple(hx) if len(hx) > 1 else hx[0]  # (h, c) for an LSTM
    if batch_sizes is None:
        result = fn(x, hx_arg, weights, has_biases, 1, 0.0, needs_grad, False, True)
    else:
        result = fn(x, batch_sizes, hx_arg, weights, has_biases, 1, 0.0, needs_grad, False)
    outputs, *finals = result
    return outputs, [f.squeeze(0) for f in finals]


def run_fused(cell, x: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor | None, layout,
              zero_output_for_mask: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs (B, T, H) in processing order and final states, with Keras's mask semantics."""
    if layout.kind == "none":
        return _call_vf(cell, x, states, None)

    batch, steps, features = x.shape
    starts, lengths = layout.starts, layout.lengths
    t = torch.arange(steps, device=x.device)
    if layout.kind == "block":
        source = (t[None, :] + starts[:, None]).clamp(max=steps - 1)  # (B, T)
        x = x.gather(1, source[:, :, None].expand(batch, steps, features))
    packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
    sorted_states = [s.index_select(0, packed.sorted_indices) for s in states]
    data, finals = _call_vf(cell, packed.data, sorted_states, packed.batch_sizes)
    shifted, _ = pad_packed_sequence(
        PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
        batch_first=True, total_length=steps,
    )  # (B, T, H), zeros past each row's length
    finals = [f.index_select(0, packed.unsorted_indices) for f in finals]

    nonempty = (lengths > 0)[:, None]
    finals = [torch.where(nonempty, f, s) for f, s in zip(finals, states)]
    last_output = finals[0]  # the output of a row's last valid step (h for every cell kind); unused for empty rows
    if layout.kind == "block":
        back = (t[None, :] - starts[:, None]).clamp(min=0)  # (B, T)
        shifted = shifted.gather(1, back[:, :, None].expand(batch, steps, shifted.shape[-1]))
    valid = mask[:, :, None]
    if zero_output_for_mask:
        outputs = torch.where(valid, shifted, torch.zeros_like(shifted))
    else:
        after = (t[None, :] >= (starts + lengths)[:, None])[:, :, None]
        carried = torch.where(after, last_output[:, None, :], torch.zeros_like(shifted))
        outputs = torch.where(valid, shifted, carried)
    return outputs, finals
