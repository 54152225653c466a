"""Panels for global forecasting: long-format CSV files and .tsf files, read from real files written here."""

from __future__ import annotations

import numpy as np
import pytest

from gated.data import FileFormatError, infer_frequency, read_panel


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_long_format_rows_are_grouped_by_id_in_time_order_with_covariates(tmp_path):
    path = _write(tmp_path / "panel.csv", "id,month,sales,price\n"
                  "b,2020-01-01,10,1.5\na,2020-01-01,1,2.0\nb,2020-02-01,11,1.4\na,2020-02-01,2,2.1\n"
                  "a,2020-03-01,,2.2\nb,2020-03-01,12,1.3\n")
    panel = read_panel(path, id_column="id", time_column="month", value_column="sales", covariates=["price"])
    assert panel.names == ["b", "a"]  # the order series first appear in
    np.testing.assert_array_equal(panel.values[0], [10, 11, 12])
    np.testing.assert_array_equal(panel.values[1][:2], [1, 2])
    assert np.isnan(panel.values[1][2])  # missing stays missing: nothing is filled here
    np.testing.assert_array_equal(panel.covariates[1][:, 0], [2.0, 2.1, 2.2])
    assert panel.covariate_names == ("price",)
    assert panel.frequency == ["monthly", "monthly"] and panel.season(0) == 12
    assert panel.timestamps[0].dtype.kind == "M"


def test_quarters_years_and_the_value_column_default(tmp_path):
    path = _write(tmp_path / "q.csv", "Quarter,Consumption\n1970 Q1,0.6\n1970 Q2,0.4\n1970 Q3,0.8\n1970 Q4,0.1\n")
    panel = read_panel(path)
    assert panel.frequency == ["quarterly"]
    assert str(panel.timestamps[0][1]) == "1970-04-01"
    assert infer_frequency(np.arange(1700, 1710)) == "yearly"
    assert infer_frequency(np.arange(10)) is None
    weekly = np.arange("2020-01-05", "2020-03-01", 7, dtype="datetime64[D]")
    assert infer_frequency(weekly) == "weekly"


def test_panel_errors_name_the_file_line_and_fix(tmp_path):
    path = _write(tmp_path / "p.csv", "id,t,v,w\na,1,1,5\na,3,2,5\na,2,3,5\n")
    with pytest.raises(ValueError, match=r"columns left .* v, w\. Pass --column"):
        read_panel(path, id_column="id", time_column="t")
    with pytest.raises(FileFormatError, match=r"line 4.*series 'a', t: the time '2' does not come after '3'"):
        read_panel(path, id_column="id", time_column="t", value_column="v")
    bad = _write(tmp_path / "bad.csv", "id,t,v\na,1,1\na,2,x\n")
    with pytest.raises(FileFormatError, match=r"line 3.*'x' is not a number"):
        read_panel(bad, id_column="id", time_column="t", value_column="v")
    with pytest.raises(ValueError, match=r"'nope' is not a column"):
        read_panel(bad, id_column="nope", time_column="t", value_column="v")


def test_tsf_files_give_their_frequency_and_horizon(tmp_path):
    path = _write(tmp_path / "m.tsf", "@relation demo\n@attribute series_name string\n@frequency monthly\n"
                  "@horizon 3\n@missing true\n@equallength false\n@data\nT1:1,2,3,4,5\nT2:5,?,7\n")
    panel = read_panel(path)
    assert panel.names == ["T1", "T2"] and panel.horizon == 3 and panel.frequency == ["monthly", "monthly"]
    assert np.isnan(panel.values[1][1]) and len(panel.values[0]) == 5
    with pytest.raises(ValueError, match=r"\.tsf file names its own series"):
        read_panel(path, id_column="series_name")
