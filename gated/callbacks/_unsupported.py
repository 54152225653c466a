"""Keras callbacks gated does not provide, under their Keras names: creating one raises ``NotImplementedError``
saying why and what to use instead, so a ported program stops at the line that needs a change."""

from __future__ import annotations

from typing import Any

from ._callback import Callback


class _Unsupported(Callback):
    reason = ""

    def __init__(self, *args: Any, **kwargs: Any):
        raise NotImplementedError(f"keras.callbacks.{type(self).__name__} is not available in gated: {self.reason}")


class RemoteMonitor(_Unsupported):
    reason = ("gated sends nothing over the network. To stream epoch logs to a server, subclass "
              "gated.callbacks.Callback and post the logs in on_epoch_end (for example with urllib.request), or "
              "use gated.callbacks.CSVLogger or TensorBoard for local logs.")


class SwapEMAWeights(_Unsupported):
    reason = ("it swaps in an optimizer's exponential moving average of the weights, and gated's optimizers keep "
              "none (use_ema=True is not supported). Average the weights with torch.optim.swa_utils.AveragedModel "
              "instead.")


class OrbaxCheckpoint(_Unsupported):
    reason = ("Orbax is JAX's checkpoint library. Use gated.callbacks.ModelCheckpoint (save_training_state=True "
              "for resumable checkpoints) or BackupAndRestore.")
