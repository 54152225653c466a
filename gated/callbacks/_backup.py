"""``BackupAndRestore``: a fit that was interrupted (an exception, a killed process) continues from its backup.

Each backup is a resumable checkpoint (``ModelCheckpoint(save_training_state=True)``: weights, optimizer state,
epoch and batch, random number generator states, history, the callbacks' state). When ``fit`` starts with a
backup in ``backup_dir``, it resumes from it as ``fit(..., resume_from=path)`` does (``training/_loop.py`` asks
``resume_path()``): the epochs already done are skipped and the final weights equal an uninterrupted run's (on
the CPU, with the same seed and data). A fit that ends normally deletes the backup (``delete_checkpoint``).
"""

from __future__ import annotations

import os

from ..utils._processes import is_main_process
from ._monitor import ModelCheckpoint

BACKUP_FILE = "latest.gated"


class BackupAndRestore(ModelCheckpoint):
    """Back up training to ``backup_dir`` and resume from there after an interruption (Keras's arguments).

    Args:
        backup_dir: the folder of the backup (created when missing); use one folder per training run.
        save_freq: ``'epoch'`` (after every epoch), or a number of batches; resuming in the middle of an epoch
            needs in-memory arrays (the batches already done are found again by index).
        double_checkpoint: also keep the previous backup (``latest.gated.bkp``), used when the latest is missing.
        delete_checkpoint: delete the backup files when fit ends without an exception (Keras deletes the whole
            folder; gated removes only its own files, then the folder if it is left empty).
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        if not backup_dir:
            raise ValueError(f"BackupAndRestore needs a backup_dir (a folder for this run's backup); received "
                             f"{backup_dir!r}.")
        self.backup_dir = os.fspath(backup_dir)
        if os.path.isfile(self.backup_dir):
            raise ValueError(f"BackupAndRestore's backup_dir {self.backup_dir!r} is a file; it must be a folder "
                             "(created when missing).")
        path = os.path.join(self.backup_dir, BACKUP_FILE)
        super().__init__(path, save_freq=save_freq, save_training_state=True)
        self.double_checkpoint, self.delete_checkpoint = bool(double_checkpoint), bool(delete_checkpoint)
        self._previous = path + ".bkp"

    def resume_path(self) -> str | None:
        """The backup fit resumes from: the latest, else (with ``double_checkpoint``) the one before, else None."""
        for path in (self.filepath, self._previous if self.double_checkpoint else None):
            if path is not None and os.path.isfile(path):
                return path
        return None

    def _file_path(self, epoch, batch, logs):
        return self.filepath  # one fixed name: never formatted with the logs

    def _save_model(self, epoch, batch, logs):
        if self.double_checkpoint and is_main_process() and os.path.isfile(self.filepath):
            os.replace(self.filepath, self._previous)
        super()._save_model(epoch, batch, logs)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not is_main_process():
            return
        for path in (self.filepath, self._previous):
            if os.path.isfile(path):
                os.remove(path)
        if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)
