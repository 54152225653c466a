"""StringLookup, IntegerLookup and TextVectorization against what Keras documents, and plain-Python references.

Keras runs these layers only through TensorFlow, so the oracle is twofold:

* the input/output pairs Keras itself publishes, copied as expected values: the docstrings of
  ``keras/src/layers/preprocessing/{string_lookup,integer_lookup,text_vectorization}.py`` and the expected arrays
  of ``text_vectorization_test.py`` / ``integer_lookup_test.py`` (Keras 3, as installed);
* plain-Python references written here for what those examples cannot cover: vocabulary order (count, then token,
  both high to low), special tokens, OOV buckets, tf-idf in float64, n-grams, standardization and splitting;
* FarmHash64 (TensorFlow's ``Fingerprint64``, used for OOV buckets) against ``farmhash.cc``'s own self-test values.
"""

from __future__ import annotations

import collections
import functools
import math
import string

import numpy as np
import pytest
import torch

import gated
from gated import layers as L
from gated.layers._text import farmhash64
from gated.saving import deserialize, register_serializable, serialize


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


# ------------------------------------------------------------------------------------------------- references
def _reference_order(counts: dict) -> list:
    """Keras's vocabulary order, written as a comparison: more frequent first; a tie puts the greater token first
    (strings compared as UTF-8 bytes, as TensorFlow stores them)."""
    def key(t):
        return t.encode("utf-8") if isinstance(t, str) else t

    def compare(a, b):
        if counts[a] != counts[b]:
            return -1 if counts[a] > counts[b] else 1
        return -1 if key(a) > key(b) else (1 if key(a) < key(b) else 0)

    return sorted(counts, key=functools.cmp_to_key(compare))


def _reference_lookup(tokens, vocabulary, *, mask=None, oov=1, int_mode=True):
    """Indices by a loop: [mask] + [OOV] * oov + vocabulary (mask only in "int" mode); None marks a dropped mask."""
    start = (1 if mask is not None and int_mode else 0) + oov
    index = {t: start + i for i, t in enumerate(vocabulary)}
    out = []
    for t in tokens:
        if mask is not None and t == mask:
            out.append(0 if int_mode else None)
        else:
            out.append(index.get(t, start - oov if oov == 1 else None))
    return out


def _reference_tf_idf(documents, vocabulary, num_documents, document_frequency, depth):
    """float64: count(token in doc) * log(1 + N / (1 + df)), the OOV slot (index 0) weighted by the mean idf."""
    idf = [math.log(1 + num_documents / (1 + document_frequency[t])) for t in vocabulary]
    weights = [sum(idf) / len(idf)] + idf
    out = np.zeros((len(documents), depth))
    for d, doc in enumerate(documents):
        for t in doc:
            slot = vocabulary.index(t) + 1 if t in vocabulary else 0
            out[d, slot] += weights[slot]
    return out


def _reference_standardize(text: str, lower: bool, strip: bool) -> str:
    out = []
    for ch in text:
        if strip and ch in string.punctuation:  # Keras's class is exactly the ASCII punctuation
            continue
        out.append(chr(ord(ch) + 32) if lower and "A" <= ch <= "Z" else ch)  # TensorFlow lowers ASCII only
    return "".join(out)


def _reference_ngrams(tokens: list[str], widths) -> list[str]:
    out = []
    for n in widths:
        for i in range(len(tokens)):
            if i + n <= len(tokens):
                out.append(" ".join(tokens[i:i + n]))
    return out


def _corpus(seed: int, documents: int = 12) -> list[list[str]]:
    """Documents of tokens with many ties in frequency, non-ASCII tokens and repeats inside a document."""
    rng = np.random.default_rng(seed)
    words = ["a", "b", "ab", "ba", "Z", "zz", "é", "日本", "ß", "e\u0301", "cat", "dog"]
    return [list(rng.choice(words, size=rng.integers(1, 7))) for _ in range(documents)]


# ------------------------------------------------------------------------------------------------- FarmHash64
def _farmhash_test_data(size: int) -> bytes:
    """The pseudo-random bytes of farmhash.cc's self-test (its Setup())."""
    k0, mask = 0xC3A5C85C97CB3127, (1 << 64) - 1
    a, b, out = 9, 777, bytearray(size)
    for i in range(size):
        a = (a + b) & mask
        b = (b + a) & mask
        a = ((a ^ (a >> 41)) * k0) & mask
        b = (((b ^ (b >> 41)) * k0) + i) & mask
        out[i] = (b >> 37) & 0xFF
    return bytes(out)


# farmhash.cc, farmhashnaTest: expected[6 * i + 4 : 6 * i + 6] (the high and low halves of Hash64) for
# Hash64(data + i * i, i); Fingerprint64 is farmhashna::Hash64. Lengths cross every branch (<4, 4-7, 8-16, 17-32,
# 33-64, the 64-byte loop once and several times).
FARMHASH_CASES = {
    1: 0x541150E87F415E96, 3: 0xEF923A7A1AF78EAB, 4: 0x11DF592596F41D88, 7: 0x1B5A063FB4C7F9F1,
    8: 0xA0F10149A0E538D6, 16: 0x03EAD5F21D344056, 17: 0x6ABBFDE37EE03B5B, 32: 0x0782FA1B08B475E7,
    33: 0x09DEB3DA5E16B5B8, 64: 0xDEF74BF4C9F1BC1B, 65: 0x3CCEAB392BC39B3F, 128: 0xF4A9A248B462909D,
    129: 0xD4F7C858D78153B6, 200: 0x40F32EB90E5CAA01, 298: 0x2031C84BC57A1A9F,
}


