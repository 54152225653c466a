"""Data-parallel training under torchrun: two real gloo processes on CPU against one process, same global batch.

The script (tests/training/distributed_script.py) fits a GRU with validation, EarlyStopping, CSVLogger and resumable
ModelCheckpoint, then evaluates and predicts; the last training batch holds one sample, so rank 1's slice is empty.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "distributed_script.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(mode: str, out, nproc: int) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    launcher = [] if nproc == 1 else ["-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
                                      "--master_addr", "127.0.0.1", "--master_port", str(_free_port())]
    done = subprocess.run([sys.executable, *launcher, SCRIPT, mode, str(out)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    single, multi = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("two_ranks")
    return {"single": _run("fit", single, 1), "multi": _run("fit", multi, 2),
            "resume": _run("resume", multi, 2), "single_dir": single, "multi_dir": multi}


def _assert_same(reference, other) -> None:
    assert sorted(reference.files) == sorted(other.files)
    for key in reference.files:
        np.testing.assert_allclose(other[key], reference[key], rtol=0, atol=1e-5, err_msg=key)


def test_two_ranks_match_one_process_weights_history_evaluate_and_predict(runs):
    reference = np.load(runs["single_dir"] / "fit_rank0.npz")
    assert {"history_loss", "history_accuracy", "history_auc", "history_val_loss", "history_val_auc",
            "evaluate_loss", "evaluate_accuracy", "predictions"} <= set(reference.files)
    assert len(reference["history_loss"]) == 3 and reference["predictions"].shape == (62, 1)
    for rank in (0, 1):
        _assert_same(reference, np.load(runs["multi_dir"] / f"fit_rank{rank}.npz"))


def test_only_rank_0_prints_and_writes_checkpoints_and_csv(runs):
    assert runs["multi"].stdout.count("Epoch 1/3") == 1
    assert runs["multi"].stdout.count("val_loss:") == 3
    saves = {rank: (runs["multi_dir"] / f"saves_rank{rank}.txt").read_text().split("\n")[0] for rank in (0, 1)}
    assert saves == {0: "fit 3", 1: "fit 0"}
    assert sorted(os.listdir(runs["multi_dir"] / "ckpt")) == sorted(os.listdir(runs["single_dir"] / "ckpt")) == [
        "epoch01.gated", "epoch02.gated", "epoch03.gated"]
    single = _csv(runs["single_dir"] / "log.csv")
    multi = _csv(runs["multi_dir"] / "log.csv")  # the three epochs, then the resumed run's third epoch
    assert len(single) == 3 and len(multi) == 4
    np.testing.assert_allclose(multi, np.concatenate([single, single[-1:]]), rtol=0, atol=1e-5)


def _csv(path) -> np.ndarray:
    lines = path.read_text().splitlines()
    assert lines[0].startswith("epoch,") and lines.count(lines[0]) == 1  # one header: rank 0 alone writes
    return np.array([[float(v) for v in line.split(",")] for line in lines[1:]])


def test_resume_under_torchrun_from_rank_0_checkpoint_finishes_like_the_uninterrupted_run(runs):
    assert runs["resume"].stdout.count("Epoch 3/3") == 1 and "Epoch 2/3" not in runs["resume"].stdout
    reference = np.load(runs["single_dir"] / "fit_rank0.npz")
    for rank in (0, 1):
        _assert_same(reference, np.load(runs["multi_dir"] / f"resume_rank{rank}.npz"))


@pytest.mark.parametrize("world", [2, 3, 4])
def test_rank_slices_cover_every_row_of_a_global_batch_once_in_order(monkeypatch, world):
    from gated.training import _distributed

    monkeypatch.setattr(_distributed, "active", lambda: True)
    monkeypatch.setattr(_distributed, "world_size", lambda: world)
    for size in range(0, 9):
        rows = []
        for rank in range(world):
            monkeypatch.setattr(_distributed, "rank", lambda rank=rank: rank)
            lo, hi = _distributed.shard_bounds(10, 10 + size)
            assert hi - lo in (size // world, size // world + 1)
            rows += list(range(lo, hi))
        assert rows == list(range(10, 10 + size))


def test_cli_nproc_relaunches_the_same_command_under_torchrun(monkeypatch):
    from gated.cli import _main

    calls = []
    monkeypatch.setattr(_main.subprocess, "call", lambda command: calls.append(command) or 0)
    argv = ["train", "--train", "italy_power_demand", "--nproc", "2", "--epochs", "3"]
    assert _main.main(argv) == 0
    assert calls == [[sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                      "-m", "gated", "train", "--train", "italy_power_demand", "--epochs", "3"]]
    assert _main.main(["train", "--train", "x", "--nproc=3"]) == 0
    assert calls[-1][5:] == ["3", "-m", "gated", "train", "--train", "x"]
