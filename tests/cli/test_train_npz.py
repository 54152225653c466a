"""``gated train`` on one .npz file with tslearn's split keys: --train reads the train pair, --test the test pair."""

from __future__ import annotations

import json

import numpy as np

from gated.cli import main


def test_train_and_test_from_one_tslearn_npz(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ramp = np.linspace(-1, 1, 16)

    def series(labels):  # class 0 rises, class 1 falls
        signs = np.where(np.asarray(labels) == 0, 1.0, -1.0)
        return (signs[:, None] * ramp[None, :] * 3 + rng.normal(scale=0.1, size=(len(labels), 16)))[:, :, None]

    y_train = np.array([0, 1] * 10)
    shapes = np.array([0, 1, 1, 0, 0, 1, 0, 1, 0, 1])
    # The test labels are the opposite of each series' shape: 1-NN on the training pair scores exactly 0 on
    # the test pair, and would score 1 if --test read the training pair.
    path = tmp_path / "ucr.npz"
    np.savez(path, X_train=series(y_train), y_train=y_train, X_test=series(shapes), y_test=1 - shapes)
    code = main(["train", "--train", str(path), "--test", str(path), "--epochs", "2", "--units", "4", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["baseline_1nn_euclidean_accuracy"] == 0.0
    assert 0.0 <= out["test_accuracy"] <= 1.0
    assert round(out["test_accuracy"] * 10, 6).is_integer()  # 10 test series, not the 20 of the training pair
