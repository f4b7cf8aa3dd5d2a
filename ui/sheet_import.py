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
    before_and_after: Callable[[Sheet], Preview]
    apply: Callable[[Sheet, str, bool], facilities.Applied]  # sheet, source, confirm_unchanged
    owner: str  # the column naming the facility (hospitals, depots)


def _header(column: Column) -> str:
    """The column's header in the view's language (the check reads either language's)."""
    return str(column.headers_by_language()[0][current_language()])

@dataclass(frozen=True)
class Preview:
    """The sheet beside today's figures, the lines that change first (queries.facilities says what
    "changed" means); `marks` is True on the cells that change, in the table's shape."""

    table: pd.DataFrame
    marks: pd.DataFrame
    changed: int
    same: int

    def cell_css(self) -> pd.DataFrame:
        """Each changing cell highlighted (the Change column says in words what changes)."""
        return self.marks.map(lambda changes: CHANGED_CELL if changes else "")


CHANGED_CELL = "background-color: #ffe8a3; font-weight: 600"


def _preview(compared: pd.DataFrame, identity: dict[str, pd.Series], figures: tuple[str, ...]) -> Preview:
    pairs = {label: column for f in figures
             for label, column in _pair(f, compared[f"{f}_before"], compared[f]).items()}
    table = pd.DataFrame({**identity, t("import_change"): _change_text(compared, figures), **pairs})
    marks = pd.DataFrame(False, index=table.index, columns=table.columns)
    marks[t("import_change")] = compared["changed"]
    for figure in figures:
        marks[_after(figure)] = compared[f"{figure}_changed"]
    first = compared["changed"].sort_values(ascending=False, kind="stable").index  # changed lines, in sheet order
    changed = int(compared["changed"].sum())
    return Preview(table.loc[first].reset_index(drop=True), marks.loc[first].reset_index(drop=True),
                   changed, len(compared) - changed)


def _change_text(compared: pd.DataFrame, figures: tuple[str, ...]) -> pd.Series:
    """What changes on each line, in words: the changed figures, "new line", or "unchanged"."""
    def words(row: pd.Series) -> str:
        if all(pd.isna(row[f"{f}_before"]) for f in figures):
            return t("import_new_line")
        return t("import_figure_separator").join(t(f) for f in figures if row[f"{f}_changed"]) or t("import_same")

    return compared.apply(words, axis=1)


def _beds_template() -> pd.DataFrame:
    current = facilities.bed_counts(data.get_engine())
    code, bed_type, total, occupied = (_header(c) for c in beds.COLUMNS)
    return pd.DataFrame({code: current["hospital_code"], t("name"): current["name"],
                         bed_type: current["bed_type"].map(lambda c: term("bed_type", c)),
                         total: current["total"], occupied: current["occupied"]})


def _beds_before_and_after(sheet: Sheet) -> Preview:
    compared = facilities.bed_changes(data.get_engine(), sheet.rows)
    return _preview(compared, {
        t("import_line"): compared["line"], t("code"): compared["hospital_code"], t("name"): compared["name"],
        t("bed_type"): compared["bed_type"].map(lambda code: term("bed_type", code))}, facilities.BED_FIGURES)


def _apply_beds(sheet: Sheet, source: str, confirm_unchanged: bool) -> facilities.Applied:
    done = facilities.apply_bed_counts(data.get_engine(), sheet.rows, source, now_utc(),
                                       confirm_unchanged=confirm_unchanged)
    data.hospitals.clear()  # the Resources page and the wall show the new counts at once
    return done


def _stock_template() -> pd.DataFrame:
    current = facilities.stock_lines(data.get_engine())
    depot, item, quantity = (_header(c) for c in stock.COLUMNS)
    return pd.DataFrame({depot: current["depot_code"], t("name"): current["depot_name"], item: current["item"],
                         quantity: current["quantity"], t("unit"): current["unit"],
                         _header(stock.MIN_LEVEL): current["min_level"]})


def _stock_before_and_after(sheet: Sheet) -> Preview:
    compared = facilities.stock_changes(data.get_engine(), sheet.rows)
    return _preview(compared, {
        t("import_line"): compared["line"], t("code"): compared["depot_code"], t("name"): compared["depot_name"],
        t("item"): compared["item"], t("unit"): compared["unit"]}, facilities.stock_figures(sheet.rows))


def _apply_stock(sheet: Sheet, source: str, confirm_unchanged: bool) -> facilities.Applied:
    done = facilities.apply_stock(data.get_engine(), sheet.rows, source, now_utc(),
                                  confirm_unchanged=confirm_unchanged)
    data.stock.clear()
    return done


def _after(label: str) -> str:
    return f"{t(label)} ({t('after')})"


def _pair(label: str, before: pd.Series, after: pd.Series) -> dict[str, pd.Series]:
    return {f"{t(label)} ({t('before')})": before, _after(label): after}


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


def before_and_after(kind: SheetKind, sheet: Sheet) -> Preview:
    return kind.before_and_after(sheet)


def apply(kind: SheetKind, sheet: Sheet, source: str, *, confirm_unchanged: bool = False) -> str:
    """Write the sheet (one transaction) and say what was done (InvalidInput for a bad source name)."""
    done = kind.apply(sheet, source_name(source), confirm_unchanged)
    said = [t("import_done_changed", changed=done.changed, facilities=done.facilities)]
    if done.confirmed:
        said.append(t("import_done_confirmed", confirmed=done.confirmed))
    if done.same:
        said.append(t("import_done_same", same=done.same))
    return " ".join(said)
