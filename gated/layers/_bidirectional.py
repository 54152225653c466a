"""``Bidirectional``: a recurrent layer run forwards and backwards over the same sequence, outputs merged."""

from __future__ import annotations

from typing import Any

import torch

from ..saving import _registry
from ._base import Layer
from ._recurrent import RNN

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Keras's ``Bidirectional(layer, merge_mode='concat', backward_layer=None)``.

    The forward layer is a fresh copy of ``layer`` (from its config); the backward layer is another copy with
    ``go_backwards=True`` unless ``backward_layer`` is given. With ``return_sequences`` the backward outputs are
    flipped back into input order and both layers output zeros at masked steps, as in Keras. ``merge_mode=None``
    returns the two outputs separately. With ``return_state`` the call returns
    ``(output, *forward_states, *backward_states)``; ``initial_state`` takes them in the same order.
    """

    supports_masking = True

    def __init__(self, layer: RNN, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: RNN | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(layer, RNN):
            raise ValueError(
                f"Bidirectional wraps a recurrent layer (GRU, LSTM, SimpleRNN or RNN); received {layer!r}."
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge_mode {merge_mode!r}; expected one of {_MERGE_MODES}.")
        config = layer.get_config()
        config.pop("batch_input_shape", None)
        base = layer.name.removeprefix("forward_")
        # a cell the user wrote is found by its class even when it is not registered, as Keras finds it
        cells = [layer.cell, *getattr(layer.cell, "cells", [])]
        with _registry.custom_object_scope({type(c).__name__: type(c) for c in cells}):
            self.forward_layer = type(layer).from_config({**config, "name": f"forward_{base}"})
            if backward_layer is None:
                backward_layer = type(layer).from_config({**config, "name": f"backward_{base}",
                                                          "go_backwards": True})
        if not isinstance(backward_layer, RNN):
            raise ValueError(f"backward_layer must be a recurrent layer; received {backward_layer!r}.")
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(
                f"Bidirectional needs its forward and backward layers to run in opposite directions, but both have "
                f"go_backwards={self.forward_layer.go_backwards}. Wrap a layer with go_backwards=False (the backward "
                "copy is made with go_backwards=True), or pass a backward_layer with the opposite setting."
            )
        for attr in ("return_sequences", "return_state"):
            if getattr(self.forward_layer, attr) != getattr(self.backward_layer, attr):
                raise ValueError(f"Forward and backward layers must agree on {attr}.")
        for part in (self.forward_layer, self.backward_layer):
            part.zero_output_for_mask = part.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = self.forward_layer.stateful
        if self._batch_input_shape is None:
            self._batch_input_shape = layer._batch_input_shape
        self._maybe_build_from_input_shape()
        if weights is not None:
            self.set_weights(weights)

    def sublayers(self) -> list[Layer]:
        return [self.forward_layer, self.backward_layer]

    def build(self, input_shape: Any) -> None:
        for part in self.sublayers():
            if not part.built:
                part._build_now(tuple(input_shape))
        self.built = True

    def validate_input(self, inputs: Any) -> None:
        self.forward_layer.validate_input(inputs)

    def _summary_args(self) -> str:
        return f"{self.forward_layer._summary_args()}, merge_mode={self.merge_mode!r}"

    @property
    def last_path(self):
        return self.forward_layer.last_path, self.backward_layer.last_path

    def compute_output_shape(self, input_shape: Any, initial_state_shape: Any = None) -> Any:
        forward = self.forward_layer.compute_output_shape(input_shape)
        backward = self.backward_layer.compute_output_shape(input_shape)
        states: tuple = ()
        if self.return_state:
            states = tuple(forward[1:]) + tuple(backward[1:])
            forward, backward = forward[0], backward[0]
        if self.merge_mode is None:
            return (forward, backward) + states
        output = forward[:-1] + (forward[-1] + backward[-1],) if self.merge_mode == "concat" else forward
        return (output,) + states if self.return_state else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        outputs = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            return outputs + [None] * (len(self.forward_layer.state_size) * 2)
        return outputs if self.merge_mode is None else output_mask

    def forward(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None,
                training: bool | None = None) -> Any:
        forward_state = backward_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(inputs, initial_state=forward_state, mask=mask, training=training)
        y_rev = self.backward_layer(inputs, initial_state=backward_state, mask=mask, training=training)
        states: tuple = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode == "concat":
            output: Any = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            return (y, y_rev) + states
        return (output,) + states if self.return_state else output

    def reset_state(self) -> None:
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = _registry.serialize(self.forward_layer)
        config["backward_layer"] = _registry.serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Bidirectional":
        config = dict(config)
        layer = _registry.deserialize(config.pop("layer"), custom_objects, base=Layer)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = _registry.deserialize(backward, custom_objects, base=Layer)
        return cls(layer, backward_layer=backward, **config)


RNN.bidirectional_class = Bidirectional  # what GRU.from_torch(...) of a bidirectional torch module returns
