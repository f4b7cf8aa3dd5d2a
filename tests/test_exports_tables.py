"""CSV/XLSX exports: formula injection neutralised, numbers kept as numbers; provenance and file names."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from clock import now_utc
from exports.provenance import ExportView, Provenance, provenance_for
from exports.tables import csv_bytes, neutralise, xlsx_bytes
from queries.incidents import Filters, Window, incident_counts_by_child
from queries.schema import area, incident

CRAFTED = ['=HYPERLINK("http://x","点我")', "+1+2", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd", "  =1+1"]
SAFE = ["鄞州区", "a=b", "溪光社区", "12345热线"]


def _window() -> Window:
    end = now_utc()
    return Window(end - timedelta(hours=49), end + timedelta(hours=1))


def _provenance(**changes: Any) -> Provenance:
    base: dict[str, Any] = dict(
        scope_code="330212",
        scope_path=("宁波市", "鄞州区"),
        level="district",
        window=Window(datetime(2026, 11, 21, 2), datetime(2026, 11, 22, 2)),
        window_key="24h",
        read_at=datetime(2026, 11, 22, 1, 30),
    )  # 09:30 in Ningbo
    return Provenance(**(base | changes))


def _frame() -> pd.DataFrame:
    names = CRAFTED + SAFE
    return pd.DataFrame(
        {
            "name": names,
            "incidents": range(len(names)),
            "delta": [-3, 2.5, -0.5, 7, 0, 1, 2, -1, 4, 5, 6],
            "rate": [0.5, None, 1.0, 0.25, 0.0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7],
        }
    )


@pytest.mark.parametrize("value", CRAFTED)
def test_neutralise_prefixes_formula_starts(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [*SAFE, -3, 2.5, None])
def test_neutralise_leaves_safe_values(value):
    assert neutralise(value) == value


def test_csv_neutralises_crafted_names_and_keeps_numbers():
    frame = _frame()
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8-sig"), newline="")))
    assert rows[0] == ["name", "incidents", "delta", "rate"]
    body = rows[1:]
    assert [r[0] for r in body] == ["'" + v for v in CRAFTED] + SAFE
    # numbers are written as plain numbers, negative ones included (no apostrophe)
    assert [float(r[2]) for r in body] == list(frame["delta"])
    assert [int(r[1]) for r in body] == list(frame["incidents"])
    assert body[1][3] == ""  # a missing value is an empty cell


def test_xlsx_neutralises_crafted_names_and_keeps_numbers():
    frame = _frame()
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, _provenance())))
    sheet = book.worksheets[0]
    cells = list(sheet.iter_rows(min_row=2, values_only=False))
    assert [r[0].value for r in cells] == ["'" + v for v in CRAFTED] + SAFE
    assert all(r[0].data_type == "s" for r in cells)
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    assert [r[2].value for r in cells] == list(frame["delta"])
    assert all(r[2].data_type == "n" for r in cells)
    assert cells[1][3].value is None
    about = dict(book.worksheets[1].iter_rows(values_only=True))
    assert about["范围"] == "宁波市·鄞州区 (330212)"


def test_csv_starts_with_provenance_lines():
    text = csv_bytes(_frame(), _provenance(scenario="=台风预案")).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("# 范围: 宁波市·鄞州区 (330212)")
    assert any(line.startswith("# 推演方案: =台风预案") for line in lines)
    header = lines.index("name,incidents,delta,rate")
    assert lines[header - 1] == ""


def test_file_name_rule():
    assert _provenance().file_name("简报", "pdf") == "宁波市-鄞州区-2026-11-22-简报.pdf"
    # 17:30 UTC is already the next day in Ningbo
    late = _provenance(read_at=datetime(2026, 11, 22, 17, 30))
    assert late.file_name("简报", "pptx") == "宁波市-鄞州区-2026-11-23-简报.pptx"
    odd = _provenance(scope_path=("宁波市", "a/b:c*"), scenario="台风-梅花-预案A")
    assert odd.file_name("地图", ".png") == "宁波市-a_b_c_-2026-11-22-台风-梅花-预案A-地图.png"


def test_provenance_texts():
    stamp = _provenance(
        filters=Filters(categories=("fire",), sources=("hotline_12345",)), scenario="台风-梅花-预案A"
    ).stamp()
    assert "范围: 宁波市·鄞州区 (330212)" in stamp
    assert "时间范围: 2026-11-21 10:00 至 2026-11-22 10:00（近24小时）" in stamp
    assert "筛选条件: 类别: 消防安全; 来源: 12345热线" in stamp
    assert "推演方案: 台风-梅花-预案A" in stamp
    english = _provenance(lang="en").stamp()
    assert "Scope: 宁波市·鄞州区 (330212)" in english and "Scenario: baseline" in english


def test_provenance_for_a_community(engine):
    with engine.connect() as conn:
        (code,) = conn.execute(sa.select(incident.c.community_code).limit(1)).one()
        names = [
            conn.execute(sa.select(area.c.name).where(area.c.code == c)).scalar_one()
            for c in (code[:6], code[:9], code)
        ]
        city = conn.execute(sa.select(area.c.name).where(area.c.level == "city")).scalar_one()
        latest = conn.execute(
            sa.select(sa.func.max(incident.c.reported_at)).where(incident.c.community_code == code)
        ).scalar_one()
    provenance = provenance_for(engine, ExportView(code, _window()))
    assert provenance.scope_path == (city, *names)
    assert provenance.level == "community"
    assert pd.Timestamp(provenance.latest_incident) == pd.Timestamp(latest)
    assert provenance.dataset_note  # the demo database says it is synthetic


def test_crafted_area_name_from_the_query_layer_is_neutralised(engine):
    counts = incident_counts_by_child(engine, "330200", window=_window())
    counts.loc[0, "name"] = "=cmd|' /C calc'!A0"
    rows = list(csv.reader(io.StringIO(csv_bytes(counts).decode("utf-8-sig"), newline="")))
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(counts))).worksheets[0]
    assert sheet["B2"].value == "'=cmd|' /C calc'!A0" and sheet["B2"].data_type == "s"
    assert [c.value for c in sheet["D"][1:]] == list(counts["incidents"])
