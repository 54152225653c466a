"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ..layers._base import Layer
from ..layers._core import InputLayer
from ..layers._structure import Structure
from ..layers._symbolic import SymbolicTensor
from ..layers._torch_module import as_layer
from ..saving import _registry
from ._model import Model


class Sequential(Model):
    """``Sequential([layer, ...])`` or ``Sequential()`` then ``.add(layer)``, as in Keras.

    The input shape comes from an ``Input(shape=...)`` first element, from ``input_shape=`` on the first layer, or
    from the first call; until then the model is not built.
    """

    _structure = Structure.SEQUENTIAL

    def __init__(self, layers: Sequence[Any] | None = None, name: str | None = None, trainable: bool = True,
                 **kwargs: Any):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack = torch.nn.ModuleList()
        self._input_layer: InputLayer | None = None
        self._build_input_shape: tuple | None = None
        self._symbolic: tuple[SymbolicTensor, Any, list[Any]] | None = None  # input, output, each layer's shape
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build_stack()

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (a gated layer, or any torch module, wrapped in ``TorchModuleWrapper``), or start with an
        ``Input(...)``."""
        layer = as_layer(layer)
        if isinstance(layer, SymbolicTensor):
            if layer.node is None or not isinstance(layer.node.layer, InputLayer):
                raise ValueError("Sequential.add takes layers, or an Input(...) placeholder as the first element.")
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if len(self._stack) or self._input_layer is not None:
                raise ValueError("An Input can only be the first element of a Sequential model.")
            self._input_layer = layer
            self._build_input_shape = layer.batch_shape
        elif isinstance(layer, Layer):
            if any(existing is layer for existing in self._stack):
                raise ValueError(f"Layer '{layer.name}' is already in Sequential model '{self.name}'.")
            if not len(self._stack) and self._build_input_shape is None and layer._batch_input_shape is not None:
                self._build_input_shape = layer._batch_input_shape
            self._stack.append(layer)
        else:
            raise TypeError(f"Sequential takes gated layers; received {type(layer).__name__} {layer!r}.")
        if rebuild:
            self._maybe_build_stack()

    def pop(self) -> Layer:
        if not len(self._stack):
            raise ValueError(f"Sequential model '{self.name}' has no layers to pop.")
        layer = self._stack[-1]
        del self._stack[-1]
        self._symbolic = None
        if len(self._stack) and self._build_input_shape is not None:
            self.build(self._build_input_shape)  # the symbolic output is the new last layer's
        return layer

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    def sublayers(self) -> list[Layer]:
        return list(self._stack)

    def _maybe_build_stack(self) -> None:
        if self._build_input_shape is not None and len(self._stack):
            self.build(self._build_input_shape)

    def build(self, input_shape: Any = None) -> None:
        """Build every layer by passing the shape through the stack (``None`` sizes stay unknown)."""
        if input_shape is None:
            input_shape = self._build_input_shape
        if input_shape is None:
            raise ValueError(f"Sequential model '{self.name}' needs an input shape to build: pass "
                             "input_shape= to the first layer, start with gated.layers.Input(shape=...), or call "
                             "model.build((None, timesteps, features)).")
        shape = (None,) + tuple(input_shape)[1:]
        self._build_input_shape = shape
        if self._input_layer is not None:
            start = self._input_layer.output
        else:
            start = InputLayer(batch_shape=shape, dtype=self._input_dtype()).output
        placeholder: Any = start
        shapes = []
        for layer in self._stack:
            result = layer(placeholder)
            shapes.append([t.shape for t in result] if isinstance(result, (list, tuple)) else result.shape)
            placeholder = result[0] if isinstance(result, (list, tuple)) else result
        self._symbolic = (start, placeholder, shapes)
        self.built = True

    @property
    def inputs(self) -> list[SymbolicTensor] | None:
        return None if self._symbolic is None else [self._symbolic[0]]

    @property
    def outputs(self) -> list[SymbolicTensor] | None:
        return None if self._symbolic is None else [self._symbolic[1]]

    @property
    def input(self) -> SymbolicTensor:
        return self._built_symbolic("input")[0]

    @property
    def output(self) -> SymbolicTensor:
        return self._built_symbolic("output")[1]

    def _built_symbolic(self, what: str) -> tuple:
        if self._symbolic is None:
            raise ValueError(f"Sequential model '{self.name}' has no {what} yet: it is not built. Start it with "
                             "Input(shape=...), pass input_shape= to the first layer, or call model.build(shape).")
        return self._symbolic

    def _input_dtype(self) -> torch.dtype:
        if self._input_layer is not None:
            return self._input_layer._input_dtype
        first = self._stack[0] if len(self._stack) else None
        return torch.int64 if getattr(first, "_integer_inputs", False) else self._dtype

    def _build_now(self, input_shape: Any, device: torch.device | None = None) -> None:
        self.build(input_shape)
        if device is not None:
            self.to(device)

    def output_shapes(self) -> list[Any]:
        """Each layer's output shape for the build input shape (for summary())."""
        if self._build_input_shape is None:
            return []
        if self._symbolic is not None and len(self._symbolic[2]) == len(self._stack):
            return list(self._symbolic[2])  # what the layers' symbolic calls returned
        shapes, shape = [], self._build_input_shape
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
            shapes.append(shape)
            if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
                shape = shape[0]
        return shapes

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if not len(self._stack):
            raise ValueError(f"Sequential model '{self.name}' has no layers; add some with .add(layer).")
        x = inputs
        if self._input_layer is not None:
            x = self._input_layer(x)
        for layer in self._stack:
            if "training" in layer._forward_params():
                x = layer(x, training=training)
            else:
                x = layer(x)
            if isinstance(x, (list, tuple)):
                x = x[0]  # a layer with return_state: the next layer takes the output only, as in Keras
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = input_shape
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self) -> dict[str, Any]:
        config = Layer.get_config(self)
        config["layers"] = [_registry.serialize(layer) for layer in self._stack]
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> "Sequential":
        config = dict(config)
        layers = [_registry.deserialize(spec, custom_objects, base=Layer) for spec in config.pop("layers", [])]
        build_shape = config.pop("build_input_shape", None)
        config.pop("batch_input_shape", None)
        model = cls(layers, **config)
        if build_shape is not None and not model.built:
            model.build(tuple(build_shape))
        return model
