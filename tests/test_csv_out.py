"""CSV for spreadsheets: formulas in cells are shown, never run."""

from __future__ import annotations

import csv
import io

import pytest

from chalicelib.logic.csv_out import safe_cell, write_csv


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("+1 202 555 0101", "'+1 202 555 0101"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ann = Lee", "Ann = Lee"),
        ("", ""),
        (None, ""),
        (-5, "-5"),
        (3.5, "3.5"),
        (True, "true"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_neutralised(cell, written):
    assert safe_cell(cell) == written


def test_a_document_round_trips_as_text():
    text = write_csv(["name", "note"], [["=cmd|' /C calc'!A0", "ok"], ["Bo", "-1"]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "note"], ["'=cmd|' /C calc'!A0", "ok"], ["Bo", "'-1"]]
