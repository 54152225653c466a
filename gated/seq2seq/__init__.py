"""Sequence to sequence: ``Seq2Seq`` (GRU/LSTM encoder-decoder with optional Luong or Bahdanau attention, greedy
and beam-search decoding), its vocabularies, and sequence error rates."""

from ._metrics import token_error_rate, word_error_rate
from ._model import Seq2Seq
from ._search import beam_search, greedy_search
from ._vocab import END, PAD, START, UNKNOWN, Vocabulary

__all__ = ["Seq2Seq", "Vocabulary", "word_error_rate", "token_error_rate", "greedy_search", "beam_search",
           "PAD", "START", "END", "UNKNOWN"]
