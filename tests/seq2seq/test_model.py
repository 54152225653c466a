"""gated.seq2seq: teacher forcing equals step-by-step decoding, beam search, attention, padding, saving, a toy task,
real-valued targets, error messages and the error-rate metrics."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

import gated
from gated.seq2seq import END, PAD, START, Seq2Seq, beam_search, greedy_search, token_error_rate, word_error_rate
from gated.seq2seq._vocab import pad_ids

ATOL = 2e-5


def _words(n: int, seed: int, letters: str = "abcdefghij", lengths=(3, 8)) -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < n:
        found["".join(rng.choice(letters) for _ in range(rng.randint(*lengths)))] = None
    return list(found)


def _untrained(x, y, **kwargs) -> Seq2Seq:
    """A model whose vocabularies come from x, y, with random weights (scaled up so that the logits differ)."""
    model = Seq2Seq(**{"units": 16, "embedding_dim": 8, **kwargs})
    model._learn_specs(x, y)
    model.set_weights([w * 1.5 for w in model.get_weights()])
    return model


def _batch(model: Seq2Seq, x, y):
    dataset = model._dataset(x, y, "test")
    (source, target_in), target_out = dataset.collate([dataset[i] for i in range(len(dataset))])
    return source, target_in, target_out


MODELS = [
    {"attention": None}, {"attention": "luong"}, {"attention": "bahdanau"},
    {"attention": "luong", "cell": "lstm"}, {"attention": "bahdanau", "cell": "lstm", "layers": 2},
    {"attention": "luong", "bidirectional_encoder": True, "layers": 2},
    {"attention": None, "cell": "lstm", "bidirectional_encoder": True},
    {"attention": "luong", "encoder_cell": "mingru"},
]


def _id(config: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in config.items())


# ------------------------------------------------------------------------------------------ teacher forcing
@pytest.mark.parametrize("config", MODELS, ids=_id)
def test_teacher_forced_outputs_equal_step_by_step_decoding(config):
    x = ["hello", "gru", "encoder", "ab"]
    y = ["olleh", "urg", "redocne", "ba"]
    model = _untrained(x, y, **config)
    source, target_in, target_out = _batch(model, x, y)
    forced = torch.log_softmax(model([source, target_in]), dim=-1)
    memory, states = model.encode(source)
    stepped = []
    for t in range(target_in.shape[1]):
        log_probs, states, _ = model.step(target_in[:, t], states, memory)
        stepped.append(log_probs)
    stepped = torch.stack(stepped, dim=1)
    valid = target_out != PAD
    np.testing.assert_allclose(stepped[valid].detach().numpy(), forced[valid].detach().numpy(), atol=ATOL)


@pytest.mark.parametrize("config", [{"attention": None}, {"attention": "luong"}, {"attention": "bahdanau"}],
                         ids=_id)
def test_teacher_forced_targets_are_shifted_and_masked(config):
    model = _untrained(["abc", "a"], ["xy", "xyzz"], **config)
    source, target_in, target_out = _batch(model, ["abc", "a"], ["xy", "xyzz"])
    vocab = model.target_spec
    assert target_in.tolist() == [[START] + vocab.encode("xy") + [PAD, PAD], [START] + vocab.encode("xyzz")]
    assert target_out.tolist() == [vocab.encode("xy") + [END, PAD, PAD], vocab.encode("xyzz") + [END]]
    logits = model([source, target_in])
    np.testing.assert_array_equal(logits._keras_mask.numpy(), (target_out != PAD).numpy())


# ------------------------------------------------------------------------------------------ search
@pytest.mark.parametrize("config", MODELS[:4], ids=_id)
def test_beam_width_one_equals_greedy(config):
    x = _words(40, seed=1)
    model = _untrained(x, [w[::-1] for w in x], **config)
    source = torch.as_tensor(pad_ids([model.source_spec.encode(w) for w in x]))
    memory, states = model.encode(source)
    greedy = greedy_search(model.step, states, memory, len(x), 12, source.device, keep_attention=True)
    beam = beam_search(model.step, states, memory, len(x), 1, 12, source.device, keep_attention=True)
    assert [h.tokens for h in beam] == [h.tokens for h in greedy]
    if config["attention"] is not None:
        for g, b in zip(greedy, beam):
            np.testing.assert_allclose(b.attention.numpy(), g.attention.numpy(), atol=1e-6)
    assert model.predict(x, beam_width=1, max_length=12) == [model.target_spec.decode(h.tokens) for h in beam]


def _table_step(table: dict[tuple[int, ...], list[float]], vocab: int):
    """A decoder whose next-token probabilities depend on the tokens so far (a state holding the prefix)."""

    def step(tokens, states, memory):
        prefixes = [p + (int(t),) for p, t in zip(states, tokens)]
        rows = []
        for prefix in prefixes:
            probs = np.full(vocab, 1e-9)
            for token, p in enumerate(table.get(prefix[1:], [])):
                probs[token] = max(p, 1e-9)
            rows.append(np.log(probs / probs.sum()))
        return torch.tensor(np.array(rows)), _Prefixes(prefixes), None

    return step


class _Prefixes(list):
    def select(self, index):
        return _Prefixes(self[i] for i in index.tolist())


def test_beam_search_finds_the_sequence_greedy_misses():
    """Greedy takes token 4 (p=.6) then faces a flat distribution; the beam finds 5 -> END (p=.4 * .95)."""
    A, B = 4, 5
    vocab = 6
    table = {
        (): [0, 0, 0, 0, 0.6, 0.4],
        (A,): [0, 0, 0.2, 0, 0.4, 0.4],
        (B,): [0, 0, 0.95, 0, 0.05, 0],
        (A, A): [0, 0, 1.0], (A, B): [0, 0, 1.0], (B, A): [0, 0, 1.0],
    }
    step = _table_step(table, vocab)
    start = _Prefixes([()])
    greedy = greedy_search(step, start, None, 1, 5, torch.device("cpu"))[0]
    assert greedy.tokens == [A, A, END]
    beam = beam_search(step, start, None, 1, 2, 5, torch.device("cpu"), length_penalty=0.0)[0]
    assert beam.tokens == [B, END]
    np.testing.assert_allclose(beam.score, math.log(0.4 * 0.95), rtol=1e-6)
    # with length normalisation the score is the mean log-probability per token (END included), and the longer
    # sequence wins: log(.24) / 3 > log(.38) / 2
    normalised = beam_search(step, start, None, 1, 3, 5, torch.device("cpu"), length_penalty=1.0)[0]
    assert normalised.tokens == [A, A, END]
    np.testing.assert_allclose(normalised.score, math.log(0.6 * 0.4 * 1.0) / 3, rtol=1e-6)


def test_beam_search_stops_at_max_length_with_the_best_live_hypothesis():
    table = {(): [0, 0, 0, 0, 0.9, 0.1], (4,): [0, 0, 0, 0, 0.9, 0.1], (4, 4): [0, 0, 0, 0, 0.9, 0.1]}
    found = beam_search(_table_step(table, 6), _Prefixes([()]), None, 1, 2, 3, torch.device("cpu"),
                        length_penalty=0.0)[0]
    assert found.tokens == [4, 4, 4]
    np.testing.assert_allclose(found.score, 3 * math.log(0.9), rtol=1e-6)


# ------------------------------------------------------------------------------------------ attention, padding
@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_attention_weights_sum_to_one_over_the_source(attention):
    x = ["a", "abcdefgh", "abc"]
    model = _untrained(x, ["x", "yy", "zzz"], attention=attention, bidirectional_encoder=True)
    predictions, weights = model.predict(x, return_attention=True, max_length=6)
    for source, prediction, w in zip(x, predictions, weights):
        assert w.shape[1] == len(source)
        assert w.shape[0] == min(len(prediction) + 1, 6)  # one row per output token and the end marker
        np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    # teacher-forced weights: exactly zero on padded source steps
    source, target_in, _ = _batch(model, x, ["x", "yy", "zzz"])
    memory, states = model.encode(source)
    _, _, full = model.decode(target_in, states, memory)
    padded = (source == PAD)[:, None, :].expand_as(full)
    assert torch.all(full[padded] == 0)
    np.testing.assert_allclose(full.sum(-1).detach().numpy(), 1.0, atol=1e-6)


@pytest.mark.parametrize("config", [{"attention": "luong", "bidirectional_encoder": True},
                                    {"attention": "bahdanau", "cell": "lstm", "bidirectional_encoder": True},
                                    {"attention": None, "layers": 2}], ids=_id)
def test_padding_never_leaks_into_predictions(config):
    short = ["ab", "cab", "b"]
    long_ = ["abcabcabcabcabc", "cccccccccccccba"]
    model = _untrained(short + long_, ["x", "xy", "yx", "yyxx", "xyxyx"], **config)
    alone = [model.predict([w], max_length=8)[0] for w in short]
    assert model.predict(short + long_, max_length=8)[:3] == alone
    assert model.predict(long_ + short, beam_width=3, max_length=8)[2:] == [model.predict([w], beam_width=3,
                                                                                         max_length=8)[0]
                                                                           for w in short]
    # and the teacher-forced log-probabilities of a short pair are the same in a batch padded by long ones
    source, target_in, target_out = _batch(model, short + long_, ["x", "xy", "yx", "yyxx", "xyxyx"])
    batched = model([source, target_in])
    for i in range(len(short)):
        s, t_in, t_out = _batch(model, [short[i]], [["x", "xy", "yx"][i]])
        single = model([s, t_in])[0]
        valid = t_out[0] != PAD
        np.testing.assert_allclose(batched[i, :single.shape[0]][valid].detach().numpy(),
                                   single[valid].detach().numpy(), atol=ATOL)


# ------------------------------------------------------------------------------------------ training
def test_toy_reversal_reaches_90_percent_exact_match_on_held_out_strings():
    gated.utils.set_random_seed(0)
    words = _words(3600, seed=0)
    train, held_out = words[:3000], words[3000:]
    model = Seq2Seq(units=64, embedding_dim=32, attention="luong", learning_rate=5e-3)
    # the best epoch's weights: a late loss spike at this learning rate must not decide the test
    stop = gated.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(train, [w[::-1] for w in train], epochs=10, batch_size=64, validation_split=0.1, verbose=0,
                        callbacks=[stop])
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
    predictions = model.predict(held_out)
    exact = np.mean([p == w[::-1] for p, w in zip(predictions, held_out)])
    assert exact >= 0.9, exact
    assert word_error_rate(predictions, [w[::-1] for w in held_out]) == pytest.approx(1 - exact)
    beam = model.predict(held_out[:100], beam_width=4)
    assert np.mean([p == w[::-1] for p, w in zip(beam, held_out[:100])]) >= 0.9


def test_mingru_encoder_learns_the_toy_task():
    gated.utils.set_random_seed(0)
    words = _words(3200, seed=2, lengths=(3, 6))
    train, held_out = words[:3000], words[3000:]
    model = Seq2Seq(units=64, embedding_dim=32, attention="luong", encoder_cell="mingru", bidirectional_encoder=True,
                    learning_rate=5e-3)
    model.fit(train, [w[::-1] for w in train], epochs=12, batch_size=64, verbose=0)
    assert isinstance(model.encoders[0].forward_layer, gated.layers.MinGRU)
    exact = np.mean([p == w[::-1] for p, w in zip(model.predict(held_out), held_out)])
    assert exact >= 0.8, exact  # 0.87 measured; the GRU encoder reaches 0.99 on the same budget


def test_token_lists_and_integers_keep_their_type():
    gated.utils.set_random_seed(0)
    x = [[3, 1, 2], [7, 7], [0, 5, 9, 1]] * 30
    y = [("AH", "B"), ("K",), ("S", "T", "AH")] * 30
    model = Seq2Seq(units=32, embedding_dim=8, attention="luong", learning_rate=1e-2)
    model.fit(x, y, epochs=25, batch_size=16, verbose=0)
    predictions = model.predict(x[:3])
    assert predictions == [["AH", "B"], ["K"], ["S", "T", "AH"]]
    back = Seq2Seq(units=32, embedding_dim=8, learning_rate=1e-2)
    back.fit([list(t) for t in y], x, epochs=25, batch_size=16, verbose=0)
    out = back.predict([["K"], ["S", "T", "AH"]])
    assert out == [[7, 7], [0, 5, 9, 1]] and all(isinstance(t, int) for t in out[1])


def test_fit_continues_and_evaluate_matches_the_training_loss(tmp_path):
    gated.utils.set_random_seed(0)
    x = _words(300, seed=3)
    y = [w[::-1] for w in x]
    model = Seq2Seq(units=32, embedding_dim=16, attention="luong")
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    first = model.evaluate(x, y, verbose=0, return_dict=True)
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, validation_data=(x[:50], y[:50]))
    assert len(history.history["loss"]) == 2
    second = model.evaluate(x, y, verbose=0, return_dict=True)
    assert second["loss"] < first["loss"]
    # evaluate is the masked mean cross-entropy over real target tokens (END included)
    source, target_in, target_out = _batch(model, x[:50], y[:50])
    logits = model([source, target_in])
    valid = target_out != PAD
    expected = torch.nn.functional.cross_entropy(logits[valid], target_out[valid]).item()
    loss, accuracy = model.evaluate(x[:50], y[:50], verbose=0, batch_size=50)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert accuracy == pytest.approx((logits.argmax(-1) == target_out)[valid].float().mean().item(), abs=1e-6)


# ------------------------------------------------------------------------------------------ saving
@pytest.mark.parametrize("config", [{"attention": "luong", "bidirectional_encoder": True},
                                    {"attention": "bahdanau", "cell": "lstm"}], ids=_id)
def test_save_and_load_give_identical_predictions(tmp_path, config):
    gated.utils.set_random_seed(0)
    x = _words(200, seed=4)
    y = [list(w[::-1].upper()) for w in x]  # token lists
    model = Seq2Seq(units=24, embedding_dim=8, **config)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    path = tmp_path / "g2p.gated"
    model.save(path)
    again = Seq2Seq.load(path)
    assert again.target_spec.tokens == model.target_spec.tokens and again.source_spec.kind == "chars"
    assert again.max_target_length == model.max_target_length
    for width in (1, 3):
        assert again.predict(x, beam_width=width) == model.predict(x, beam_width=width)
    assert isinstance(gated.load_model(path), Seq2Seq)
    # training continues from the saved optimizer state exactly as it would have
    gated.utils.set_random_seed(5)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    gated.utils.set_random_seed(5)
    again.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


# ------------------------------------------------------------------------------------------ real values
def test_real_valued_sequences_forecast_ahead():
    gated.utils.set_random_seed(0)
    t = np.arange(4000, dtype=np.float32)
    series = np.sin(t * 2 * np.pi / 25) + 0.5 * np.sin(t * 2 * np.pi / 7)
    windows = np.lib.stride_tricks.sliding_window_view(series, 30)[::3].copy()
    x, y = windows[:, :20], windows[:, 20:]
    model = Seq2Seq(units=32, attention="luong", learning_rate=5e-3)
    history = model.fit(x[:1000], y[:1000], epochs=15, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    forecast = model.predict(x[1000:])
    assert forecast.shape == y[1000:].shape and forecast.dtype == np.float32
    naive = np.mean((y[1000:] - x[1000:, -1:]) ** 2)  # repeat the last value
    assert np.mean((forecast - y[1000:]) ** 2) < 0.1 * naive
    # the teacher-forced pass equals rolling the decoder forward on the true values
    source = torch.as_tensor(x[1000:1010, :, None])
    target = torch.as_tensor(y[1000:1010, :, None])
    target_in = torch.cat([torch.zeros_like(target[:, :1]), target[:, :-1]], dim=1)
    forced = model([source, target_in])
    memory, states = model.encode(source)
    stepped = []
    for i in range(target_in.shape[1]):
        value, states, _ = model.decode(target_in[:, i:i + 1], states, memory)
        stepped.append(value)
    np.testing.assert_allclose(torch.cat(stepped, 1).detach().numpy(), forced.detach().numpy(), atol=ATOL)
    assert model.predict(x[1000:1002], max_length=25).shape == (2, 25)


# ------------------------------------------------------------------------------------------ errors
def test_errors_say_what_was_received_and_how_to_fix_it():
    with pytest.raises(ValueError, match=r"attention='dot' is not one of \[None, 'luong', 'bahdanau'\]"):
        Seq2Seq(attention="dot")
    with pytest.raises(ValueError, match="encoder_cell='gru' carries 1 state.*cell='lstm' needs 2.*Pair 'lstm'"):
        Seq2Seq(cell="lstm", encoder_cell="gru")
    with pytest.raises(ValueError, match=r"has not been trained yet, so it cannot predict.*fit\(x_seqs, y_seqs\)"):
        Seq2Seq().predict(["abc"])
    model = Seq2Seq(units=8, embedding_dim=4)
    with pytest.raises(ValueError, match="fit: x has 2 sequences but y has 1; pass one target sequence per source"):
        model.fit(["ab", "cd"], ["x"], verbose=0)
    with pytest.raises(TypeError, match=r"x mixes sequence kinds \(chars, integers\)"):
        Seq2Seq().fit(["ab", [1, 2]], ["x", "y"], verbose=0)
    with pytest.raises(TypeError, match=r"x\[1\] mixes token types"):
        Seq2Seq().fit([["a"], ["b", 2]], ["x", "y"], verbose=0)
    with pytest.raises(TypeError, match="x must be a list of sequences .* received str 'abc'"):
        Seq2Seq().fit("abc", ["x"], verbose=0)
    model.fit(["ab", "cd"], ["x", "y"], epochs=1, verbose=0)
    with pytest.raises(TypeError, match="predict x holds integers sequences, but this model was trained on chars"):
        model.predict([[1, 2]])
    with pytest.raises(TypeError, match=r"wrap a single one in a list: predict\(\[x\]\)"):
        model.predict("ab")
    with pytest.raises(ValueError, match="return_attention=True needs a model with attention"):
        model.predict(["ab"], return_attention=True)
    with pytest.raises(ValueError, match="beam_width must be a positive integer, received beam_width=0"):
        model.predict(["ab"], beam_width=0)
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\), received 1.5"):
        model.fit(["ab"], ["x"], validation_split=1.5, verbose=0)
    real = Seq2Seq(units=8)
    real.fit(np.zeros((8, 5), np.float32), np.zeros((8, 2), np.float32), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="real-valued targets are forecast directly. Leave beam_width=1"):
        real.predict(np.zeros((1, 5), np.float32), beam_width=3)
    bad = np.zeros((8, 5), np.float32)
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN/inf value\(s\), the first at position \(3, 2, 0\)"):
        real.predict(bad)


# ------------------------------------------------------------------------------------------ metrics
def _edit_distance(a, b) -> int:
    """The textbook dynamic programme, as the reference for rapidfuzz."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def test_error_rates():
    predictions = [("K", "AE", "T"), ("D", "AO", "G"), ("T", "AH", "M", "EY", "T", "OW")]
    references = [[("K", "AE", "T")], [("D", "AA", "G"), ("D", "AO", "G")], [("T", "AH", "M", "AA", "T", "OW"),
                                                                             ("T", "AH", "M", "EY", "D", "OW")]]
    assert word_error_rate(predictions, references) == pytest.approx(1 / 3)
    assert token_error_rate(predictions, references) == pytest.approx(1 / 12)
    rng = random.Random(0)
    preds = [[rng.choice("abc") for _ in range(rng.randint(0, 6))] for _ in range(200)]
    refs = [[rng.choice("abc") for _ in range(rng.randint(1, 6))] for _ in range(200)]
    expected = sum(_edit_distance(p, r) for p, r in zip(preds, refs)) / sum(map(len, refs))
    assert token_error_rate(preds, refs) == pytest.approx(expected)
    assert word_error_rate(["abc", "xy"], ["abc", "xz"]) == 0.5  # plain strings are sequences of characters
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        word_error_rate(["a", "b"], ["a"])
