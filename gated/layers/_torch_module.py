"""``TorchModuleWrapper``: any ``torch.nn.Module`` as a layer (Keras's ``keras.layers.TorchModuleWrapper``).

``Sequential`` wraps a torch module it is given; in the functional API wrap it yourself:
``TorchModuleWrapper(torchvision.models.resnet18())(x)``. The module's parameters are the layer's weights (in
``module.parameters()`` order, trainable as their ``requires_grad`` says), so ``fit`` trains them and
``get_weights`` / ``save_weights`` include them; the output shape of a symbolic call is found by running the module
(on zeros, twice, so that the sizes that follow an unknown input size stay unknown).
"""

from __future__ import annotations

from typing import Any, Iterator

from torch import nn

from ._base import Layer, WeightSpec


class TorchModuleWrapper(Layer):
    """``TorchModuleWrapper(module, name=None)``: calls ``module(inputs)``; ``training=True`` / ``False`` switch the
    module to ``train()`` / ``eval()`` first (``None`` keeps its mode, which ``fit`` and ``predict`` set)."""

    # Integer inputs (token ids for an nn.Embedding) pass as they are; floating inputs take the module's dtype.
    _integer_inputs = True

    def __init__(self, module: nn.Module, name: str | None = None, **kwargs: Any):
        if not isinstance(module, nn.Module):
            raise TypeError(f"TorchModuleWrapper wraps a torch.nn.Module; received {type(module).__name__} "
                            f"{module!r}.")
        if isinstance(module, Layer):
            raise TypeError(f"TorchModuleWrapper wraps plain torch modules; '{module.name}' is a gated layer "
                            f"({type(module).__name__}) already: use it directly.")
        super().__init__(name=name, **kwargs)
        self.module = module
        self.built = True

    def build(self, input_shape: Any) -> None:
        self.built = True

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        for name, param in self.module.named_parameters():
            yield WeightSpec(name=name, get=lambda p=param: p, set=lambda value, p=param: p.copy_(value),
                             trainable=param.requires_grad)

    def sublayers(self) -> list[Layer]:
        return []  # the module's parameters are this layer's own weights

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if training is True:
            self.module.train()
        elif training is False:
            self.module.eval()
        return self.module(inputs)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"{self._describe()} wraps a torch module ({type(self.module).__name__}), whose architecture is Python "
            "code that a model file cannot hold (gated's files are not unpickled). Save the weights with "
            "model.save_weights(path) and rebuild the model in code before load_weights(path).")

    def _summary_args(self) -> str:
        return f"module={type(self.module).__name__}"


def as_layer(value: Any) -> Any:
    """``value`` itself, or a torch module (not a gated layer) wrapped in ``TorchModuleWrapper``."""
    if isinstance(value, nn.Module) and not isinstance(value, Layer):
        return TorchModuleWrapper(value)
    return value


Layer.torch_module_wrapper = TorchModuleWrapper