def test_farmhash64_matches_the_farmhash_self_test_values():
    data = _farmhash_test_data(298 * 298 + 298)
    assert farmhash64(b"") == 0x9AE16A3B2F90404F  # k2, the empty string's hash
    for i, expected in FARMHASH_CASES.items():
        assert farmhash64(data[i * i:i * i + i]) == expected, i


def test_oov_buckets_match_keras_documented_farmhash_outputs():
    # integer_lookup.py docstring and integer_lookup_test.py (values computed there with tf.strings.to_hash_bucket_fast)
    spread = L.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")
    np.testing.assert_array_equal(_np(spread(np.array([100, 300, 700, 1100, 1700, 2000]))), [3, 3, 2, 2, 0, 1])
    np.testing.assert_array_equal(_np(spread([100, 200, 300, 400])), [3, 1, 3, 1])
    floormod = L.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="floormod")
    np.testing.assert_array_equal(_np(floormod(np.array([100, 300, 700, 1100, 1700, 2000]))), [0] * 6)
    # string_lookup.py docstring: 'm' -> bucket 0, 'z' -> bucket 1
    layer = L.StringLookup(vocabulary=["a", "b", "c", "d"], num_oov_indices=2)
    np.testing.assert_array_equal(_np(layer([["a", "c", "d"], ["m", "z", "b"]])), [[2, 4, 5], [0, 1, 3]])


# ------------------------------------------------------------------------------------------------- StringLookup docs
VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
DOCS = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]


