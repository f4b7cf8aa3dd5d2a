"""Scopes: an area code resolved to its level and ancestors, and the filter that keeps rows inside."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from codes import is_area_code, prefix_inside
from errors import Message, UnknownArea
from queries.engine import jurisdiction_of_connection
from queries.schema import area
from vocab import LEVELS

CHILD_LEVEL = dict(zip(LEVELS, LEVELS[1:] + (None,), strict=True))
LEVEL_COLUMN = {
    "district": "district_code",
    "street": "street_code",
    "community": "community_code",
    "grid": "grid_code",
}


@dataclass(frozen=True)
class Scope:
    code: str
    level: str
    name: str
    parent_code: str | None
    population: int
    households: int

    @property
    def child_level(self) -> str | None:
        return CHILD_LEVEL[self.level]

    @property
    def prefix(self) -> str:
        """The prefix of every area code inside the scope (codes.prefix_inside)."""
        return prefix_inside(self.code, self.level)


def resolve(conn: sa.Connection, code: str) -> Scope:
    """The scope of an area code; UnknownArea when there is no such area, OutsideJurisdiction when the
    connection reads within a jurisdiction (queries.engine.within) that does not cover it."""
    code = str(code).strip()
    if not is_area_code(code):
        raise UnknownArea(Message("area.not_a_code", code=code))
    row = conn.execute(
        sa.select(area.c.code, area.c.level, area.c.name, area.c.parent_code, area.c.population,
                  area.c.households).where(area.c.code == code)
    ).first()
    if row is None:  # before the jurisdiction: an unknown code is a mistyped link, said as such to anyone
        raise UnknownArea(Message("area.unknown", code=code))
    jurisdiction = jurisdiction_of_connection(conn)
    if jurisdiction is not None:
        jurisdiction.check(code)
    return Scope(*row)


def inside(table: sa.Table, scope: Scope) -> sa.ColumnElement[bool]:
    """SQL condition keeping rows of a table with ancestor codes inside the scope."""
    if scope.level == "city":
        return table.c.district_code.like(f"{scope.prefix}%")
    return table.c[LEVEL_COLUMN[scope.level]] == scope.code
