"""Run by tests/training/test_resume.py in separate processes: train, optionally kill itself mid-epoch, or resume.

    python tests/training/resume_training_script.py full|kill|resume CHECKPOINT OUT.npy
"""

import os
import signal
import sys

import numpy as np
import torch

import gated
from gated.callbacks import Callback, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from gated.layers import GRU, Dense, Dropout

torch.set_num_threads(1)
mode, checkpoint, out = sys.argv[1], sys.argv[2], sys.argv[3]
gated.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.random((160, 8, 2)).astype("float32")
y = (x.sum(axis=(1, 2)) > 8).astype("float32")
model = gated.Sequential([GRU(12, input_shape=(None, 2), dropout=0.2, recurrent_dropout=0.2), Dropout(0.3),
                          Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cpu")


class KillMidEpoch(Callback):
    """SIGKILL in the middle of epoch 2: no cleanup, no flushing, as a crash or an out-of-memory kill."""

    def on_train_batch_end(self, batch, logs=None):
        if mode == "kill" and model._fit_progress.epoch == 2 and batch == 5:
            os.kill(os.getpid(), signal.SIGKILL)


callbacks = [EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=False),
             ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5), KillMidEpoch(),
             ModelCheckpoint(checkpoint, monitor="loss", save_freq=4, save_training_state=True)]
history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.2, callbacks=callbacks, verbose=0,
                    resume_from=checkpoint if mode == "resume" else None)
np.savez(out, weights=np.concatenate([w.ravel() for w in model.get_weights()]),
         **{f"history_{k}": np.asarray(v) for k, v in history.history.items()})
