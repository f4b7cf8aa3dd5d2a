"""Hospital bed counts from the health commission's sheet.

One row per hospital and bed type: 医院编码 (hospital code), 床位类型 (bed type: a code such as
icu or its label such as 重症监护(ICU)), 总床位 (total beds), 占用床位 (occupied beds). English
headers (hospital_code, bed_type, total, occupied) work too. Bed types a sheet leaves out keep
their counts.
"""

from __future__ import annotations

import pandas as pd

from errors import Message
from imports.sheets import Column, Sheet, check_sheet, count, text
from vocab import BED_TYPES

BED_TYPE_NAMES = {name.lower(): t.code for t in BED_TYPES for name in (t.code, t.zh, t.en)}
COLUMNS = (
    Column("hospital_code", ("医院编码", "机构编码", "hospital_code", "hospital"), text, "sheet.no_hospital_code"),
    Column("bed_type", ("床位类型", "bed_type", "type"), lambda v: BED_TYPE_NAMES.get(v.strip().lower()),
           "sheet.unknown_bed_type", {"choices": tuple(Message(t.key) for t in BED_TYPES)}, "bed_type"),
    Column("total", ("总床位", "床位总数", "编制床位", "total"), count, "sheet.total_not_a_count"),
    Column("occupied", ("占用床位", "已占用", "在用床位", "occupied"), count, "sheet.occupied_not_a_count"),
)


def check_bed_sheet(frame: pd.DataFrame, hospitals: set[str]) -> Sheet:
    """Every problem of the sheet, each with its line; the checked rows when there are none."""

    def rule(row: dict) -> list[Message]:
        problems = []
        if row["hospital_code"] not in hospitals:
            problems.append(Message("sheet.unknown_hospital", code=row["hospital_code"]))
        if row["occupied"] > row["total"]:
            problems.append(Message("sheet.occupied_above_total", occupied=row["occupied"], total=row["total"]))
        return problems

    return check_sheet(frame, COLUMNS, rule, key=("hospital_code", "bed_type"))
