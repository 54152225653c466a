"""Connectionist temporal classification: the loss (torch's kernel) and the greedy and beam-search decoders.

Layouts follow Keras: ``output``/``inputs`` are (B, T, C) logits, targets (B, S) padded label ids, lengths (B,).
The class ``mask_index`` is the blank. Decoding returns ``(paths, scores)``: paths (top_paths, B, T) int32
with -1 after each decoded sequence; greedy scores (B, 1) are minus the summed best logits, beam scores
(B, top_paths) the log-probabilities of the decoded label sequences (summed over their alignments).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ._convert import Tensor, convert_to_tensor, tensors
from ._dtypes import result_type, to_torch

_NEG_INF = -math.inf


def _logits(x: Any) -> Tensor:
    x = convert_to_tensor(x)
    if x.ndim != 3:
        raise ValueError(f"CTC takes logits of shape (batch, timesteps, classes); received shape {tuple(x.shape)}.")
    return x.to(to_torch(result_type(x.dtype, "float32"))) if not x.is_floating_point() or \
        x.dtype in (torch.float16, torch.bfloat16) else x


def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any, mask_index: int = 0) -> Tensor:
    """The CTC negative log-likelihood per sample (B,): ``target`` (B, S) label ids, ``output`` (B, T, C)
    logits, the lengths of each; ``mask_index`` is the blank class."""
    output = _logits(output)
    target, target_length, output_length = tensors(target, target_length, output_length)
    batch, steps, classes = output.shape
    if target.ndim != 2 or target.shape[0] != batch:
        raise ValueError(f"ctc_loss needs target of shape (batch, max_label_length) with batch={batch}; received "
                         f"{tuple(target.shape)} for output {tuple(output.shape)}.")
    if not 0 <= mask_index < classes:
        raise ValueError(f"ctc_loss: mask_index={mask_index} is not a class of output with {classes} classes.")
    log_probs = F.log_softmax(output, dim=-1).transpose(0, 1)  # (T, B, C)
    return F.ctc_loss(log_probs, target.long().to(output.device), output_length.long().reshape(-1),
                      target_length.long().reshape(-1), blank=mask_index, reduction="none")


def _greedy(inputs: Tensor, lengths: Tensor, merge_repeated: bool, mask_index: int) -> tuple[Tensor, Tensor]:
    batch, steps, _ = inputs.shape
    best, labels = inputs.max(dim=-1)  # (B, T)
    outside = torch.arange(steps, device=inputs.device)[None, :] >= lengths[:, None]
    labels = torch.where(outside, mask_index, labels)
    scores = -torch.where(outside, torch.zeros_like(best), best).sum(dim=1, keepdim=True)
    drop = labels == mask_index
    if merge_repeated:
        repeat = torch.zeros_like(drop)
        repeat[:, 1:] = labels[:, 1:] == labels[:, :-1]
        drop = drop | repeat
    paths = torch.full((batch, steps), -1, dtype=torch.int32, device=inputs.device)
    for b in range(batch):
        kept = labels[b][~drop[b]]
        paths[b, :kept.numel()] = kept.int()
    return paths[None], scores


def _beam_one(log_probs: Tensor, length: int, beam_width: int, top_paths: int, blank: int,
              pad_to: int) -> tuple[Tensor, Tensor]:
    """Prefix beam search over one sequence: each prefix keeps two log-scores, ending in a label and ending in a
    blank; the ``beam_width`` best prefixes survive each step."""
    x = log_probs.double().cpu().tolist()
    classes = len(x[0])
    beams: dict[tuple[int, ...], list[float]] = {}
    for c in range(classes):  # the first step
        key = () if c == blank else (c,)
        label, gap = beams.setdefault(key, [_NEG_INF, _NEG_INF])
        beams[key] = [label, _logadd(gap, x[0][c])] if c == blank else [_logadd(label, x[0][c]), gap]
    beams = _prune(beams, beam_width)
    for t in range(1, max(length, 1)):
        step = x[t]
        grown: dict[tuple[int, ...], list[float]] = {}
        for prefix, (label, gap) in beams.items():
            total = _logadd(label, gap)
            entry = grown.setdefault(prefix, [_NEG_INF, _NEG_INF])
            entry[1] = _logadd(entry[1], total + step[blank])
            for c in range(classes):
                if c == blank:
                    continue
                if prefix and prefix[-1] == c:
                    entry[0] = _logadd(entry[0], label + step[c])  # the repeat merges into the same label
                    extended = grown.setdefault(prefix + (c,), [_NEG_INF, _NEG_INF])
                    extended[0] = _logadd(extended[0], gap + step[c])  # a blank separated it: a new label
                else:
                    extended = grown.setdefault(prefix + (c,), [_NEG_INF, _NEG_INF])
                    extended[0] = _logadd(extended[0], total + step[c])
        beams = _prune(grown, beam_width)
    ranked = sorted(beams.items(), key=lambda item: -_logadd(*item[1]))[:top_paths]
    paths = torch.full((top_paths, pad_to), -1, dtype=torch.int32)
    scores = torch.full((top_paths,), _NEG_INF, dtype=torch.float64)
    for i, (prefix, (label, gap)) in enumerate(ranked):
        paths[i, :len(prefix)] = torch.tensor(prefix, dtype=torch.int32)
        scores[i] = _logadd(label, gap)
    return paths, scores


def _logadd(a: float, b: float) -> float:
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


def _prune(beams: dict[tuple[int, ...], list[float]], width: int) -> dict[tuple[int, ...], list[float]]:
    ranked = sorted(beams.items(), key=lambda item: -_logadd(*item[1]))
    return {prefix: scores for prefix, scores in ranked[:width] if _logadd(*scores) > _NEG_INF}


def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True, mask_index: int | None = 0) -> tuple[Tensor, Tensor]:
    """Decode (B, T, C) logits into label sequences.

    ``strategy='greedy'``: the best class per step, repeats merged (``merge_repeated``) and blanks removed;
    paths (1, B, T), scores (B, 1). ``strategy='beam_search'``: a prefix beam search keeping ``beam_width``
    prefixes (repeats are always merged, as CTC defines); paths (top_paths, B, T), scores (B, top_paths).
    ``mask_index`` is the blank (None: the last class).
    """
    x = _logits(inputs)
    batch, steps, classes = x.shape
    lengths = convert_to_tensor(sequence_lengths, device=x.device).reshape(-1).long()
    if lengths.shape[0] != batch:
        raise ValueError(f"ctc_decode needs one sequence length per batch entry ({batch}); received "
                         f"{lengths.shape[0]}.")
    blank = classes - 1 if mask_index is None else int(mask_index)
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_decode: mask_index={mask_index} is not a class of inputs with {classes} classes.")
    if strategy == "greedy":
        return _greedy(x, lengths, merge_repeated, blank)
    if strategy != "beam_search":
        raise ValueError(f"ctc_decode takes strategy 'greedy' or 'beam_search'; received strategy={strategy!r}.")
    if beam_width < 1 or top_paths < 1 or top_paths > beam_width:
        raise ValueError(f"ctc_decode needs 1 <= top_paths <= beam_width; received top_paths={top_paths}, "
                         f"beam_width={beam_width}.")
    log_probs = F.log_softmax(x, dim=-1)
    results = [_beam_one(log_probs[b], int(lengths[b]), beam_width, top_paths, blank, steps) for b in range(batch)]
    paths = torch.stack([p for p, _ in results], dim=1).to(x.device)  # (top_paths, B, T)
    scores = torch.stack([s for _, s in results]).to(device=x.device, dtype=x.dtype)  # (B, top_paths)
    return paths, scores
