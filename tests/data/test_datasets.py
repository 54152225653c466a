"""Every built-in dataset against the original files, read independently (tests/data/originals.py says where
the originals come from)."""

from __future__ import annotations

import collections
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import gated.datasets
from gated import layers
from gated.data import SequenceData, TimeSeries
from gated.datasets import basic_motions, classic_panel, cmudict, co2, italy_power_demand, japanese_vowels, sunspots

from .originals import (
    BUILT, NO_SHARED, ORIGINALS, PACKAGE_DATA, SHARED, have_shared, original_file, parse_cmudict, parse_csv, parse_ts,
    sha256, shipped_bytes, ts_file,
)

# ------------------------------------------------------------------------------------------------ shipped files
@pytest.mark.parametrize("original", sorted(ORIGINALS))
def test_shipped_file_matches_the_committed_checksum_of_the_original(original):
    shipped, checksum = ORIGINALS[original]
    data = shipped_bytes(original)
    assert sha256(data) == checksum
    md5 = hashlib.md5(data).hexdigest()
    note = (PACKAGE_DATA / Path(shipped).parent / "SOURCE.txt").read_text()
    assert f"md5={md5}" in note  # the checksum the shipped provenance note records


@pytest.mark.skipif(not have_shared(), reason=NO_SHARED)
@pytest.mark.parametrize("original", sorted(ORIGINALS))
def test_shipped_file_is_the_original_byte_for_byte(original):
    data = shipped_bytes(original)
    assert data == (SHARED / original).read_bytes()
    if original in BUILT:  # built from package files: its note records theirs, and how it was built
        return
    source = (SHARED / Path(original).parent / "SOURCE.txt").read_text()
    assert f"md5={hashlib.md5(data).hexdigest()}" in source  # the checksum the original provenance note records


def test_every_shipped_file_is_listed_with_a_checksum():
    listed = {shipped for shipped, _ in ORIGINALS.values()}
    on_disk = {str(p.relative_to(PACKAGE_DATA)) for p in PACKAGE_DATA.rglob("*") if p.is_file()
               and p.name != "SOURCE.txt"}
    assert on_disk == listed


def test_every_shipped_folder_has_its_provenance_and_the_data_stays_small():
    folders = sorted(p for p in PACKAGE_DATA.iterdir() if p.is_dir())
    assert [f.name for f in folders] == ["BasicMotions", "ItalyPowerDemand", "JapaneseVowels", "classic_panel",
                                         "cmudict", "co2", "sunspots"]
    for folder in folders:
        note = (folder / "SOURCE.txt").read_text()
        assert "shipped in gated" in note and ("licence" in note or "LICENSE" in note), folder.name
    assert "Redistribution and use" in (PACKAGE_DATA / "cmudict" / "LICENSE").read_text()
    total = sum(p.stat().st_size for p in PACKAGE_DATA.rglob("*") if p.is_file())
    assert total < 2_000_000, total


def test_shipped_files_are_package_data_in_pyproject():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.search(r'\[tool\.setuptools\.package-data\]\s*(#.*\n)?\s*"gated\.datasets" = \["data/\*/\*"\]',
                     pyproject)


# ------------------------------------------------------------------------------------------------ classification
def _expected(folder: str, split: str, class_names: tuple[str, ...]):
    rows, declared = parse_ts(ts_file(folder, split))
    assert tuple(declared) == class_names
    return [dims.T for dims, _ in rows], np.array([class_names.index(label) for _, label in rows])


@pytest.mark.parametrize("module, folder, shapes, counts", [
    (italy_power_demand, "ItalyPowerDemand", ((67, 24, 1), (1029, 24, 1)), ({0: 34, 1: 33}, {0: 513, 1: 516})),
    (basic_motions, "BasicMotions", ((40, 100, 6), (40, 100, 6)), ({k: 10 for k in range(4)},) * 2),
    (japanese_vowels, "JapaneseVowels", ((270, 29, 12), (370, 29, 12)),
     ({k: 30 for k in range(9)}, {0: 31, 1: 35, 2: 88, 3: 44, 4: 29, 5: 24, 6: 40, 7: 50, 8: 29})),
])
def test_classification_dataset_matches_the_original_files(module, folder, shapes, counts):
    (x_train, y_train), (x_test, y_test) = module.load_data()
    for x, y, split, shape, count in ((x_train, y_train, "TRAIN", shapes[0], counts[0]),
                                      (x_test, y_test, "TEST", shapes[1], counts[1])):
        assert x.shape == shape and x.dtype == np.float32
        assert y.shape == (shape[0],) and y.dtype == np.int64
        assert dict(collections.Counter(y.tolist())) == count
        series, labels = _expected(folder, split, module.class_names)
        np.testing.assert_array_equal(y, labels)
        for i, s in enumerate(series):  # every value, channels last
            np.testing.assert_array_equal(x[i, :len(s)], s.astype(np.float32))
            assert np.all(x[i, len(s):] == 0.0)


