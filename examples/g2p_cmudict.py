"""Grapheme-to-phoneme conversion on the CMU Pronouncing Dictionary with gated.seq2seq.

Spelling in, ARPAbet phonemes out (39 phonemes, stress removed), with a bidirectional GRU encoder and a GRU
decoder with Luong attention. The split is gated.datasets.cmudict's fixed md5 split by word (90% train, 5%
validation, 5% test); every pronunciation of a training word is a training pair. Reported on the test words:
WER (a word is right when the prediction equals any of its pronunciations) and PER (phoneme edit distance to
the closest pronunciation over its length), greedy and with beam search.

    python examples/g2p_cmudict.py                      # the full run reported in docs/RESULTS.md
    python examples/g2p_cmudict.py --limit 5000 --epochs 3   # a quick look
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

import gated
from gated.datasets import cmudict
from gated.seq2seq import Seq2Seq, token_error_rate, word_error_rate


def pairs(entries: dict) -> tuple[list[str], list[tuple[str, ...]]]:
    words, phones = [], []
    for word, pronunciations in entries.items():
        for pronunciation in pronunciations:
            words.append(word)
            phones.append(pronunciation)
    return words, phones


def _sample(entries: dict, count: int) -> dict:
    items = list(entries.items())
    step = max(1, len(items) // count)
    return dict(items[::step][:count])


class TimeBudget(gated.callbacks.Callback):
    """Stop after the epoch that crosses ``seconds`` of training time."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.start = seconds, time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--attention", default="luong")
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=55.0, help="stop training after this many minutes")
    parser.add_argument("--beam-width", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="use only N training words (evenly spaced)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="write the trained model to this file")
    parser.add_argument("--json", default=None, help="write the results to this JSON file")
    args = parser.parse_args(argv)

    gated.utils.set_random_seed(args.seed)
    train, validation, test = cmudict.split_by_word(cmudict.load_data(stress=False))
    if args.limit:  # an evenly spaced sample of the words (the dictionary is alphabetical)
        train = _sample(train, args.limit)
        validation = _sample(validation, max(200, args.limit // 20))
        test = _sample(test, max(200, args.limit // 20))
    x_train, y_train = pairs(train)
    x_val, y_val = pairs(validation)
    print(f"{len(train)} training words ({len(x_train)} pairs), {len(validation)} validation, {len(test)} test; "
          f"{torch.get_num_threads()} torch threads")

    model = Seq2Seq(units=args.units, cell=args.cell, layers=args.layers, bidirectional_encoder=True,
                    attention=None if args.attention == "none" else args.attention,
                    embedding_dim=args.embedding_dim, dropout=args.dropout, learning_rate=args.learning_rate)
    callbacks = [
        gated.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True),
        gated.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
        TimeBudget(args.minutes * 60),
    ]
    start = time.perf_counter()
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.epochs,
                        batch_size=args.batch_size, callbacks=callbacks, verbose=2)
    train_seconds = time.perf_counter() - start

    words = list(test)
    references = [test[w] for w in words]
    results = {}
    for width in sorted({1, args.beam_width}):
        start = time.perf_counter()
        predicted = model.predict(words, beam_width=width)
        seconds = time.perf_counter() - start
        results[f"beam_{width}"] = {
            "wer": word_error_rate(predicted, references), "per": token_error_rate(predicted, references),
            "seconds": seconds,
        }
        print(f"beam width {width}: WER {results[f'beam_{width}']['wer']:.2%}, "
              f"PER {results[f'beam_{width}']['per']:.2%} ({seconds:.1f} s for {len(words)} words)")
    for word in words[:8]:
        print(f"  {word:14s} -> {' '.join(model.predict([word], beam_width=args.beam_width)[0])}   "
              f"(reference: {' | '.join(' '.join(p) for p in test[word])})")
    if args.save:
        model.save(args.save)
    report = {
        "settings": vars(args), "epochs_run": len(history.history["loss"]), "train_seconds": train_seconds,
        "history": history.history, "test_words": len(words), "results": results,
        "parameters": model.count_params(), "torch": torch.__version__, "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
    }
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)
    return report


if __name__ == "__main__":
    main()
