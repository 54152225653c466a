"""Layers that wrap another layer: ``TimeDistributed`` (``Bidirectional`` is in ``_bidirectional.py``).

A wrapper holds its inner layer as a child module, so the inner weights are the wrapper's weights
(``get_weights``, ``trainable``, ``.to(device)``), and its config nests the inner layer's config in the registry's
form (``gated.saving.serialize``), so a registered custom layer inside a wrapper saves and loads like a built-in.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..saving import _registry
from ._base import Layer, describe_array


def _check_wrapped(wrapper: str, layer: Any) -> Layer:
    if not isinstance(layer, Layer):
        raise ValueError(
            f"{wrapper} wraps a gated layer, e.g. {wrapper}(gated.layers.Dense(8)); received "
            f"{type(layer).__name__} {layer!r}."
        )
    return layer


# ---------------------------------------------------------------------------------------------------- TimeDistributed
class TimeDistributed(Layer):
    """Applies ``layer`` to every timestep: (B, T, ...) -> (B, T, ...out), one set of weights for all steps.

    Time is folded into the batch, (B, T, ...) -> (B * T, ...), for one call of the inner layer. A mask (B, T)
    is folded the same way for an inner layer that takes ``mask``, and passes through to the output unchanged,
    as in Keras 3.
    """

    supports_masking = True

    def __init__(self, layer: Layer, **kwargs: Any):
        super().__init__(**kwargs)
        self.layer = _check_wrapped("TimeDistributed", layer)
        self._maybe_build_from_input_shape()

    @property
    def _integer_inputs(self) -> bool:  # TimeDistributed(Embedding(...)) keeps integer ids
        return self.layer._integer_inputs

    def _child_input_shape(self, input_shape: Any) -> tuple:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                f"{self._describe()} expects input of shape (batch, timesteps, ...) with at least 3 axes, but was "
                f"given shape {tuple(input_shape)}. For (batch, features) input use the inner layer directly."
            )
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape: Any) -> None:
        child_shape = self._child_input_shape(input_shape)
        if not self.layer.built:
            self.layer._build_now(child_shape)
        self.built = True

    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim < 3:
            raise ValueError(
                f"{self._describe()} expects input of shape (batch, timesteps, ...), but received "
                f"{describe_array(inputs)}. Add a time axis (x[:, None]) or use the inner layer directly."
            )
        folded = _fold(inputs)  # every timestep is checked: Embedding's index check depends on the values
        try:
            self.layer.validate_input(folded)
        except ValueError as err:
            raise ValueError(
                f"{self._describe()} applies its layer to each timestep of {describe_array(inputs)}, folded into "
                f"the batch as shape {tuple(folded.shape)}: {err}"
            ) from None

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None,
                training: bool | None = None) -> Any:
        batch, steps = inputs.shape[:2]
        folded = _fold(inputs)  # (B*T, ...)
        inner_params = self.layer._forward_params()
        kwargs: dict[str, Any] = {}
        if mask is not None and "mask" in inner_params:
            if tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(
                    f"{self._describe()} received a mask of shape {tuple(mask.shape)} for "
                    f"{describe_array(inputs)}; the mask must start with (batch, timesteps) = ({batch}, {steps})."
                )
            kwargs["mask"] = _fold(mask)
        if "training" in inner_params:
            kwargs["training"] = self.training if training is None else training
        # nn.Module.__call__ runs the inner forward (with hooks) but not gated's Layer.__call__: like Keras 3,
        # the inner layer's activity regularizer and mask bookkeeping do not apply per timestep.
        outputs = nn.Module.__call__(self.layer, folded, **kwargs)
        return _unfold(outputs, batch, steps)

    def compute_output_shape(self, input_shape: Any) -> Any:
        child_out = self.layer.compute_output_shape(self._child_input_shape(input_shape))
        return (child_out[0], input_shape[1]) + tuple(child_out[1:])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": _registry.serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "TimeDistributed":
        config = dict(config)
        layer = _registry.deserialize(config.pop("layer"), custom_objects, base=Layer)
        return cls(layer, **config)

    def _summary_args(self) -> str:
        inner = self.layer._summary_args()
        return f"layer={type(self.layer).__name__}({inner})"


def _fold(x: torch.Tensor) -> torch.Tensor:
    """(B, T, ...) -> (B*T, ...); a view when ``x`` is contiguous."""
    return x.reshape((x.shape[0] * x.shape[1],) + tuple(x.shape[2:]))


def _unfold(outputs: Any, batch: int, steps: int) -> Any:
    """(B*T, ...) -> (B, T, ...), for a tensor or a list/tuple of tensors."""
    if isinstance(outputs, torch.Tensor):
        return outputs.reshape((batch, steps) + tuple(outputs.shape[1:]))
    return type(outputs)(_unfold(o, batch, steps) for o in outputs)


# ---------------------------------------------------------------------------------------------------- further wrappers
# New wrappers go below; _check_wrapped above is meant to be shared, and the inner layer's config goes through
# gated.saving's serialize / deserialize (with base=Layer), as TimeDistributed's does.
