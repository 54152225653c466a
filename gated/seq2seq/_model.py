"""``Seq2Seq``: a recurrent encoder-decoder that learns from lists of sequences and predicts lists of sequences.

Architecture (the encoder and decoder have ``layers`` recurrent layers each; layer i of the decoder starts from
the final states of layer i of the encoder, through a ``tanh`` Dense bridge when the encoder is bidirectional)::

    source ids -> Embedding(mask_zero) -> [Bidirectional] RNN x layers ---------------> memory (B, S, D)
    target ids -> Embedding(mask_zero) -> RNN x layers (initial states from the encoder) -> (B, T, U)
        attention=None:       logits = Dense(V)(decoder output)
        attention="luong":    scores = decoder output . Dense(U)(memory)  (Luong's "general" score),
                              logits = Dense(V)(tanh(Dense(U)([context; decoder output])))
        attention="bahdanau": scores = v . tanh(W q + U memory) from the previous decoder state q; the context
                              joins the embedded token at the decoder's input; logits as for "luong".

Training is teacher-forced: the decoder reads ``<start> y1 .. yn`` and predicts ``y1 .. yn <end>``; padded
steps are masked out of the loss. Luong attention and no attention run the decoder over the whole target
sequence at once (the fused recurrent kernels apply); Bahdanau's decoder needs the context before each step and
runs step by step. Decoding (``predict``) calls the same decoder one token at a time.

Real-valued sequences (forecasting) use the same network without embeddings: the decoder reads the previous
target value (zeros at the first step) and a linear Dense layer gives the next; the loss is the mean squared
error and ``predict`` rolls the decoder forward ``max_length`` steps.
"""

from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np
import torch

from .. import layers as _layers
from .. import losses as _losses
from .. import optimizers as _optimizers
from ..models import Model
from ..saving import load_model, register_serializable
from ..utils._modes import training_mode
from . import _search
from ._vocab import (
    CHARS, END, INTEGERS, PAD, REAL, START, TOKENS, RealSpec, Vocabulary, as_real_array, pad_ids, sequence_kind,
)

CELLS = {"gru": _layers.GRU, "lstm": _layers.LSTM, "mingru": _layers.MinGRU, "minlstm": _layers.MinLSTM}
STATE_COUNT = {"gru": 1, "lstm": 2, "mingru": 1, "minlstm": 1}
ATTENTIONS = (None, "luong", "bahdanau")


def _choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    key = value.lower() if isinstance(value, str) else value
    if key not in allowed:
        raise ValueError(f"Seq2Seq: {name}={value!r} is not one of {list(allowed)}.")
    return key


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Seq2Seq: {name} must be a positive integer, received {name}={value!r}.")
    return int(value)


class _Memory:
    """What the decoder reads from the encoder: outputs (B, S, D), attention keys (B, S, U), source mask (B, S)."""

    def __init__(self, outputs: torch.Tensor, keys: torch.Tensor | None, mask: torch.Tensor | None):
        self.outputs, self.keys, self.mask = outputs, keys, mask

    def select(self, index: torch.Tensor) -> "_Memory":
        pick = lambda t: None if t is None else t.index_select(0, index)  # noqa: E731
        return _Memory(pick(self.outputs), pick(self.keys), pick(self.mask))


