"""Attention layers with Keras's names, arguments and numerics: ``Attention`` (Luong: dot-product scores) and
``AdditiveAttention`` (Bahdanau: ``sum(scale * tanh(q + k))`` scores).

Both take ``[query, value]`` or ``[query, value, key]`` (key defaults to value): query (B, Tq, D), value
(B, Tv, Dv), key (B, Tv, D). Scores (B, Tq, Tv) are masked where the value mask is False (Keras subtracts 1e9, so
a padded step gets a weight of exactly 0 in float32), normalised with a softmax over Tv, and applied to the values:
output (B, Tq, Dv). Rows of the output whose query step is masked are zero; the output carries the query mask.
With ``return_attention_scores=True`` the call returns ``(output, weights)``, the weights summing to 1 over the
unmasked value steps.

The projections of Luong's "general" score or Bahdanau's ``W1 q + W2 k`` are ``Dense`` layers applied before
these layers, as in Keras.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch
import torch.nn.functional as F

from .. import initializers as _initializers
from ._base import Layer, WeightSpec, describe_array
from ._core import _new_weight, _param_spec

_PADDING_BIAS = 1.0e9  # Keras's bias for padded steps (65504 in float16)


class _BaseAttention(Layer):
    supports_masking = True

    def __init__(self, use_scale: bool, dropout: float = 0.0, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1), received dropout={dropout!r}.")
        self.use_scale = bool(use_scale)
        self.dropout = float(dropout)
        self.seed = seed

    # -------------------------------------------------------------------------------------------- inputs
    def _split(self, inputs: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        return query, value, key

    def _check_structure(self, inputs: Any) -> None:
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            got = f"a list of {len(inputs)}" if isinstance(inputs, (list, tuple)) else f"a {type(inputs).__name__}"
            raise ValueError(
                f"{self._describe()} takes a list [query, value] or [query, value, key], but received {got}. "
                "Call it as layer([decoder_outputs, encoder_outputs])."
            )

    def build(self, input_shape: Any) -> None:
        self._check_structure(input_shape)
        self._build_weights(input_shape[0][-1])
        self.built = True

    def _build_weights(self, dim: int) -> None:
        raise NotImplementedError

    def _convert_inputs(self, x: Any) -> Any:
        self._check_structure(x)
        return type(x)(self._convert_one(e) for e in x)

    def validate_input(self, inputs: Any) -> None:
        query, value, key = self._split(inputs)
        for name, tensor in (("query", query), ("value", value), ("key", key)):
            if tensor.ndim != 3:
                raise ValueError(f"{self._describe()} expects a 3-D {name} (batch, steps, features), but received "
                                 f"{describe_array(tensor)}.")
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"{self._describe()}: key has {key.shape[1]} steps but value has {value.shape[1]}; "
                             "each key step scores the value step at the same position.")
        if query.shape[-1] != key.shape[-1]:
            raise ValueError(
                f"{self._describe()}: query has {query.shape[-1]} features but key has {key.shape[-1]}; the scores "
                "compare them feature by feature. Project one of them with a Dense layer to the other's size."
            )
        if not (query.shape[0] == value.shape[0] == key.shape[0]):
            raise ValueError(f"{self._describe()}: query, value and key have batch sizes {query.shape[0]}, "
                             f"{value.shape[0]} and {key.shape[0]}; they must be equal.")

    # -------------------------------------------------------------------------------------------- calling
    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs: Any, mask: Any = None, training: bool | None = None,
                return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        training = self.training if training is None else bool(training)
        query, value, key = self._split(inputs)
        query_mask, value_mask = (mask[0], mask[1]) if isinstance(mask, (list, tuple)) else (None, None)
        scores = self._scores(query, key)  # (B, Tq, Tv)
        allowed = None if value_mask is None else value_mask.bool()[:, None, :]
        if use_causal_mask:
            causal = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril()
            allowed = causal[None] if allowed is None else allowed & causal
        if allowed is not None:
            bias = 65504.0 if scores.dtype == torch.float16 else _PADDING_BIAS
            scores = torch.where(allowed, scores, scores - bias)
        weights = torch.softmax(scores, dim=-1)
        if training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout, training=True)
        output = weights @ value
        if query_mask is not None:
            output = torch.where(query_mask.bool()[..., None], output, torch.zeros((), dtype=output.dtype,
                                                                                  device=output.device))
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)) and mask and mask[0] is not None:
            return mask[0]
        return None

    def compute_output_shape(self, input_shape: Any) -> tuple:
        query, value = input_shape[0], input_shape[1]
        return tuple(query[:-1]) + (value[-1],)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_scale": self.use_scale, "dropout": self.dropout, "seed": self.seed}


class Attention(_BaseAttention):
    """Dot-product (Luong) attention, as ``keras.layers.Attention``.

    ``score_mode="dot"``: scores = query @ key^T, times a learned scalar ``scale`` (initial 1) with ``use_scale``.
    ``score_mode="concat"``: scores = ``concat_score_weight * sum(tanh(scale * (q + k)))`` over features.
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(use_scale, dropout, seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Attention: score_mode must be 'dot' or 'concat', received score_mode={score_mode!r}.")
        self.score_mode = score_mode

    def _build_weights(self, dim: int) -> None:
        ones = _initializers.get("ones")
        self.scale = _new_weight(ones, (), self._dtype) if self.use_scale else None
        self.concat_score_weight = _new_weight(ones, (), self._dtype) if self.score_mode == "concat" else None

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return
        if self.use_scale:
            yield _param_spec(self, "scale")
        if self.score_mode == "concat":
            yield _param_spec(self, "concat_score_weight")

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        if self.score_mode == "dot":
            scores = query @ key.transpose(-2, -1)
            return scores * self.scale if self.scale is not None else scores
        pairs = query[:, :, None, :] + key[:, None, :, :]
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * torch.tanh(pairs).sum(-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "score_mode": self.score_mode}

    def _summary_args(self) -> str:
        return f"score_mode={self.score_mode!r}" + (", use_scale=True" if self.use_scale else "")


class AdditiveAttention(_BaseAttention):
    """Additive (Bahdanau) attention, as ``keras.layers.AdditiveAttention``: scores =
    ``sum(scale * tanh(q + k))`` over features, ``scale`` a learned vector (glorot uniform) with ``use_scale``."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None, **kwargs: Any):
        super().__init__(use_scale, dropout, seed, **kwargs)

    def _build_weights(self, dim: int) -> None:
        initializer = _initializers.get("glorot_uniform")
        self.scale = _new_weight(initializer, (dim,), self._dtype) if self.use_scale else None

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if self.built and self.use_scale:
            yield _param_spec(self, "scale")

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        pairs = torch.tanh(query[:, :, None, :] + key[:, None, :, :])  # (B, Tq, Tv, D)
        if self.scale is None:
            return pairs.sum(-1)
        return pairs @ self.scale

    def _summary_args(self) -> str:
        return "use_scale=True" if self.use_scale else "use_scale=False"
