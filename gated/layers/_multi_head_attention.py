"""``MultiHeadAttention`` with Keras's names, arguments, weight layout and numerics (Vaswani et al., 2017).

Call as ``layer(query, value, key=None, attention_mask=None, return_attention_scores=False, training=None,
use_causal_mask=False)`` (or ``layer([query, value])`` / ``layer([query, value, key])``): query (B, T, Dq),
value (B, S, Dv), key (B, S, Dk), key defaulting to value. Inputs of higher rank attend over ``attention_axes``
(default: every axis but batch and features). Each input is projected per head, the scores
``(q / sqrt(key_dim)) . k`` are normalised with a softmax over the key positions, applied to the values, and the
heads are projected back: output (B, T, Dq), or (B, T, *output_shape).

Weights, in Keras's layout and ``get_weights()`` order (all stored as they are used, no translation):
``query/kernel`` (Dq, N, key_dim), ``query/bias`` (N, key_dim), ``key/kernel`` (Dk, N, key_dim), ``key/bias``,
[``gate/kernel`` (Dq, N, value_dim), ``gate/bias`` with ``use_gate``], ``value/kernel`` (Dv, N, value_dim),
``value/bias`` (N, value_dim), ``attention_output/kernel`` (N, value_dim, *out), ``attention_output/bias`` (*out,).

Masks as Keras combines them: the query's mask (B, T, 1), the value's (B, 1, S), the key's (B, 1, S) when a key
is passed, the causal mask (1, T, S), the sliding window's band and ``attention_mask`` (B, T, S), all ANDed; the
output carries the query's mask. ``value_mask=`` / ``key_mask=`` given in the call replace the tensors' masks, as in
Keras; ``query_mask=`` is used when the query carries no mask (Keras reads only the query's own). A query row with no key left to attend to follows Keras too: where Keras runs
its fused kernel (rank-3 inputs, ``dropout=0``, no scores returned) its weights are uniform over the keys,
elsewhere they are zero.

Shape legend: B batch, T query steps, S key/value steps, N heads, H key_dim, V value_dim.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ._base import Layer, WeightSpec, describe_array
from ._core import _check_positive_int
from ._symbolic import Node, SymbolicTensor, shape_of

_SOFTMAX_MASK_VALUE = {torch.float16: -3.0e4}  # Keras's Softmax: masked scores are set to this (else -1e9)
_FUSED_MASK_BIAS = {torch.float16: 65500.0 * -0.7}  # Keras's fused path: this is added (else -0.7 * 3.38953e38)


def _init_kernel(initializer: Any, shape: tuple[int, ...], fan_in_axes: int, dtype: torch.dtype) -> nn.Parameter:
    """A projection kernel whose first ``fan_in_axes`` axes are contracted: a variance-scaling initializer sees
    the fans Keras's EinsumDense gives it (inputs, outputs), any other sees the full shape."""
    if isinstance(initializer, _initializers.VarianceScaling):
        fan_in = math.prod(shape[:fan_in_axes])
        value = torch.as_tensor(initializer((fan_in, math.prod(shape) // fan_in), dtype=dtype)).reshape(shape)
    else:
        value = torch.as_tensor(initializer(shape, dtype=dtype))
    if tuple(value.shape) != shape:
        raise ValueError(f"The initializer {initializer!r} returned shape {tuple(value.shape)}, expected {shape}.")
    return nn.Parameter(value.to(dtype).clone())


class MultiHeadAttention(Layer):
    """Multi-head (scaled dot-product) attention, as ``keras.layers.MultiHeadAttention``."""

    supports_masking = True

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: int | Sequence[int] | None = None,
                 attention_axes: int | Sequence[int] | None = None, sliding_window: int | None = None,
                 flash_attention: bool | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
                 use_gate: bool = False, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)  # the activity regularizer applies to each projection, as in Keras
        self.num_heads = _check_positive_int("MultiHeadAttention", "num_heads", num_heads)
        self.key_dim = _check_positive_int("MultiHeadAttention", "key_dim", key_dim)
        self.value_dim = self.key_dim if value_dim is None else _check_positive_int(
            "MultiHeadAttention", "value_dim", value_dim)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiHeadAttention: dropout must be a number in [0, 1), received dropout={dropout!r}.")
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.use_gate = bool(use_gate)
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        if output_shape is not None:
            if not isinstance(output_shape, (list, tuple)) or not all(
                    isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in output_shape):
                raise ValueError("MultiHeadAttention: output_shape must be a positive int or a tuple of positive "
                                 f"ints (the output's shape after the batch and query axes), received "
                                 f"output_shape={output_shape!r}.")
            output_shape = tuple(output_shape) or None
        self._output_shape = output_shape
        if isinstance(attention_axes, int) and not isinstance(attention_axes, bool):
            attention_axes = (attention_axes,)
        if attention_axes is not None and (not isinstance(attention_axes, (list, tuple)) or not all(
                isinstance(a, int) and not isinstance(a, bool) for a in attention_axes)):
            raise ValueError("MultiHeadAttention: attention_axes must be an int, a tuple of ints or None, received "
                             f"attention_axes={attention_axes!r}.")
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        if sliding_window is not None:
            sliding_window = _check_positive_int("MultiHeadAttention", "sliding_window", sliding_window)
        self.sliding_window = sliding_window
        if flash_attention is True and self.dropout > 0:
            raise ValueError("MultiHeadAttention: dropout is not supported with flash_attention=True; set "
                             "dropout=0.0 or leave flash_attention unset.")
        self.flash_attention = flash_attention
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self.projection_regularizer = _regularizers.get(activity_regularizer)
        self.kernel_constraint = _constraints.get(kernel_constraint)
        self.bias_constraint = _constraints.get(bias_constraint)
        self.seed = seed
        self._generators: dict[torch.device, torch.Generator] = {}
        self._rank: int | None = None  # the inputs' rank, once built
        self._axes: tuple[int, ...] | None = None  # the attention axes of inputs of that rank
        self._projections: list[str] = []

    # -------------------------------------------------------------------------------------------- calling
    def __call__(self, query: Any = None, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        """``layer(query, value, key=None, ...)``, by position or keyword, or ``layer([query, value(, key)])``."""
        if isinstance(query, (list, tuple)) and value is None and key is None:
            parts = list(query)
        else:
            parts = [query, value] + ([] if key is None else [key])
        if len(parts) not in (2, 3) or any(p is None for p in parts):
            raise TypeError(
                f"{self._describe()} is called as layer(query, value) or layer(query, value, key) (key defaults to "
                f"value), but received {self._received(query, value, key)}. For self-attention pass the same "
                "tensor twice: layer(x, x)."
            )
        return super().__call__(parts, **kwargs)

    @staticmethod
    def _received(query: Any, value: Any, key: Any) -> str:
        if isinstance(query, (list, tuple)):
            return f"a list of {len(query)}"
        given = [name for name, part in (("query", query), ("value", value), ("key", key)) if part is not None]
        return "only " + " and ".join(given) if given else "no inputs"

    def _convert_inputs(self, x: Any) -> Any:
        return [self._convert_one(e) for e in x]

    def _call_symbolic(self, args: tuple, kwargs: dict) -> Any:
        if not kwargs.get("return_attention_scores"):
            return super()._call_symbolic(args, kwargs)
        shapes = shape_of(args[0])
        if not self.built:
            self._build_now(shapes)
        node = Node(self, args, kwargs)
        node.outputs = [SymbolicTensor(tuple(self.compute_output_shape(shapes)), self.compute_dtype, node, 0),
                        SymbolicTensor(self._scores_shape(shapes), self.compute_dtype, node, 1)]
        return tuple(node.outputs)

    # -------------------------------------------------------------------------------------------- build
    def build(self, input_shape: Any) -> None:
        shapes = [tuple(s) for s in input_shape]
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
        for name, shape in (("query", query), ("value", value), ("key", key)):
            if len(shape) < 3 or shape[-1] is None:
                raise ValueError(
                    f"{self._describe()} needs a {name} of shape (batch, steps, ..., features) with a known number "
                    f"of features, but was built for {name} shape {shape}. Pass sequences: (batch, steps, features)."
                )
        self._rank = len(query)
        self._axes = self._attention_axes_for(self._rank)
        n, h, v = self.num_heads, self.key_dim, self.value_dim
        out = self._output_shape or (query[-1],)
        projections = [("query", query[-1], (n, h)), ("key", key[-1], (n, h))]
        if self.use_gate:
            projections.append(("gate", query[-1], (n, v)))
        projections += [("value", value[-1], (n, v))]
        for name, features, heads in projections:
            self._add_projection(name, (features,) + heads, heads, 1)
        self._add_projection("attention_output", (n, v) + tuple(out), tuple(out), 2)
        self.built = True

    def _add_projection(self, name: str, kernel_shape: tuple[int, ...], bias_shape: tuple[int, ...],
                        fan_in_axes: int) -> None:
        setattr(self, f"{name}_kernel", _init_kernel(self.kernel_initializer, kernel_shape, fan_in_axes, self._dtype))
        bias = None
        if self.use_bias:
            bias = nn.Parameter(torch.as_tensor(self.bias_initializer(bias_shape, dtype=self._dtype)).to(self._dtype))
        setattr(self, f"{name}_bias", bias)
        self._projections.append(name)

    def _attention_axes_for(self, rank: int) -> tuple[int, ...]:
        """Keras's attention axes for inputs of ``rank``, as axes of the inputs (batch 0 .. features rank-1)."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = tuple(a if a >= 0 else rank + a for a in self.attention_axes)
        bad = [a for a, given in zip(axes, self.attention_axes) if not 1 <= a <= rank - 2]
        if bad or len(set(axes)) != len(axes):
            raise ValueError(
                f"{self._describe()} has attention_axes={self.attention_axes}, which for inputs of rank {rank} are "
                f"axes {axes}; attention runs over axes between the batch axis 0 and the feature axis {rank - 1}, "
                f"each once: pick them from {tuple(range(1, rank - 1))} (or pass None for all of them)."
            )
        return axes

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return
        for name in self._projections:
            yield self._spec(name, "kernel", self.kernel_regularizer, self.kernel_constraint)
            if self.use_bias:
                yield self._spec(name, "bias", self.bias_regularizer, self.bias_constraint)

    def _spec(self, projection: str, kind: str, regularizer: Any, constraint: Any) -> WeightSpec:
        attr = f"{projection}_{kind}"
        return WeightSpec(f"{projection}/{kind}", get=lambda: getattr(self, attr),
                          set=lambda value: getattr(self, attr).copy_(value), regularizer=regularizer,
                          constraint=constraint)

    # -------------------------------------------------------------------------------------------- checks
    def validate_input(self, inputs: Any) -> None:
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        features = {"query": self.query_kernel.shape[0], "key": self.key_kernel.shape[0],
                    "value": self.value_kernel.shape[0]}
        for name, tensor in (("query", query), ("value", value), ("key", key)):
            if tensor.ndim != self._rank:
                raise ValueError(
                    f"{self._describe()} was built for inputs of rank {self._rank} (batch, "
                    f"{self._rank - 2} more axes, features), but received a {name} that is {describe_array(tensor)}. "
                    "Pass query, value and key of the rank the layer was built for, e.g. (batch, steps, features)."
                )
            if tensor.shape[-1] != features[name]:
                raise ValueError(
                    f"{self._describe()} was built for a {name} with {features[name]} features, but received "
                    f"{describe_array(tensor)}. Keep the feature sizes the layer was built with, or use a new layer."
                )
        if tuple(value.shape[:-1]) != tuple(key.shape[:-1]):
            raise ValueError(
                f"{self._describe()}: value has shape {tuple(value.shape)} and key {tuple(key.shape)}; all their "
                "axes but the last (features) must be equal, since each key position scores the value at the same "
                "position."
            )
        batch_axes = [a for a in range(query.ndim - 1) if a not in self._axes]
        q_batch = tuple(query.shape[a] for a in batch_axes)
        k_batch = tuple(key.shape[a] for a in batch_axes)
        if q_batch != k_batch:
            raise ValueError(
                f"{self._describe()}: query has shape {tuple(query.shape)} and value {tuple(value.shape)}; their "
                f"axes {tuple(batch_axes)} (batch and the axes not attended over) must be equal, received "
                f"{q_batch} and {k_batch}."
            )

    # -------------------------------------------------------------------------------------------- computing
    def _project(self, name: str, x: torch.Tensor, contracted: int) -> torch.Tensor:
        """``x`` (..., *in) times ``{name}/kernel`` (*in, *out) plus the bias: (..., *out)."""
        kernel = getattr(self, f"{name}_kernel")
        bias = getattr(self, f"{name}_bias")
        inner, outer = kernel.shape[:contracted], kernel.shape[contracted:]
        lead = x.shape[:x.ndim - contracted]
        flat = x.reshape(*lead, math.prod(inner)) @ kernel.reshape(math.prod(inner), math.prod(outer))
        out = flat.reshape(*lead, *outer)
        if bias is not None:
            out = out + bias
        if self.projection_regularizer is not None:
            self._activity_losses.append(self.projection_regularizer(out) / max(1, out.shape[0]))
        return out

    def forward(self, inputs: list[torch.Tensor], mask: Any = None, attention_mask: Any = None,
                return_attention_scores: bool = False, training: bool | None = None, use_causal_mask: bool = False,
                query_mask: Any = None, value_mask: Any = None, key_mask: Any = None) -> Any:
        training = self.training if training is None else bool(training)
        if return_attention_scores and self.flash_attention is True:
            raise ValueError(f"{self._describe()} was created with flash_attention=True, which cannot return the "
                             "attention scores; leave flash_attention unset to get them.")
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        masks = list(mask) + [None] * 3 if isinstance(mask, (list, tuple)) else [None] * 3
        query_mask = masks[0] if masks[0] is not None else query_mask
        value_mask = masks[1] if value_mask is None else value_mask
        key_mask = (masks[2] if key_mask is None else key_mask) if len(inputs) > 2 else None
        self._activity_losses = []
        allowed = self._combined_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                                      use_causal_mask)
        gate = torch.sigmoid(self._project("gate", query, 1)) if self.use_gate else None
        q = self._project("query", query, 1)  # (B, T..., N, H)
        k = self._project("key", key, 1)  # (B, S..., N, H)
        v = self._project("value", value, 1)  # (B, S..., N, V)
        attended, scores = self._attend(q, k, v, allowed, training, return_attention_scores)
        if gate is not None:
            attended = attended * gate
        output = self._project("attention_output", attended, 2)  # (B, T..., *out)
        if return_attention_scores:
            if query_mask is not None:
                output._keras_mask = torch.as_tensor(query_mask, device=output.device).bool()
            return output, scores
        return output

    def _combined_mask(self, query: torch.Tensor, value: torch.Tensor, query_mask: Any, value_mask: Any,
                       key_mask: Any, attention_mask: Any, use_causal_mask: bool) -> torch.Tensor | None:
        """Keras's attention mask: the inputs' masks, the causal and sliding-window masks and ``attention_mask``
        ANDed, True where a query position may attend to a key position; None when nothing is masked."""
        device = query.device

        def as_bool(m: Any) -> torch.Tensor:
            return torch.as_tensor(m.detach() if isinstance(m, torch.Tensor) else m, device=device).bool()

        parts = []
        if query_mask is not None:
            parts.append(as_bool(query_mask)[..., None])  # (B, T, 1)
        for m in (value_mask, key_mask):
            if m is not None:
                parts.append(as_bool(m)[..., None, :])  # (B, 1, S)
        steps_q, steps_s = query.shape[1], value.shape[1]
        rows = torch.arange(steps_q, device=device)[:, None]
        cols = torch.arange(steps_s, device=device)[None, :]
        if use_causal_mask:
            parts.append((rows >= cols)[None])  # (1, T, S)
        if self.sliding_window is not None:
            parts.append(((rows - cols).abs() < self.sliding_window)[None])
        if attention_mask is not None:
            parts.append(as_bool(attention_mask))
        if not parts:
            return None
        combined = parts[0]
        try:
            for part in parts[1:]:
                combined = combined & part
        except RuntimeError:
            raise ValueError(
                f"{self._describe()} cannot combine its masks: shapes {[tuple(p.shape) for p in parts]} (the query "
                "mask as (B, T, 1), the value and key masks as (B, 1, S), the causal mask (1, T, S), then "
                f"attention_mask) do not broadcast. attention_mask must be (batch, {steps_q}, {steps_s}) = (batch, "
                "query steps, key steps), True where a query step may attend to a key step."
            ) from None
        return combined

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, allowed: torch.Tensor | None,
                training: bool, return_scores: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attention over the attention axes: (B, T..., N, H), (B, S..., N, H), (B, S..., N, V) ->
        (B, T..., N, V) and the scores in Keras's layout (batch axes, N, T..., S...)."""
        rank = q.ndim
        axes = list(self._axes)
        batch = [a for a in range(rank - 2) if a not in axes]
        order = batch + [rank - 2] + axes + [rank - 1]  # (batch axes, N, attention axes, channels)
        lead = [q.shape[a] for a in batch]
        q_steps, s_steps = [q.shape[a] for a in axes], [k.shape[a] for a in axes]
        bf, n = math.prod(lead), self.num_heads

        def flat(x: torch.Tensor, steps: list[int]) -> torch.Tensor:  # (Bf, N, T, C)
            return x.permute(order).reshape(bf, n, math.prod(steps), x.shape[-1])

        qf, kf, vf = flat(q, q_steps), flat(k, s_steps), flat(v, s_steps)
        scores_shape = (*lead, n, *q_steps, *s_steps)
        if allowed is not None:
            allowed = self._expanded(allowed, scores_shape).reshape(bf, -1, math.prod(q_steps), math.prod(s_steps))
        scale = 1.0 / math.sqrt(float(self.key_dim))
        if self.dropout == 0 and not return_scores and rank == 4:
            # Keras's fused path (torch's scaled_dot_product_attention, masked by adding a large negative bias):
            # a query row without any key to attend to gets uniform weights.
            bias = None
            if allowed is not None:
                negative = _FUSED_MASK_BIAS.get(qf.dtype, -0.7 * 3.38953e38)
                bias = torch.where(allowed, 0.0, negative).to(qf.dtype)
            out = F.scaled_dot_product_attention(qf, kf, vf, attn_mask=bias, scale=scale)
            weights = None
        else:
            logits = (qf * scale) @ kf.transpose(-2, -1)  # (Bf, N, T, S)
            if allowed is not None:
                logits = torch.where(allowed, logits, _SOFTMAX_MASK_VALUE.get(logits.dtype, -1.0e9))
            weights = torch.softmax(logits, dim=-1)
            if allowed is not None:  # Keras's Softmax zeroes masked positions (a fully masked row is all zero)
                weights = torch.where(allowed, weights, torch.zeros((), dtype=weights.dtype, device=weights.device))
            dropped = self._dropped(weights) if training and self.dropout > 0 else weights
            out = dropped @ vf  # (Bf, N, T, V)
        out = out.reshape(*lead, n, *q_steps, out.shape[-1])
        inverse = [order.index(a) for a in range(rank)]
        scores = None if weights is None else weights.reshape(scores_shape)
        return out.permute(inverse), scores

    def _expanded(self, allowed: torch.Tensor, scores_shape: tuple[int, ...]) -> torch.Tensor:
        """The mask with Keras's head axes inserted (before the query attention axes), broadcast to the scores."""
        axis = -2 * len(self._axes) - 1
        try:
            while allowed.ndim < len(scores_shape):
                allowed = allowed.unsqueeze(axis)
            return allowed.expand(scores_shape)
        except (RuntimeError, IndexError):
            raise ValueError(
                f"{self._describe()}: the attention mask of shape {tuple(allowed.shape)} does not broadcast to the "
                f"attention scores {scores_shape} (batch axes, heads, query positions, key positions). Pass "
                "attention_mask as (batch, query steps, key steps), True where a query step may attend to a key step."
            ) from None

    def _dropped(self, weights: torch.Tensor) -> torch.Tensor:
        keep = 1.0 - self.dropout
        if self.seed is None:
            return F.dropout(weights, self.dropout, training=True)
        device = weights.device
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        drawn = torch.empty(weights.shape, device=device).bernoulli_(keep, generator=self._generators[device])
        return torch.where(drawn.bool(), weights / keep, torch.zeros((), dtype=weights.dtype, device=device))

    # -------------------------------------------------------------------------------------------- shapes, config
    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)) and mask and mask[0] is not None:
            return mask[0]
        return None

    def compute_output_shape(self, input_shape: Any) -> tuple:
        query = tuple(input_shape[0])
        return query[:-1] + (self._output_shape or (query[-1],))

    def _scores_shape(self, shapes: list[tuple]) -> tuple:
        query, key = tuple(shapes[0]), tuple(shapes[-1])
        axes = self._axes or self._attention_axes_for(len(query))
        batch = [query[a] for a in range(len(query) - 1) if a not in axes]
        return (*batch, self.num_heads, *(query[a] for a in axes), *(key[a] for a in axes))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "output_shape": None if self._output_shape is None else list(self._output_shape),
            "attention_axes": None if self.attention_axes is None else list(self.attention_axes),
            "sliding_window": self.sliding_window,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "bias_initializer": _initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": _regularizers.serialize(self.projection_regularizer),
            "kernel_constraint": _constraints.serialize(self.kernel_constraint),
            "bias_constraint": _constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        }

    def capture_blocker(self) -> str | None:
        if self.seed is None or self.dropout == 0:
            return None
        return f"layer '{self.name}' ({type(self).__name__}) draws dropout masks from its own seeded generator"

    def _summary_args(self) -> str:
        return f"num_heads={self.num_heads}, key_dim={self.key_dim}"
