"""The shared CSV export: complete, ISO 8601 with offset, formula-injection safe."""

import csv
import io

import pandas as pd

from components.export import to_csv_bytes


def _rows(data: bytes):
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_every_row_is_exported_not_a_page_of_them():
    frame = pd.DataFrame({"n": range(25_000)})
    rows = _rows(to_csv_bytes(frame))
    assert len(rows) == 25_001 and rows[-1] == ["24999"]


def test_formula_cells_are_neutralized_and_numbers_are_not():
    frame = pd.DataFrame(
        {
            "note": ['=HYPERLINK("http://x")', "+1", "-cmd", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"],
            "value": [-1.5, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    rows = _rows(to_csv_bytes(frame))
    notes = [r[0] for r in rows[1:]]
    assert notes[:6] == ['\'=HYPERLINK("http://x")', "'+1", "'-cmd", "'@SUM(A1)", "'\tx", "'\rx"]
    assert notes[6:] == ["plain", "a=b"]
    assert rows[1][1] == "-1.5"  # a negative number stays a number


def test_header_cells_are_neutralized_too():
    rows = _rows(to_csv_bytes(pd.DataFrame({"=evil": [1]})))
    assert rows[0] == ["'=evil"]


def test_timestamps_carry_their_offset():
    frame = pd.DataFrame(
        {
            "utc": pd.to_datetime(["2026-03-29T01:30:00Z"], utc=True),
            "berlin": pd.to_datetime(["2026-03-29T01:30:00Z"], utc=True).tz_convert("Europe/Berlin"),
            "naive": pd.to_datetime(["2026-03-29T01:30:00"]),
            "mixed": [pd.Timestamp("2026-07-01T12:00", tz="America/New_York")],
            "missing": pd.to_datetime([None], utc=True),
        }
    )
    row = _rows(to_csv_bytes(frame))[1]
    assert row[0] == "2026-03-29T01:30:00+00:00"
    assert row[1] == "2026-03-29T03:30:00+02:00"  # after the spring-forward switch
    assert row[2] == "2026-03-29T01:30:00+00:00"
    assert row[3] == "2026-07-01T12:00:00-04:00"
    assert row[4] == ""


def test_non_ascii_survives():
    rows = _rows(to_csv_bytes(pd.DataFrame({"plant": ["Łódź Süd", "Monterrey Ñ"]})))
    assert [r[0] for r in rows[1:]] == ["Łódź Süd", "Monterrey Ñ"]
