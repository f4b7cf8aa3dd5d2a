"""What the Data import page does with a sheet: check it, show before and after, apply it.

Two kinds of sheet: hospital beds (the health commission) and depot stock (the emergency bureau).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from clock import now_utc
from exports.tables import csv_bytes
from imports import beds, stock
from imports.beds import check_bed_sheet
from imports.sheets import Column, Sheet, source_name
from imports.stock import check_stock_sheet
from imports.tables import MAX_BYTES, read_table
from queries import facilities
from ui import data
from ui.i18n import current_language, say, t, term

MAX_MB = MAX_BYTES // 2**20  # the uploader refuses bigger files before the check would


@dataclass(frozen=True)
class SheetKind:
    key: str  # widget keys and labels: import_<key>... (the template's file name: import_<key>_file)
    template: Callable[[], pd.DataFrame]  # today's figures in the sheet's own layout
    check: Callable[[pd.DataFrame], Sheet]
    before_and_after: Callable[[Sheet], pd.DataFrame]
    apply: Callable[[Sheet, str], int]
    owner: str  # the column naming the facility (hospitals, depots)


def _header(column: Column) -> str:
    """The column's header in the view's language (the check reads either language's)."""
    return str(column.headers_by_language()[0][current_language()])


def _beds_template() -> pd.DataFrame:
    current = facilities.bed_counts(data.get_engine())
    code, bed_type, total, occupied = (_header(c) for c in beds.COLUMNS)
    return pd.DataFrame({code: current["hospital_code"], t("name"): current["name"],
                         bed_type: current["bed_type"].map(lambda c: term("bed_type", c)),
                         total: current["total"], occupied: current["occupied"]})


def _beds_before_and_after(sheet: Sheet) -> pd.DataFrame:
    current = facilities.bed_counts(data.get_engine(), sorted(sheet.rows["hospital_code"].unique()))
    merged = sheet.rows.merge(current, on=["hospital_code", "bed_type"], how="left", suffixes=("", "_before"))
    return pd.DataFrame({
        t("import_line"): merged["line"], t("code"): merged["hospital_code"], t("name"): merged["name"],
        t("bed_type"): merged["bed_type"].map(lambda code: term("bed_type", code)),
        **_pair("total", merged["total_before"], merged["total"]),
        **_pair("occupied", merged["occupied_before"], merged["occupied"]),
    })


def _apply_beds(sheet: Sheet, source: str) -> int:
    rows = facilities.apply_bed_counts(data.get_engine(), sheet.rows, source, now_utc())
    data.hospitals.clear()  # the Resources page and the wall show the new counts at once
    return rows


def _stock_template() -> pd.DataFrame:
    current = facilities.stock_lines(data.get_engine())
    depot, item, quantity = (_header(c) for c in stock.COLUMNS)
    return pd.DataFrame({depot: current["depot_code"], t("name"): current["depot_name"], item: current["item"],
                         quantity: current["quantity"], t("unit"): current["unit"],
                         _header(stock.MIN_LEVEL): current["min_level"]})


def _stock_before_and_after(sheet: Sheet) -> pd.DataFrame:
    current = facilities.stock_lines(data.get_engine(), sorted(sheet.rows["depot_code"].unique()))
    merged = sheet.rows.merge(current, on=["depot_code", "item"], how="left", suffixes=("", "_before"))
    table = {t("import_line"): merged["line"], t("code"): merged["depot_code"], t("name"): merged["depot_name"],
             t("item"): merged["item"], t("unit"): merged["unit"],
             **_pair("quantity", merged["quantity_before"], merged["quantity"])}
    if "min_level" in sheet.rows:
        table |= _pair("min_level", merged["min_level_before"], merged["min_level"])
    return pd.DataFrame(table)


def _apply_stock(sheet: Sheet, source: str) -> int:
    rows = facilities.apply_stock(data.get_engine(), sheet.rows, source, now_utc())
    data.stock.clear()
    return rows


def _pair(label: str, before: pd.Series, after: pd.Series) -> dict[str, pd.Series]:
    return {f"{t(label)} ({t('before')})": before, f"{t(label)} ({t('after')})": after}


KINDS = (
    SheetKind("beds", _beds_template,
              lambda frame: check_bed_sheet(frame, facilities.hospital_codes(data.get_engine())),
              _beds_before_and_after, _apply_beds, "hospital_code"),
    SheetKind("stock", _stock_template,
              lambda frame: check_stock_sheet(frame, facilities.stock_units(data.get_engine())),
              _stock_before_and_after, _apply_stock, "depot_code"),
)


def template_csv(kind: SheetKind) -> bytes:
    """Today's figures in the sheet's layout: the data officer edits the numbers and sends it back."""
    return csv_bytes(kind.template())


def template_name(kind: SheetKind) -> str:
    return t(f"import_{kind.key}_file")


def problem_lines(sheet: Sheet) -> list[str]:
    """Each problem of the sheet in the view's language, with its line (or as the whole sheet's)."""
    return [t("import_problem_whole_sheet", problem=say(p.message)) if p.line is None else
            t("import_problem_at_line", line=p.line, problem=say(p.message)) for p in sheet.problems]


def check(kind: SheetKind, content: bytes, filename: str) -> Sheet:
    """The sheet checked against the database (InvalidInput for an unreadable file)."""
    return kind.check(read_table(content, filename))


def before_and_after(kind: SheetKind, sheet: Sheet) -> pd.DataFrame:
    return kind.before_and_after(sheet)


def apply(kind: SheetKind, sheet: Sheet, source: str) -> str:
    """Write the sheet (one transaction) and say what was done (InvalidInput for a bad source name)."""
    rows = kind.apply(sheet, source_name(source))
    return t("import_done").format(rows=rows, owners=sheet.rows[kind.owner].nunique())
