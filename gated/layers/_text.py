"""Text preprocessing without TensorFlow: ``StringLookup``, ``IntegerLookup`` and ``TextVectorization``.

Keras's arguments, defaults, config keys and outputs, computed in Python and numpy on the host; the outputs are torch
tensors on the layer's device (int64 ids for ``output_mode="int"``, floats in the layer's dtype otherwise), so an
``Embedding`` or ``Dense`` can follow. Inputs are numpy arrays of ``str`` / ``bytes`` / objects or Python lists of
strings (integers for ``IntegerLookup`` and inverted lookups), shape (B,) or (B, 1) as Keras accepts them.

Vocabulary order is Keras's: by count, high to low, ties broken by the token's sort order, high to low (strings
compare as their UTF-8 bytes, as TensorFlow's do). Index layout: ``[mask token (output_mode="int" only)] +
[OOV token] * num_oov_indices + tokens``. With ``num_oov_indices > 1`` an unknown string goes to bucket
``FarmHash64(utf-8 bytes) % num_oov_indices`` (TensorFlow's ``to_hash_bucket_fast``), an unknown integer to
``value % num_oov_indices`` (``oov_method="floormod"``) or the FarmHash64 of its decimal digits (``"farmhash"``).
IDF weights (``output_mode="tf_idf"``) are ``log(1 + documents / (1 + documents holding the token))``, the OOV
slots getting the mean weight.

The vocabulary (and the idf weights) live in ``get_config``, so a saved model file brings them back. Shape legend:
B batch, T tokens per sample, V vocabulary size (the output depth).
"""

from __future__ import annotations

import collections
import os
import re
import string
from typing import Any, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..saving import _registry
from ._base import Layer, describe_array

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_MODE_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
# Keras's punctuation class for "strip_punctuation" (ASCII punctuation only).
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
# TensorFlow's tf.strings.lower (no encoding given) and tf.strings.split (no separator) act on ASCII only.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_DROPPED = -1  # the id of a mask token outside "int" mode: counted nowhere


# ---------------------------------------------------------------------------------------------------- FarmHash64
_M64 = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def _rotate(v: int, shift: int) -> int:
    return ((v >> shift) | (v << (64 - shift))) & _M64 if shift else v


def _u64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 8], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def _mix16(u: int, v: int, mul: int) -> int:
    a = _shift_mix(((u ^ v) * mul) & _M64)
    b = _shift_mix(((v ^ a) * mul) & _M64)
    return (b * mul) & _M64


def _weak32(w: int, x: int, y: int, z: int, a: int, b: int) -> tuple[int, int]:
    a = (a + w) & _M64
    b = _rotate((b + a + z) & _M64, 21)
    c = a
    a = (a + x + y) & _M64
    b = (b + _rotate(a, 44)) & _M64
    return (a + z) & _M64, (b + c) & _M64


