"""Hospital bed counts from the health commission's sheet.

One row per hospital and bed type: 医院编码 (hospital code), 床位类型 (bed type: a code such as
icu or its label such as 重症监护(ICU)), 总床位 (total beds), 占用床位 (occupied beds). English
headers (hospital_code, bed_type, total, occupied) work too. Bed types a sheet leaves out keep
their counts.
"""

from __future__ import annotations

import pandas as pd

from imports.sheets import Column, Sheet, check_sheet, count, text
from vocab import BED_TYPES

BED_TYPE_NAMES = {name.lower(): t.code for t in BED_TYPES for name in (t.code, t.zh, t.en)}
BED_TYPE_CHOICES = ", ".join(f"{t.code} ({t.zh})" for t in BED_TYPES)
COLUMNS = (
    Column("hospital_code", ("医院编码", "机构编码", "hospital_code", "hospital"), text, "the hospital code is empty"),
    Column("bed_type", ("床位类型", "bed_type", "type"), lambda v: BED_TYPE_NAMES.get(v.strip().lower()),
           "unknown bed type '{value}': use one of " + BED_TYPE_CHOICES),
    Column("total", ("总床位", "床位总数", "编制床位", "total"), count,
           "total '{value}' is not a whole number of beds (0 or more)"),
    Column("occupied", ("占用床位", "已占用", "在用床位", "occupied"), count,
           "occupied '{value}' is not a whole number of beds (0 or more)"),
)


def check_bed_sheet(frame: pd.DataFrame, hospitals: set[str]) -> Sheet:
    """Every problem of the sheet, each with its line; the checked rows when there are none."""

    def rule(row: dict) -> list[str]:
        problems = []
        if row["hospital_code"] not in hospitals:
            problems.append(f"unknown hospital code '{row['hospital_code']}'")
        if row["occupied"] > row["total"]:
            problems.append(f"occupied {row['occupied']} is more than total {row['total']}")
        return problems

    return check_sheet(frame, COLUMNS, rule, key=("hospital_code", "bed_type"))
