"""Stock units that count things hold whole numbers: in the demo data, the sheet import and the displays."""

from __future__ import annotations

import pandas as pd

import formats
from demo.facilities import SUPPLY_ITEMS
from exports import briefing_data, briefing_story
from exports.provenance import ExportView
from imports.stock import check_stock_sheet
from imports.tables import read_table
from queries import facilities
from tests.support import demo_window
from vocab import COUNTED_UNITS, MEASURED_UNITS, counts_things


def test_every_unit_the_demo_uses_is_either_counted_or_measured():
    assert not COUNTED_UNITS & MEASURED_UNITS
    for item, _, unit, *_ in SUPPLY_ITEMS:
        assert unit in COUNTED_UNITS | MEASURED_UNITS, f"{item}: unit {unit} is in neither list"
    # the boats, pumps and tents of the issue count things; tonnes and thousands of bags do not
    assert {"艘", "台", "顶", "件", "套", "张"} <= COUNTED_UNITS and {"吨", "千条"} <= MEASURED_UNITS


def test_demo_stock_of_counted_units_is_whole(demo_engines):
    lines = facilities.stock_lines(demo_engines("sqlite"))
    counted = lines[lines["unit"].map(lambda u: u in COUNTED_UNITS)]
    assert len(counted) and set(counted["unit"]) == {u for _, _, u, *_ in SUPPLY_ITEMS if u in COUNTED_UNITS}
    for column in ("quantity", "min_level"):
        fractional = counted[counted[column] != counted[column].round()]
        assert fractional.empty, fractional[["depot_code", "item", column, "unit"]].head().to_dict("records")
    assert (counted["min_level"] >= 1).all()  # a reserve of a counted item holds at least one


def test_the_import_names_a_fraction_of_a_counted_unit_on_its_line(demo_engines):
    units = facilities.stock_units(demo_engines("sqlite"))
    counted, other = [k for k, u in units.items() if counts_things(u)][:2]
    measured = next(k for k, u in units.items() if not counts_things(u))
    rows = [(*counted, "342.1", "5"), (*other, "342", "5.5"), (*measured, "12.5", "3.5")]
    body = "仓库编码,物资名称,数量,储备下限\n" + "\n".join(",".join(r) for r in rows) + "\n"
    sheet = check_stock_sheet(read_table(body.encode(), "stock.csv"), units)
    by_line = {p.line: str(p.message) for p in sheet.problems}
    assert by_line == {2: f"quantity 342.1 of {counted[1]} is not a whole number of {units[counted]}",
                       3: f"minimum 5.5 of {other[1]} is not a whole number of {units[other]}"}


def test_a_quantity_prints_whole_for_counted_units_and_with_a_decimal_otherwise():
    for value in (342.0, 1250.0, 0.0, 7.0):
        assert formats.fmt_quantity(value, "艘") == f"{int(value):,} 艘"
        assert formats.fmt_quantity(value + 0.25, "吨") == f"{value + 0.25:,.1f} 吨"
    assert formats.fmt_quantity(None, "台") == formats.MISSING


def test_the_briefing_prints_counted_stock_below_minimum_as_whole_numbers(demo_engines):
    engine = demo_engines("sqlite")
    data = briefing_data.collect(engine, ExportView("330200", demo_window()))
    table = next(t for s in briefing_story.story(data).sections for t in s.tables if t.key == "below_min")
    lines = data.stock[data.stock["below_min"]]
    assert len(table.rows) == len(lines) > 0
    expected = {(r.depot_name, r.item): (formats.fmt_quantity(r.quantity, r.unit),
                                         formats.fmt_quantity(r.min_level, r.unit))
                for r in lines.itertuples()}
    for depot, item, quantity, minimum in table.rows:
        assert (quantity, minimum) == expected[depot, item]
        unit = quantity.split()[-1]
        if counts_things(unit):
            assert "." not in quantity and "." not in minimum, (item, quantity, minimum)
    assert pd.notna(lines["quantity"]).all()
