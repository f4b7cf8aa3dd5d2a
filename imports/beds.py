"""Hospital bed counts from the health commission's spreadsheet: checked whole, then applied whole.

One row per hospital and bed type: 医院编码 (hospital code), 床位类型 (bed type: a code such as
icu or its label such as 重症监护(ICU)), 总床位 (total beds), 占用床位 (occupied beds). English
headers (hospital_code, bed_type, total, occupied) work too. Bed types a sheet leaves out keep
their counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from vocab import BED_TYPES

# Accepted headers of each column (compared without spaces, case-insensitively).
HEADERS = {
    "hospital_code": ("医院编码", "机构编码", "hospital_code", "hospital"),
    "bed_type": ("床位类型", "bed_type", "type"),
    "total": ("总床位", "床位总数", "编制床位", "total"),
    "occupied": ("占用床位", "已占用", "在用床位", "occupied"),
}
BED_TYPE_NAMES = {name.lower(): t.code for t in BED_TYPES for name in (t.code, t.zh, t.en)}


class Problem(NamedTuple):
    line: int | None  # the sheet's row number; None for the sheet as a whole
    text: str

    def __str__(self) -> str:
        return self.text if self.line is None else f"line {self.line}: {self.text}"


@dataclass
class BedSheet:
    """The rows that passed (hospital_code, bed_type, total, occupied) and what is wrong, by line."""

    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.rows.empty


def _find_columns(frame: pd.DataFrame) -> tuple[dict[str, str], list[Problem]]:
    by_text = {str(c).replace(" ", "").lower(): c for c in frame.columns}
    found, missing = {}, []
    for name, accepted in HEADERS.items():
        column = next((by_text[a.lower()] for a in accepted if a.lower() in by_text), None)
        if column is None:
            also = ", ".join(accepted[1:])
            missing.append(Problem(None, f"no column '{accepted[0]}' ({name}; also accepted: {also})"))
        else:
            found[name] = column
    return found, missing


def _count(text: str) -> int | None:
    cleaned = text.replace(",", "").replace("，", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return int(value) if value.is_integer() and value >= 0 else None


def _row_problems(row: dict, hospitals: set[str]) -> list[str]:
    problems = []
    if not row["hospital_code"]:
        problems.append("the hospital code is empty")
    elif row["hospital_code"] not in hospitals:
        problems.append(f"unknown hospital code '{row['hospital_code']}'")
    if row["bed_type"] is None:
        problems.append(f"unknown bed type '{row['bed_type_text']}': use one of "
                        f"{', '.join(f'{t.code} ({t.zh})' for t in BED_TYPES)}")
    for name in ("total", "occupied"):
        if row[name] is None:
            problems.append(f"{name} '{row[name + '_text']}' is not a whole number of beds (0 or more)")
    if row["total"] is not None and row["occupied"] is not None and row["occupied"] > row["total"]:
        problems.append(f"occupied {row['occupied']} is more than total {row['total']}")
    return problems


def check_bed_sheet(frame: pd.DataFrame, hospitals: set[str]) -> BedSheet:
    """Every problem of the sheet, each with its line; the checked rows when there are none."""
    columns, missing = _find_columns(frame)
    if missing:
        return BedSheet(pd.DataFrame(), missing)
    problems, rows, first_line = [], [], {}
    for record in frame.to_dict("records"):
        row = {
            "line": record["line"],
            "hospital_code": record[columns["hospital_code"]].strip(),
            "bed_type_text": record[columns["bed_type"]],
            "bed_type": BED_TYPE_NAMES.get(record[columns["bed_type"]].strip().lower()),
            **{f"{n}_text": record[columns[n]] for n in ("total", "occupied")},
            **{n: _count(record[columns[n]]) for n in ("total", "occupied")},
        }
        row_problems = _row_problems(row, hospitals)
        key = (row["hospital_code"], row["bed_type"])
        if not row_problems and key in first_line:
            row_problems.append(f"repeats line {first_line[key]} ({key[0]}, {key[1]})")
        first_line.setdefault(key, row["line"])
        problems += [Problem(row["line"], p) for p in row_problems]
        rows.append(row)
    if not rows:
        problems.append(Problem(None, "the sheet has a header but no rows of beds"))
    checked = pd.DataFrame(rows, columns=["line", "hospital_code", "bed_type", "total", "occupied"])
    return BedSheet(checked, problems)
