"""Character-level sequence to sequence in the Keras functional style: dates written many ways -> ISO dates.

The classic Keras recipe, written with gated's layers: one-hot source_chars in, an LSTM encoder whose final states
start an LSTM decoder trained with teacher forcing, then two inference models (the encoder, and one decoder step)
that decode one character at a time. gated.seq2seq.Seq2Seq does all of this (and attention, beam search,
vocabularies) in one class; this script shows the building blocks.

    python examples/seq2seq_functional.py
"""

from __future__ import annotations

import datetime
import random

import numpy as np

import gated
from gated import Model
from gated.layers import LSTM, Dense, Input

LATENT = 128
START, END = "\t", "\n"
FORMATS = ["%d %b %Y", "%B %d, %Y", "%d/%m/%Y", "%A %d %B %Y", "%b %d %y", "%Y.%m.%d", "%d %B %Y"]


def dates(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(a date in one of FORMATS, lower case; the same date as YYYY-MM-DD) pairs, 1950 to 2049."""
    first = datetime.date(1950, 1, 1).toordinal()
    pairs = []
    for _ in range(count):
        day = datetime.date.fromordinal(first + rng.randrange(36524))
        pairs.append((day.strftime(rng.choice(FORMATS)).lower(), day.isoformat()))
    return pairs


def one_hot(sequences, index, length):
    out = np.zeros((len(sequences), length, len(index)), dtype="float32")
    for i, sequence in enumerate(sequences):
        for t, token in enumerate(sequence):
            out[i, t, index[token]] = 1.0
    return out


def main() -> None:
    gated.utils.set_random_seed(0)
    rng = random.Random(0)
    pairs = dates(6000, rng)
    held_out = [p for p in dates(400, random.Random(1)) if p not in pairs][:200]
    sources = [source for source, _ in pairs]
    targets = [[START] + list(target) + [END] for _, target in pairs]
    source_chars = sorted({c for source, _ in pairs + held_out for c in source})
    target_chars = sorted({c for t in targets for c in t})
    source_index = {c: i for i, c in enumerate(source_chars)}
    target_index = {p: i for i, p in enumerate(target_chars)}
    max_in, max_out = max(map(len, sources)), max(map(len, targets))

    encoder_input = one_hot(sources, source_index, max_in)
    decoder_input = one_hot([t[:-1] for t in targets], target_index, max_out)
    # targets padded with the end marker: every step has a label, and "after the end" is learned as more ends
    decoder_target = one_hot([t[1:] + [END] * (max_out - len(t) + 1) for t in targets], target_index, max_out)

    # Training model: the decoder starts from the encoder's final states and reads the previous true character.
    encoder_inputs = Input(shape=(None, len(source_chars)))
    _, state_h, state_c = LSTM(LATENT, return_state=True)(encoder_inputs)
    decoder_inputs = Input(shape=(None, len(target_chars)))
    decoder_lstm = LSTM(LATENT, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    decoder_dense = Dense(len(target_chars), activation="softmax")
    model = Model([encoder_inputs, decoder_inputs], decoder_dense(decoder_outputs))
    model.compile(optimizer=gated.optimizers.Adam(3e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit([encoder_input, decoder_input], decoder_target, batch_size=64, epochs=30, validation_split=0.1,
              verbose=2)

    # Inference models: the encoder gives the states; one decoder step maps (character, states) -> (next, states).
    encoder_model = Model(encoder_inputs, [state_h, state_c])
    state_inputs = [Input(shape=(LATENT,)), Input(shape=(LATENT,))]
    step_outputs, step_h, step_c = decoder_lstm(decoder_inputs, initial_state=state_inputs)
    decoder_model = Model([decoder_inputs] + state_inputs, [decoder_dense(step_outputs), step_h, step_c])

    def decode(source: str) -> list[str]:
        # padded like the training inputs: the encoder has no mask, so its final state is read after the padding
        states = encoder_model.predict(one_hot([source], source_index, max_in), verbose=0)
        token, out = START, []
        while len(out) < max_out:
            probs, h, c = decoder_model.predict([one_hot([[token]], target_index, 1)] + states, verbose=0)
            token = target_chars[int(np.argmax(probs[0, -1]))]
            if token == END:
                break
            out.append(token)
            states = [h, c]
        return out

    right = sum("".join(decode(source)) == target for source, target in held_out)
    for source, _ in held_out[:5]:
        print(f"{source:28s} -> {''.join(decode(source))}")
    print(f"held-out dates converted exactly: {right}/{len(held_out)}")


if __name__ == "__main__":
    main()