def test_classification_pairs_are_plain_two_tuples_that_carry_class_names_and_lengths():
    train, test = italy_power_demand.load_data()
    assert isinstance(train, tuple) and isinstance(train, SequenceData) and len(train) == 2
    assert train.class_names == test.class_names == italy_power_demand.class_names == ("1", "2")
    assert basic_motions.load_data()[0].class_names == ("Standing", "Running", "Walking", "Badminton")
    np.testing.assert_array_equal(train.lengths, np.full(67, 24))


def test_load_data_returns_fresh_copies():
    (x, y), _ = basic_motions.load_data()
    x[:] = 7.0
    y[:] = 3
    (x_again, y_again), _ = basic_motions.load_data()
    assert not np.any(x_again == 7.0) and np.any(y_again != 3)


def test_japanese_vowels_is_padded_at_the_end_with_zeros_and_masking_recovers_the_lengths():
    train, test = japanese_vowels.load_data()
    assert japanese_vowels.maxlen == 29
    assert (train.lengths.min(), train.lengths.max(), test.lengths.min(), test.lengths.max()) == (7, 26, 7, 29)
    expected = [len(s) for s in _expected("JapaneseVowels", "TRAIN", japanese_vowels.class_names)[0]]
    np.testing.assert_array_equal(train.lengths, expected)
    for data in (train, test):
        mask = layers.Masking(mask_value=0.0).compute_mask(torch.from_numpy(data.x))  # (B, T)
        np.testing.assert_array_equal(mask.numpy(), np.arange(29) < data.lengths[:, None])
        assert data.pad_value == 0.0


def test_japanese_vowels_unpadded_gives_one_array_per_utterance():
    (x_train, y_train), (x_test, _) = japanese_vowels.load_data(padded=False)
    padded_train, _ = japanese_vowels.load_data()
    assert isinstance(x_train, list) and len(x_train) == 270 and len(x_test) == 370
    for i in (0, 100, 269):
        assert x_train[i].shape == (padded_train.lengths[i], 12) and x_train[i].dtype == np.float32
        np.testing.assert_array_equal(x_train[i], padded_train.x[i, :padded_train.lengths[i]])
    np.testing.assert_array_equal(y_train, padded_train.y)


# ------------------------------------------------------------------------------------------------ series
def test_sunspots_has_every_year_and_the_original_values():
    timestamps, values = sunspots.load_data()
    header, rows = parse_csv(original_file("sunspots_yearly/sunspots.csv"))
    assert header == ["YEAR", "SUNACTIVITY"]
    assert timestamps.dtype == np.dtype("datetime64[Y]") and values.dtype == np.float64
    assert values.shape == timestamps.shape == (309,)
    np.testing.assert_array_equal(timestamps.astype(int) + 1970, [int(float(row[0])) for row in rows])
    np.testing.assert_array_equal(timestamps.astype(int) + 1970, np.arange(1700, 2009))
    np.testing.assert_array_equal(values, [float(row[1]) for row in rows])
    assert str(timestamps[0]) == "1700" and values[49] == 80.9


def test_classic_panel_gives_every_series_of_the_original_file_by_frequency():
    header, rows = parse_csv(original_file("classic_panel/panel.csv"))
    assert header == ["series_id", "timestamp", "value"]
    expected = collections.defaultdict(list)
    for name, day, value in rows:
        expected[name].append((np.datetime64(day), float(value)))
    panel = classic_panel.load_data()
    assert list(panel) == list(expected) and len(panel) == 23
    for name, (timestamps, values) in panel.items():
        np.testing.assert_array_equal(timestamps, [t for t, _ in expected[name]])
        np.testing.assert_array_equal(values, [v for _, v in expected[name]])
    quarterly = classic_panel.load_data("quarterly")
    assert list(quarterly) == ["UKgas", "JohnsonJohnson", "austres", "ausbeer", "woolyrnq", "macro_realgdp",
                               "macro_cpi", "macro_unemp"]
    assert [len(classic_panel.load_data(f)) for f in ("monthly", "yearly")] == [11, 4]
    quarterly["UKgas"][1][0] = -1.0  # a fresh copy every call
    assert classic_panel.load_data("quarterly")["UKgas"][1][0] == 160.1
    with pytest.raises(ValueError, match="received frequency='weekly'"):
        classic_panel.load_data("weekly")


