"""Decoding token by token: greedy search and beam search with length normalisation.

Both drive a ``step(tokens, states, memory) -> (log_probs (N, V), states, attention (N, S) | None)`` function
over N running hypotheses. Beam search keeps ``width`` hypotheses per source sequence, ranks finished ones by
``sum(log p) / length ** length_penalty`` (length counts the end marker) and stops a sequence once ``width``
hypotheses have finished (finished hypotheses are taken only from the best ``width`` candidates of a step, so
``width=1`` is exactly greedy search). States and memory are nested lists / tuples / dicts of tensors whose first
axis is N; ``select`` reorders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from ._vocab import END, PAD, START, UNKNOWN

NEVER = [PAD, START, UNKNOWN]  # ids a decoder never emits: padding, the start marker, unknown tokens

Step = Callable[[torch.Tensor, Any, Any], tuple[torch.Tensor, Any, "torch.Tensor | None"]]


def select(structure: Any, index: torch.Tensor) -> Any:
    """``structure`` with every tensor's first axis taken at ``index``."""
    if isinstance(structure, torch.Tensor):
        return structure.index_select(0, index)
    if hasattr(structure, "select"):
        return structure.select(index)
    if isinstance(structure, list):
        return [select(s, index) for s in structure]
    if isinstance(structure, tuple):
        return tuple(select(s, index) for s in structure)
    if isinstance(structure, dict):
        return {k: select(v, index) for k, v in structure.items()}
    return structure


@dataclass
class Hypothesis:
    tokens: list[int]  # without START, ending with END when finished
    score: float  # normalised log-probability
    attention: torch.Tensor | None  # (len(tokens), S)


@torch.no_grad()
def greedy_search(step: Step, states: Any, memory: Any, batch: int, max_length: int, device: torch.device,
                  keep_attention: bool = False) -> list[Hypothesis]:
    """The most likely token at every step, until END or ``max_length`` tokens."""
    tokens = torch.full((batch,), START, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    chosen, scores, attentions = [], torch.zeros(batch, device=device, dtype=torch.float64), []
    for _ in range(max_length):
        log_probs, states, attention = step(tokens, states, memory)
        log_probs = log_probs.clone()
        log_probs[:, NEVER] = float("-inf")
        best, tokens = log_probs.max(dim=-1)
        tokens = torch.where(done, torch.full_like(tokens, PAD), tokens)
        scores += torch.where(done, torch.zeros_like(best), best).double()
        chosen.append(tokens)
        if keep_attention and attention is not None:
            attentions.append(attention)
        done |= tokens == END
        if bool(done.all()):
            break
    ids = torch.stack(chosen, dim=1).tolist()
    stacked = torch.stack(attentions, dim=1) if attentions else None
    out = []
    for i, row in enumerate(ids):
        length = row.index(END) + 1 if END in row else len(row)
        out.append(Hypothesis(row[:length], float(scores[i]) / max(length, 1),
                              None if stacked is None else stacked[i, :length]))
    return out


@torch.no_grad()
def beam_search(step: Step, states: Any, memory: Any, batch: int, width: int, max_length: int,
                device: torch.device, length_penalty: float = 1.0, keep_attention: bool = False) -> list[Hypothesis]:
    """The best hypothesis per source sequence by normalised log-probability (see the module doc)."""
    k = width
    expand = torch.arange(batch, device=device).repeat_interleave(k)
    states, memory = select(states, expand), select(memory, expand)
    scores = torch.full((batch, k), float("-inf"), device=device, dtype=torch.float64)
    scores[:, 0] = 0.0  # one live hypothesis per sequence at first
    tokens = torch.full((batch * k,), START, dtype=torch.long, device=device)
    history = torch.zeros((batch, k, 0), dtype=torch.long, device=device)
    attention_history: torch.Tensor | None = None
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    done = [False] * batch
    offsets = (torch.arange(batch, device=device) * k)[:, None]
    for t in range(max_length):
        log_probs, states, attention = step(tokens, states, memory)
        vocab = log_probs.shape[-1]
        log_probs = log_probs.double()
        log_probs[:, NEVER] = float("-inf")
        candidates = (scores[:, :, None] + log_probs.view(batch, k, vocab)).view(batch, k * vocab)
        top_scores, top_index = candidates.topk(2 * k, dim=-1)  # (B, 2k), best first
        top_beam, top_token = top_index // vocab, top_index % vocab
        if keep_attention and attention is not None:
            step_attention = attention.view(batch, k, -1)
            attention_history = step_attention[:, :, None] if attention_history is None else torch.cat(
                [attention_history, step_attention[:, :, None]], dim=2)
        # Finish: END among the best k candidates of a sequence not yet done.
        is_end = top_token == END
        final = (is_end[:, :k] & torch.isfinite(top_scores[:, :k])).nonzero().tolist()
        for b, rank in final:
            if done[b] or len(finished[b]) >= k:
                continue
            beam = int(top_beam[b, rank])
            path = history[b, beam].tolist() + [END]
            attn = None if attention_history is None else attention_history[b, beam]
            finished[b].append(Hypothesis(path, float(top_scores[b, rank]) / len(path) ** length_penalty, attn))
        for b in range(batch):
            if not done[b] and len(finished[b]) >= k:
                done[b] = True
        if all(done):
            break
        # Continue: the best k candidates that are not END.
        alive_scores = top_scores.masked_fill(is_end, float("-inf"))
        keep_scores, keep_rank = alive_scores.topk(k, dim=-1)
        beams = top_beam.gather(1, keep_rank)
        keep_tokens = top_token.gather(1, keep_rank)
        scores = keep_scores
        for b in range(batch):
            if done[b]:
                scores[b] = float("-inf")
        reorder = (offsets + beams).view(-1)
        history = torch.cat([history.view(batch * k, -1).index_select(0, reorder).view(batch, k, -1),
                             keep_tokens[:, :, None]], dim=2)
        if attention_history is not None:
            size = attention_history.shape[2:]
            attention_history = attention_history.reshape(batch * k, *size).index_select(0, reorder).view(
                batch, k, *size)
        states, tokens = select(states, reorder), keep_tokens.view(-1)
    results = []
    for b in range(batch):
        pool = list(finished[b])
        if not done[b]:  # max_length reached: live hypotheses compete without an END
            for beam in range(k):
                if torch.isfinite(scores[b, beam]):
                    path = history[b, beam].tolist()
                    attn = None if attention_history is None else attention_history[b, beam]
                    pool.append(Hypothesis(path, float(scores[b, beam]) / max(len(path), 1) ** length_penalty, attn))
        results.append(max(pool, key=lambda h: h.score))
    return results