def test_string_lookup_matches_its_keras_docstring_examples():
    out = L.StringLookup(vocabulary=VOCAB)(DATA)
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(_np(out), [[1, 3, 4], [4, 0, 2]])
    adapted = L.StringLookup()
    adapted.adapt(DATA)
    assert adapted.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(_np(adapted(DATA)), [[5, 3, 1], [1, 2, 4]])
    one_hot = L.StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    np.testing.assert_array_equal(_np(one_hot), [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0],
                                                 [0, 0, 0, 0, 1], [1, 0, 0, 0, 0]])
    assert one_hot.dtype == torch.float32
    np.testing.assert_array_equal(_np(L.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(DOCS)),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(_np(L.StringLookup(vocabulary=VOCAB, output_mode="count")(DOCS)),
                                  [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    tf_idf = L.StringLookup(output_mode="tf_idf")
    tf_idf.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(_np(tf_idf(DOCS)), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], atol=1e-6)
    with_oov = L.StringLookup(output_mode="tf_idf")
    with_oov.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(_np(with_oov(DOCS)), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], atol=1e-6)
    inverse = L.StringLookup(vocabulary=VOCAB, invert=True)
    np.testing.assert_array_equal(inverse([[1, 3, 4], [4, 0, 2]]), [["a", "c", "d"], ["d", "[UNK]", "b"]])
    pair = L.StringLookup(vocabulary=VOCAB)
    np.testing.assert_array_equal(inverse(pair(DATA)), [["a", "c", "d"], ["d", "[UNK]", "b"]])


def test_integer_lookup_matches_its_keras_docstring_examples():
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=vocab)(data)), [[1, 3, 4], [4, 0, 2]])
    adapted = L.IntegerLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    np.testing.assert_array_equal(_np(adapted(data)), [[5, 2, 1], [1, 3, 4]])
    two_oov = L.IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    np.testing.assert_array_equal(_np(two_oov(np.array([[12, 1138, 42], [37, 1000, 36]]))), [[2, 4, 5], [1, 0, 3]])
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=vocab, output_mode="one_hot")(
        np.array([12, 36, 1138, 42, 7]))), np.eye(5)[[1, 2, 3, 4, 0]])
    docs = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=vocab, output_mode="multi_hot")(docs)),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=vocab, output_mode="count")(docs)),
                                  [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    tf_idf = L.IntegerLookup(output_mode="tf_idf", vocabulary=vocab, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(_np(tf_idf(docs)), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], atol=1e-6)
    full = L.IntegerLookup(output_mode="tf_idf", vocabulary=[-1] + vocab, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(_np(full(docs)), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], atol=1e-6)
    inverse = L.IntegerLookup(vocabulary=vocab, invert=True)
    expected = [[12, 1138, 42], [42, -1, 36]]
    np.testing.assert_array_equal(_np(inverse(np.array([[1, 3, 4], [4, 0, 2]]))), expected)
    forward = L.IntegerLookup(vocabulary=vocab)
    pair = L.IntegerLookup(vocabulary=forward.get_vocabulary(), invert=True)
    np.testing.assert_array_equal(_np(pair(forward(data))), expected)
    # integer_lookup_test.py: get_vocabulary after adapt, and torch tensors as inputs
    counted = L.IntegerLookup()
    counted.adapt([5, 5, 5, 10, 10, 15])
    assert counted.get_vocabulary() == [-1, 5, 10, 15]
    np.testing.assert_array_equal(_np(counted(torch.tensor([15, 5, 99]))), [3, 1, 0])


# ------------------------------------------------------------------------------------------------- references
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_tokens", [None, 5])
def test_adapted_vocabulary_and_ids_match_the_reference(seed, max_tokens):
    corpus = _corpus(seed)
    flat = [t for doc in corpus for t in doc]
    width = max(len(d) for d in corpus)
    padded = np.array([doc + [""] * (width - len(doc)) for doc in corpus], dtype=object)  # "" is the mask
    layer = L.StringLookup(max_tokens=max_tokens, mask_token="")
    layer.adapt(padded)
    counts = collections.Counter(t for t in flat)
    order = _reference_order(counts)[:None if max_tokens is None else max_tokens - 2]
    assert layer.get_vocabulary() == ["", "[UNK]"] + order
    assert layer.get_vocabulary(include_special_tokens=False) == order
    assert layer.vocabulary_size() == len(order) + 2
    ids = _np(layer(padded))
    expected = [_reference_lookup(row, order, mask="") for row in padded.tolist()]
    np.testing.assert_array_equal(ids, expected)


def test_integer_vocabulary_order_breaks_ties_by_the_larger_integer():
    data = np.array([[3, -7, 12, 3], [12, 100, -7, 5]])
    layer = L.IntegerLookup()
    layer.adapt(data)
    counts = collections.Counter(data.reshape(-1).tolist())
    assert layer.get_vocabulary() == [-1] + _reference_order(counts)


@pytest.mark.parametrize("oov", [2, 3, 5])
def test_several_oov_indices_hash_unknown_strings_into_buckets(oov):
    vocab = ["cat", "dog"]
    tokens = ["cat", "emu", "dog", "a rather long unknown token that needs the 64-byte loop of farmhash" * 2, "ö"]
    out = _np(L.StringLookup(vocabulary=vocab, num_oov_indices=oov)(tokens))
    expected = [oov + vocab.index(t) if t in vocab else farmhash64(t.encode()) % oov for t in tokens]
    np.testing.assert_array_equal(out, expected)


def test_mask_token_is_index_0_in_int_mode_and_dropped_otherwise():
    tokens = [["a", "", "z"], ["", "", "b"]]
    ids = L.StringLookup(vocabulary=["a", "b"], mask_token="")(tokens)
    np.testing.assert_array_equal(_np(ids), [_reference_lookup(row, ["a", "b"], mask="") for row in tokens])
    counts = L.StringLookup(vocabulary=["a", "b"], mask_token="", output_mode="count")
    assert counts.get_vocabulary() == ["[UNK]", "a", "b"]  # no mask slot outside "int" mode
    np.testing.assert_array_equal(_np(counts(tokens)), [[1, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(_np(L.StringLookup(vocabulary=["a"], mask_token="", output_mode="one_hot")(
        ["a", "", "q"])), [[0, 1], [0, 0], [1, 0]])


@pytest.mark.parametrize("seed", [0, 3])
def test_adapted_tf_idf_matches_the_float64_reference(seed):
    corpus = _corpus(seed, documents=8)
    width = max(len(d) for d in corpus)
    padded = np.array([doc + [""] * (width - len(doc)) for doc in corpus], dtype=object)
    layer = L.StringLookup(output_mode="tf_idf", mask_token="")
    layer.adapt(padded)
    counts = collections.Counter(t for doc in corpus for t in doc)
    vocabulary = _reference_order(counts)
    frequency = collections.Counter(t for doc in corpus for t in set(doc))
    assert layer.get_vocabulary() == ["[UNK]"] + vocabulary
    queries = [doc + ["unknown"] for doc in corpus[:3]] + [["unknown", "unknown", "a"]]
    width = max(len(q) for q in queries)
    batch = np.array([q + [""] * (width - len(q)) for q in queries], dtype=object)
    expected = _reference_tf_idf(queries, vocabulary, len(corpus), frequency, len(vocabulary) + 1)
    np.testing.assert_allclose(_np(layer(batch)), expected, rtol=1e-6, atol=1e-6)


def test_pad_to_max_tokens_widens_the_output_and_pads_idf_with_zeros():
    layer = L.StringLookup(output_mode="tf_idf", max_tokens=7, pad_to_max_tokens=True)
    layer.adapt([["x", "y"], ["y", "w"]])
    out = _np(layer([["y", "q"]]))
    assert out.shape == (1, 7) and layer.compute_output_shape((None, 2)) == (None, 7)
    idf_y = math.log(1 + 2 / 3)
    idf_rest = math.log(1 + 2 / 2)
    np.testing.assert_allclose(out, [[(idf_y + 2 * idf_rest) / 3, idf_y, 0, 0, 0, 0, 0]], rtol=1e-6)


def test_adapt_takes_iterables_of_batches_and_steps():
    def batches():
        yield np.array([["a", "b"], ["b", "c"]])
        yield [["c", "c"], ["d", "a"]]
        yield [["zzz", "zzz"], ["zzz", "zzz"]]

    layer = L.StringLookup()
    layer.adapt(batches(), steps=2)
    assert layer.get_vocabulary() == ["[UNK]"] + _reference_order(collections.Counter("abbccc" + "da"))
    loader = torch.utils.data.DataLoader(["one two", "two", "three", "two"], batch_size=2)
    text = L.TextVectorization()
    text.adapt(loader)
    assert text.get_vocabulary() == ["", "[UNK]", "two", "three", "one"]


def test_a_one_dimensional_batch_of_an_iterable_is_one_document_as_in_keras():
    # Keras's update_state: a 1-D batch is one document (expand_dims on axis 0); arrays passed whole are one token
    # per document (expand_dims on axis -1). Only the idf weights can tell the difference.
    as_one = L.StringLookup(output_mode="tf_idf")
    as_one.adapt(iter([np.array(["a", "b", "a"])]))
    as_three = L.StringLookup(output_mode="tf_idf")
    as_three.adapt(np.array(["a", "b", "a"]))
    np.testing.assert_allclose(_np(as_one([["a", "b"]])), [[0, math.log(1 + 1 / 2), math.log(1 + 1 / 2)]], rtol=1e-6)
    np.testing.assert_allclose(_np(as_three([["a", "b"]])), [[0, math.log(1 + 3 / 3), math.log(1 + 3 / 2)]],
                               rtol=1e-6)


def test_vocabulary_files_and_special_tokens_at_the_start(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("earth\nwind\nand\nfire\n", encoding="utf-8")
    layer = L.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "earth", "wind", "and", "fire"]
    assert L.StringLookup(vocabulary=["[UNK]", "x", "y"]).get_vocabulary() == ["[UNK]", "x", "y"]
    assert L.StringLookup(vocabulary=[b"x", "y"]).get_vocabulary() == ["[UNK]", "x", "y"]
    ints = tmp_path / "ints.txt"
    ints.write_text("7\n-3\n", encoding="utf-8")
    assert L.IntegerLookup(vocabulary=str(ints)).get_vocabulary() == [-1, 7, -3]


def test_inputs_of_bytes_objects_and_shapes_as_keras_accepts():
    layer = L.StringLookup(vocabulary=["é", "b"])
    np.testing.assert_array_equal(_np(layer(np.array(["é".encode(), b"b", b"q"]))), [1, 2, 0])
    np.testing.assert_array_equal(_np(layer(np.array([["é"], ["b"]], dtype=object))), [[1], [2]])
    assert _np(layer("b")).tolist() == 2  # a scalar string gives a scalar id
    assert _np(L.StringLookup(vocabulary=["b"], output_mode="multi_hot")(["b", "b", "x"])).tolist() == [1, 1]
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=[4, 9])(np.array([9.0, 4.0]))), [2, 1])
    assert tuple(L.TextVectorization(vocabulary=["a"], output_sequence_length=3)([]).shape) == (0, 3)


# ------------------------------------------------------------------------------------------------- TextVectorization
def test_text_vectorization_matches_its_keras_docstring_examples():
    layer = L.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(_np(out), [[4, 1, 3, 0], [1, 2, 0, 0]])
    given = L.TextVectorization(max_tokens=5000, output_sequence_length=4, vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]


@pytest.mark.parametrize("kwargs, inputs, expected", [
    (dict(output_mode="multi_hot", vocabulary=["foo", "bar", "baz"]), ["foo bar", "baz foo foo"],
     [[0, 1, 1, 0], [0, 1, 0, 1]]),
    (dict(output_mode="count", vocabulary=["foo", "bar", "baz"]), ["foo bar", "baz foo foo"],
     [[0, 1, 1, 0], [0, 2, 0, 1]]),
    (dict(output_mode="tf_idf", vocabulary=["foo", "bar", "baz"], idf_weights=[0.3, 0.5, 0.2]),
     ["foo bar", "baz foo foo"], [[0.0, 0.3, 0.5, 0.0], [0.0, 0.6, 0.0, 0.2]]),
    (dict(standardize="lower_and_strip_punctuation", vocabulary=["hello", "world", "this", "is", "nice", "test"]),
     ["Hello, World!. This is just a nice test!"], [[2, 3, 4, 5, 1, 1, 6, 7]]),
    (dict(standardize="lower", vocabulary=["hello,", "hello", "world", "this", "is", "nice", "test"]),
     ["Hello, World!. This is just a nice test!"], [[2, 1, 5, 6, 1, 1, 7, 1]]),
    (dict(split="character", vocabulary=list("abcde")), ["abcf"], [[2, 3, 4, 1]]),
    (dict(standardize="strip_punctuation", vocabulary=["Hello", "World", "Test"]), ["Hello, World! Test."],
     [[2, 3, 4]]),
    (dict(standardize=None, vocabulary=["Hello", "world"]), ["Hello hello"], [[2, 1]]),
    (dict(split=None, vocabulary=["foo", "bar", "baz"]), [["foo"], ["bar"], ["unknown"]], [[2], [3], [1]]),
], ids=["multi_hot", "count", "tf_idf", "lower_and_strip", "lower", "character", "strip", "no_standardize",
        "no_split"])
def test_text_vectorization_matches_the_keras_test_expectations(kwargs, inputs, expected):
    # keras/src/layers/preprocessing/text_vectorization_test.py, the same arguments, inputs and expected arrays
    np.testing.assert_allclose(_np(L.TextVectorization(**kwargs)(inputs)), expected, atol=1e-6)


def test_text_vectorization_keras_tests_of_ngrams_max_tokens_padding_and_files(tmp_path):
    bigrams = L.TextVectorization(ngrams=2)
    bigrams.adapt(["foo bar baz"])
    assert {"foo bar", "bar baz"} <= set(bigrams.get_vocabulary())
    trigrams = L.TextVectorization(ngrams=(1, 3))
    trigrams.adapt(["foo bar baz"])
    vocab = trigrams.get_vocabulary()
    assert "foo" in vocab and "foo bar baz" in vocab and "foo bar" not in vocab
    capped = L.TextVectorization(max_tokens=5)
    capped.adapt(["a b c d e f g h i j"])
    assert len(capped.get_vocabulary()) == 5
    wide = L.TextVectorization(output_mode="multi_hot", vocabulary=["foo", "bar"], max_tokens=8, pad_to_max_tokens=True)
    assert tuple(wide(["foo bar"]).shape) == (1, 8)
    assert L.TextVectorization(vocabulary=["foo", "bar", "baz"]).vocabulary_size() == 5
    path = tmp_path / "vocab.txt"
    path.write_text("foo\nbar\nbaz\n", encoding="utf-8")
    np.testing.assert_array_equal(_np(L.TextVectorization(vocabulary=str(path))(["foo bar baz unknown"])),
                                  [[2, 3, 4, 1]])


TEXTS = ["The CAT, sat!", "  a\tdog\n\nran  far ", "ÉCOLE Straße: ok?", "x\u00a0y", "", "don't-stop"]


@pytest.mark.parametrize("standardize", ["lower_and_strip_punctuation", "lower", "strip_punctuation", None])
def test_standardize_and_whitespace_split_match_the_reference(standardize):
    lower = standardize in ("lower", "lower_and_strip_punctuation")
    strip = standardize in ("strip_punctuation", "lower_and_strip_punctuation")
    rows = []
    for text in TEXTS:
        clean = _reference_standardize(text, lower, strip)
        tokens, current = [], ""
        for ch in clean:  # TensorFlow splits on ASCII whitespace only (U+00A0 stays inside a token)
            if ch in " \t\n\v\f\r":
                tokens, current = tokens + ([current] if current else []), ""
            else:
                current += ch
        rows.append(tokens + ([current] if current else []))
    vocabulary = sorted({t for row in rows for t in row})
    layer = L.TextVectorization(standardize=standardize, vocabulary=vocabulary)
    width = max(len(r) for r in rows)
    expected = [[vocabulary.index(t) + 2 for t in row] + [0] * (width - len(row)) for row in rows]
    np.testing.assert_array_equal(_np(layer(TEXTS)), expected)


@pytest.mark.parametrize("ngrams", [2, (1, 3), (2,)])
def test_ngrams_and_sequence_lengths_match_the_reference(ngrams):
    widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
    corpus = ["the cat sat on the mat", "the dog", "cat", "on the mat the cat sat"]
    layer = L.TextVectorization(ngrams=ngrams, output_sequence_length=7)
    layer.adapt(corpus)
    grams = [_reference_ngrams(text.split(), widths) for text in corpus]
    order = _reference_order(collections.Counter(g for row in grams for g in row))
    assert layer.get_vocabulary() == ["", "[UNK]"] + order
    expected = [([order.index(g) + 2 for g in row] + [0] * 7)[:7] for row in grams]
    np.testing.assert_array_equal(_np(layer(corpus)), expected)
    unpadded = L.TextVectorization(ngrams=ngrams, vocabulary=order)
    assert tuple(unpadded(corpus).shape) == (4, max(len(row) for row in grams))  # the longest sample


def test_text_vectorization_tf_idf_adapt_matches_the_reference():
    corpus = ["a b a", "b c", "c c d", "the a"]
    layer = L.TextVectorization(output_mode="tf_idf")
    layer.adapt(corpus)
    documents = [t.split() for t in corpus]
    vocabulary = _reference_order(collections.Counter(t for d in documents for t in d))
    frequency = collections.Counter(t for d in documents for t in set(d))
    queries = ["a b c d e", "the the", ""]
    expected = _reference_tf_idf([q.split() for q in queries], vocabulary, 4, frequency, len(vocabulary) + 1)
    np.testing.assert_allclose(_np(layer(queries)), expected, rtol=1e-6, atol=1e-7)


@register_serializable(package="text_test")
def dashes_to_spaces(texts):
    return np.char.replace(np.char.lower(texts), "-", " ")


@register_serializable(package="text_test")
def split_on_bars(texts):
    return [t.split("|") for t in texts]


def test_callable_standardize_and_split_receive_numpy_strings_and_save_by_name():
    seen = []

    def spy(texts):
        seen.append((type(texts), texts.dtype.kind))
        return dashes_to_spaces(texts)

    layer = L.TextVectorization(standardize=spy, vocabulary=["foo", "bar"])
    np.testing.assert_array_equal(_np(layer(["Foo-bar"])), [[2, 3]])
    assert seen == [(np.ndarray, "U")]
    bars = L.TextVectorization(split=split_on_bars, vocabulary=["foo", "bar", "foobar"], standardize=None)
    np.testing.assert_array_equal(_np(bars(["foo|bar", "foobar"])), [[2, 3], [4, 0]])
    saved = L.TextVectorization(standardize=dashes_to_spaces, split=split_on_bars, vocabulary=["a b", "c"])
    clone = deserialize(serialize(saved))
    assert clone._standardize is dashes_to_spaces and clone._split is split_on_bars
    np.testing.assert_array_equal(_np(clone(["A-B|c"])), _np(saved(["A-B|c"])))


# ------------------------------------------------------------------------------------------------- config, models
def _adapted_text() -> L.TextVectorization:
    layer = L.TextVectorization(max_tokens=12, output_sequence_length=5, ngrams=2)
    layer.adapt(["the cat sat", "the dog ran far", "a cat ran"])
    return layer


@pytest.mark.parametrize("make", [
    _adapted_text,
    lambda: L.StringLookup(output_mode="tf_idf", vocabulary=VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4]),
    lambda: L.IntegerLookup(vocabulary=[12, 36], num_oov_indices=3, mask_token=0, oov_method="farmhash"),
], ids=["text_vectorization", "string_lookup_tf_idf", "integer_lookup"])
def test_config_round_trip_keeps_the_vocabulary_and_outputs(make):
    layer = make()
    inputs = (np.array([[12, 0, 5, 36]]) if isinstance(layer, L.IntegerLookup) else
              DOCS if isinstance(layer, L.StringLookup) else ["the cat ran", "a dog"])
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()
    assert clone.get_config() == layer.get_config()
    torch.testing.assert_close(clone(inputs), layer(inputs), rtol=0, atol=0)


