"""Supply depot stock from the emergency management bureau's sheet.

One row per depot and item: 仓库编码 (depot code), 物资名称 (item, as the depot lists it, e.g.
帐篷), 数量 (quantity, in the item's unit), optionally 储备下限 (the minimum to hold). English
headers (depot_code, item, quantity, min_level) work too. Items a sheet leaves out keep their stock.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from errors import Message
from imports.sheets import Column, Sheet, check_sheet, quantity, text
from vocab import counts_things

COLUMNS = (
    Column("depot_code", ("仓库编码", "储备库编码", "depot_code", "depot"), text, "sheet.no_depot_code"),
    Column("item", ("物资名称", "物资", "item"), text, "sheet.no_item"),
    Column("quantity", ("数量", "库存", "quantity"), quantity, "sheet.quantity_not_a_number"),
)
MIN_LEVEL = Column("min_level", ("储备下限", "最低储备", "min_level"), quantity, "sheet.min_level_not_a_number")


def has_min_level(frame: pd.DataFrame) -> bool:
    headers = {str(c).replace(" ", "").lower() for c in frame.columns}
    return any(h.lower() in headers for h in MIN_LEVEL.headers)


def _not_whole(row: dict, unit: str) -> list[Message]:
    """A fraction of a counted unit (342.5 boats): named, not rounded, since the sheet may be wrong either way."""
    if not counts_things(unit):
        return []
    return [Message(f"sheet.{field}_not_whole", value=f"{row[field]:g}", item=row["item"], unit=unit)
            for field in ("quantity", "min_level") if field in row and not float(row[field]).is_integer()]


def check_stock_sheet(frame: pd.DataFrame, held: Mapping[tuple[str, str], str]) -> Sheet:
    """Every problem of the sheet, each with its line; `held`: the unit of each (depot, item) that exists."""
    depots = {depot for depot, _ in held}

    def rule(row: dict) -> list[Message]:
        if row["depot_code"] not in depots:
            return [Message("sheet.unknown_depot", code=row["depot_code"])]
        if (row["depot_code"], row["item"]) not in held:
            return [Message("sheet.depot_holds_no_item", depot=row["depot_code"], item=row["item"])]
        return _not_whole(row, held[row["depot_code"], row["item"]])

    columns = (*COLUMNS, MIN_LEVEL) if has_min_level(frame) else COLUMNS
    return check_sheet(frame, columns, rule, key=("depot_code", "item"))
