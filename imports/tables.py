"""Reading the spreadsheets departments send: CSV (UTF-8 or the GBK family Excel writes in China) or XLSX."""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
from openpyxl import load_workbook

from errors import InvalidInput, Message

MAX_BYTES = 20 * 1024 * 1024
# Excel on a Chinese Windows saves CSV as GBK; GB18030 reads every GBK file and more.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_table(data: bytes, filename: str) -> pd.DataFrame:
    """The first sheet (or the CSV) as text cells, with a `line` column: the row's number as the
    spreadsheet shows it (the header is line 1). Blank rows are dropped."""
    if not data:
        raise InvalidInput(Message("file.empty", file=filename))
    if len(data) > MAX_BYTES:
        raise InvalidInput(Message("file.too_large", file=filename, mb=len(data) // 2**20, limit=MAX_BYTES // 2**20))
    suffix = filename.lower().rsplit(".", 1)[-1]
    if suffix == "csv":
        rows = _csv_rows(data, filename)
    elif suffix == "xlsx":
        rows = _xlsx_rows(data, filename)
    else:
        raise InvalidInput(Message("file.not_a_sheet", file=filename))
    return _frame(rows, filename)


def _csv_rows(data: bytes, filename: str) -> list[list[str]]:
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return list(csv.reader(io.StringIO(text)))
    raise InvalidInput(Message("file.not_text", file=filename))


def _xlsx_rows(data: bytes, filename: str) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(Message("file.bad_workbook", file=filename)) from exc
    sheet = book.worksheets[0]
    return [["" if cell is None else _cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


def _cell_text(value) -> str:
    # Excel stores 1200 as 1200.0; the checks want the number as a person typed it.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame(rows: list[list[str]], filename: str) -> pd.DataFrame:
    header_at = next((i for i, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    if header_at is None:
        raise InvalidInput(Message("file.no_rows", file=filename))
    header = [cell.strip() for cell in rows[header_at]]
    body = [(line, row) for line, row in enumerate(rows[header_at + 1:], start=header_at + 2)
            if any(str(cell).strip() for cell in row)]
    width = len(header)
    frame = pd.DataFrame([[str(c).strip() for c in (row + [""] * width)[:width]] for _, row in body],
                         columns=header, dtype=str)
    frame.insert(0, "line", [line for line, _ in body])
    return frame
