"""Targets versus model outputs, checked before the first training step with messages that say what to change.

The mistakes users make most often with recurrent models: one-hot targets against a 1-unit sigmoid output (the
GRU tutorial's own example), integer labels with a one-hot loss or the reverse, and per-sequence targets against
``return_sequences=True`` outputs or the reverse.
"""

from __future__ import annotations

from typing import Any

import torch

from .. import activations as _activations
from .. import losses as _losses
from ..layers import RNN, Bidirectional, Dense, TimeDistributed


def _loss_name(loss: Any, spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    return getattr(loss, "name", None) or type(loss).__name__


def _looks_one_hot(y: torch.Tensor) -> bool:
    if y.ndim < 2 or y.shape[-1] < 2 or y.numel() == 0:
        return False
    values_ok = bool(((y == 0) | (y == 1)).all())
    return values_ok and bool((y.sum(dim=-1) == 1).all())


def _describe_last_layer(model, index: int) -> str:
    layer = model.output_layer(index) if hasattr(model, "output_layer") else None
    if isinstance(layer, TimeDistributed):
        layer = layer.layer
    if isinstance(layer, Dense):
        activation = _activations.serialize(layer.activation)
        activation = activation if isinstance(activation, str) else getattr(activation, "__name__", "custom")
        units = f"{layer.units} unit{'s' if layer.units != 1 else ''}"
        return f"the last layer has {units} with {'a ' + activation if activation != 'linear' else 'no activation'}"
    return "the model's output has 1 value per prediction"


def _sequence_layer(model) -> str:
    for layer in reversed(getattr(model, "layers", [])):
        if isinstance(layer, (RNN, Bidirectional)):
            return f"'{layer.name}'"
    return "the last recurrent layer"


def check_targets(model, losses: list[Any], loss_specs: list[Any], y_true: list[torch.Tensor],
                  y_pred: list[torch.Tensor]) -> None:
    """Raise ValueError for a target/output/loss combination that cannot be what the user meant."""
    for index, (loss, spec, t, p) in enumerate(zip(losses, loss_specs, y_true, y_pred)):
        if loss is None or t is None:
            continue
        name = _loss_name(loss, spec)
        t_shape, p_shape = tuple(t.shape), tuple(p.shape)
        head = f"Targets of shape {t_shape} do not match the model output {p_shape} for loss '{name}'."
        output = f" (output '{model.output_names[index]}')" if len(y_pred) > 1 else ""
        head = head[:-1] + output + "."
        if isinstance(loss, _losses.CTC) or getattr(loss, "fn", None) is _losses.ctc:
            if t.ndim != 2 or p.ndim != 3 or t_shape[0] != p_shape[0]:
                raise ValueError(f"{head}\n'{name}' expects integer label sequences of shape (batch_size, "
                                 "max_label_length) against logits of shape (batch_size, timesteps, classes).")
            continue
        sparse = isinstance(loss, _losses.SparseCategoricalCrossentropy)
        categorical = isinstance(loss, _losses.CategoricalCrossentropy)

        # A time axis on one side only.
        if p.ndim == 3 and t.ndim == 2 and not (sparse and t_shape == p_shape[:-1]) and \
                not (p_shape[-1] == 1 and t_shape == p_shape[:-1]):
            raise ValueError(
                f"{head}\nThe model outputs one prediction per timestep (return_sequences=True on layer "
                f"{_sequence_layer(model)}), but the targets have one value per sequence.\nEither set "
                "return_sequences=False on the last recurrent layer to predict once per sequence, or give targets "
                f"for every timestep, shape {p_shape[:2] + ((1,) if sparse else p_shape[2:])}."
            )
        if t.ndim == 3 and p.ndim == 2:
            raise ValueError(
                f"{head}\nThe targets have a time axis ({t_shape[1]} steps), but the model predicts once per "
                f"sequence.\nEither set return_sequences=True on layer {_sequence_layer(model)} (a Dense layer after "
                "it then applies to every timestep), or give one target per sequence, shape "
                f"{(t_shape[0],) + t_shape[2:]}."
            )

        if sparse:
            if t_shape == p_shape and p_shape[-1] > 1:
                if _looks_one_hot(t):
                    raise ValueError(
                        f"{head}\nThe targets look one-hot encoded ({t_shape[-1]} classes), but "
                        f"'{name}' expects integer class labels of shape {p_shape[:-1]}.\nEither pass the integer "
                        "labels (y.argmax(-1), or skip to_categorical), or use loss='categorical_crossentropy'."
                    )
            elif t_shape not in (p_shape[:-1], p_shape[:-1] + (1,)):
                raise ValueError(f"{head}\n'{name}' expects integer labels of shape {p_shape[:-1]} "
                                 f"(one class id per prediction).")
            continue

        if categorical:
            if t_shape != p_shape:
                if t_shape in (p_shape[:-1], p_shape[:-1] + (1,)):
                    raise ValueError(
                        f"{head}\nThe targets look like integer class labels, but '{name}' expects one-hot targets "
                        f"of shape {p_shape}.\nEither use loss='sparse_categorical_crossentropy', or one-hot "
                        f"encode the labels with gated.utils.to_categorical(y, {p_shape[-1]})."
                    )
                raise ValueError(f"{head}\n'{name}' expects targets with the same shape as the output.")
            if p_shape[-1] == 1:
                raise ValueError(
                    f"{head[:-1]}: categorical crossentropy over a single unit is always 0, so nothing would be "
                    "learned.\nFor two classes use Dense(1, activation='sigmoid') with loss='binary_crossentropy'; "
                    "for more, Dense(n_classes, activation='softmax')."
                )
            continue

        if t_shape == p_shape or (p_shape[-1] == 1 and t_shape == p_shape[:-1]) or \
                (t_shape[-1:] == (1,) and t_shape[:-1] == p_shape):
            continue
        if p_shape[-1] == 1 and t.ndim == p.ndim and _looks_one_hot(t):
            classes = t_shape[-1]
            raise ValueError(
                f"{head}\nThe targets look one-hot encoded ({classes} classes), while "
                f"{_describe_last_layer(model, index)}.\nEither pass the integer labels without to_categorical "
                f"(and keep the 1-unit output), or end the model with Dense({classes}, activation='softmax') and use "
                "loss='categorical_crossentropy'."
            )
        if t.ndim == p.ndim and t_shape[:-1] == p_shape[:-1]:
            raise ValueError(
                f"{head}\nThe targets have {t_shape[-1]} values per prediction but {_describe_last_layer(model, index)}"
                f".\nMake the last layer's units match the targets: Dense({t_shape[-1]})."
            )
        raise ValueError(f"{head}\nThe loss compares targets and outputs element by element, so their shapes must "
                         "match.")
