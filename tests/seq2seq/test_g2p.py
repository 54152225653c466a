"""Grapheme to phoneme on CMUdict, reduced in size: the example script end to end (split, training with
validation data, greedy and beam decoding, WER/PER, saving), with the quality a small run must reach."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from gated.datasets import cmudict
from gated.seq2seq import Seq2Seq

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples", "g2p_cmudict.py")


def test_reduced_g2p_run_learns_pronunciations(tmp_path):
    report_path, model_path = tmp_path / "g2p.json", tmp_path / "g2p.gated"
    result = subprocess.run(
        [sys.executable, EXAMPLE, "--limit", "4000", "--units", "96", "--embedding-dim", "32", "--epochs", "6",
         "--learning-rate", "5e-3", "--dropout", "0.1", "--json", str(report_path), "--save", str(model_path)],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    greedy, beam = report["results"]["beam_1"], report["results"]["beam_5"]
    # 4,000 words and six short epochs: far from the full run, far better than chance (PER ~ 1 untrained)
    assert greedy["per"] < 0.4 and beam["per"] < 0.4, report["results"]
    assert beam["wer"] < 0.95 and beam["wer"] <= greedy["wer"] + 0.03, report["results"]
    assert report["history"]["val_loss"][-1] < report["history"]["val_loss"][0]
    assert report["test_words"] == 200

    model = Seq2Seq.load(model_path)
    phonemes = set(cmudict.phonemes(stress=False))
    for prediction in model.predict(["cat", "dog", "phonetics"], beam_width=3):
        assert isinstance(prediction, list) and prediction and set(prediction) <= phonemes
