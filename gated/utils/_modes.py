"""``training_mode``: run a block with a module in training or inference mode, then put its mode back."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch import nn


@contextmanager
def training_mode(module: nn.Module, mode: bool | None) -> Iterator[nn.Module]:
    """``module.train(mode)`` for the block, then ``module.train(previous)`` on the way out, also when the block
    raises (``previous`` is ``module.training`` on entry). ``mode=None`` leaves the mode as it is and only restores
    it afterwards: for a block that switches modes itself (``fit`` trains, then validates, epoch by epoch).

    As with ``module.train``, the restored mode applies to every submodule::

        with training_mode(model, False), torch.no_grad():
            y_pred = model(x)
    """
    if mode is not None and not isinstance(mode, bool):
        raise TypeError(f"training_mode takes mode=True (training), False (inference) or None (keep the current "
                        f"mode); received {type(mode).__name__} {mode!r}.")
    previous = module.training
    if mode is not None:
        module.train(mode)
    try:
        yield module
    finally:
        module.train(previous)
