"""What the Data import page does with a bed sheet: check it, show before and after, apply it."""

from __future__ import annotations

import pandas as pd

from clock import now_utc
from exports.tables import csv_bytes
from imports.beds import BedSheet, check_bed_sheet
from imports.tables import read_table
from queries import facilities
from ui import data
from ui.i18n import t, term

TEMPLATE_HEADERS = {"hospital_code": "医院编码", "name": "医院名称", "bed_type": "床位类型", "total": "总床位",
                    "occupied": "占用床位"}


def template_csv() -> bytes:
    """Today's counts in the sheet's own layout: the data officer edits the numbers and sends it back."""
    current = facilities.bed_counts(data.get_engine())[list(TEMPLATE_HEADERS)]
    return csv_bytes(current.rename(columns=TEMPLATE_HEADERS))


def check(content: bytes, filename: str) -> BedSheet:
    """The sheet checked against the hospitals in the database (InvalidInput for an unreadable file)."""
    return check_bed_sheet(read_table(content, filename), facilities.hospital_codes(data.get_engine()))


def before_and_after(sheet: BedSheet) -> pd.DataFrame:
    current = facilities.bed_counts(data.get_engine(), sorted(sheet.rows["hospital_code"].unique()))
    merged = sheet.rows.merge(current, on=["hospital_code", "bed_type"], how="left", suffixes=("", "_before"))
    return pd.DataFrame({
        t("import_line"): merged["line"], t("code"): merged["hospital_code"], t("name"): merged["name"],
        t("bed_type_label"): merged["bed_type"].map(lambda code: term("bed_type", code)),
        f"{t('total')} ({t('before')})": merged["total_before"], f"{t('total')} ({t('after')})": merged["total"],
        f"{t('occupied')} ({t('before')})": merged["occupied_before"],
        f"{t('occupied')} ({t('after')})": merged["occupied"],
    })


def apply(sheet: BedSheet, source: str) -> str:
    """Write the sheet (one transaction) and say what was done."""
    rows = facilities.apply_bed_counts(data.get_engine(), sheet.rows, source.strip() or "—", now_utc())
    data.hospitals.clear()  # the Resources page and the wall show the new counts at once
    return t("import_done").format(rows=rows, hospitals=sheet.rows["hospital_code"].nunique())
