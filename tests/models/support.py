"""What the model tests share: a small subclassed model (its computation is Python code, with no layer graph)."""

from __future__ import annotations

import numpy as np

import gated
from gated import layers as L


class SubclassedGRU(gated.Model):
    """``call(x) = GRU(3)(x)`` written as Keras users subclass ``Model``."""

    def __init__(self):
        super().__init__()
        self.gru = L.GRU(3)

    def call(self, x):
        return self.gru(x)


def built_subclassed_model() -> SubclassedGRU:
    """A SubclassedGRU built by one call on a (1, 2, 3) input."""
    model = SubclassedGRU()
    model(np.zeros((1, 2, 3), "float32"))
    return model
