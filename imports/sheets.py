"""Checking a department's sheet against a column spec: every problem named by its line, or clean rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from errors import ByLanguage, InvalidInput, Message


class Problem(NamedTuple):
    line: int | None  # the sheet's row number; None for the sheet as a whole
    message: Message  # rendered where it is shown: the import page in the view's language, the CLI in English

    def __str__(self) -> str:
        return str(self.message) if self.line is None else f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Column:
    """A column of the sheet: the field it fills, the headers it may have (the first is the one
    named in messages), how a cell becomes a value (None when it cannot) and what to say then."""

    name: str
    headers: tuple[str, ...]
    parse: Callable[[str], object | None]
    wrong: str  # the key of what to say, e.g. "sheet.total_not_a_count"; its {value} is the cell's text
    hint: Mapping[str, object] = field(default_factory=dict)  # the message's other values (e.g. the choices)
    vocabulary: str | None = None  # cells are codes of this vocabulary (messages show their label)

    def shown(self, value: object) -> object:
        return Message(f"{self.vocabulary}.{value}") if self.vocabulary else value

    def headers_by_language(self) -> tuple[ByLanguage, ByLanguage]:
        """The header a message names in each language (the Chinese one, the field's English name) and the
        others of that language a sheet may use instead."""
        chinese = [h for h in self.headers if not h.isascii()]
        english = [self.name] + [h for h in self.headers if h.isascii() and h != self.name]
        also = {lang: Message("sheet.also_accepted", headers=separator.join(others)) if others else ""
                for lang, others, separator in (("zh", chinese[1:], "、"), ("en", english[1:], ", "))}
        return ByLanguage(zh=chinese[0], en=english[0]), ByLanguage(also)


@dataclass
class Sheet:
    """The rows that passed (a `line` column and one per spec column) and what is wrong."""

    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.rows.empty


RowRule = Callable[[dict], list[Message]]  # problems of a row whose cells all parsed


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
            named, also = column.headers_by_language()
            missing.append(Problem(None, Message("sheet.no_column", header=named, also=also)))
        else:
            found[column.name] = header
    return found, missing


def check_sheet(frame: pd.DataFrame, columns: tuple[Column, ...], rule: RowRule, key: tuple[str, str]) -> Sheet:
    """Every problem of the sheet (cells that do not parse, the rule's, lines repeating a key)."""
    headers, missing = _find_columns(frame, columns)
    if missing:
        return Sheet(pd.DataFrame(), missing)
    by_name = {column.name: column for column in columns}
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    first_line: dict[tuple[Any, ...], int] = {}
    for record in frame.to_dict("records"):
        row = {"line": record["line"]}
        row_problems: list[Message] = []
        for column in columns:
            cell = str(record[headers[column.name]])
            row[column.name] = column.parse(cell)
            if row[column.name] is None:
                row_problems.append(Message(column.wrong, value=cell, **column.hint))
        if not row_problems:
            row_problems = rule(row)
        identity = tuple(row[k] for k in key)
        if not row_problems and identity in first_line:
            shown = [by_name[k].shown(row[k]) for k in key]
            row_problems.append(Message("sheet.repeats_line", line=first_line[identity], first=shown[0],
                                        second=shown[1]))
        first_line.setdefault(identity, row["line"])
        problems += [Problem(row["line"], p) for p in row_problems]
        rows.append(row)
    if not rows:
        problems.append(Problem(None, Message("sheet.no_rows")))
    return Sheet(pd.DataFrame(rows, columns=["line", *(c.name for c in columns)]), problems)


SOURCE_MAX = 64  # the facility tables' source column


def source_name(value: str) -> str:
    """Who sent the figures, as stored with them."""
    name = value.strip()
    if not name:
        raise InvalidInput(Message("sheet.no_source"))
    if len(name) > SOURCE_MAX:
        raise InvalidInput(Message("sheet.source_too_long", length=len(name), most=SOURCE_MAX))
    return name
