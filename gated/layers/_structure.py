"""How a model arranges its layers, asked without importing the model classes (they sit on a higher floor).

Export, streaming and quantization read a built model's layers; they need to know whether it is a model at all, and
whether its layers form a stack (``Sequential``), a recorded graph of calls (functional ``Model(inputs, outputs)``)
or Python code (a subclassed ``Model``). Models answer through ``model_structure``.
"""

from __future__ import annotations

import enum
from typing import Any


class Structure(enum.Enum):
    SEQUENTIAL = "sequential"  # model.layers feed each other in order; model._build_input_shape is the input
    FUNCTIONAL = "functional"  # model._graph holds the calls between Input placeholders and the outputs
    SUBCLASSED = "subclassed"  # the computation is the model's call(); no layer structure to read


def model_structure(obj: Any) -> Structure | None:
    """The structure of a gated model, or None for anything that is not a model (a plain layer, a module)."""
    structure = getattr(type(obj), "_structure", None)
    if structure is None:
        return None
    return structure.fget(obj) if isinstance(structure, property) else structure