def test_a_text_model_saves_and_loads_with_its_vocabulary(tmp_path):
    text = _adapted_text()
    model = gated.Sequential([text, L.Embedding(12, 4), L.GRU(3), L.Dense(1)])
    model.build((None,))
    assert model.output_shapes()[0] == (None, 5)
    model.save(tmp_path / "text.gated")
    loaded = gated.load_model(tmp_path / "text.gated")
    assert loaded.layers[0].get_vocabulary() == text.get_vocabulary()
    x = np.array(["the cat ran far", "a dog sat", "zebra"])
    ids, loaded_ids = model.layers[0](x), loaded.layers[0](x)
    torch.testing.assert_close(loaded_ids, ids, rtol=0, atol=0)
    out, loaded_out = ids, loaded_ids
    for ours, theirs in zip(model.layers[1:], loaded.layers[1:]):
        out, loaded_out = ours(out), theirs(loaded_out)
    torch.testing.assert_close(loaded_out, out, rtol=0, atol=0)


def test_an_integer_lookup_model_predicts_saves_and_loads(tmp_path):
    x = L.Input((None,), dtype="int64")
    lookup = L.IntegerLookup(max_tokens=6)
    lookup.adapt(np.array([[3, 3, 5], [7, 5, 3]]))
    model = gated.Model(x, L.Dense(2)(L.Embedding(6, 3)(lookup(x))))
    data = np.array([[3, 7, 9], [5, 5, 3]])
    expected = model.predict(data, verbose=0)
    model.save(tmp_path / "ints.gated")
    np.testing.assert_array_equal(gated.load_model(tmp_path / "ints.gated").predict(data, verbose=0), expected)
    assert lookup.capture_blocker() is not None  # the lookup runs on the host: no captured step