@register_serializable()
class Seq2Seq(Model):
    """A GRU/LSTM encoder-decoder for sequence-to-sequence tasks (translation-like token tasks, grapheme to
    phoneme, multi-step forecasting).

    ``Seq2Seq(units=256, cell="gru", layers=1, bidirectional_encoder=False, attention=None, embedding_dim=None,
    dropout=0.0, encoder_cell=None, learning_rate=1e-3)``

    - ``cell``: "gru", "lstm", "mingru" or "minlstm" (decoder, and encoder unless ``encoder_cell`` says otherwise;
      the two must carry the same number of states).
    - ``attention``: None, "luong" or "bahdanau".
    - ``embedding_dim``: size of the token embeddings (default ``min(units, 128)``).
    - ``dropout``: on embeddings, between layers and before the output layer, while training.

    ``fit(x_seqs, y_seqs, ...)`` takes lists of sequences: strings (characters are the tokens), lists of string
    tokens, lists of integers, or real-valued arrays (samples, steps[, features]). Vocabularies, start/end
    markers, padding and masks are handled here; ``predict`` returns sequences of the targets' kind.
    """

    def __init__(self, units: int = 256, cell: str = "gru", layers: int = 1, bidirectional_encoder: bool = False,
                 attention: str | None = None, embedding_dim: int | None = None, dropout: float = 0.0,
                 encoder_cell: str | None = None, learning_rate: float = 1e-3, name: str | None = None,
                 **kwargs: Any):
        super().__init__(name=name or "seq2seq", **kwargs)
        self.units = _positive("units", units)
        self.cell = _choice("cell", cell, tuple(CELLS))
        self.encoder_cell = self.cell if encoder_cell is None else _choice("encoder_cell", encoder_cell,
                                                                           tuple(CELLS))
        if STATE_COUNT[self.encoder_cell] != STATE_COUNT[self.cell]:
            raise ValueError(
                f"Seq2Seq: encoder_cell={self.encoder_cell!r} carries {STATE_COUNT[self.encoder_cell]} state(s) but "
                f"cell={self.cell!r} needs {STATE_COUNT[self.cell]}; the decoder starts from the encoder's final "
                "states. Pair 'lstm' with 'lstm', and 'gru', 'mingru', 'minlstm' with each other."
            )
        self.num_layers = _positive("layers", layers)
        self.bidirectional_encoder = bool(bidirectional_encoder)
        self.attention = _choice("attention", attention, ATTENTIONS)
        self.embedding_dim = min(self.units, 128) if embedding_dim is None else _positive("embedding_dim",
                                                                                          embedding_dim)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"Seq2Seq: dropout must be in [0, 1), received dropout={dropout!r}.")
        self.dropout = float(dropout)
        if not float(learning_rate) > 0:
            raise ValueError(f"Seq2Seq: learning_rate must be positive, received {learning_rate!r}.")
        self.learning_rate = float(learning_rate)
        self.source_spec: Vocabulary | RealSpec | None = None
        self.target_spec: Vocabulary | RealSpec | None = None
        self.max_target_length = 0

    # ============================================================================================ network
    @property
    def is_real(self) -> bool:
        return isinstance(self.target_spec, RealSpec)

    def _rnn(self, kind: str, **kwargs: Any):
        return CELLS[kind](self.units, return_sequences=True, return_state=True, **kwargs)

    def _build_network(self, source: Vocabulary | RealSpec, target: Vocabulary | RealSpec) -> None:
        """Create every layer for these vocabularies and build its weights (in a fixed order, for saving)."""
        self.source_spec, self.target_spec = source, target
        units, embedding = self.units, self.embedding_dim
        if isinstance(source, Vocabulary):
            self.source_embedding = _layers.Embedding(len(source), embedding, mask_zero=True, name="source_embedding")
        if isinstance(target, Vocabulary):
            self.target_embedding = _layers.Embedding(len(target), embedding, mask_zero=True, name="target_embedding")
        encoders = []
        for i in range(self.num_layers):
            layer = self._rnn(self.encoder_cell, name=f"encoder_{i}")
            if self.bidirectional_encoder:
                layer = _layers.Bidirectional(layer, name=f"bidirectional_encoder_{i}")
            encoders.append(layer)
        self.encoders = torch.nn.ModuleList(encoders)
        states = STATE_COUNT[self.cell]
        if self.bidirectional_encoder:
            self.bridges = torch.nn.ModuleList(
                _layers.Dense(units, activation="tanh", name=f"bridge_{i}_{j}")
                for i in range(self.num_layers) for j in range(states))
        self.decoders = torch.nn.ModuleList(self._rnn(self.cell, name=f"decoder_{i}") for i in range(self.num_layers))
        if self.attention == "luong":
            self.attention_keys = _layers.Dense(units, use_bias=False, name="attention_keys")
            self.attention_layer = _layers.Attention(name="attention")
        elif self.attention == "bahdanau":
            self.attention_keys = _layers.Dense(units, name="attention_keys")
            self.attention_query = _layers.Dense(units, use_bias=False, name="attention_query")
            self.attention_layer = _layers.AdditiveAttention(name="attention")
        if self.attention is not None:
            self.attention_combine = _layers.Dense(units, activation="tanh", use_bias=False, name="attention_combine")
        self.drop = _layers.Dropout(self.dropout, name="dropout")
        outputs = len(target) if isinstance(target, Vocabulary) else target.features
        self.readout_layer = _layers.Dense(outputs, name="output")
        self.built = True
        with torch.no_grad():  # one tiny call builds every lazy layer
            self.call(self._example_inputs(), training=False)

    def _example_inputs(self) -> list[torch.Tensor]:
        def example(spec):
            if isinstance(spec, Vocabulary):
                return torch.full((1, 2), START, dtype=torch.long)
            return torch.zeros((1, 2, spec.features))

        return [example(self.source_spec), example(self.target_spec)]

    def _require_built(self, what: str) -> None:
        if self.target_spec is None:
            raise ValueError(f"This Seq2Seq model has not been trained yet, so it cannot {what}. Call "
                             "fit(x_seqs, y_seqs) first, or load a saved model with gated.load_model(path).")

    # ---------------------------------------------------------------------------------------- encoder
    def encode(self, source: torch.Tensor, training: bool = False) -> tuple[_Memory, list[list[torch.Tensor]]]:
        """Source ids (B, S) (or values (B, S, F)) -> the memory and each decoder layer's initial states."""
        x = self.source_embedding(source) if isinstance(self.source_spec, Vocabulary) else source
        mask = getattr(x, "_keras_mask", None)
        x = self.drop(x, training=training)
        final_states = []
        for i, encoder in enumerate(self.encoders):
            outputs, *states = encoder(x, mask=mask, training=training)
            if self.bidirectional_encoder:
                half = len(states) // 2
                states = [bridge(torch.cat([f, b], dim=-1)) for bridge, f, b in
                          zip(self.bridges[i * half:(i + 1) * half], states[:half], states[half:])]
            final_states.append(list(states))
            x = outputs if i == len(self.encoders) - 1 else self.drop(outputs, training=training)
        keys = None if self.attention is None else self.attention_keys(x)
        return _Memory(x, keys, mask), final_states

    # ---------------------------------------------------------------------------------------- decoder
    def _embed_target(self, target_in: torch.Tensor, training: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        if isinstance(self.target_spec, Vocabulary):
            x = self.target_embedding(target_in)
            mask = x._keras_mask
        else:
            x, mask = target_in, None
        return self.drop(x, training=training), mask

    def _run_decoders(self, x: torch.Tensor, mask: torch.Tensor | None, states: list[list[torch.Tensor]],
                      training: bool) -> tuple[torch.Tensor, list[list[torch.Tensor]]]:
        new_states = []
        for i, decoder in enumerate(self.decoders):
            outputs, *layer_states = decoder(x, initial_state=states[i], mask=mask, training=training)
            new_states.append(layer_states)
            x = outputs if i == len(self.decoders) - 1 else self.drop(outputs, training=training)
        return x, new_states

    def _attend(self, query: torch.Tensor, memory: _Memory) -> tuple[torch.Tensor, torch.Tensor]:
        mask = None if memory.mask is None else [None, memory.mask]
        return self.attention_layer([query, memory.outputs, memory.keys], mask=mask, return_attention_scores=True)

    def _readout(self, decoded: torch.Tensor, context: torch.Tensor | None, training: bool) -> torch.Tensor:
        if context is not None:
            decoded = self.attention_combine(torch.cat([context, decoded], dim=-1))
        return self.readout_layer(self.drop(decoded, training=training))

    def decode(self, target_in: torch.Tensor, states: list[list[torch.Tensor]], memory: _Memory,
               training: bool = False) -> tuple[torch.Tensor, list[list[torch.Tensor]], torch.Tensor | None]:
        """Teacher-forced decoding of ``target_in`` (B, T) from ``states``: logits (B, T, V) (values for real
        targets), the states after the last step, and the attention weights (B, T, S) (None without attention)."""
        x, mask = self._embed_target(target_in, training)
        if self.attention == "bahdanau":
            return self._decode_bahdanau(x, mask, states, memory, training)
        decoded, states = self._run_decoders(x, mask, states, training)
        context = weights = None
        if self.attention == "luong":
            context, weights = self._attend(decoded, memory)
        return self._readout(decoded, context, training), states, weights

    def _decode_bahdanau(self, x, mask, states, memory, training):
        logits, weights = [], []
        for t in range(x.shape[1]):
            query = self.attention_query(states[-1][0][:, None, :])  # the top layer's h before this step
            context, w = self._attend(query, memory)  # (B, 1, D), (B, 1, S)
            step_in = torch.cat([x[:, t:t + 1], context], dim=-1)
            decoded, states = self._run_decoders(step_in, None if mask is None else mask[:, t:t + 1], states,
                                                 training)
            logits.append(self._readout(decoded, context, training))
            weights.append(w)
        return torch.cat(logits, dim=1), states, torch.cat(weights, dim=1)

    def call(self, inputs: Any, training: bool | None = None) -> torch.Tensor:
        """``[source, target_in]`` -> logits (B, T, V) for the teacher-forced target, masked where target_in is
        padding (values (B, T, F) for real-valued targets)."""
        source, target_in = inputs
        training = bool(training)
        memory, states = self.encode(source, training)
        logits, _, _ = self.decode(target_in, states, memory, training)
        if isinstance(self.target_spec, Vocabulary):
            logits._keras_mask = target_in != PAD
        return logits

    def step(self, tokens: torch.Tensor, states: list[list[torch.Tensor]], memory: _Memory):
        """One decoding step for search: previous tokens (N,) -> (log-probabilities (N, V), states, attention)."""
        logits, states, weights = self.decode(tokens[:, None], states, memory, training=False)
        attention = None if weights is None else weights[:, 0]
        return torch.log_softmax(logits[:, 0].float(), dim=-1), states, attention

    # ============================================================================================ data
    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _encode_side(self, sequences: Any, spec: Vocabulary | RealSpec, what: str, target: bool):
        kind = sequence_kind(sequences, what)
        expected = REAL if isinstance(spec, RealSpec) else spec.kind
        if kind != expected:
            raise TypeError(f"{what} holds {kind} sequences, but this model was trained on {expected} sequences.")
        if isinstance(spec, RealSpec):
            return as_real_array(sequences, what, spec.features)[0]
        rows = [spec.encode(s) for s in sequences]
        if target:
            rows = [row + [END] for row in rows]
        return rows

    def _learn_specs(self, x: Any, y: Any) -> None:
        specs = []
        for sequences, what in ((x, "x"), (y, "y")):
            kind = sequence_kind(sequences, what)
            if kind == REAL:
                array, squeeze = as_real_array(sequences, what)
                specs.append(RealSpec(array.shape[-1], squeeze))
            else:
                specs.append(Vocabulary.from_sequences(sequences, kind))
        self._build_network(*specs)

    def _dataset(self, x: Any, y: Any, what: str):
        """Encoded (source, target) pairs, checked against the model's vocabularies and shapes."""
        count_x, count_y = len(x), len(y)
        if count_x != count_y:
            raise ValueError(f"{what}: x has {count_x} sequences but y has {count_y}; pass one target sequence per "
                             "source sequence, in the same order.")
        source = self._encode_side(x, self.source_spec, f"{what} x", target=False)
        target = self._encode_side(y, self.target_spec, f"{what} y", target=True)
        return _PairDataset(source, target, self.is_real)

    def _loader(self, dataset: "_PairDataset", batch_size: int, shuffle: bool):
        from torch.utils.data import DataLoader

        sampler = _LengthBuckets(dataset.lengths(), batch_size, shuffle)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=dataset.collate)

    # ============================================================================================ training
    def compile(self, optimizer: Any = None, loss: Any = None, metrics: Any = None, **kwargs: Any) -> None:
        """As ``Model.compile``; the defaults are Adam(learning_rate, clipnorm=1), a masked cross-entropy on the
        logits with token accuracy (the mean squared error and MAE for real-valued targets)."""
        self._require_built("be compiled")
        if optimizer is None:
            optimizer = _optimizers.Adam(self.learning_rate, clipnorm=1.0)
        if loss is None:
            loss = "mse" if self.is_real else _losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics is None:
            metrics = ["mae"] if self.is_real else ["accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def fit(self, x: Any = None, y: Any = None, batch_size: int = 64, epochs: int = 1, verbose: Any = "auto",
            callbacks: Sequence[Any] | None = None, validation_split: float = 0.0, validation_data: Any = None,
            shuffle: bool = True, initial_epoch: int = 0, **kwargs: Any):
        """Train on ``x`` -> ``y`` sequence pairs; returns a ``History``. Batches group sequences of similar
        length (less padding). ``validation_split`` takes the last fraction of the pairs, as Keras does;
        ``validation_data=(x_val, y_val)`` gives separate pairs. The vocabularies come from the first call's
        ``x`` and ``y``; later calls continue training."""
        if x is None or y is None:
            raise ValueError("Seq2Seq.fit needs x (source sequences) and y (target sequences).")
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(f"Seq2Seq.fit got unexpected argument(s) {unknown}; it takes x, y, batch_size, epochs, "
                            "verbose, callbacks, validation_split, validation_data, shuffle, initial_epoch.")
        if not 0.0 <= float(validation_split) < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), received {validation_split!r}.")
        batch_size = _positive("batch_size", batch_size)
        if self.target_spec is None:
            self._learn_specs(x, y)
        dataset = self._dataset(x, y, "fit")
        if self.compiled is None:
            self.compile()
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val) of sequence lists.")
            validation = self._dataset(*validation_data, "validation_data")
        elif validation_split:
            dataset, validation = dataset.split(validation_split)
        self.max_target_length = max(self.max_target_length, dataset.max_target_length())
        train = self._loader(dataset, batch_size, shuffle)
        val = None if validation is None else self._loader(validation, batch_size, shuffle=False)
        return super().fit(train, epochs=epochs, verbose=verbose, callbacks=callbacks, validation_data=val,
                           initial_epoch=initial_epoch)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int = 64, verbose: Any = "auto",
                 return_dict: bool = False, **kwargs: Any):
        """Teacher-forced loss and metrics on ``x`` -> ``y`` pairs, as ``Model.evaluate`` (token accuracy by
        default; for sequence-level scores use ``predict`` with ``word_error_rate`` / ``token_error_rate``)."""
        self._require_built("evaluate")
        if self.compiled is None:
            self.compile()
        loader = self._loader(self._dataset(x, y, "evaluate"), _positive("batch_size", batch_size), shuffle=False)
        return super().evaluate(loader, verbose=verbose, return_dict=return_dict, **kwargs)

    # ============================================================================================ prediction
    def predict(self, x: Any, beam_width: int = 1, max_length: int | None = None, batch_size: int = 128,
                length_penalty: float = 1.0, return_attention: bool = False):
        """Decode every source sequence: greedy with ``beam_width=1``, else beam search ranked by
        ``log p / length ** length_penalty``. ``max_length``: most output tokens (default: 1.5 x the longest
        training target, + 5); for real-valued targets, the number of steps to forecast (default: the training
        targets' length). Returns a list of sequences of the targets' kind (a float array for real-valued
        targets); with ``return_attention`` also a list of attention-weight arrays (output steps x source steps,
        the end marker's step included) for plotting."""
        self._require_built("predict")
        beam_width = _positive("beam_width", beam_width)
        batch_size = _positive("batch_size", batch_size)
        if self.is_real:
            return self._forecast(x, max_length, batch_size, beam_width)
        if max_length is None:
            max_length = int(math.ceil(self.max_target_length * 1.5)) + 5
        max_length = _positive("max_length", max_length)
        if return_attention and self.attention is None:
            raise ValueError("return_attention=True needs a model with attention ('luong' or 'bahdanau').")
        if isinstance(x, (str, bytes)):
            raise TypeError("predict takes a list of source sequences; wrap a single one in a list: predict([x]).")
        sources = self._encode_side(x, self.source_spec, "predict x", target=False)
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))  # similar lengths share a batch
        results: list[Any] = [None] * len(sources)
        device = self._device()
        with training_mode(self, False), torch.no_grad():
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                source = torch.as_tensor(pad_ids([sources[i] for i in chunk]), device=device)
                memory, states = self.encode(source)
                if beam_width == 1:
                    found = _search.greedy_search(self.step, states, memory, len(chunk), max_length, device,
                                                  keep_attention=return_attention)
                else:
                    found = _search.beam_search(self.step, states, memory, len(chunk), beam_width, max_length,
                                                device, length_penalty, keep_attention=return_attention)
                for i, hypothesis in zip(chunk, found):
                    results[i] = hypothesis
        predictions = [self.target_spec.decode(h.tokens) for h in results]
        if not return_attention:
            return predictions
        attention = [h.attention[:, :len(sources[i])].cpu().numpy() for i, h in enumerate(results)]
        return predictions, attention

    def _forecast(self, x: Any, steps: int | None, batch_size: int, beam_width: int) -> np.ndarray:
        if beam_width != 1:
            raise ValueError("Beam search ranks token sequences; real-valued targets are forecast directly. Leave "
                             "beam_width=1.")
        steps = _positive("max_length", steps if steps is not None else self.max_target_length)
        source = self._encode_side(x, self.source_spec, "predict x", target=False)
        device = self._device()
        out = []
        with training_mode(self, False), torch.no_grad():
            for start in range(0, len(source), batch_size):
                chunk = torch.as_tensor(source[start:start + batch_size], device=device)
                memory, states = self.encode(chunk)
                value = torch.zeros((len(chunk), 1, self.target_spec.features), device=device)
                values = []
                for _ in range(steps):
                    value, states, _ = self.decode(value, states, memory)
                    values.append(value)
                out.append(torch.cat(values, dim=1).cpu().numpy())
        result = np.concatenate(out)
        return result[..., 0] if self.target_spec.squeeze else result

    # ============================================================================================ saving
    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name, "units": self.units, "cell": self.cell, "layers": self.num_layers,
            "bidirectional_encoder": self.bidirectional_encoder, "attention": self.attention,
            "embedding_dim": self.embedding_dim, "dropout": self.dropout, "encoder_cell": self.encoder_cell,
            "learning_rate": self.learning_rate, "max_target_length": self.max_target_length,
            "source": None if self.source_spec is None else self.source_spec.get_config(),
            "target": None if self.target_spec is None else self.target_spec.get_config(),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> "Seq2Seq":
        config = dict(config)
        source, target = config.pop("source"), config.pop("target")
        max_target_length = config.pop("max_target_length", 0)
        model = cls(**config)
        if source is not None and target is not None:
            model._build_network(_spec_from_config(source), _spec_from_config(target))
        model.max_target_length = int(max_target_length)
        return model

    @classmethod
    def load(cls, filepath: str | os.PathLike) -> "Seq2Seq":
        """A model written by ``save``, with its vocabularies (the same as ``gated.load_model``)."""
        model = load_model(filepath)
        if not isinstance(model, cls):
            raise ValueError(f"{os.fspath(filepath)} holds a {type(model).__name__}, not a {cls.__name__}; load it "
                             "with gated.load_model(path).")
        return model


