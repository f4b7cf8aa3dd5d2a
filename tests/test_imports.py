"""Importing hospital bed counts from a department's sheet: every bad line named, all lines or none."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

import cli
from clock import now_utc
from errors import InvalidInput
from imports.beds import check_bed_sheet
from imports.tables import read_table
from queries import facilities
from settings import get_settings
from tests.support import demo_engine

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "imports.py")
HEADER = ["医院编码", "床位类型", "总床位", "占用床位"]
_built: dict[str, sa.Engine] = {}


@pytest.fixture
def writable(backend, tmp_path_factory) -> sa.Engine:
    """A small demo database of this module's own (the imports change it), one per backend."""
    if backend not in _built:
        _built[backend] = demo_engine(backend, tmp_path_factory.mktemp(f"imports-{backend}"), days=0.02)
    return _built[backend]


def snapshot(engine: sa.Engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        return {
            "beds": pd.read_sql(sa.text("SELECT * FROM hospital_beds ORDER BY hospital_code, bed_type"), conn),
            "hospitals": pd.read_sql(sa.text("SELECT code, last_updated, source FROM hospital ORDER BY code"), conn),
        }


def csv_file(tmp_path: Path, rows: list[list], encoding: str = "gbk", name: str = "beds.csv") -> Path:
    path = tmp_path / name
    text = "\n".join(",".join(f'"{c}"' if "," in str(c) else str(c) for c in row) for row in [HEADER, *rows])
    path.write_bytes(text.encode(encoding))
    return path


def xlsx_bytes(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in [HEADER, *rows]:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def two_hospitals(engine: sa.Engine) -> list[str]:
    return sorted(facilities.hospital_codes(engine))[:2]


def test_a_gbk_csv_and_an_xlsx_of_the_same_sheet_read_alike(tmp_path):
    rows = [["H0001", "重症监护(ICU)", 50, 45], ["", "", "", ""], ["H0002", "icu", "1,200", 3]]
    from_csv = read_table(csv_file(tmp_path, rows).read_bytes(), "beds.csv")
    from_xlsx = read_table(xlsx_bytes(rows), "床位.xlsx")
    pd.testing.assert_frame_equal(from_csv, from_xlsx)
    assert from_csv["line"].tolist() == [2, 4]  # the blank row is skipped; lines are the sheet's
    assert from_csv.loc[1, "总床位"] == "1,200"


@pytest.mark.parametrize(("content", "name", "fix"), [
    (b"", "beds.csv", "empty"),
    (b"PK\x03\x04 not really a workbook", "beds.xlsx", "save it again as .xlsx"),
    (b"\xff\xfe\xff\xfe", "beds.csv", "neither UTF-8 nor GBK"),
    (b"a,b", "beds.xls", "saved as .xlsx"),
    (b"\n\n", "beds.csv", "first row must name the columns"),
])
def test_an_unreadable_file_says_what_to_fix(content, name, fix):
    with pytest.raises(InvalidInput, match=fix):
        read_table(content, name)


def test_a_sheet_without_the_columns_names_the_ones_it_needs():
    frame = pd.DataFrame({"line": [2], "医院编码": ["H0001"], "类型": ["icu"], "总床位": ["5"], "占用": ["1"]})
    sheet = check_bed_sheet(frame, {"H0001"})
    assert not sheet.ok
    assert [str(p) for p in sheet.problems] == [
        "no column '床位类型' (bed_type; also accepted: bed_type, type)",
        "no column '占用床位' (occupied; also accepted: 已占用, 在用床位, occupied)"]


def test_every_bad_line_is_named_and_nothing_is_written(writable, tmp_path, capsys):
    first, second = two_hospitals(writable)
    before = snapshot(writable)
    sheet = csv_file(tmp_path, [
        [first, "重症监护(ICU)", 50, 45],  # line 2: right
        ["H9999", "普通床位", 10, 2],  # line 3
        [second, "beds", "x", -1],  # line 4
        [second, "急诊", 5, 9],  # line 5
        [first, "ICU", 60, 1],  # line 6: the same hospital and type as line 2
        ["=HYPERLINK(\"x\")", "icu", 1, 1],  # line 7
    ])
    assert cli.main(["import-beds", str(sheet), "--database-url", writable.url.render_as_string(False)]) == 1
    printed = capsys.readouterr().err
    for expected in ("line 3: unknown hospital code 'H9999'", "line 4: unknown bed type 'beds'",
                     "line 4: total 'x' is not a whole number", "line 4: occupied '-1' is not a whole number",
                     "line 5: occupied 9 is more than total 5", f"line 6: repeats line 2 ({first}, icu)",
                     "line 7: unknown hospital code", "7 problem(s); nothing was imported"):
        assert expected in printed
    assert "line 2:" not in printed
    after = snapshot(writable)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


def test_a_right_sheet_sets_the_counts_and_stamps_the_hospitals(writable, tmp_path, capsys):
    first, second = two_hospitals(writable)
    before, started = snapshot(writable), now_utc().replace(microsecond=0)
    rows = [[first, "重症监护(ICU)", 88, 80], [first, "general", "1,500", 1200],
            [second, "Emergency department", 30, 0]]
    path = tmp_path / "beds.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    url = writable.url.render_as_string(False)
    assert cli.main(["import-beds", str(path), "--database-url", url, "--source", "市卫健委"]) == 0
    assert "set 3 bed counts of 2 hospitals" in capsys.readouterr().out
    got = facilities.bed_counts(writable, [first, second]).set_index(["hospital_code", "bed_type"])
    assert got.loc[(first, "icu"), ["total", "occupied"]].tolist() == [88, 80]
    assert got.loc[(first, "general"), ["total", "occupied"]].tolist() == [1500, 1200]
    assert got.loc[(second, "emergency"), ["total", "occupied"]].tolist() == [30, 0]
    stamped = got.reset_index().drop_duplicates("hospital_code")
    assert (stamped["source"] == "市卫健委").all()
    assert (pd.to_datetime(stamped["last_updated"]) >= pd.Timestamp(started)).all()
    # The rest is as it was: the other bed types of these hospitals and every other hospital.
    after = snapshot(writable)
    changed = {(first, "icu"), (first, "general"), (second, "emergency")}
    keys = list(zip(after["beds"]["hospital_code"], after["beds"]["bed_type"], strict=True))
    unchanged = [key not in changed for key in keys]
    pd.testing.assert_frame_equal(before["beds"][unchanged].reset_index(drop=True),
                                  after["beds"][unchanged].reset_index(drop=True))
    others = ~after["hospitals"]["code"].isin([first, second])
    pd.testing.assert_frame_equal(before["hospitals"][others], after["hospitals"][others])
    # What the Resources page reads shows the new counts.
    city = facilities.hospitals_in_scope(writable, get_settings().city_code).set_index("code")
    assert city.loc[first, "icu_total"] == 88 and city.loc[second, "emergency_occupied"] == 0


def test_check_only_changes_nothing(writable, tmp_path, capsys):
    first, _ = two_hospitals(writable)
    before = snapshot(writable)
    path = csv_file(tmp_path, [[first, "isolation", 12, 3]], encoding="utf-8")
    url = writable.url.render_as_string(False)
    assert cli.main(["import-beds", str(path), "--database-url", url, "--check"]) == 0
    assert "1 bed counts of 1 hospitals are ready" in capsys.readouterr().out
    after = snapshot(writable)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


@pytest.fixture
def import_page(writable, monkeypatch) -> Iterator[AppTest]:
    """The Data import page on this module's database (the page file itself: AppTest loses button
    clicks of a page reached through app.py's st.navigation)."""
    monkeypatch.setenv("DATABASE_URL", writable.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    yield app
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def test_the_import_page_shows_the_problems_or_before_and_after_then_imports(import_page, writable):
    app, (first, second) = import_page, two_hospitals(writable)
    uploader = next(u for u in app.get("file_uploader") if u.proto.id.endswith("import-beds-file-0"))
    uploader.set_value(("beds.xlsx", xlsx_bytes([[first, "icu", 70, 71]]), "application/vnd.ms-excel")).run()
    assert not app.exception
    assert app.error and "1" in app.error[0].value
    problems = app.dataframe[0].value
    assert problems.iloc[:, 0].tolist() == [2] and problems.iloc[0, 1] == "occupied 71 is more than total 70"
    assert not [b for b in app.button if b.key == "import-beds-apply"]

    before = facilities.bed_counts(writable, [second]).set_index("bed_type")
    uploader = next(u for u in app.get("file_uploader") if u.proto.id.endswith("import-beds-file-0"))
    uploader.set_value(("beds.csv", "\n".join([",".join(HEADER), f"{second},负压隔离,9,4"]).encode("gbk"),
                        "text/csv")).run()
    assert not app.exception and not app.error
    preview = app.dataframe[0].value
    assert preview.iloc[0].tolist()[:2] == [2, second]
    old_total, old_occupied = before.loc["isolation", ["total", "occupied"]]
    assert preview.iloc[0].tolist()[-4:] == [old_total, 9, old_occupied, 4]
    next(b for b in app.button if b.key == "import-beds-apply").click().run()
    assert not app.exception
    assert app.success and "1" in app.success[0].value
    after = facilities.bed_counts(writable, [second]).set_index("bed_type")
    assert after.loc["isolation", ["total", "occupied"]].tolist() == [9, 4]
