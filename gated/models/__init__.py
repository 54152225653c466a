"""Models: ``Sequential`` and the functional ``Model(inputs, outputs)``, each a ``torch.nn.Module`` that trains."""

from ._model import Model
from ._sequential import Sequential

__all__ = ["Model", "Sequential"]
