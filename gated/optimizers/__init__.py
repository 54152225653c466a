"""Optimizers with Keras's names, defaults and update rules, stepping torch parameters; learning-rate schedules in
``gated.optimizers.schedules`` (Keras's ``keras.optimizers.schedules``).

``_optimizers.py`` holds the optimizers the user configures (``Optimizer`` and its subclasses, ``get``,
``serialize``, ``deserialize``), ``_rules.py`` Keras's update rules as torch optimizers and gradient clipping,
``schedules.py`` the schedules.
"""

from . import schedules
from ._optimizers import (
    SGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, Ftrl, HostState, Lamb, LearningRate, Lion,
    LossScaleOptimizer, Nadam, Optimizer, RMSprop, TorchOptimizer,
    _CLASSES, _KERAS_ONLY_DEFAULTS, _check_range, _from_keras_config, deserialize, get, serialize,
)
from ._rules import (
    _AdadeltaRule, _AdagradRule, _AdamaxRule, _AdamRule, _add_scaled_, _clip_gradients, _KerasRule, _NadamRule,
    _RMSpropRule, _SGDRule, scalar_type,
)

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "Nadam", "Adamax", "Adadelta", "Lion", "Lamb", "Ftrl",
    "Adafactor", "LossScaleOptimizer", "TorchOptimizer",
    "HostState", "LearningRate", "get", "serialize", "deserialize", "scalar_type", "schedules",
]
