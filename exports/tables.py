"""Data exports as CSV and XLSX, safe against spreadsheet formula injection; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from exports.provenance import Provenance
from formats import text_em
from texts import DEFAULT_LANGUAGE, text

# A cell starting with one of these is run as a formula by Excel/LibreOffice/WPS (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """A text cell that would start a formula gets a leading apostrophe; other values unchanged.

    Leading spaces are looked through: some spreadsheet imports trim them before parsing.
    """
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _cell(value):
    """A spreadsheet-ready value: numbers as numbers, missing as empty, text neutralised."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (datetime, date)):
        return value
    return neutralise(str(value))


def _rows(frame: pd.DataFrame) -> list[list]:
    return [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def _header(frame: pd.DataFrame) -> list[str]:
    return [neutralise(str(c)) for c in frame.columns]


def csv_bytes(frame: pd.DataFrame, provenance: Provenance | None = None) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads Chinese); provenance lines first, then a blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if provenance is not None:
        for key, value in provenance.items():
            writer.writerow([neutralise(f"# {key}: {value}")])
        writer.writerow([])
    writer.writerow(_header(frame))
    for row in _rows(frame):
        writer.writerow(["" if v is None else _csv_text(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_text(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_bytes(frame: pd.DataFrame, provenance: Provenance | None = None, *, sheet: str | None = None) -> bytes:
    """An XLSX workbook: the table (header bold, frozen) and, when given, a provenance sheet; the sheets are
    named in the provenance's language (the default one without)."""
    book = Workbook()
    data = book.worksheets[0]  # a new Workbook has one sheet (book.active is typed as maybe none)
    data.title = (sheet or text("data_sheet", provenance.lang if provenance else DEFAULT_LANGUAGE))[:31]
    data.append(_header(frame))
    for cell in data[1]:
        cell.font = Font(bold=True)
    for row in _rows(frame):
        data.append(row)
    data.freeze_panes = "A2"
    _fit_columns(data, frame)
    if provenance is not None:
        about = book.create_sheet(text("provenance_sheet", provenance.lang))
        for key, value in provenance.items():
            about.append([neutralise(key), neutralise(value)])
        about.column_dimensions["A"].width = 14
        about.column_dimensions["B"].width = 80
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fit_columns(sheet, frame: pd.DataFrame) -> None:
    for index, column in enumerate(frame.columns, start=1):
        sample = [str(column), *frame[column].head(200).map(str)]
        # CJK characters are about twice as wide as Latin ones in a spreadsheet cell
        width = max(2 * text_em(s, latin=0.5) for s in sample)
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, width + 2))