def _text_and_labels(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    words = np.array(["the", "a", "cat", "dog", "sat", "ran", "far", "down"])
    texts = np.array([" ".join(rng.choice(words, size=rng.integers(1, 6))) for _ in range(n)])
    return texts, np.array([float("cat" in t) for t in texts], dtype="float32")


def test_predict_on_an_array_of_strings_is_the_layers_applied_in_turn():
    model = gated.Sequential([_adapted_text(), L.Embedding(12, 4), L.GRU(3), L.Dense(1)])
    model.build((None,))
    texts = np.array(["the cat ran far", "a dog sat", "", "THE CAT!"])
    out = model.predict(texts, verbose=0, batch_size=3)
    with torch.no_grad():
        expected = model.layers[-1](model.layers[-2](model.layers[-3](model.layers[-4](texts))))
    np.testing.assert_allclose(out, _np(expected), atol=1e-6)
    np.testing.assert_allclose(model.predict(list(texts), verbose=0), out, atol=1e-6)  # a list of str alike


def test_fit_evaluate_and_predict_take_strings_with_shuffling_and_a_validation_split():
    texts, labels = _text_and_labels()
    layer = L.TextVectorization(max_tokens=12, output_sequence_length=5)
    layer.adapt(texts)
    torch.manual_seed(0)
    model = gated.Sequential([layer, L.Embedding(12, 8), L.GRU(8), L.Dense(1, activation="sigmoid")])
    model.compile(gated.optimizers.Adam(0.03), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts, labels, epochs=12, batch_size=16, validation_split=0.25, shuffle=True, verbose=0)
    assert len(history.history["val_loss"]) == 12 and np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]  # "cat" in the text is learnable
    loss, accuracy = model.evaluate(texts, labels, verbose=0)
    ids = torch.as_tensor(_np(layer(texts)))
    same_from_ids = gated.Sequential(model.layers[1:])  # the same layers after the lookup, fed the ids
    same_from_ids.compile(loss="binary_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose([loss, accuracy], same_from_ids.evaluate(ids, labels, verbose=0), rtol=1e-6)
    assert accuracy > 0.9


def test_a_functional_model_from_a_string_input_saves_loads_and_rebuilds(tmp_path):
    texts, labels = _text_and_labels(24)
    layer = L.TextVectorization(max_tokens=12, output_sequence_length=4)
    layer.adapt(texts)
    inputs = gated.Input((1,), dtype="string")
    assert inputs.dtype == "string" and "dtype=string" in repr(inputs)
    model = gated.Model(inputs, L.Dense(1)(L.GRU(3)(L.Embedding(12, 4)(layer(inputs)))))
    model.compile("adam", "mse")
    model.fit(texts[:, None], labels, epochs=1, batch_size=8, verbose=0)
    expected = model.predict(texts[:, None], verbose=0)
    model.save(tmp_path / "text.gated")
    loaded = gated.models.load_model(tmp_path / "text.gated")
    assert loaded.layers[0].dtype == "string" and loaded.get_config()["layers"][0]["config"]["dtype"] == "string"
    np.testing.assert_allclose(loaded.predict(texts[:, None], verbose=0), expected, atol=0)
    rebuilt = gated.Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(texts[:, None], verbose=0), expected, atol=1e-6)


