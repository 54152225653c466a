"""The file readers on real files and on broken ones: every error names the file, the line and the problem."""

from __future__ import annotations

import gzip
import lzma
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import gated.datasets
from gated.data import FileFormatError, SequenceData, TimeSeries, read_csv_series, read_csv_table, read_npz, read_ts

from .originals import original_file, parse_ts, ts_file

PACKAGE_DATA = Path(gated.datasets.__file__).parent / "data"


def _raises(path: Path, line: int | None, problem: str):
    """pytest.raises for a FileFormatError whose message is exactly '<path>, line <n>: <problem>...'."""
    where = f"{path}, line {line}" if line is not None else f"{path}"
    return pytest.raises(FileFormatError, match="^" + re.escape(f"{where}: {problem}"))


def _edit_line(source: Path, target: Path, line: int, edit) -> Path:
    lines = source.read_text().splitlines(keepends=True)
    lines[line - 1] = edit(lines[line - 1])
    target.write_text("".join(lines))
    return target


@pytest.fixture
def basic_motions(tmp_path) -> Path:
    path = tmp_path / "BasicMotions_TRAIN.ts"
    path.write_bytes(ts_file("BasicMotions", "TRAIN").read_bytes())
    return path


# ------------------------------------------------------------------------------------------------ .ts: real files
@pytest.mark.parametrize("folder", ["ItalyPowerDemand", "BasicMotions", "JapaneseVowels"])
def test_read_ts_reads_the_shipped_compressed_file_and_the_original_alike(folder):
    original = read_ts(ts_file(folder, "TEST"))
    shipped = read_ts(PACKAGE_DATA / folder / f"{folder}_TEST.ts.xz")
    rows, declared = parse_ts(ts_file(folder, "TEST"))
    for data in (original, shipped):
        assert data.name == folder and data.class_names == tuple(declared)
        assert data.x.shape == (len(rows), max(d.shape[1] for d, _ in rows), rows[0][0].shape[0])
        np.testing.assert_array_equal(data.lengths, [d.shape[1] for d, _ in rows])
        np.testing.assert_array_equal(data.y, [declared.index(label) for _, label in rows])
        for i in (0, len(rows) // 2, len(rows) - 1):
            np.testing.assert_array_equal(data.x[i, :data.lengths[i]], rows[i][0].T.astype(np.float32))
    np.testing.assert_array_equal(original.x, shipped.x)
    assert original.metadata["problemname"] == folder and original.source == str(ts_file(folder, "TEST"))


def test_read_ts_gzip_and_float64(tmp_path):
    path = tmp_path / "ItalyPowerDemand_TRAIN.ts.gz"
    path.write_bytes(gzip.compress(ts_file("ItalyPowerDemand", "TRAIN").read_bytes()))
    data = read_ts(path, dtype="float64")
    rows, _ = parse_ts(ts_file("ItalyPowerDemand", "TRAIN"))
    assert data.x.dtype == np.float64
    np.testing.assert_array_equal(data.x[:, :, 0], np.stack([d[0] for d, _ in rows]))


# ------------------------------------------------------------------------------------------------ .ts: broken files
def test_wrong_dimension_count_names_file_line_and_counts(basic_motions, tmp_path):
    broken = _edit_line(basic_motions, tmp_path / "broken.ts", 20, lambda line: line.split(":", 1)[1])
    with _raises(broken, 20, "expected 6 dimensions separated by ':', found 5 (the header's @dimensions)"):
        read_ts(broken)


def test_wrong_dimension_count_without_a_dimensions_tag_refers_to_the_first_series(tmp_path):
    path = tmp_path / "nodims.ts"
    path.write_text("@problemName t\n@univariate false\n@classLabel true a b\n@data\n1,2:3,4:a\n1,2:b\n")
    with _raises(path, 6, "expected 2 dimensions separated by ':', found 1 (as the first series, line 5)"):
        read_ts(path)


def test_truncated_file_names_its_last_line(basic_motions, tmp_path):
    lines = basic_motions.read_text().splitlines(keepends=True)
    second_colon = lines[30].index(":", lines[30].index(":") + 1)
    cut = tmp_path / "BasicMotions_TRAIN.ts"
    cut.write_text("".join(lines[:30]) + lines[30][:second_colon + 20])  # cut inside line 31's third dimension
    with _raises(cut, 31, "expected 6 dimensions separated by ':', found 2"):
        read_ts(cut)


def test_truncated_univariate_line_says_the_label_is_missing(tmp_path):
    text = ts_file("ItalyPowerDemand", "TRAIN").read_text()
    cut = tmp_path / "ItalyPowerDemand_TRAIN.ts"
    cut.write_text(text[:len(text) - 100])
    with _raises(cut, cut.read_text().count("\n") + 1, "expected the values, then ':' and the label, found no ':'"):
        read_ts(cut)


def test_file_cut_inside_the_header(tmp_path):
    cut = tmp_path / "cut.ts"
    cut.write_text("".join(ts_file("BasicMotions", "TRAIN").read_text().splitlines(keepends=True)[:9]))
    with _raises(cut, 9, "no @data line: the file ends inside the header"):
        read_ts(cut)


def test_damaged_compressed_file(tmp_path):
    packed = lzma.compress(ts_file("ItalyPowerDemand", "TRAIN").read_bytes())
    cut = tmp_path / "ItalyPowerDemand_TRAIN.ts.xz"
    cut.write_bytes(packed[:len(packed) // 2])
    with pytest.raises(FileFormatError, match=re.escape(str(cut)) + r", line \d+: the compressed file is damaged"):
        read_ts(cut)


def test_undeclared_class_label(basic_motions, tmp_path):
    broken = _edit_line(basic_motions, tmp_path / "b.ts", 30, lambda line: line.rsplit(":", 1)[0] + ":Jumping\n")
    with _raises(broken, 30, "class label 'Jumping' is not one of the labels declared by @classLabel "
                             "('Standing', 'Running', 'Walking', 'Badminton')"):
        read_ts(broken)


def test_non_numeric_value_names_dimension_and_position(basic_motions, tmp_path):
    def edit(line):
        dims = line.split(":")
        values = dims[1].split(",")
        values[2] = "abc"
        dims[1] = ",".join(values)
        return ":".join(dims)

    broken = _edit_line(basic_motions, tmp_path / "b.ts", 25, edit)
    with _raises(broken, 25, "dimension 2, value 3: 'abc' is not a number"):
        read_ts(broken)


def test_series_length_against_the_header(basic_motions, tmp_path):
    def drop_first_value(line):
        *dims, label = line.split(":")
        return ":".join([d.split(",", 1)[1] for d in dims] + [label])

    broken = _edit_line(basic_motions, tmp_path / "b.ts", 14, drop_first_value)
    with _raises(broken, 14, "expected 100 values per dimension (@seriesLength, @equalLength true), found 99"):
        read_ts(broken)


def test_dimensions_of_one_series_must_share_a_length(tmp_path):
    path = tmp_path / "ragged.ts"
    path.write_text("@dimensions 2\n@equalLength false\n@classLabel true x\n@data\n1,2,3:4,5:x\n")
    with _raises(path, 5, "the dimensions have different lengths (3, 2)"):
        read_ts(path)


@pytest.mark.parametrize("header, line, problem", [
    ("@missing maybe\n", 1, "@missing expects true or false, found 'maybe'"),
    ("@seriesLength ten\n", 1, "@seriesLength expects a positive integer, found 'ten'"),
    ("@univariate true\n@univariate true\n", 2, "@univariate appears twice in the header"),
    ("@univariate true\n@dimensions 3\n", 3, "the header says @univariate true but @dimensions 3"),
    ("@classLabel true a a\n", 1, "@classLabel lists a label twice: ['a', 'a']"),
    ("@classLabel false a\n", 1, "@classLabel false cannot list labels"),
    ("1,2:a\n", 1, "data before the @data line"),
])
def test_header_problems(tmp_path, header, line, problem):
    path = tmp_path / "header.ts"
    path.write_text(header + "@data\n1,2,3\n")
    with _raises(path, line, problem):
        read_ts(path)


def test_an_undeclared_label_field_gets_a_hint(tmp_path):
    path = tmp_path / "nolabel.ts"
    path.write_text("@univariate true\n@data\n1,2,3:a\n")
    with _raises(path, 3, "expected 1 dimension separated by ':', found 2 (the header says @univariate true); if the "
                          "last field is a class label, declare it in the header: @classLabel true"):
        read_ts(path)


def test_header_after_data_and_empty_data(tmp_path):
    late = tmp_path / "late.ts"
    late.write_text("@univariate true\n@data\n1,2\n@missing true\n")
    with _raises(late, 4, "header line '@missing' after @data"):
        read_ts(late)
    empty = tmp_path / "empty.ts"
    empty.write_text("# only a header\n@univariate true\n@data\n\n")
    with _raises(empty, 4, "no series after @data"):
        read_ts(empty)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.ts"
    path.write_bytes(b"@problemName caf\xe9\n@data\n1,2\n")
    with _raises(path, 1, "is not UTF-8 text"):
        read_ts(path)


# ------------------------------------------------------------------------------------------------ .ts: features
VARIABLE = """# variable length, missing values, string labels nobody declared
@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true
@data
1,2,3:4,5,6:walk
1,?:2,2:run
7,8,9,10:1,1,1,1:walk
"""


def test_variable_length_missing_values_and_undeclared_string_labels(tmp_path):
    path = tmp_path / "toy.ts"
    path.write_text(VARIABLE)
    data = read_ts(path)
    x, y = data
    assert x.shape == (3, 4, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(data.lengths, [3, 2, 4])
    np.testing.assert_array_equal(x[0], [[1, 4], [2, 5], [3, 6], [0, 0]])  # padded 'post' with 0.0
    assert np.isnan(x[1, 1, 0]) and x[1, 1, 1] == 2 and np.all(x[1, 2:] == 0)
    assert data.class_names == ("run", "walk") and y.tolist() == [1, 0, 1]  # sorted when not declared
    unpadded, _ = read_ts(path, padded=False)
    assert [a.shape for a in unpadded] == [(3, 2), (2, 2), (4, 2)]
    custom, _ = read_ts(path, maxlen=6, pad_value=-1.0)
    assert custom.shape == (3, 6, 2) and np.all(custom[0, 3:] == -1.0)
    with _raises(path, 12, "the series has 4 timesteps, more than maxlen=3; series are never cut"):
        read_ts(path, maxlen=3)


def test_class_names_from_the_training_file_fix_the_ids_of_the_test_file(tmp_path):
    path = tmp_path / "toy.ts"
    path.write_text(VARIABLE)
    _, y = read_ts(path, class_names=("walk", "run", "jump"))
    assert y.tolist() == [0, 1, 0]
    with _raises(path, 10, "class label 'walk' is not one of the class_names passed ('run', 'jump')"):
        read_ts(path, class_names=("run", "jump"))


def test_numeric_labels_sort_by_value(tmp_path):
    path = tmp_path / "numeric.ts"
    path.write_text("@univariate true\n@classLabel true\n@data\n1,2:10\n3,4:9\n5,6:-1\n")
    data = read_ts(path)
    assert data.class_names == ("-1", "9", "10") and data.y.tolist() == [2, 1, 0]


def test_missing_marker_when_the_header_says_no_missing_values(tmp_path):
    path = tmp_path / "m.ts"
    path.write_text("@missing false\n@univariate true\n@classLabel true a\n@data\n1,?,3:a\n")
    with _raises(path, 5, "dimension 1, value 2 is missing ('?') but the header says @missing false"):
        read_ts(path)


def test_unlabelled_regression_and_timestamped_files(tmp_path):
    unlabelled = tmp_path / "u.ts"
    unlabelled.write_text("@univariate true\n@classLabel false\n@data\n1,2,3\n4,5,6\n")
    x, y = read_ts(unlabelled)
    assert y is None and x.shape == (2, 3, 1)
    regression = tmp_path / "r.ts"
    regression.write_text("@univariate true\n@targetLabel true\n@data\n1,2:0.5\n3,4:-2\n")
    data = read_ts(regression)
    assert data.y.dtype == np.float64 and data.y.tolist() == [0.5, -2.0] and data.class_names is None
    bad = tmp_path / "rb.ts"
    bad.write_text("@univariate true\n@targetLabel true\n@data\n1,2:high\n")
    with _raises(bad, 4, "target 'high' is not a number (@targetLabel true)"):
        read_ts(bad)
    stamped = tmp_path / "t.ts"
    stamped.write_text("@timeStamps true\n@dimensions 2\n@classLabel true a\n@data\n"
                       "(2007-01-01 00:00:00,1.5),(2007-01-02 00:00:00,2):"
                       "(2007-01-01 00:00:00,3),(2007-01-02 00:00:00,?):a\n")
    data = read_ts(stamped)
    assert data.x.shape == (1, 2, 2) and data.x[0, 0].tolist() == [1.5, 3.0] and np.isnan(data.x[0, 1, 1])
    assert data.timestamps[0].tolist() == ["2007-01-01 00:00:00", "2007-01-02 00:00:00"]
    stamped.write_text("@timeStamps true\n@univariate true\n@classLabel true a\n@data\n1,2:a\n")
    with _raises(stamped, 5, "dimension 1 is not a list of (timestamp,value) pairs"):
        read_ts(stamped)


# ------------------------------------------------------------------------------------------------ CSV tables
def _italy_as_csv(tmp_path: Path, delimiter: str, header: bool, label_first: bool) -> Path:
    rows, _ = parse_ts(ts_file("ItalyPowerDemand", "TRAIN"))
    lines = []
    if header:
        names = [f"t{i}" for i in range(24)]
        lines.append(delimiter.join(["class"] + names if label_first else names + ["class"]))
    for dims, label in rows:
        values = [repr(float(v)) for v in dims[0]]
        lines.append(delimiter.join([label] + values if label_first else values + [label]))
    path = tmp_path / ("italy.tsv" if delimiter == "\t" else "italy.csv")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("delimiter, header, label_first, label_column", [
    ("\t", False, True, 0),  # the UCR archive's .tsv layout
    (",", True, False, "class"),
    (",", True, False, -1),
    (",", False, False, 24),
])
def test_read_csv_table_reads_a_real_dataset_in_several_layouts(tmp_path, delimiter, header, label_first,
                                                                label_column):
    path = _italy_as_csv(tmp_path, delimiter, header, label_first)
    data = read_csv_table(path, label_column=label_column)
    reference, _ = read_ts(ts_file("ItalyPowerDemand", "TRAIN"))
    assert data.x.shape == (67, 24, 1) and data.x.dtype == np.float32
    np.testing.assert_array_equal(data.x, reference)
    assert data.class_names == ("1", "2")
    np.testing.assert_array_equal(data.y, read_ts(ts_file("ItalyPowerDemand", "TRAIN")).y)


def test_read_csv_table_trailing_empty_cells_shorten_a_series_and_inner_ones_are_nan(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("label,a,b,c,d\ncat,1,2,3,4\ndog,5,,7,\nbird,NaN,9,,\n")
    data = read_csv_table(path)
    assert data.lengths.tolist() == [4, 3, 2] and data.class_names == ("bird", "cat", "dog")
    assert np.isnan(data.x[1, 1, 0]) and data.x[1, 2, 0] == 7 and data.x[1, 3, 0] == 0.0
    assert np.isnan(data.x[2, 0, 0]) and data.x[2, 1, 0] == 9
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("1,2,3\n4,5,\n")
    unlabelled = read_csv_table(numbers, label_column=None)
    assert unlabelled.y is None and unlabelled.class_names is None and unlabelled.lengths.tolist() == [3, 2]


@pytest.mark.parametrize("text, options, line, problem", [
    ("label,a,b\nx,1,2\ny,1,oops\n", {}, 3, "column 3 ('b'): 'oops' is not a number"),
    ("x,1,2\ny,1,oops\n", {"header": False}, 2, "column 3: 'oops' is not a number"),
    ("label,a,b\nx,1,2\n,1,2\n", {}, 3, "no label in column 1 ('label')"),
    ("label,a,b\nx,1,2\ny,1,2,3\n", {}, 3, "4 cells, more than the header's 3"),
    ("label,a,b\nx,1,2\nz,,\n", {}, 3, "the row has no values"),
    ("label,a,b\nx,1,2\nz,1,2\n", {"class_names": ["x", "y"]}, 3,
     "class label 'z' is not one of the class_names passed ('x', 'y')"),
    ('label,a,b\nx,"1,2\n', {}, 3, "not valid CSV"),
])
def test_read_csv_table_errors(tmp_path, text, options, line, problem):
    path = tmp_path / "table.csv"
    path.write_text(text)
    with _raises(path, line, problem):
        read_csv_table(path, **options)


def test_read_csv_table_argument_errors(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="label_column='class' names a column, but the file has no header row"):
        read_csv_table(path, label_column="class", header=False)
    with pytest.raises(ValueError, match=r"label_column=7 is out of range for rows of 3 columns"):
        read_csv_table(path, label_column=7)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with _raises(empty, None, "the file has no rows"):
        read_csv_table(empty)


# ------------------------------------------------------------------------------------------------ CSV series
def test_read_csv_series_on_the_real_co2_and_sunspots_files():
    co2 = read_csv_series(original_file("co2_maunaloa/co2.csv"), time_format="%Y%m%d")
    assert co2.timestamps.dtype == np.dtype("datetime64[D]") and co2.values.shape == (2284,)
    assert co2.columns == ("co2",) and int(np.isnan(co2.values).sum()) == 59
    np.testing.assert_array_equal(co2.values, gated.datasets.co2.load_data().values)
    years, values = read_csv_series(original_file("sunspots_yearly/sunspots.csv"), time_column="YEAR")
    assert years.dtype == np.int64 and years[0] == 1700 and values[-1] == 2.9


def test_read_csv_series_iso_times_several_columns_and_no_time_column(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("when,temp,rain,wind\n2020-01-01,1.5,0,3\n2020-01-02 06:00,?,1,4\n2020-01-03T00:00:00,2,,5\n")
    series = read_csv_series(path, value_columns=["rain", "temp"])
    assert series.timestamps.dtype.kind == "M" and str(series.timestamps[1]) == "2020-01-02T06:00:00"
    assert series.values.shape == (3, 2) and series.columns == ("rain", "temp")
    assert series.values[0].tolist() == [0.0, 1.5] and np.isnan(series.values[1, 1]) and np.isnan(series.values[2, 0])
    positions, values = read_csv_series(path, time_column=None, value_columns=3)
    assert positions.tolist() == [0, 1, 2] and values.tolist() == [3.0, 4.0, 5.0]


@pytest.mark.parametrize("text, options, line, problem", [
    ("t,v\n1,5\n3,6\n2,7\n", {}, 4, "column 1 ('t'): the time '2' does not come after '3' (line 3); times must "
                                     "increase"),
    ("t,v\n1,5\n1,6\n", {}, 3, "column 1 ('t'): the time '1' does not come after '1' (line 2)"),
    ("t,v\n03/04/2020,5\n04/04/2020,6\n", {}, 2, "column 1 ('t'): '03/04/2020' is neither a number nor an ISO "
                                                 "8601 time"),
    ("t,v\n20200101,5\n2020-01-02,6\n", {"time_format": "%Y%m%d"}, 3,
     "column 1 ('t'): '2020-01-02' does not match time_format='%Y%m%d'"),
    ("t,v\n1,5\n2,high\n", {}, 3, "column 2 ('v'): 'high' is not a number"),
    ("t,v\n1,5\n2,6,7\n", {}, 3, "expected 2 cells (as the first row), found 3"),
    ("t,v\n1,5\n,6\n", {}, 3, "column 1 ('t'): the time is empty"),
])
def test_read_csv_series_errors(tmp_path, text, options, line, problem):
    path = tmp_path / "series.csv"
    path.write_text(text)
    with _raises(path, line, problem):
        read_csv_series(path, **options)


def test_read_csv_series_argument_errors(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("t,v\n1,2\n")
    with pytest.raises(ValueError, match=re.escape("value_columns='w' is not a column of the file; its columns are "
                                                   "('t', 'v')")):
        read_csv_series(path, value_columns="w")
    with pytest.raises(ValueError, match="the time column column 1 \\('t'\\) is also a value column"):
        read_csv_series(path, value_columns=["t"])


# ------------------------------------------------------------------------------------------------ .npz
def test_read_npz_round_trip_string_labels_and_keras_style_keys(tmp_path):
    (x_train, y_train), (x_test, y_test) = gated.datasets.basic_motions.load_data()
    names = np.array(gated.datasets.basic_motions.class_names)
    path = tmp_path / "motions.npz"
    np.savez_compressed(path, x_train=x_train, y_train=names[y_train], x_test=x_test, y_test=y_test)
    train = read_npz(path, x_key="x_train", y_key="y_train")
    np.testing.assert_array_equal(train.x, x_train)
    assert train.class_names == ("Badminton", "Running", "Standing", "Walking")  # sorted
    np.testing.assert_array_equal(np.array(train.class_names)[train.y], names[y_train])
    aligned = read_npz(path, x_key="x_train", y_key="y_train", class_names=names)
    np.testing.assert_array_equal(aligned.y, y_train)
    x, y = read_npz(path, x_key="x_test", y_key="y_test")
    assert y.dtype == y_test.dtype and np.array_equal(y, y_test) and x.dtype == np.float32
    assert read_npz(path, x_key="x_test", y_key=None).y is None


def test_read_npz_errors(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.zeros((4, 3, 1)), y_train=np.zeros(5), lengths=np.array([1, 2, 3, 9]))
    with _raises(path, None, "has no array 'x' (x_key='x'); its arrays are ('x_train', 'y_train', 'lengths')"):
        read_npz(path)
    with _raises(path, None, "x ('x_train') has 4 samples but y ('y_train') has 5"):
        read_npz(path, x_key="x_train", y_key="y_train")
    with _raises(path, None, "lengths ('lengths') must be 4 values in 1..3"):
        read_npz(path, x_key="x_train", y_key=None, lengths_key="lengths")
    pickled = tmp_path / "p.npz"
    np.savez(pickled, x=np.zeros((2, 3)), y=np.array([{"a": 1}, None], dtype=object))
    with _raises(pickled, None, "array 'y' cannot be read without pickle"):
        read_npz(pickled)
    not_zip = tmp_path / "n.npz"
    not_zip.write_text("x,y\n")
    with pytest.raises(FileFormatError, match="^" + re.escape(f"{not_zip}: not a readable .npz archive")):
        read_npz(not_zip)


# ------------------------------------------------------------------------------------------------ result types
def test_results_are_tuples_that_pickle_with_their_attributes(tmp_path):
    data = gated.datasets.japanese_vowels.load_data()[0]
    assert isinstance(data, SequenceData) and isinstance(data, tuple)
    again = pickle.loads(pickle.dumps(data))
    assert type(again) is SequenceData and again.class_names == data.class_names
    np.testing.assert_array_equal(again.lengths, data.lengths)
    np.testing.assert_array_equal(again.x, data.x)
    series = gated.datasets.sunspots.load_data()
    assert isinstance(series, TimeSeries) and pickle.loads(pickle.dumps(series)).columns == ("SUNACTIVITY",)
    assert "JapaneseVowels" in repr(data) and "missing=0" in repr(series)


def test_file_format_error_is_a_value_error_with_parts():
    error = FileFormatError("a.ts", 3, "broken")
    assert isinstance(error, ValueError) and str(error) == "a.ts, line 3: broken"
    assert (error.path, error.line, error.problem) == ("a.ts", 3, "broken")
    assert str(pickle.loads(pickle.dumps(error))) == "a.ts, line 3: broken"
