"""CSV the system writes (exports): cells a spreadsheet would run as a formula are
neutralised.

Voter-list cells are stored as uploaded (`=HYPERLINK(...)` stays that text in the table
and in JSON answers); only CSV written for a person to open in a spreadsheet is guarded:
a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
apostrophe, which spreadsheets show as text (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The cell as text a spreadsheet will not run. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_TRIGGERS) else text


def csv_lines(rows: Iterable[Iterable[Any]]) -> str:
    """CSV lines (no header) with every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def write_csv(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A CSV document (header first) with every cell made safe."""
    return csv_lines([header]) + csv_lines(rows)
