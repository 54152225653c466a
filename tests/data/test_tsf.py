"""The Monash forecasting archive's .tsf reader, on real files written here."""

from __future__ import annotations

import numpy as np
import pytest

from gated.data import FileFormatError, read_tsf

GOOD = """# Example file in the archive's layout
@relation example
@attribute series_name string
@attribute start_timestamp date
@frequency monthly
@horizon 4
@missing true
@equallength false
@data
T1:1979-01-01 00-00-00:1,2,3,4,5
T2:1980-06-01 00-00-00:10,?,30
"""


def test_tsf_reader_reads_header_series_and_missing_values(tmp_path):
    path = tmp_path / "example.tsf"
    path.write_text(GOOD)
    data = read_tsf(path)
    assert data.frequency == "monthly" and data.horizon == 4
    assert len(data.series) == 2
    np.testing.assert_array_equal(data.series[0], [1, 2, 3, 4, 5])
    assert np.isnan(data.series[1][1]) and data.series[1][2] == 30


@pytest.mark.parametrize("change, message", [
    ("T2:1980-06-01 00-00-00:10,x,30", r"line 11.*is not a number"),
    ("T2:10,20,30", r"line 11.*expected 2 attribute"),
    ("@data", None),
])
def test_tsf_reader_says_which_line_is_wrong(tmp_path, change, message):
    path = tmp_path / "bad.tsf"
    text = GOOD.replace("T2:1980-06-01 00-00-00:10,?,30", change)
    if message is None:  # no series at all after @data
        text = GOOD.split("T1:")[0]
        message = "no series after @data"
    path.write_text(text)
    with pytest.raises(FileFormatError, match=message):
        read_tsf(path)


def test_tsf_reader_refuses_missing_values_the_header_rules_out(tmp_path):
    path = tmp_path / "strict.tsf"
    path.write_text(GOOD.replace("@missing true", "@missing false"))
    with pytest.raises(FileFormatError, match=r"line 11.*missing"):
        read_tsf(path)
