"""The bad-input matrix at the command line: malformed files and mismatched data end with exit code 1 and one
'gated <command>: error: ...' message that names the file, the place and the fix - never a traceback.

Most rows call ``gated.cli.main`` in this process (the same code ``python -m gated`` runs, seconds faster); the
last tests run real processes to pin the exit codes and the absence of a traceback end to end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from gated.cli import main

TS_HEADER = "@problemName demo\n@timeStamps false\n@univariate true\n@classLabel true 1 2\n@data\n"
GOOD_TS = TS_HEADER + "0.1,0.2,0.3:1\n0.3,0.2,0.1:2\n0.1,0.3,0.2:1\n0.3,0.1,0.2:2\n"
TWO_CHANNELS_TS = ("@problemName demo\n@univariate false\n@dimensions 2\n@classLabel true 1 2\n@data\n"
                   "0.1,0.2,0.3:0.3,0.4,0.5:1\n0.1,0.2,0.3:0.5,0.6,0.7:2\n")
SERIES_CSV = "time,value\n" + "".join(f"2020-{m:02d},{m}\n" for m in range(1, 13))

FILES = {
    "good.ts": GOOD_TS,
    "two_channels.ts": TWO_CHANNELS_TS,
    "undeclared_label.ts": TS_HEADER + "0.1,0.2,0.3:1\n0.1,0.2,0.3:3\n",
    "not_a_number.ts": TS_HEADER + "0.1,zz,0.3:1\n",
    "cut_short.ts": TS_HEADER + "0.1,0.2,0.3:1\n0.1,0.2\n",
    "no_series.ts": TS_HEADER,
    "infinite.ts": TS_HEADER + "0.1,inf,0.3:1\n0.3,0.2,0.1:2\n",
    "one_class.ts": TS_HEADER + "0.1,0.2,0.3:1\n0.3,0.2,0.1:1\n",
    "binary.ts": b"\x00\x01\x02\xff\xfe not text\n",
    "not_a_number.csv": "label,a,b,c\n1,0.1,0.2,0.3\n2,0.1,abc,0.3\n",
    "gap.csv": "label,a,b,c\n1,0.1,,0.3\n2,0.1,0.2,0.3\n",
    "empty.csv": "",
    "header_only.csv": "label,a,b\n",
    "series_not_a_number.csv": "time,value\n2020-01,1\n2020-02,abc\n2020-03,3\n",
    "series_gap.csv": SERIES_CSV.replace("2020-02,2\n", "2020-02,\n"),
    "short_series.csv": "time,value\n2020-01,1\n2020-02,2\n2020-03,3\n",
    "good.xyz": GOOD_TS,
    "not_a_model.gated": "plain text, not a model\n",
}

ROWS = [
    ("csv_value_not_a_number", ["train", "--train", "{not_a_number.csv}"],
     r"gated train: error: .*not_a_number\.csv, line 3: column 3 \('b'\): 'abc' is not a number"),
    ("csv_empty", ["train", "--train", "{empty.csv}"], r"gated train: error: .*empty\.csv: the file has no rows"),
    ("csv_header_only", ["train", "--train", "{header_only.csv}"],
     r"header_only\.csv, line 1: the file has a header row and no data"),
    ("csv_missing_value_inside_a_series", ["train", "--train", "{gap.csv}"],
     r"gap\.csv' has missing values inside series: 1 value\(s\) missing or infinite, the first missing \(NaN\) in "
     r"series 1, step 2, channel 1 \(counting from 1\)\. Fill or drop them first"),
    ("ts_infinite_value", ["train", "--train", "{infinite.ts}"],
     r"infinite\.ts' has missing values inside series: .* the first infinite \(inf\) in series 1, step 2, channel 1"),
    ("ts_label_not_declared", ["train", "--train", "{good.ts}", "--test", "{undeclared_label.ts}"],
     r"undeclared_label\.ts, line 7: class label '3' is not one of the class_names passed \('1', '2'\)"),
    ("ts_value_not_a_number", ["train", "--train", "{not_a_number.ts}"],
     r"not_a_number\.ts, line 6: dimension 1, value 2: 'zz' is not a number"),
    ("ts_line_cut_short", ["train", "--train", "{cut_short.ts}"],
     r"cut_short\.ts, line 7: expected the values, then ':' and the label, found no ':' \(is the line cut short\?\)"),
    ("ts_no_series", ["train", "--train", "{no_series.ts}"], r"no_series\.ts, line 5: no series after @data"),
    ("ts_not_text", ["train", "--train", "{binary.ts}"], r"binary\.ts, line 1: is not UTF-8 text"),
    ("one_class_only", ["train", "--train", "{one_class.ts}"],
     r"one_class\.ts holds one class only \(every series is labelled '1'\); a classifier needs series of at least "
     r"two classes.*--label-column"),
    ("train_test_channels_differ", ["train", "--train", "{good.ts}", "--test", "{two_channels.ts}"],
     r"good\.ts has 1 channels but two_channels\.ts has 2; the test series need the same channels"),
    ("unknown_file_format", ["train", "--train", "{good.xyz}"],
     r"Cannot tell the format of '.*good\.xyz' from its name; use a \.ts, \.csv or \.npz file"),
    ("no_such_file", ["train", "--train", "missing_TRAIN.ts"],
     r"'missing_TRAIN\.ts' is neither a file nor a built-in dataset \(italy_power_demand, japanese_vowels, "
     r"basic_motions\)"),
    ("series_value_not_a_number", ["forecast", "--csv", "{series_not_a_number.csv}", "--horizon", "2"],
     r"gated forecast: error: .*series_not_a_number\.csv, line 3: column 2 \('value'\): 'abc' is not a number"),
    ("series_gap_without_a_choice", ["forecast", "--csv", "{series_gap.csv}", "--horizon", "2"],
     r"(?s)The series has 1 missing values \(NaN\) in 1 of 12 timesteps; the first is at index 1 \(timestamp "
     r"2020-02\).*--missing interpolate"),
    ("horizon_longer_than_the_series", ["forecast", "--csv", "{short_series.csv}", "--horizon", "5"],
     r"--horizon 5 leaves too little of the 3 values to train on; use a horizon below half the series"),
    ("model_file_not_a_model", ["evaluate", "--model", "{not_a_model.gated}", "--test", "{good.ts}"],
     r"gated evaluate: error: .*not_a_model\.gated is not a readable gated model file"),
    ("predict_with_not_a_model", ["predict", "--model", "{not_a_model.gated}", "--input", "{good.ts}"],
     r"gated predict: error: .*not_a_model\.gated is not a readable gated model file"),
]


@pytest.fixture
def files(tmp_path):
    for name, content in FILES.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return tmp_path


def run_main(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def expand(argv: list[str], folder) -> list[str]:
    return [str(folder / a[1:-1]) if a.startswith("{") else a for a in argv]


@pytest.mark.parametrize("argv, message", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_bad_data_exits_1_with_one_clear_message(files, capsys, argv, message):
    fast = ["--epochs", "1", "--units", "2"] if argv[0] in ("train", "forecast") else []
    code, err = run_main(expand(argv, files) + fast, capsys)
    assert code == 1
    assert err.startswith(f"gated {argv[0]}: error: ")
    assert "Traceback" not in err
    assert re.search(message, err), err


def test_a_saved_classifier_refuses_series_with_other_channels(files, capsys, tmp_path):
    model = str(tmp_path / "small.gated")
    code, err = run_main(["train", "--train", str(files / "good.ts"), "--epochs", "1", "--units", "2",
                          "--save", model], capsys)
    assert code == 0, err
    for command, flag in (("predict", "--input"), ("evaluate", "--test")):
        code, err = run_main([command, "--model", model, flag, str(files / "two_channels.ts")], capsys)
        assert code == 1
        assert f"gated {command}: error: " in err
        assert "small.gated was trained on series with 1 channel(s), but two_channels.ts has 2. Pass series with " \
               "the same channels" in err


def gated(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gated", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_a_malformed_file_in_a_real_process_exits_1_without_a_traceback(files):
    result = gated("train", "--train", str(files / "not_a_number.csv"), "--epochs", "1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("not_a_number.csv, line 3: column 3 ('b'): 'abc' is not a number")


@pytest.mark.parametrize("option, value, message", [
    ("--batch-size", "0", "argument --batch-size: expected a positive integer, received 0"),
    ("--epochs", "many", "argument --epochs: expected a positive integer, received 'many'"),
    ("--units", "-3", "argument --units: expected a positive integer, received -3"),
])
def test_bad_numbers_on_the_command_line_exit_2_with_usage(option, value, message):
    result = gated("train", "--train", "italy_power_demand", option, value)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "usage: gated train" in result.stderr and message in result.stderr