def _weak32_at(s: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    return _weak32(_u64(s, at), _u64(s, at + 8), _u64(s, at + 16), _u64(s, at + 24), a, b)


def farmhash64(s: bytes) -> int:
    """FarmHash's 64-bit fingerprint (``farmhashna::Hash64``), which TensorFlow's string hash buckets use."""
    n = len(s)
    mul = (_K2 + 2 * n) & _M64
    if n <= 16:
        if n >= 8:
            a = (_u64(s, 0) + _K2) & _M64
            b = _u64(s, n - 8)
            c = (_rotate(b, 37) * mul + a) & _M64
            d = ((_rotate(a, 25) + b) * mul) & _M64
            return _mix16(c, d, mul)
        if n >= 4:
            return _mix16(n + (_u32(s, 0) << 3), _u32(s, n - 4), mul)
        if n > 0:
            y = s[0] + (s[n >> 1] << 8)
            z = n + (s[n - 1] << 2)
            return (_shift_mix(((y * _K2) & _M64) ^ ((z * _K0) & _M64)) * _K2) & _M64
        return _K2
    if n <= 32:
        a = (_u64(s, 0) * _K1) & _M64
        b = _u64(s, 8)
        c = (_u64(s, n - 8) * mul) & _M64
        d = (_u64(s, n - 16) * _K2) & _M64
        return _mix16((_rotate((a + b) & _M64, 43) + _rotate(c, 30) + d) & _M64,
                      (a + _rotate((b + _K2) & _M64, 18) + c) & _M64, mul)
    if n <= 64:
        a = (_u64(s, 0) * _K2) & _M64
        b = _u64(s, 8)
        c = (_u64(s, n - 8) * mul) & _M64
        d = (_u64(s, n - 16) * _K2) & _M64
        y = (_rotate((a + b) & _M64, 43) + _rotate(c, 30) + d) & _M64
        z = _mix16(y, (a + _rotate((b + _K2) & _M64, 18) + c) & _M64, mul)
        e = (_u64(s, 16) * mul) & _M64
        f = _u64(s, 24)
        g = ((y + _u64(s, n - 32)) * mul) & _M64
        h = ((z + _u64(s, n - 24)) * mul) & _M64
        return _mix16((_rotate((e + f) & _M64, 43) + _rotate(g, 30) + h) & _M64,
                      (e + _rotate((f + a) & _M64, 18) + g) & _M64, mul)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M64
    z = (_shift_mix((y * _K2 + 113) & _M64) * _K2) & _M64
    v, w = (0, 0), (0, 0)
    x = (x * _K2 + _u64(s, 0)) & _M64
    last64 = n - 64
    for at in range(0, ((n - 1) // 64) * 64, 64):
        x = (_rotate((x + y + v[0] + _u64(s, at + 8)) & _M64, 37) * _K1) & _M64
        y = (_rotate((y + v[1] + _u64(s, at + 48)) & _M64, 42) * _K1) & _M64
        x ^= w[1]
        y = (y + v[0] + _u64(s, at + 40)) & _M64
        z = (_rotate((z + w[0]) & _M64, 33) * _K1) & _M64
        v = _weak32_at(s, at, (v[1] * _K1) & _M64, (x + w[0]) & _M64)
        w = _weak32_at(s, at + 32, (z + w[1]) & _M64, (y + _u64(s, at + 16)) & _M64)
        z, x = x, z
    mul = (_K1 + ((z & 0xFF) << 1)) & _M64
    w0 = (w[0] + ((n - 1) & 63)) & _M64
    v = ((v[0] + w0) & _M64, v[1])
    w = ((w0 + v[0]) & _M64, w[1])
    x = (_rotate((x + y + v[0] + _u64(s, last64 + 8)) & _M64, 37) * mul) & _M64
    y = (_rotate((y + v[1] + _u64(s, last64 + 48)) & _M64, 42) * mul) & _M64
    x ^= (w[1] * 9) & _M64
    y = (y + v[0] * 9 + _u64(s, last64 + 40)) & _M64
    z = (_rotate((z + w[0]) & _M64, 33) * mul) & _M64
    v = _weak32_at(s, last64, (v[1] * mul) & _M64, (x + w[0]) & _M64)
    w = _weak32_at(s, last64 + 32, (z + w[1]) & _M64, (y + _u64(s, last64 + 16)) & _M64)
    z, x = x, z
    return _mix16((_mix16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _M64,
                  (_mix16(v[1], w[1], mul) + x) & _M64, mul)


# ---------------------------------------------------------------------------------------------------- inputs
def _float_dtype(dtype: Any) -> Any:
    """Keras configs give these layers dtype 'string' or 'int64' (the vocabulary's); outputs use a float dtype."""
    name = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
    return None if name in ("string", "int64", "int32") else name


def _received(x: Any) -> str:
    if isinstance(x, (np.ndarray, torch.Tensor)):
        return f"{describe_array(x)} of dtype {x.dtype}"
    return f"a {type(x).__name__}"


def _as_string_array(layer: Layer, x: Any, encoding: str) -> np.ndarray:
    """``x`` as an object array of ``str`` of the same shape (bytes decoded with ``encoding``)."""
    if isinstance(x, torch.Tensor):
        raise TypeError(f"{layer._describe()} expects strings, but received {_received(x)}. torch tensors hold no "
                        "strings: pass a numpy array or a list of str.")
    try:
        array = np.asarray(x, dtype=object if isinstance(x, (str, bytes)) else None)
    except ValueError:
        raise ValueError(f"{layer._describe()} received a ragged nested list of strings; a batch needs one shape. "
                         "Pass one string per sample, shape (batch,) or (batch, 1).") from None
    if array.dtype.kind == "U" or array.size == 0:  # an empty list comes out as float64
        return array.astype(object)
    if array.dtype.kind == "S":
        return np.char.decode(array, encoding).astype(object)
    if array.dtype.kind == "O":
        out = np.empty(array.shape, dtype=object)
        flat = out.reshape(-1)
        for i, value in enumerate(array.reshape(-1).tolist()):
            if isinstance(value, bytes):
                value = value.decode(encoding)
            elif not isinstance(value, str):
                raise TypeError(f"{layer._describe()} expects strings, but element {i} (flat order) of the input is "
                                f"a {type(value).__name__} ({value!r}). Convert every element to str.")
            flat[i] = value
        return out
    raise TypeError(f"{layer._describe()} expects strings, but received {_received(array)}. "
                    + ("For integer tokens use IntegerLookup." if array.dtype.kind in "iuf" else "Pass str or bytes."))


def _as_integer_array(layer: Layer, x: Any, what: str = "integers") -> np.ndarray:
    """``x`` as an int64 array; floats are accepted when every value is a whole number."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        array = np.asarray(x)
    except ValueError:
        raise ValueError(f"{layer._describe()} received a ragged nested list; a batch needs one shape.") from None
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        return array.astype(np.int64)
    if array.dtype.kind == "O":
        values = array.reshape(-1).tolist()
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            return np.asarray(values, dtype=np.int64).reshape(array.shape)
    raise TypeError(f"{layer._describe()} expects {what}, but received {_received(array)}. "
                    + ("For strings use StringLookup or TextVectorization." if array.dtype.kind in "USO" else
                       "Pass whole numbers."))


def _batches(data: Any, steps: int | None, layer: Layer) -> Iterator[tuple[Any, bool]]:
    """``(batch, whole)``: in-memory data once (whole=True), or each batch of an iterable (a generator, a
    DataLoader, a tf.data-like dataset), the first ``steps`` of them."""
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0):
        raise ValueError(f"{layer._describe()}: adapt() takes steps=None or a positive integer, received {steps!r}.")
    if isinstance(data, (list, tuple, np.ndarray, torch.Tensor, str, bytes)):
        if steps is not None:
            raise ValueError(f"{layer._describe()}: adapt(steps={steps}) counts batches of an iterable dataset; "
                             "with in-memory data every sample is used. Drop steps, or slice the data.")
        yield data, True
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(f"{layer._describe()}: adapt() takes an array, a list, or an iterable of batches; "
                        f"received a {type(data).__name__}.")
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            return
        yield batch, False


def _serializable(fn: Any) -> Any:
    """A registered function in its serialized form (saved by name); a built-in option or None as it is."""
    if callable(fn) and _registry.loads_by_name(fn):
        return _registry.serialize(fn)
    return fn


def _restored(value: Any) -> Any:
    return _registry.deserialize(value) if _registry.is_serialized(value) else value


# ---------------------------------------------------------------------------------------------------- lookups
class _IndexLookup(Layer):
    """The vocabulary table shared by StringLookup and IntegerLookup (Keras's IndexLookup)."""

    _described_as: str | None = None  # the owner's description, when the lookup is part of TextVectorization

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any, oov_token: Any,
                 vocabulary: Any, idf_weights: Any, invert: bool, output_mode: str, pad_to_max_tokens: bool,
                 sparse: bool, oov_method: str, salt: Any, vocabulary_size: int | None,
                 has_input_vocabulary: bool | None, dtype: Any, **kwargs: Any):
        super().__init__(dtype=_float_dtype(dtype), **kwargs)
        cls = type(self).__name__
        output_mode = _MODE_ALIASES.get(output_mode, output_mode)
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
                                       or max_tokens <= 1):
            raise ValueError(f"{cls}: `max_tokens` must be None or an integer greater than 1 (it counts the mask "
                             f"and OOV tokens too), received max_tokens={max_tokens!r}.")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{cls}: pad_to_max_tokens=True pads the output to max_tokens, so it needs "
                             "max_tokens; received max_tokens=None.")
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, int) or num_oov_indices < 0:
            raise ValueError(f"{cls}: `num_oov_indices` must be an integer >= 0, received {num_oov_indices!r}.")
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"{cls}: `output_mode` must be one of {_OUTPUT_MODES}, received {output_mode!r}.")
        if invert and output_mode != "int":
            raise ValueError(f"{cls}: invert=True maps indices back to tokens, so output_mode must be 'int'; "
                             f"received output_mode={output_mode!r}.")
        if sparse:
            raise ValueError(f"{cls}: sparse=True is not supported (Keras supports it on TensorFlow only); "
                             "the outputs are dense tensors. Pass sparse=False.")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{cls}: `oov_method` must be 'floormod' or 'farmhash', received {oov_method!r}.")
        if salt is not None:
            raise ValueError(f"{cls}: salt={salt!r} (SipHash64 OOV buckets) is not supported; leave salt=None for "
                             "FarmHash64 buckets, Keras's default.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{cls}: `idf_weights` is only used with output_mode='tf_idf'; received "
                             f"output_mode={output_mode!r}.")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{cls}: with a `vocabulary` and output_mode='tf_idf', pass `idf_weights` too (one "
                             "per vocabulary term), or adapt() the layer to compute them.")
        if idf_weights is not None and vocabulary is None:
            raise ValueError(f"{cls}: `idf_weights` weigh the terms of a `vocabulary`; pass both, or adapt().")
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = None if mask_token is None else self._token(mask_token, "mask_token")
        self.oov_token = None if oov_token is None else self._token(oov_token, "oov_token")
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.sparse = False
        self.oov_method = oov_method
        self.salt = None
        self.register_buffer("_device_anchor", torch.empty(0), persistent=False)  # follows .to(device)
        self._tokens: list[Any] = []
        self._index: dict[Any, int] = {}
        self._idf: np.ndarray | None = None  # (V,) float32, OOV slots first
        self._frozen_vocab_size = vocabulary_size
        self._has_input_vocabulary = (vocabulary is not None if has_input_vocabulary is None
                                      else bool(has_input_vocabulary))
        self.reset_state()
        self.built = True
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------------ per-class token handling
    def _token(self, value: Any, what: str) -> Any:
        raise NotImplementedError

    def _tokens_of(self, x: Any) -> np.ndarray:
        raise NotImplementedError

    def _sort_key(self, token: Any) -> Any:
        return token

    def _bucket(self, token: Any) -> int:
        raise NotImplementedError

    # ------------------------------------------------------------------ index layout
    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self) -> int:
        return self._oov_start() + self.num_oov_indices

    def _special_tokens(self) -> list[Any]:
        return [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices, the mask and OOV indices included."""
        return self._token_start() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """The vocabulary in index order; with ``include_special_tokens`` a term's position is its index."""
        return (self._special_tokens() if include_special_tokens else []) + list(self._tokens)

    def _depth(self) -> int | None:
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def _check_size(self, size: int) -> None:
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is not None and size != self._frozen_vocab_size:
            raise RuntimeError(
                f"{self._describe()}: with output_mode={self.output_mode!r} and pad_to_max_tokens=False the "
                f"vocabulary size sets the output width, so it cannot change once set: it is "
                f"{self._frozen_vocab_size}, the new vocabulary has {size}. Use a new layer, or pad_to_max_tokens=True."
            )

    # ------------------------------------------------------------------ setting the vocabulary
    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Replace the vocabulary (a list, a 1-D array, or a text file with one term per line) and, for
        ``output_mode='tf_idf'``, the idf weights (one per term given). Nothing changes when it raises."""
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{self._describe()}: `idf_weights` must be set when output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{self._describe()}: `idf_weights` is only used with output_mode='tf_idf', "
                             f"received output_mode={self.output_mode!r}.")
        if isinstance(vocabulary, (str, os.PathLike)):
            if self.output_mode == "tf_idf":
                raise ValueError(f"{self._describe()}: output_mode 'tf_idf' does not support loading a vocabulary "
                                 "from a file; pass the terms as a list with their idf_weights.")
            terms, found_special = self._read_file(os.fspath(vocabulary)), False
            tokens = terms
        else:
            if isinstance(vocabulary, torch.Tensor):
                vocabulary = vocabulary.detach().cpu().numpy()
            raw = vocabulary.tolist() if isinstance(vocabulary, np.ndarray) else list(vocabulary)
            if not raw:
                raise ValueError(f"{self._describe()}: cannot set an empty vocabulary.")
            terms = [self._token(v, "vocabulary term") for v in raw]
            start = self._token_start()
            found_special = terms[:start] == self._special_tokens()
            tokens = terms[start:] if found_special else terms
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"{self._describe()}: the vocabulary repeats the terms {repeated[:10]}; every term "
                             "must appear once.")
        specials = f"{self._special_tokens()}"
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(f"{self._describe()}: the mask token {self.mask_token!r} is at position "
                             f"{tokens.index(self.mask_token)} of the terms; it is reserved. Remove it, or give the "
                             f"special tokens only at the start, in this order: {specials}.")
        if self.invert and self.oov_token is not None and self.oov_token in tokens:
            raise ValueError(f"{self._describe()}: the OOV token {self.oov_token!r} is among the terms; it is "
                             f"reserved. Remove it, or give the special tokens only at the start: {specials}.")
        size = self._token_start() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{self._describe()}: the vocabulary has {size} indices (special tokens included), "
                             f"more than max_tokens={self.max_tokens}. Raise max_tokens or pass fewer terms.")
        self._check_size(size)
        idf = None
        if idf_weights is not None:
            weights = np.asarray(idf_weights.detach().cpu() if isinstance(idf_weights, torch.Tensor) else idf_weights,
                                 dtype=np.float64)
            if weights.ndim != 1 or len(weights) != len(terms):
                raise ValueError(f"{self._describe()}: `idf_weights` must be 1-D with one weight per vocabulary "
                                 f"term ({len(terms)}), received shape {weights.shape}.")
            front = 0 if found_special else self._token_start()
            idf = self._padded_idf(weights, front, float(np.mean(weights)))
        self._set_tokens(tokens)
        self._idf = idf

    def _padded_idf(self, weights: np.ndarray, front: int, front_value: float) -> np.ndarray:
        back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens else 0
        return np.pad(weights, (front, max(0, back)), constant_values=(front_value, 0.0)).astype(np.float32)

    def _read_file(self, path: str) -> list[Any]:
        if not os.path.isfile(path):
            raise ValueError(f"{self._describe()}: vocabulary file {path} does not exist.")
        with open(path, encoding=getattr(self, "encoding", "utf-8")) as handle:
            lines = handle.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        return [self._token(line, f"line {i + 1} of {path}") for i, line in enumerate(lines)]

    def _set_tokens(self, tokens: list[Any]) -> None:
        start = self._token_start()
        self._tokens = list(tokens)
        self._index = {t: start + i for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    # ------------------------------------------------------------------ adapt
    def reset_state(self) -> None:
        """Forget the counts gathered by ``update_state`` (the vocabulary stays)."""
        self._counts: collections.Counter = collections.Counter()
        self._document_counts: collections.Counter = collections.Counter()
        self._num_documents = 0

    def _check_adaptable(self) -> None:
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt {self._describe()}: it was given a `vocabulary`. Create the layer "
                             "without one to learn it from data, or call set_vocabulary().")

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the vocabulary from ``data``: an array or list (each row a document), or an iterable of batches
        (the first ``steps`` of them). Ordered by count, ties by the token's order, both high to low; capped at
        ``max_tokens``. With output_mode='tf_idf' it learns the idf weights too."""
        self._check_adaptable()
        self.reset_state()
        for batch, whole in _batches(data, steps, self):
            tokens = self._tokens_of(batch)
            self.update_state(tokens[:, None] if whole and tokens.ndim == 1 else tokens)
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        """Count the tokens of one batch: a 1-D batch is one document, a 2-D batch one document per row."""
        self._check_adaptable()
        tokens = self._tokens_of(data)
        if tokens.ndim == 0:
            tokens = tokens[None]
        if tokens.ndim == 1:
            tokens = tokens[None]
        if self.output_mode == "tf_idf" and tokens.ndim > 2:
            raise ValueError(f"{self._describe()}: with output_mode='tf_idf' each row of a batch is one document, "
                             f"so a batch must be 1-D or 2-D; received {describe_array(tokens)}.")
        self._count([row.reshape(-1).tolist() for row in tokens])

    def _count(self, documents: list[list[Any]]) -> None:
        for document in documents:
            self._counts.update(document)
            if self.output_mode == "tf_idf":
                self._document_counts.update(set(document))
        self._num_documents += len(documents)

    def finalize_state(self) -> None:
        """Turn the counts into the vocabulary (and idf weights), then forget the counts."""
        if self._has_input_vocabulary or not self._counts:
            return
        counts = self._counts
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        ordered = sorted(counts, key=lambda t: (counts[t], self._sort_key(t)), reverse=True)
        if self.max_tokens:
            ordered = ordered[:max(0, self.max_tokens - self._token_start())]
        self._check_size(self._token_start() + len(ordered))
        idf = None
        if self.output_mode == "tf_idf":
            frequency = np.asarray([self._document_counts[t] for t in ordered], dtype=np.float64)
            weights = np.log(1.0 + self._num_documents / (1.0 + frequency)).astype(np.float32)
            mean = float(weights.mean(dtype=np.float32)) if len(weights) else 0.0
            idf = self._padded_idf(weights.astype(np.float64), self._token_start(), mean)
        self._set_tokens(ordered)
        self._idf = idf
        self.reset_state()

    # ------------------------------------------------------------------ calling
    def _convert_inputs(self, x: Any) -> Any:
        return x  # strings and ids are read in forward: gated's numeric conversion would refuse strings

    def _ids(self, tokens: np.ndarray) -> np.ndarray:
        """Index of every token (same shape); mask tokens get 0 in "int" mode and _DROPPED otherwise."""
        flat = tokens.reshape(-1).tolist()
        ids = np.fromiter((self._index.get(t, -1) for t in flat), dtype=np.int64, count=len(flat))
        masked = (np.fromiter((t == self.mask_token for t in flat), dtype=bool, count=len(flat))
                  if self.mask_token is not None else np.zeros(len(flat), dtype=bool))
        oov = (ids == -1) & ~masked
        if oov.any():
            if self.num_oov_indices == 0:
                unknown = list(dict.fromkeys(t for t, o in zip(flat, oov) if o))
                raise ValueError(f"{self._describe()} has num_oov_indices=0, so every input must be in the "
                                 f"vocabulary, but received {len(unknown)} unknown value(s): {unknown[:10]}. Set "
                                 "num_oov_indices=1 to map them to an OOV index, or add them to the vocabulary.")
            if self.num_oov_indices == 1:
                ids[oov] = self._oov_start()
            else:
                ids[oov] = [self._oov_start() + self._bucket(t) for t, o in zip(flat, oov) if o]
        ids[masked] = 0 if self.output_mode == "int" else _DROPPED
        return ids.reshape(tokens.shape)

    def _inverted(self, ids: np.ndarray) -> np.ndarray:
        flat = ids.reshape(-1).tolist()
        start, size = self._token_start(), self.vocabulary_size()
        out = np.empty(len(flat), dtype=object)
        for i, index in enumerate(flat):
            if index == 0 and self.mask_token is not None:
                out[i] = self.mask_token
            elif start <= index < size:
                out[i] = self._tokens[index - start]
            else:
                out[i] = self.oov_token
        return out.reshape(ids.shape)

    def _known_depth(self) -> int:
        depth = self._depth()
        if depth is None:
            raise RuntimeError(f"{self._describe()}: with output_mode={self.output_mode!r} and "
                               "pad_to_max_tokens=False the output width is the vocabulary size, so the vocabulary "
                               "must be set before the layer is called: pass `vocabulary=` or call adapt() first.")
        return depth

    def _encode(self, ids: np.ndarray) -> torch.Tensor:
        """Ids -> the output tensor of ``output_mode`` on the layer's device."""
        device = self._device_anchor.device
        if self.output_mode == "int":
            return torch.as_tensor(ids, dtype=torch.int64).to(device)
        depth = self._known_depth()
        if ids.ndim == 0:
            ids = ids[None]
        if self.output_mode == "one_hot":
            if ids.ndim > 1 and ids.shape[-1] == 1:
                ids = ids[..., 0]
            index = torch.as_tensor(ids)
            valid = (index >= 0) & (index < depth)
            out = F.one_hot(torch.where(valid, index, 0), depth) * valid[..., None]
            return out.to(device=device, dtype=self.compute_dtype)
        if ids.ndim > 2:
            raise ValueError(f"{self._describe()}: output_mode={self.output_mode!r} encodes each sample's last "
                             f"axis into one vector, for inputs of rank 1 or 2; received ids of shape {ids.shape}. "
                             "Reshape the input to (batch, tokens).")
        rows = ids if ids.ndim == 2 else ids[None]
        row_of = np.repeat(np.arange(rows.shape[0]), rows.shape[1])
        out = self._bincount(row_of, rows.reshape(-1), rows.shape[0], depth)
        return (out if ids.ndim == 2 else out[0]).to(device)

    def _bincount(self, row_of: np.ndarray, ids: np.ndarray, rows: int, depth: int) -> torch.Tensor:
        """(rows, V) counts of ``ids`` per row, ids outside [0, V) dropped, then multi_hot / count / tf_idf."""
        keep = (ids >= 0) & (ids < depth)
        counts = np.zeros((rows, depth), dtype=np.float64)
        np.add.at(counts, (row_of[keep], ids[keep]), 1.0)
        out = torch.as_tensor(counts, dtype=torch.float32)
        if self.output_mode == "multi_hot":
            out = (out > 0).to(torch.float32)
        elif self.output_mode == "tf_idf":
            out = out * torch.as_tensor(self._idf_for(depth))
        return out.to(self.compute_dtype)

    def _idf_for(self, depth: int) -> np.ndarray:
        if self._idf is None:
            raise RuntimeError(f"{self._describe()}: output_mode='tf_idf' needs idf weights: adapt() the layer or "
                               "pass `vocabulary` with `idf_weights`.")
        return self._idf[:depth] if len(self._idf) >= depth else np.pad(self._idf, (0, depth - len(self._idf)))

    def forward(self, inputs: Any) -> Any:
        if self.invert:
            ids = _as_integer_array(self, inputs, "integer indices")
            return self._inverted_output(self._inverted(ids))
        return self._encode(self._ids(self._tokens_of(inputs)))

    def _inverted_output(self, tokens: np.ndarray) -> Any:
        return tokens

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        depth = self._depth()
        if self.output_mode == "one_hot":
            return (shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape) + (depth,)
        return shape[:-1] + (depth,)

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return torch.int64 if self.output_mode == "int" else self.compute_dtype

    def capture_blocker(self) -> str | None:
        return f"layer '{self.name}' ({type(self).__name__}) looks tokens up in its vocabulary on the host"

    # ------------------------------------------------------------------ config
    def _idf_config(self) -> list[float] | None:
        if self._idf is None:
            return None
        return [float(w) for w in self._idf[:self.vocabulary_size()]]

    def get_config(self) -> dict[str, Any]:
        vocabulary = self.get_vocabulary() if self._tokens else None
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "idf_weights": self._idf_config() if vocabulary is not None else None,
            "vocabulary": vocabulary,
            "vocabulary_size": self._frozen_vocab_size,
            "has_input_vocabulary": self._has_input_vocabulary,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }

    def _summary_args(self) -> str:
        return f"output_mode={self.output_mode!r}, vocabulary_size={self.vocabulary_size()}"

    def _describe(self) -> str:
        return self._described_as or super()._describe()