def test_strings_where_numbers_are_needed_are_clear_errors():
    texts, labels = _text_and_labels(8)
    layer = L.TextVectorization(max_tokens=12, output_sequence_length=4)
    layer.adapt(texts)
    model = gated.Sequential([layer, L.Embedding(12, 4), L.GRU(3), L.Dense(1)])
    model.compile("adam", "mse")
    with pytest.raises(TypeError, match=r"y has dtype <U\d+ .*Only model inputs \(x\) may be strings"):
        model.fit(texts, texts, verbose=0)
    numeric = gated.Model(inputs := gated.Input((1,), dtype="string"), L.Dense(2)(inputs))
    with pytest.raises(TypeError, match=r"Dense.*expects numeric input, but received an array of dtype <U1"):
        numeric.predict(np.array([["a"], ["b"]]), verbose=0)
    with pytest.raises(ValueError, match=r"unsupported dtype 'text'; expected 'string' or one of int8"):
        gated.Input((1,), dtype="text")
    with pytest.raises(TypeError, match=r"x has dtype object .*expected numbers"):
        model.predict(np.array([object(), object()]), verbose=0)


def test_without_a_split_each_string_is_one_token_and_one_vector_per_sample():
    layer = L.TextVectorization(split=None, output_mode="multi_hot", vocabulary=["new york", "paris"])
    out = layer(["New York", "Paris", "Rome"])
    np.testing.assert_array_equal(_np(out), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert tuple(out.shape) == layer.compute_output_shape((3,))
    two = L.TextVectorization(split=None, ngrams=2, vocabulary=["a b"], standardize=None)
    np.testing.assert_array_equal(_np(two([["a", "b", "c"], ["b", "a", "b"]])), [[1, 1, 1, 2, 1], [1, 1, 1, 1, 2]])  # a, b, c, "a b", "b c"


def test_a_sequential_model_builds_through_the_text_layers():
    model = gated.Sequential([L.IntegerLookup(vocabulary=[3, 7], output_mode="count"), L.Dense(2)])
    model.build((None, 4))
    assert model.output_shapes() == [(None, 3), (None, 2)]
    ids = gated.Sequential([L.StringLookup(vocabulary=["a"]), L.Embedding(2, 3)])
    ids.build((None, 5))
    assert ids.output_shapes() == [(None, 5), (None, 5, 3)]


def test_outputs_follow_the_layer_device():
    layer = L.TextVectorization(vocabulary=["a", "b"])
    model = gated.Sequential([layer, L.Embedding(4, 2)])
    model.build((None,))
    model.to("meta")  # no data: only where tensors live
    assert layer(["a b"]).device.type == "meta"
    lookup = L.IntegerLookup(vocabulary=[5], output_mode="multi_hot").to("meta")
    assert lookup([[5, 6]]).device.type == "meta"


def test_outputs_follow_the_layer_dtype():
    out = L.StringLookup(vocabulary=VOCAB, output_mode="count", dtype="float64")(DOCS)
    assert out.dtype == torch.float64
    assert L.TextVectorization(output_mode="multi_hot", vocabulary=["a"], dtype="float64")(["a b"]).dtype == \
        torch.float64


# ------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make, error, match", [
    (lambda: L.StringLookup(sparse=True), ValueError, "sparse=True is not supported"),
    (lambda: L.TextVectorization(ragged=True), ValueError, "ragged=True is not supported"),
    (lambda: L.StringLookup(salt=3, num_oov_indices=2), ValueError, "salt=3"),
    (lambda: L.StringLookup(output_mode="bag"), ValueError, "must be one of"),
    (lambda: L.StringLookup(invert=True, output_mode="count"), ValueError, "output_mode must be 'int'"),
    (lambda: L.StringLookup(max_tokens=1), ValueError, "greater than 1"),
    (lambda: L.StringLookup(pad_to_max_tokens=True), ValueError, "needs max_tokens"),
    (lambda: L.StringLookup(vocabulary=["a"], output_mode="tf_idf"), ValueError, "pass `idf_weights`"),
    (lambda: L.StringLookup(vocabulary=["a", "b", "a"]), ValueError, r"repeats the terms \['a'\]"),
    (lambda: L.StringLookup(vocabulary=["a", ""], mask_token=""), ValueError, "mask token '' is at position 1"),
    (lambda: L.StringLookup(vocabulary=["a", "b"], max_tokens=2), ValueError, "more than max_tokens=2"),
    (lambda: L.StringLookup(vocabulary=["a", 3]), TypeError, "must be a string, received int 3"),
    (lambda: L.StringLookup(vocabulary="/no/such/vocab.txt"), ValueError, "does not exist"),
    (lambda: L.TextVectorization(output_mode="count", output_sequence_length=3), ValueError, "must be None"),
    (lambda: L.TextVectorization(standardize="upper"), ValueError, "`standardize` must be"),
    (lambda: L.TextVectorization(ngrams="2"), ValueError, "`ngrams` must be"),
    (lambda: L.TextVectorization(output_mode="one_hot"), ValueError, "needs split=None"),
    (lambda: L.IntegerLookup(vocabulary_dtype="int32"), ValueError, "int64"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments_are_refused_with_clear_messages(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_calls_are_refused_with_clear_messages():
    with pytest.raises(ValueError, match=r"num_oov_indices=0.*unknown value\(s\): \['zz'\]"):
        L.StringLookup(vocabulary=["a"], num_oov_indices=0)(["a", "zz", "zz"])
    with pytest.raises(TypeError, match="expects strings.*For integer tokens use IntegerLookup"):
        L.StringLookup(vocabulary=["a"])(np.array([1, 2]))
    with pytest.raises(TypeError, match="torch tensors hold no strings"):
        L.StringLookup(vocabulary=["a"])(torch.tensor([1]))
    with pytest.raises(TypeError, match="expects integers.*use StringLookup"):
        L.IntegerLookup(vocabulary=[1])(["a"])
    with pytest.raises(TypeError, match=r"element 1 \(flat order\) of the input is a int"):
        L.StringLookup(vocabulary=["a"])(np.array(["a", 5], dtype=object))
    with pytest.raises(RuntimeError, match="must be set before the layer is called"):
        L.StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match=r"shape \(batch,\) or \(batch, 1\); received a 2-D array of shape \(1, 2\)"):
        L.TextVectorization(vocabulary=["a"])([["a", "b"]])
    with pytest.raises(ValueError, match="rank 1 or 2"):
        L.StringLookup(vocabulary=["a"], output_mode="count")(np.full((2, 2, 2), "a"))
    with pytest.raises(ValueError, match="invert=True and returns strings"):
        L.StringLookup(vocabulary=["a"], invert=True)(L.Input((2,), dtype="int64"))


def test_adapt_errors_say_what_to_do():
    with pytest.raises(ValueError, match="was given a `vocabulary`"):
        L.StringLookup(vocabulary=["a"]).adapt(["a"])
    with pytest.raises(ValueError, match=r"Cannot adapt Layer 'words' \(TextVectorization\)"):
        L.TextVectorization(vocabulary=["a"], name="words").adapt(["a"])
    with pytest.raises(ValueError, match="with in-memory data every sample is used"):
        L.StringLookup().adapt(["a"], steps=1)
    layer = L.StringLookup(output_mode="count")
    layer.adapt([["a", "b"]])
    with pytest.raises(RuntimeError, match="cannot change once set: it is 3, the new vocabulary has 4"):
        layer.adapt([["a", "b", "c"]])
    assert layer.get_vocabulary() == ["[UNK]", "b", "a"]  # unchanged
    with pytest.raises(ValueError, match=r"one weight per vocabulary term \(2\), received shape \(3,\)"):
        L.StringLookup(output_mode="tf_idf").set_vocabulary(["a", "b"], idf_weights=[1.0, 2.0, 3.0])