def _spec_from_config(config: dict[str, Any]) -> Vocabulary | RealSpec:
    if config["kind"] == REAL:
        return RealSpec(int(config["features"]), bool(config["squeeze"]))
    if config["kind"] not in (CHARS, TOKENS, INTEGERS):
        raise ValueError(f"Unknown sequence kind {config['kind']!r} in a saved Seq2Seq model.")
    return Vocabulary.from_config(config)


# ================================================================================================ batching
class _PairDataset(torch.utils.data.Dataset):
    """(source, target) pairs: id lists (target ending with END) or real-valued arrays; padded per batch."""

    def __init__(self, source: Any, target: Any, real: bool):
        self.source, self.target, self.real = source, target, real

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int):
        return self.source[i], self.target[i]

    def lengths(self) -> list[int]:
        return [len(s) for s in self.source]

    def max_target_length(self) -> int:
        if self.real:
            return int(self.target.shape[1])
        return max(len(t) - 1 for t in self.target)  # without END

    def split(self, fraction: float) -> tuple["_PairDataset", "_PairDataset"]:
        """Keras's validation_split: the last ``fraction`` of the pairs (before shuffling)."""
        n = len(self)
        cut = int(math.floor(n * (1.0 - fraction)))
        if cut == 0 or cut == n:
            raise ValueError(f"validation_split={fraction} of {n} pairs leaves {'no training' if cut == 0 else 'no'} "
                             "validation pairs; use a split that leaves at least one on each side.")
        return (_PairDataset(self.source[:cut], self.target[:cut], self.real),
                _PairDataset(self.source[cut:], self.target[cut:], self.real))

    def collate(self, items: list) -> tuple[list[torch.Tensor], torch.Tensor]:
        sources, targets = zip(*items)
        if self.real:
            source = torch.as_tensor(np.stack(sources))
            target = torch.as_tensor(np.stack(targets))
            start = torch.zeros_like(target[:, :1])
            return [source, torch.cat([start, target[:, :-1]], dim=1)], target
        source = torch.as_tensor(pad_ids(sources))
        target_out = torch.as_tensor(pad_ids(targets))
        target_in = torch.cat([torch.full((len(targets), 1), START, dtype=torch.long), target_out[:, :-1]], dim=1)
        target_in = target_in.masked_fill(target_out == PAD, PAD)  # END's slot is padding on the input side
        return [source, target_in], target_out


class _LengthBuckets(torch.utils.data.Sampler):
    """Batches of indices of similar source length, in a random order each epoch (torch's global generator, so
    ``set_random_seed`` makes it repeatable). Without shuffling: by length, shortest first."""

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool):
        self.lengths = torch.as_tensor(list(lengths))
        self.batch_size, self.shuffle = batch_size, shuffle

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        n = len(self.lengths)
        if not self.shuffle:
            order = torch.argsort(self.lengths, stable=True)
            yield from (order[i:i + self.batch_size].tolist() for i in range(0, n, self.batch_size))
            return
        order = torch.randperm(n)
        pool = self.batch_size * 50  # sort within pools of 50 batches: similar lengths, still random batches
        batches = []
        for start in range(0, n, pool):
            chunk = order[start:start + pool]
            chunk = chunk[torch.argsort(self.lengths[chunk], stable=True)]
            batches.extend(chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        for i in torch.randperm(len(batches)).tolist():
            yield batches[i].tolist()
