"""Checking a department's sheet against a column spec: every problem named by its line, or clean rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from errors import InvalidInput


class Problem(NamedTuple):
    line: int | None  # the sheet's row number; None for the sheet as a whole
    text: str

    def __str__(self) -> str:
        return self.text if self.line is None else f"line {self.line}: {self.text}"


@dataclass(frozen=True)
class Column:
    """A column of the sheet: the field it fills, the headers it may have (the first is the one
    named in messages), how a cell becomes a value (None when it cannot) and what to say then."""

    name: str
    headers: tuple[str, ...]
    parse: Callable[[str], object | None]
    wrong: str  # e.g. "{value!r} is not a whole number"; {value} is the cell's text


@dataclass
class Sheet:
    """The rows that passed (a `line` column and one per spec column) and what is wrong."""

    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.rows.empty


RowRule = Callable[[dict], list[str]]  # problems of a row whose cells all parsed


def text(value: str) -> str | None:
    return value.strip() or None


def count(value: str) -> int | None:
    """A whole number, 0 or more; thousands separators allowed (1,200)."""
    amount = quantity(value)
    return int(amount) if amount is not None and amount.is_integer() else None


def quantity(value: str) -> float | None:
    """A number, 0 or more; thousands separators allowed."""
    try:
        amount = float(value.replace(",", "").replace("，", "").strip())
    except ValueError:
        return None
    return amount if amount >= 0 else None


def _find_columns(frame: pd.DataFrame, columns: tuple[Column, ...]) -> tuple[dict[str, str], list[Problem]]:
    by_text = {str(c).replace(" ", "").lower(): c for c in frame.columns}
    found, missing = {}, []
    for column in columns:
        header = next((by_text[h.lower()] for h in column.headers if h.lower() in by_text), None)
        if header is None:
            also = ", ".join(column.headers[1:])
            missing.append(Problem(None, f"no column '{column.headers[0]}' ({column.name}; also accepted: {also})"))
        else:
            found[column.name] = header
    return found, missing


def check_sheet(frame: pd.DataFrame, columns: tuple[Column, ...], rule: RowRule, key: tuple[str, ...]) -> Sheet:
    """Every problem of the sheet (cells that do not parse, the rule's, lines repeating a key)."""
    headers, missing = _find_columns(frame, columns)
    if missing:
        return Sheet(pd.DataFrame(), missing)
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    first_line: dict[tuple[Any, ...], int] = {}
    for record in frame.to_dict("records"):
        row = {"line": record["line"]}
        row_problems = []
        for column in columns:
            cell = str(record[headers[column.name]])
            row[column.name] = column.parse(cell)
            if row[column.name] is None:
                row_problems.append(column.wrong.format(value=cell))
        if not row_problems:
            row_problems = rule(row)
        identity = tuple(row[k] for k in key)
        if not row_problems and identity in first_line:
            row_problems.append(f"repeats line {first_line[identity]} ({', '.join(map(str, identity))})")
        first_line.setdefault(identity, row["line"])
        problems += [Problem(row["line"], p) for p in row_problems]
        rows.append(row)
    if not rows:
        problems.append(Problem(None, "the sheet has a header but no rows"))
    return Sheet(pd.DataFrame(rows, columns=["line", *(c.name for c in columns)]), problems)


SOURCE_MAX = 64  # the facility tables' source column


def source_name(value: str) -> str:
    """Who sent the figures, as stored with them."""
    name = value.strip()
    if not name:
        raise InvalidInput("name the source of the figures (e.g. 市卫健委)")
    if len(name) > SOURCE_MAX:
        raise InvalidInput(f"the source name is {len(name)} characters long; use at most {SOURCE_MAX}")
    return name