class StringLookup(_IndexLookup):
    """Maps strings to indices in a vocabulary (or, with ``invert=True``, indices back to strings).

    ``output_mode="int"``: ids of the input's shape, int64. ``"one_hot"``: (..., V), a last axis of 1 replaced.
    ``"multi_hot"`` / ``"count"`` / ``"tf_idf"``: (B, T) -> (B, V), (T,) -> (V,); floats. ``invert=True`` returns
    a numpy object array of ``str`` of the input's shape (torch has no string tensors).
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: str | None = None,
                 oov_token: str = "[UNK]", vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False, sparse: bool = False,
                 encoding: str = "utf-8", name: str | None = None, salt: Any = None, oov_method: str = "floormod",
                 vocabulary_size: int | None = None, has_input_vocabulary: bool | None = None, dtype: Any = None,
                 **kwargs: Any):
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                         output_mode, pad_to_max_tokens, sparse, oov_method, salt, vocabulary_size,
                         has_input_vocabulary, dtype, name=name, **kwargs)

    def _token(self, value: Any, what: str) -> str:
        if isinstance(value, bytes):
            return value.decode(self.encoding)
        if isinstance(value, str):
            return str(value)
        raise TypeError(f"StringLookup: every {what} must be a string, received {type(value).__name__} {value!r}.")

    def _tokens_of(self, x: Any) -> np.ndarray:
        return _as_string_array(self, x, self.encoding)

    def _sort_key(self, token: str) -> bytes:
        return token.encode("utf-8")

    def _bucket(self, token: str) -> int:
        return farmhash64(token.encode("utf-8")) % self.num_oov_indices

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        if self.invert:
            raise ValueError(f"{self._describe()} has invert=True and returns strings, which a model's graph cannot "
                             "carry. Call it on the model's predicted ids, outside the model.")
        return super()._output_dtype(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(_IndexLookup):
    """Maps integers to indices in a vocabulary (or, with ``invert=True``, indices back to the integers).

    Inputs: integer arrays, tensors or lists (floats holding whole numbers are accepted). Outputs as StringLookup's;
    ``invert=True`` returns an int64 tensor of the vocabulary's integers.
    """

    _integer_inputs = True

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: int | None = None,
                 oov_token: int = -1, vocabulary: Any = None, vocabulary_dtype: str = "int64",
                 idf_weights: Any = None, invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod", salt: Any = None,
                 name: str | None = None, vocabulary_size: int | None = None,
                 has_input_vocabulary: bool | None = None, dtype: Any = None, **kwargs: Any):
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: only vocabulary_dtype='int64' is supported, received "
                             f"{vocabulary_dtype!r}.")
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                         output_mode, pad_to_max_tokens, sparse, oov_method, salt, vocabulary_size,
                         has_input_vocabulary, dtype, name=name, **kwargs)

    def _token(self, value: Any, what: str) -> int:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)  # a line of a vocabulary file
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            if isinstance(value, (float, np.floating)) and float(value).is_integer():
                return int(value)
            raise TypeError(f"IntegerLookup: every {what} must be an integer, received {type(value).__name__} "
                            f"{value!r}.")
        return int(value)

    def _tokens_of(self, x: Any) -> np.ndarray:
        return _as_integer_array(self, x)

    def _bucket(self, token: int) -> int:
        if self.oov_method == "floormod":
            return token % self.num_oov_indices
        return farmhash64(str(token).encode("ascii")) % self.num_oov_indices

    def _inverted_output(self, tokens: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(tokens.astype(np.int64)).to(self._device_anchor.device)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}


# ---------------------------------------------------------------------------------------------------- TextVectorization
def _ngrams(tokens: list[str], widths: tuple[int, ...]) -> list[str]:
    """Every n-gram of each width, widths in the order given, joined by a space (tf.strings.ngrams)."""
    return [" ".join(tokens[i:i + n]) for n in widths for i in range(len(tokens) - n + 1)]


class TextVectorization(Layer):
    """Strings -> standardize -> split -> n-grams -> vocabulary indices or per-sample vectors.

    Input: (B,) or (B, 1) strings. ``output_mode="int"``: (B, T) int64 ids, 0 for padding and 1 for unknown
    tokens, T = ``output_sequence_length`` (padded with 0 or truncated) or the longest sample of the batch.
    ``"multi_hot"`` / ``"count"`` / ``"tf_idf"``: (B, V) floats. Without splitting (``split=None``) each string is
    one token, looked up as StringLookup would.

    A callable ``standardize`` receives a numpy array of unicode strings and returns one of the same shape; a
    callable ``split`` receives the (B,) numpy array of standardized strings and returns one sequence of string
    tokens per sample. Register them with ``gated.saving.register_serializable()`` to save the layer in a file.
    """

    def __init__(self, max_tokens: int | None = None, standardize: Any = "lower_and_strip_punctuation",
                 split: Any = "whitespace", ngrams: int | tuple[int, ...] | None = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False, vocabulary: Any = None,
                 idf_weights: Any = None, sparse: bool = False, ragged: bool = False, encoding: str = "utf-8",
                 name: str | None = None, vocabulary_size: int | None = None,
                 has_input_vocabulary: bool | None = None, dtype: Any = None, **kwargs: Any):
        output_mode = _MODE_ALIASES.get(output_mode, output_mode)
        if not (standardize is None or standardize in _STANDARDIZE or callable(standardize)):
            raise ValueError(f"TextVectorization: `standardize` must be None, a callable or one of {_STANDARDIZE}, "
                             f"received {standardize!r}.")
        if not (split is None or split in _SPLIT or callable(split)):
            raise ValueError(f"TextVectorization: `split` must be None, a callable or one of {_SPLIT}, received "
                             f"{split!r}.")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams > 0)
                or (isinstance(ngrams, tuple) and ngrams and all(isinstance(n, int) and n > 0 for n in ngrams))):
            raise ValueError(f"TextVectorization: `ngrams` must be None, a positive integer, or a tuple of positive "
                             f"integers, received ngrams={ngrams!r}.")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(f"TextVectorization: `output_sequence_length` pads the ids of output_mode='int'; "
                                 f"it must be None with output_mode={output_mode!r}, received "
                                 f"{output_sequence_length!r}.")
            if isinstance(output_sequence_length, bool) or not isinstance(output_sequence_length, int) \
                    or output_sequence_length <= 0:
                raise ValueError(f"TextVectorization: `output_sequence_length` must be None or a positive integer, "
                                 f"received {output_sequence_length!r}.")
        if ragged:
            raise ValueError("TextVectorization: ragged=True is not supported (Keras supports it on TensorFlow "
                             "only); the ids are padded with 0 to one length. Pass ragged=False, and "
                             "Embedding(mask_zero=True) to skip the padding.")
        if output_mode == "one_hot" and split is not None:
            raise ValueError("TextVectorization: output_mode='one_hot' gives one vector per token, which needs "
                             "split=None (each string one token). For split text use output_mode='int' with an "
                             "Embedding, or 'multi_hot' / 'count' / 'tf_idf' for one vector per sample.")
        super().__init__(dtype=_float_dtype(dtype), name=name, **kwargs)
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode, sparse=sparse,
            encoding=encoding, vocabulary_size=vocabulary_size, has_input_vocabulary=has_input_vocabulary,
            dtype=dtype,
        )
        self._lookup_layer._described_as = f"Layer '{self.name}' (TextVectorization)"
        self.built = True

    # ------------------------------------------------------------------ the vocabulary (the lookup layer's)
    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """``['', '[UNK]', ...]`` in "int" mode (``['[UNK]', ...]`` otherwise): a term's position is its index."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary from the texts of ``data``: an array or list of strings, or an iterable of batches
        (the first ``steps`` of them). Each text is one document for the idf weights."""
        self._lookup_layer._check_adaptable()
        self.reset_state()
        for batch, _ in _batches(data, steps, self):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        self._lookup_layer._check_adaptable()
        tokens = self._preprocess(data)
        if isinstance(tokens, list):
            self._lookup_layer._count(tokens)
        else:
            self._lookup_layer.update_state(tokens)

    # ------------------------------------------------------------------ preprocessing
    def _standardized(self, texts: np.ndarray) -> np.ndarray:
        if self._standardize is None:
            return texts
        if callable(self._standardize):
            result = self._standardize(texts.astype(str))
            out = _as_string_array(self, result, self._encoding)
            if out.shape != texts.shape:
                raise ValueError(f"{self._describe()}: the `standardize` callable must return an array of the shape "
                                 f"it received, {texts.shape}; it returned shape {out.shape}.")
            return out
        lower = self._standardize in ("lower", "lower_and_strip_punctuation")
        strip = self._standardize in ("strip_punctuation", "lower_and_strip_punctuation")
        out = np.empty(texts.shape, dtype=object)
        flat = out.reshape(-1)
        for i, text in enumerate(texts.reshape(-1).tolist()):
            if lower:
                text = text.translate(_ASCII_LOWER)
            flat[i] = _PUNCTUATION.sub("", text) if strip else text
        return out

    def _split_texts(self, texts: np.ndarray) -> list[list[str]]:  # (B,) -> B token lists
        if self._split == "whitespace":
            return [[t for t in _WHITESPACE.split(text) if t] for text in texts.tolist()]
        if self._split == "character":
            return [list(text) for text in texts.tolist()]
        result = self._split(texts.astype(str))
        rows = [[self._lookup_layer._token(t, "token from the `split` callable") for t in
                 (row.tolist() if isinstance(row, np.ndarray) else list(row))] for row in result]
        if len(rows) != len(texts):
            raise ValueError(f"{self._describe()}: the `split` callable must return one sequence of tokens per "
                             f"sample ({len(texts)}), it returned {len(rows)}.")
        return rows

    def _preprocess(self, inputs: Any) -> list[list[str]] | np.ndarray:
        """Token lists, one per sample (with a split), or an array of whole-string tokens (split=None)."""
        texts = self._standardized(_as_string_array(self, inputs, self._encoding))
        if self._split is None:
            if self._ngrams is None:
                return texts
            if texts.ndim < 2:
                raise ValueError(f"{self._describe()}: with split=None, n-grams are taken along the last axis of "
                                 f"each sample, so the input needs shape (batch, tokens); received "
                                 f"{describe_array(texts)}.")
            rows = [_ngrams(row.tolist(), self._ngrams) for row in texts.reshape(-1, texts.shape[-1])]
            return np.asarray(rows, dtype=object).reshape(texts.shape[:-1] + (-1,))
        if texts.ndim == 2 and texts.shape[-1] == 1:
            texts = texts[:, 0]
        if texts.ndim != 1:
            raise ValueError(f"{self._describe()} splits one string per sample, so the input must have shape "
                             f"(batch,) or (batch, 1); received {describe_array(texts)}. Pass a list of strings "
                             "(wrap a single text as [text]).")
        rows = self._split_texts(texts)
        return rows if self._ngrams is None else [_ngrams(row, self._ngrams) for row in rows]

    # ------------------------------------------------------------------ calling
    def _convert_inputs(self, x: Any) -> Any:
        return x  # strings are read in forward: gated's numeric conversion would refuse them

    def forward(self, inputs: Any) -> torch.Tensor:
        lookup = self._lookup_layer
        tokens = self._preprocess(inputs)
        device = lookup._device_anchor.device
        if not isinstance(tokens, list):  # split=None: StringLookup on whole strings
            if self._output_mode == "int":
                return self._fit_length(lookup._encode(lookup._ids(tokens)))
            # one vector per sample, (B,) read as (B, 1), as compute_output_shape says
            return lookup._encode(lookup._ids(tokens[:, None] if tokens.ndim == 1 else tokens))
        lengths = [len(row) for row in tokens]
        flat = np.asarray([t for row in tokens for t in row], dtype=object)
        ids = lookup._ids(flat)
        if self._output_mode == "int":
            width = self._output_sequence_length or max(lengths, default=0)
            out = np.zeros((len(tokens), width), dtype=np.int64)  # (B, T), 0 = padding
            start = 0
            for b, n in enumerate(lengths):
                keep = min(n, width)
                out[b, :keep] = ids[start:start + keep]
                start += n
            return torch.as_tensor(out).to(device)
        row_of = np.repeat(np.arange(len(tokens)), lengths)
        return lookup._bincount(row_of, ids, len(tokens), lookup._known_depth()).to(device)  # (B, V)

    def _fit_length(self, ids: torch.Tensor) -> torch.Tensor:
        width = self._output_sequence_length
        if width is None or ids.ndim == 0:
            return ids
        ids = ids[..., :width]
        return F.pad(ids, (0, width - ids.shape[-1])) if ids.shape[-1] < width else ids

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        shape = tuple(input_shape)
        if self._split is None:
            shape = shape + (1,) if len(shape) <= 1 else shape
        else:
            shape = shape + (None,)
        return self._lookup_layer.compute_output_shape(shape)

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return torch.int64 if self._output_mode == "int" else self.compute_dtype

    def capture_blocker(self) -> str | None:
        return f"layer '{self.name}' ({type(self).__name__}) splits and looks up strings on the host"

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        lookup = self._lookup_layer
        vocabulary = lookup.get_vocabulary() if lookup._tokens else None
        return {
            **super().get_config(),
            "max_tokens": lookup.max_tokens,
            "standardize": _serializable(self._standardize),
            "split": _serializable(self._split),
            "ngrams": list(self._ngrams_arg) if isinstance(self._ngrams_arg, tuple) else self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": False,
            "ragged": False,
            "vocabulary": vocabulary,
            "idf_weights": lookup._idf_config() if vocabulary is not None else None,
            "encoding": self._encoding,
            "vocabulary_size": lookup._frozen_vocab_size,
            "has_input_vocabulary": lookup._has_input_vocabulary,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TextVectorization":
        config = dict(config)
        for key in ("standardize", "split"):
            if key in config:
                config[key] = _restored(config[key])
        return cls(**config)

    def _summary_args(self) -> str:
        return f"output_mode={self._output_mode!r}, vocabulary_size={self.vocabulary_size()}"

