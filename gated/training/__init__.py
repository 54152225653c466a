"""The training loop behind ``Model.compile / fit / evaluate / predict``."""

from ._compile import CompiledModel
from ._loop import evaluate, fit, predict, train_on_batch

__all__ = ["CompiledModel", "fit", "evaluate", "predict", "train_on_batch"]
