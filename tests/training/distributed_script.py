"""Run by tests/training/test_distributed.py, in one process or under torchrun: fit, evaluate and predict on a small GRU.

    python tests/training/distributed_script.py fit|resume OUT_DIR
    python -m torch.distributed.run --nproc_per_node 2 tests/training/distributed_script.py fit|resume OUT_DIR

Writes OUT_DIR/<mode>_rank<r>.npz on every rank (weights, history, evaluate logs, predictions) and counts each
rank's checkpoint writes in saves_rank<r>.txt; the
CSV log log.csv is appended to by the resumed run. 62 samples with validation_split=0.2 leave 49 for training: the
last global batch of 16 holds one sample, so under two processes rank 1's slice of it is empty.
"""

import os
import sys

import numpy as np
import torch

import gated
from gated.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint
from gated.layers import GRU, Dense

torch.set_num_threads(1)
mode, out = sys.argv[1], sys.argv[2]
rank = int(os.environ.get("RANK", "0"))
gated.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((62, 7, 3)).astype("float32")
y = (x[:, :, 0].mean(axis=1) > 0).astype("float32")
model = gated.Sequential([GRU(8, input_shape=(None, 3)), Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "auc"], device="cpu")
save = model.save
saves = 0


def counting_save(path, **kwargs):
    global saves
    saves += 1
    save(path, **kwargs)


model.save = counting_save
checkpoint = os.path.join(out, "ckpt", "epoch{epoch:02d}.gated")
callbacks = [EarlyStopping(monitor="val_loss", patience=10), CSVLogger(os.path.join(out, "log.csv"), append=True),
             ModelCheckpoint(checkpoint, monitor="val_loss", save_training_state=True)]
resume_from = os.path.join(out, "ckpt", "epoch02.gated") if mode == "resume" else None
history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, shuffle=False, callbacks=callbacks,
                    verbose=2, resume_from=resume_from)
logs = model.evaluate(x, y, batch_size=10, verbose=0, return_dict=True)
predictions = model.predict(x, batch_size=16, verbose=0)
np.savez(os.path.join(out, f"{mode}_rank{rank}.npz"),
         weights=np.concatenate([w.ravel() for w in model.get_weights()]), predictions=predictions,
         **{f"history_{k}": np.asarray(v) for k, v in history.history.items()},
         **{f"evaluate_{k}": np.asarray(v) for k, v in logs.items()})
with open(os.path.join(out, f"saves_rank{rank}.txt"), "a") as f:
    f.write(f"{mode} {saves}\n")
