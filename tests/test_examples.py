"""The tutorial scripts run as a user runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONHASHSEED": "0"})


def test_tutorial_with_only_imports_changed_stops_with_the_explanation():
    result = run("tutorial.py")
    assert result.returncode == 1
    assert "Epoch 1/10" not in result.stdout  # stopped before training
    assert result.stderr.strip().splitlines()[-3:] == [
        "ValueError: Targets of shape (32, 10, 2) do not match the model output (32, 10, 1) for loss "
        "'binary_crossentropy'.",
        "The targets look one-hot encoded (2 classes), while the last layer has 1 unit with a sigmoid.",
        "Either pass the integer labels without to_categorical (and keep the 1-unit output), or end the model with "
        "Dense(2, activation='softmax') and use loss='categorical_crossentropy'.",
    ]


def test_tutorial_fixed_runs_both_fixes_and_learns_the_sequence_task():
    result = run("tutorial_fixed.py")
    assert result.returncode == 0, result.stderr
    accuracies = {name: float(value) for name, value in re.findall(r"^(fix 1|fix 2|running-mean task).*accuracy "
                                                                   r"([0-9.]+)$", result.stdout, re.M)}
    assert set(accuracies) == {"fix 1", "fix 2", "running-mean task"}
    assert 0.4 < accuracies["fix 1"] < 0.6 and 0.4 < accuracies["fix 2"] < 0.6  # random labels: chance
    assert accuracies["running-mean task"] > 0.85


def test_layers_quickstart_runs():
    result = run("layers_quickstart.py")
    assert result.returncode == 0, result.stderr
    assert "parameters 50,304 (Keras: 50,304)" in result.stdout


def test_functional_seq2seq_example_converts_held_out_dates():
    result = run("seq2seq_functional.py")
    assert result.returncode == 0, result.stderr
    right, total = map(int, re.search(r"held-out dates converted exactly: (\d+)/(\d+)", result.stdout).groups())
    assert total == 200 and right >= 160, result.stdout[-600:]
