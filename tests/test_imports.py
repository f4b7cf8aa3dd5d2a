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
from errors import InvalidInput, render
from imports.beds import check_bed_sheet
from imports.tables import read_table
from queries import facilities
from settings import get_settings
from tests.apps import page_app, read_as_city_viewer
from texts import text
from ui import sheet_import
from vocab import counts_things

HEADER = ["医院编码", "床位类型", "总床位", "占用床位"]


def snapshot(engine: sa.Engine) -> dict[str, pd.DataFrame]:
    queries = {
        "beds": "SELECT * FROM hospital_beds ORDER BY hospital_code, bed_type",
        "hospitals": "SELECT code, last_updated, source FROM hospital ORDER BY code",
        "stock": "SELECT * FROM stock ORDER BY depot_code, item",
        "depots": "SELECT code, last_updated, source FROM supply_depot ORDER BY code",
    }
    with engine.connect() as conn:
        return {name: pd.read_sql(sa.text(sql), conn) for name, sql in queries.items()}


def assert_unchanged(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


def csv_file(tmp_path: Path, rows: list[list], encoding: str = "gbk", name: str = "beds.csv",
             header: list[str] = HEADER) -> Path:
    path = tmp_path / name
    text = "\n".join(",".join(f'"{c}"' if "," in str(c) else str(c) for c in row) for row in [header, *rows])
    path.write_bytes(text.encode(encoding))
    return path


def xlsx_bytes(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one worksheet
    for row in [HEADER, *rows]:
        sheet.append(row)
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
    # each language names the headers written in it (the CLI prints English)
    assert [str(p) for p in sheet.problems] == [
        "no column 'bed_type' (also accepted: type)", "no column 'occupied'"]
    assert [render(p.message, "zh") for p in sheet.problems] == [
        "缺少“床位类型”列", "缺少“占用床位”列（也可写作：已占用、在用床位）"]


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
                     "line 5: occupied 9 is more than total 5", f"line 6: repeats line 2 ({first}, ICU)",
                     "line 7: unknown hospital code", "7 problem(s); nothing was imported"):
        assert expected in printed
    assert "line 2:" not in printed
    assert_unchanged(before, snapshot(writable))


def test_a_right_sheet_sets_the_counts_and_stamps_the_hospitals(writable, tmp_path, capsys):
    first, second = two_hospitals(writable)
    before, started = snapshot(writable), now_utc().replace(microsecond=0)
    rows = [[first, "重症监护(ICU)", 88, 80], [first, "general", "1,500", 1200],
            [second, "Emergency department", 30, 0]]
    path = tmp_path / "beds.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    url = writable.url.render_as_string(False)
    assert cli.main(["import-beds", str(path), "--database-url", url, "--source", "市卫健委"]) == 0
    assert ("3 lines changed, 0 the same (not written, stamps kept), 0 confirmed unchanged; 2 facilities stamped "
            "as updated (source: 市卫健委)") in capsys.readouterr().out
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
    assert "1 lines for 1 facilities are ready to import" in capsys.readouterr().out
    assert_unchanged(before, snapshot(writable))


@pytest.fixture
def import_page(writable, monkeypatch) -> Iterator[AppTest]:
    """The Data import page on this module's database (the page file itself: AppTest loses button
    clicks of a page reached through app.py's st.navigation)."""
    monkeypatch.setenv("DATABASE_URL", writable.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    app = page_app("imports").run()
    assert not app.exception
    with read_as_city_viewer():  # the tests call the page's parts themselves too
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
    assert [text.value for text in app.text] == ["第 2 行：占用床位 71 多于总床位 70"]
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


def test_stock_lines_are_checked_then_set_with_their_minimum(writable, tmp_path, capsys):
    lines = facilities.stock_lines(writable)
    depot, other = lines["depot_code"].unique()[:2]
    # a measured item first: its quantity may be a fraction (tests/test_units.py refuses one of a counted unit)
    held = lines[lines["depot_code"] == depot]
    items = sorted(held["item"], key=lambda item: counts_things(held.set_index("item").loc[item, "unit"]))
    header = ["仓库编码", "物资名称", "数量", "储备下限"]
    url = writable.url.render_as_string(False)
    before = snapshot(writable)
    bad = csv_file(tmp_path, [[depot, items[0], "12.5", 3], ["D9999", items[0], 1, 1],
                              [depot, "不存在的物资", 1, 1], [other, items[1], -4, 1]], header=header, name="bad.csv")
    assert cli.main(["import-stock", str(bad), "--database-url", url]) == 1
    printed = capsys.readouterr().err
    for expected in ("line 3: unknown depot code 'D9999'", f"line 4: depot {depot} holds no item '不存在的物资'",
                     "line 5: quantity '-4' is not a number (0 or more)", "3 problem(s); nothing was imported"):
        assert expected in printed
    assert_unchanged(before, snapshot(writable))

    good = csv_file(tmp_path, [[depot, items[0], "1,250.5", 1000], [depot, items[1], 0, 10]], header=header,
                    name="good.xlsx.csv", encoding="utf-8")
    assert cli.main(["import-stock", str(good), "--database-url", url, "--source", "区应急管理局"]) == 0
    got = facilities.stock_lines(writable, [depot]).set_index("item")
    assert got.loc[items[0], ["quantity", "min_level"]].tolist() == [1250.5, 1000]
    assert got.loc[items[1], ["quantity", "min_level"]].tolist() == [0, 10]
    after = snapshot(writable)
    untouched = ~((after["stock"]["depot_code"] == depot) & after["stock"]["item"].isin(items[:2]))
    pd.testing.assert_frame_equal(before["stock"][untouched], after["stock"][untouched])
    assert after["depots"].set_index("code").loc[depot, "source"] == "区应急管理局"
    # What the Resources page reads marks the emptied item as below its minimum.
    in_city = facilities.stock_in_scope(writable, get_settings().city_code).set_index(["depot_code", "item"])
    assert bool(in_city.loc[(depot, items[1]), "below_min"]) and not in_city.loc[(depot, items[0]), "below_min"]


def test_a_source_name_too_long_for_the_table_is_refused_before_anything_is_read(writable, tmp_path, capsys):
    path = csv_file(tmp_path, [["H0001", "icu", 1, 1]])
    url = writable.url.render_as_string(False)
    assert cli.main(["import-beds", str(path), "--database-url", url, "--source", "卫" * 65]) == 2
    assert "use at most 64" in capsys.readouterr().err


def test_the_stock_tab_previews_and_imports_a_sheet(import_page, writable):
    app = import_page
    line = facilities.stock_lines(writable).iloc[-1]
    uploader = next(u for u in app.get("file_uploader") if u.proto.id.endswith("import-stock-file-0"))
    sheet = f"仓库编码,物资名称,数量\n{line['depot_code']},{line['item']},4321\n".encode("gbk")
    uploader.set_value(("stock.csv", sheet, "text/csv")).run()
    assert not app.exception and not app.error
    preview = app.dataframe[0].value
    assert preview.iloc[0].tolist()[-2:] == [line["quantity"], 4321]
    assert preview.iloc[0].tolist()[1:4] == [line["depot_code"], line["depot_name"], line["item"]]
    next(b for b in app.button if b.key == "import-stock-apply").click().run()
    assert not app.exception and app.success
    now = facilities.stock_lines(writable, [line["depot_code"]]).set_index("item")
    assert now.loc[line["item"], "quantity"] == 4321
    assert now.loc[line["item"], "last_updated"] > pd.Timestamp(line["last_updated"])


@pytest.mark.parametrize("kind", sheet_import.KINDS, ids=lambda kind: kind.key)
def test_the_downloaded_template_imports_back_unchanged(import_page, writable, kind):
    """The template is today's figures in the sheet's layout: sent back as is, every line checks
    and before equals after."""
    template = sheet_import.template_csv(kind)
    sheet = sheet_import.check(kind, template, f"{kind.key}.csv")
    assert sheet.ok, sheet.problems[:3]
    preview = sheet_import.before_and_after(kind, sheet)
    table = preview.table
    befores = [c for c in table.columns if c.endswith("(原值)")]
    assert len(table) == len(sheet.rows) > 10 and befores
    for before in befores:
        assert (table[before] == table[before.replace("(原值)", "(新值)")]).all(), before
    assert (preview.changed, preview.same) == (0, len(sheet.rows)) and (table["变化"] == "不变").all()
    assert not preview.marks.to_numpy().any()


def _stamps(engine: sa.Engine, table: str) -> pd.DataFrame:
    """Each facility's (last_updated, source), read straight from the table."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text(f"SELECT code, last_updated, source FROM {table} ORDER BY code"),  # noqa: S608
                           conn).set_index("code")


def _age_every_stamp(engine: sa.Engine) -> None:
    """Every facility and stock line last updated a week ago by 'old': a fresh stamp cannot hide among them."""
    week_ago = (now_utc() - pd.Timedelta(days=7)).replace(microsecond=0)
    with engine.begin() as conn:
        for table in ("hospital", "supply_depot"):
            conn.execute(sa.text(f"UPDATE {table} SET last_updated = :at, source = 'old'"), {"at": week_ago})  # noqa: S608
        conn.execute(sa.text("UPDATE stock SET last_updated = :at"), {"at": week_ago})


def _stamped_now(before: pd.DataFrame, after: pd.DataFrame) -> set[str]:
    """Codes whose stamp moved between two reads."""
    moved = (before["last_updated"] != after["last_updated"]) | (before["source"] != after["source"])
    return set(after.index[moved])


def _whole_bed_sheet(engine: sa.Engine) -> pd.DataFrame:
    """Every bed line of the database, as a department sends the template back (raw SQL, not the app's reader)."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text("SELECT hospital_code, bed_type, total, occupied FROM hospital_beds "
                                   "ORDER BY hospital_code, bed_type"), conn)


def test_a_whole_sheet_that_changes_two_lines_stamps_only_their_hospitals(writable, tmp_path, capsys):
    """The template sent back with two lines edited: 2 hospitals are stamped, the other ~118 keep their stamps."""
    _age_every_stamp(writable)
    sheet = _whole_bed_sheet(writable)
    edited = [0, len(sheet) - 1]  # the first line of the first hospital, the last line of the last
    sheet.loc[edited, "total"] += 5
    sheet.loc[edited[1], "occupied"] = 0
    touched = set(sheet.loc[edited, "hospital_code"])
    before, beds_before = _stamps(writable, "hospital"), snapshot(writable)["beds"]
    path = csv_file(tmp_path, sheet.to_numpy().tolist(), encoding="utf-8")
    url = writable.url.render_as_string(False)
    assert cli.main(["import-beds", str(path), "--database-url", url, "--source", "市卫健委"]) == 0
    after = _stamps(writable, "hospital")
    assert _stamped_now(before, after) == touched and len(after) > 100
    assert (after.loc[sorted(touched), "source"] == "市卫健委").all()
    printed = capsys.readouterr().out
    assert f"2 lines changed, {len(sheet) - 2} the same" in printed, printed
    beds_after = snapshot(writable)["beds"]
    expected = beds_before.copy()
    expected[["total", "occupied"]] = sheet[["total", "occupied"]].to_numpy()
    pd.testing.assert_frame_equal(beds_after, expected)


def test_confirming_the_unchanged_lines_stamps_the_hospitals_in_the_sheet_only(writable, tmp_path, capsys):
    """--confirm-unchanged: the department vouches for its same figures; hospitals not in the sheet keep
    their stamps."""
    _age_every_stamp(writable)
    sheet = _whole_bed_sheet(writable)
    in_sheet = sorted(sheet["hospital_code"].unique())[:3]
    sheet = sheet[sheet["hospital_code"].isin(in_sheet)]
    before, beds_before = _stamps(writable, "hospital"), snapshot(writable)["beds"]
    path = csv_file(tmp_path, sheet.to_numpy().tolist(), encoding="utf-8")
    url = writable.url.render_as_string(False)
    assert cli.main(["import-beds", str(path), "--database-url", url, "--source", "市卫健委"]) == 0
    assert _stamped_now(before, _stamps(writable, "hospital")) == set()  # same figures, not confirmed: no stamp
    assert "0 lines changed" in capsys.readouterr().out
    assert cli.main(["import-beds", str(path), "--database-url", url, "--source", "市卫健委",
                     "--confirm-unchanged"]) == 0
    assert f"{len(sheet)} confirmed" in capsys.readouterr().out
    assert _stamped_now(before, _stamps(writable, "hospital")) == set(in_sheet)
    pd.testing.assert_frame_equal(snapshot(writable)["beds"], beds_before)  # no figure was written


def test_a_whole_stock_sheet_stamps_only_the_lines_and_depots_that_change(writable, tmp_path, capsys):
    _age_every_stamp(writable)
    with writable.connect() as conn:
        sheet = pd.read_sql(sa.text("SELECT depot_code, item, quantity, min_level FROM stock "
                                    "ORDER BY depot_code, item"), conn)
    first, last = 0, len(sheet) - 1
    sheet.loc[first, "quantity"] += 7
    sheet.loc[last, "min_level"] += 1
    touched = {tuple(sheet.loc[i, ["depot_code", "item"]]) for i in (first, last)}
    stock_before, depots_before = snapshot(writable)["stock"], _stamps(writable, "supply_depot")
    path = csv_file(tmp_path, sheet.to_numpy().tolist(), encoding="utf-8",
                    header=["仓库编码", "物资名称", "数量", "储备下限"])
    url = writable.url.render_as_string(False)
    assert cli.main(["import-stock", str(path), "--database-url", url, "--source", "区应急管理局"]) == 0
    printed = capsys.readouterr().out
    stock_after = snapshot(writable)["stock"]
    keys = list(zip(stock_after["depot_code"], stock_after["item"], strict=True))
    moved = stock_after["last_updated"] != stock_before["last_updated"]
    assert {key for key, m in zip(keys, moved, strict=True) if m} == touched
    assert _stamped_now(depots_before, _stamps(writable, "supply_depot")) == {depot for depot, _ in touched}
    assert stock_after.loc[first, "quantity"] == sheet.loc[first, "quantity"]
    assert stock_after.loc[last, "min_level"] == sheet.loc[last, "min_level"]
    assert f"2 lines changed, {len(sheet) - 2} the same" in printed, printed


def test_the_preview_puts_the_changed_lines_first_and_marks_them_then_stamps_only_them(import_page, writable):
    """The page with the whole template sent back, two lines edited (an AppTest of the page)."""
    app = import_page
    _age_every_stamp(writable)
    sheet = _whole_bed_sheet(writable)
    edited = [3, len(sheet) - 2]
    sheet.loc[edited[0], "occupied"] = 0
    sheet.loc[edited[1], "total"] += 9
    content = "\n".join([",".join(HEADER), *(",".join(map(str, row)) for row in sheet.to_numpy().tolist())])
    uploader = next(u for u in app.get("file_uploader") if u.proto.id.endswith("import-beds-file-0"))
    uploader.set_value(("beds.csv", content.encode("gbk"), "text/csv")).run()
    assert not app.exception and not app.error
    assert "2 行" in app.info[0].value and f"{len(sheet) - 2} 行" in app.info[0].value
    preview = app.dataframe[0].value
    assert len(preview) == len(sheet)
    lines = [i + 2 for i in edited]  # the sheet's line numbers: the header is line 1
    assert preview["行号"].tolist()[:2] == lines
    assert preview["变化"].tolist()[:2] == [text("occupied", "zh"), text("total", "zh")]
    assert (preview["变化"].iloc[2:] == "不变").all()
    before = _stamps(writable, "hospital")
    next(b for b in app.button if b.key == "import-beds-apply").click().run()
    assert not app.exception and app.success
    assert _stamped_now(before, _stamps(writable, "hospital")) == set(sheet.loc[edited, "hospital_code"])


def test_a_sheet_that_changes_nothing_imports_only_when_the_department_confirms_it(import_page, writable):
    app, (first, _) = import_page, two_hospitals(writable)
    _age_every_stamp(writable)
    line = _whole_bed_sheet(writable).query("hospital_code == @first").iloc[0]
    uploader = next(u for u in app.get("file_uploader") if u.proto.id.endswith("import-beds-file-0"))
    content = "\n".join([",".join(HEADER), ",".join(map(str, line.tolist()))]).encode("gbk")
    uploader.set_value(("beds.csv", content, "text/csv")).run()
    assert not app.exception and not app.error
    assert app.button(key="import-beds-apply").disabled  # nothing changes and nobody vouched for it
    app.checkbox(key="import-beds-confirm").check().run()
    assert not app.button(key="import-beds-apply").disabled
    before = _stamps(writable, "hospital")
    app.button(key="import-beds-apply").click().run()
    assert not app.exception and app.success and "1 行未变的数据已按部门确认" in app.success[0].value
    assert _stamped_now(before, _stamps(writable, "hospital")) == {first}


def test_confirming_a_stock_sheet_stamps_its_lines_and_depot_only(writable, tmp_path, capsys):
    _age_every_stamp(writable)
    lines = facilities.stock_lines(writable)
    depot = lines["depot_code"].iloc[0]
    mine = lines[lines["depot_code"] == depot][["depot_code", "item", "quantity"]]
    stock_before, depots_before = snapshot(writable)["stock"], _stamps(writable, "supply_depot")
    path = csv_file(tmp_path, mine.to_numpy().tolist(), encoding="utf-8", header=["仓库编码", "物资名称", "数量"])
    url = writable.url.render_as_string(False)
    assert cli.main(["import-stock", str(path), "--database-url", url, "--confirm-unchanged"]) == 0
    assert f"0 lines changed, 0 the same (not written, stamps kept), {len(mine)} confirmed" in capsys.readouterr().out
    stock_after = snapshot(writable)["stock"]
    moved = stock_after["last_updated"] != stock_before["last_updated"]
    assert set(stock_after.loc[moved, "depot_code"]) == {depot} and moved.sum() == len(mine)
    assert _stamped_now(depots_before, _stamps(writable, "supply_depot")) == {depot}
    figures = ["depot_code", "item", "quantity", "min_level"]
    pd.testing.assert_frame_equal(stock_after[figures], stock_before[figures])
