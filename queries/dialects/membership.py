"""`column IN (subquery)` written the way each database's planner reads it as index seeks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class InSubquery(ColumnElement[bool]):
    """column IN (select of one column).

    SQLite seeks the column's index once per value of the subquery (a LIST SUBQUERY). PostgreSQL plans
    `IN (subquery)` as a join, and with a few thousand values estimated it hashes the subquery and scans
    the whole table, however long its history; `= ANY(ARRAY(subquery))` is computed first (an InitPlan),
    and the array is then an index condition: one descent per value.
    """

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a comparison already: SQLite must not get `... = 1` appended in a WHERE
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("select", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], select: sa.Select[Any]) -> None:
        self.column = column
        self.select = select


@compiles(InSubquery)
def _in_subquery(element: InSubquery, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} IN ({compiler.process(element.select, **kw)})"


@compiles(InSubquery, "postgresql")
def _any_array(element: InSubquery, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY({compiler.process(element.select, **kw)}))"