def test_co2_keeps_its_gaps_as_nan_with_weekly_dates():
    series = co2.load_data()
    timestamps, values = series
    assert isinstance(series, TimeSeries) and series.columns == ("co2",)
    _, rows = parse_csv(original_file("co2_maunaloa/co2.csv"))
    assert timestamps.dtype == np.dtype("datetime64[D]") and values.dtype == np.float64
    assert len(values) == len(rows) == 2284
    empty = np.array([row[1] == "" for row in rows])
    np.testing.assert_array_equal(np.isnan(values), empty)
    assert empty.sum() == co2.num_missing == 59
    np.testing.assert_array_equal(values[~empty], [float(row[1]) for row in rows if row[1]])
    assert str(timestamps[0]) == "1958-03-29" and str(timestamps[-1]) == "2001-12-29"
    assert set(np.diff(timestamps).astype(int).tolist()) == {7}
    expected_dates = np.array([f"{r[0][:4]}-{r[0][4:6]}-{r[0][6:]}" for r in rows], dtype="datetime64[D]")
    np.testing.assert_array_equal(timestamps, expected_dates)


# ------------------------------------------------------------------------------------------------ cmudict
@pytest.fixture(scope="module")
def cmudict_original():
    return parse_cmudict(original_file("cmudict/cmudict.dict"))


def test_cmudict_has_every_pronunciation_grouped_by_word(cmudict_original):
    entries = cmudict.load_data()
    assert entries == cmudict_original
    assert list(entries) == list(cmudict_original)  # the dictionary's order
    assert len(entries) == 126052 and sum(map(len, entries.values())) == 135166
    assert entries["aaronson"] == [tuple("EH1 R AH0 N S AH0 N".split()), tuple("AA1 R AH0 N S AH0 N".split())]
    assert entries["aalborg"][0] == tuple("AO1 L B AO0 R G".split())  # "# place, danish" dropped
    symbols = set(cmudict.phonemes())
    assert len(symbols) == 84 and {p for ps in entries.values() for pr in ps for p in pr} <= symbols


def test_cmudict_without_stress_strips_digits_and_merges_duplicates():
    plain = cmudict.load_data(stress=False)
    assert plain["aaronson"] == [tuple("EH R AH N S AH N".split()), tuple("AA R AH N S AH N".split())]
    assert set(cmudict.phonemes(stress=False)) >= {p for ps in plain.values() for pr in ps for p in pr}
    assert len(cmudict.phonemes(stress=False)) == 39
    with_stress = cmudict.load_data()
    merged = [w for w in with_stress if len(plain[w]) < len(with_stress[w])]
    assert merged and all(len(set(plain[w])) == len(plain[w]) for w in merged)


def test_cmudict_split_is_the_documented_md5_rule_disjoint_and_complete():
    entries = cmudict.load_data()
    train, validation, test = cmudict.split_by_word(entries)
    assert not (set(train) & set(validation) or set(train) & set(test) or set(validation) & set(test))
    assert len(train) + len(validation) + len(test) == len(entries)
    for part, name in ((train, "train"), (validation, "validation"), (test, "test")):
        for word in list(part)[::500]:
            bucket = int(hashlib.md5(word.encode("utf-8")).hexdigest(), 16) % 20
            assert {0: "test", 1: "validation"}.get(bucket, "train") == name == cmudict.split_of(word)
            assert part[word] == entries[word]  # every pronunciation travels with its word
    assert 0.045 < len(test) / len(entries) < 0.055 and 0.045 < len(validation) / len(entries) < 0.055
    # Pinned: the split must never move, on any machine or version.
    assert list(test)[:5] == ["aalseth", "ab", "abaco", "abacus", "abalones"]
    assert list(validation)[:5] == ["aalborg", "aardvarks", "aasen", "abadi", "abasia"]
    assert (len(train), len(validation), len(test)) == (113391, 6311, 6350)
    again = cmudict.split_by_word(cmudict.load_data())
    assert [list(p) for p in again] == [list(train), list(validation), list(test)]
