"""One language at a time (issue 12 item 17): in English no Chinese but the database's own names, in Chinese no
English but formats, standards and codes; on every page and in every message the checks can raise."""

from __future__ import annotations

import ast
import html
import io
import json
import re
from collections.abc import Callable, Iterator
from functools import cache, partial

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from access import ROLES, Account, Viewer, check_scope, viewer_from
from errors import ByLanguage, CityOpsError, Message, Text, render
from exports import briefing_data, tables
from geo.geojson_io import MAX_BYTES as ZONE_MAX_BYTES
from geo.geojson_io import polygon_from_geojson, polygon_from_text
from imports.beds import check_bed_sheet
from imports.sheets import Sheet, source_name
from imports.stock import check_stock_sheet
from imports.tables import MAX_BYTES, read_table
from queries import scenarios as scenario_store
from queries import users
from queries.engine import SPATIALITE_INSTALL_HINT, check_reachable, make_engine
from queries.incidents import Filters, Window
from queries.scope import resolve
from scenario_model import parse_overrides
from settings import PROJECT_ROOT, get_settings
from tests.apps import page_app, read_as_city_viewer
from tests.browser import free_port
from tests.support import SMALL_DAYS, discard, markdown_text, new_database
from tests.test_scenarios_metrics import build_town, lonlat
from tests.test_scenarios_validation import BOWTIE
from texts import LANGUAGES
from ui import sheet_import
from ui.briefing_data import export_view
from ui.i18n import in_language
from ui.router import PAGES
from ui.state import ViewState

CJK = re.compile(r"[\u3400-\u9fff]+")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[.:-][A-Za-z0-9_]+)*")
# English a Chinese text may hold: file formats, standards, units, product names, a bed type's code
IN_CHINESE = {"CSV", "UTF-8", "GBK", "XLSX", "xlsx", "xls", "csv", "PDF", "PPTX", "PNG", "SVG", "Excel", "GeoJSON",
              "Polygon", "MultiPolygon", "WGS84", "EPSG:4326", "ICU", "icu", "MB", "KB", "km", "CityOps", "SpatiaLite",
              "mod_spatialite", "Python", "sqlite3", "B"}
CODE = re.compile(r"^[A-Z]{1,3}\d+$")  # facility codes (AP00001, H0001, D01)
DISTRICT = "330212"
# The checks' inputs (a data officer's cells and file names, a planner's codes): shown as they were typed
TYPED = {"garbage.csv", "beds.xls", "beds.xlsx", "beds.csv", "empty.csv", "big.csv", "zone.geojson", "H9999",
         "beds", "x", "D9999", "NOPE1", "castle", "surprise", "Point", "LineString", "nowhere", "plan-A", "EPSG:3857",
         "urn:ogc:def:crs:EPSG::3857", "OperationalError", "python", "cli.py", "seed", "days", "sudo", "apt-get",
         "install", "libsqlite3-mod-spatialite", "pip", "pysqlite3-binary", "CITYOPS_SPATIALITE_LIBRARY_PATH",
         "nope", "ICU", "stalls", "never", "taken", "nobody", "root",
         *ROLES}  # the users commands name role codes as they are typed (access.ROLES)
PATH = re.compile(r"(?<![\w.])(?:/[\w.\-]+)+")  # a file named in a message (the database's) is data, not English
TYPED_WORDS = re.compile(r"(?<![\w.:])(?:" + "|".join(map(re.escape, sorted(TYPED, key=len, reverse=True)))
                         + r")(?![\w])")


OWN_NAMES = {lang.name for lang in LANGUAGES.values()}  # a language picker names each language in itself


def chinese_outside(text: str, data: str) -> list[str]:
    """The runs of Chinese in a text that are not part of a name from the data (a newline-joined blob)."""
    return [run for run in CJK.findall(text) if run not in data and text not in OWN_NAMES]


def english_outside(text: str, data_words: frozenset[str] = frozenset()) -> list[str]:
    """English words in a Chinese text that are none of the allowed ones, a code, what the user typed or a
    word of the data's names."""
    text = TYPED_WORDS.sub(" ", PATH.sub(" ", text))
    if text in OWN_NAMES:
        return []
    return [w for w in WORD.findall(text) if w not in IN_CHINESE and w not in data_words and not CODE.match(w)]


# ------------------------------------------------------------------ every message the checks can raise


def _raised(call: Callable[[], object]) -> Text:
    with pytest.raises(CityOpsError) as caught:
        call()
    return caught.value.message


def _sheet_problems(sheet: Sheet) -> list[Message]:
    assert sheet.problems
    return [p.message for p in sheet.problems]


def _frame(rows: list[list[str]], header: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    frame.insert(0, "line", range(2, len(rows) + 2))
    return frame


BED_HEADER = ["hospital_code", "bed_type", "total", "occupied"]
STOCK_HEADER = ["depot_code", "item", "quantity", "min_level"]


def file_messages() -> list[Text]:
    return [
        _raised(lambda: read_table(b"", "empty.csv")),
        _raised(lambda: read_table(b"a" * (MAX_BYTES + 1), "big.csv")),
        _raised(lambda: read_table(b"a,b", "beds.xls")),
        _raised(lambda: read_table(b"\xff\xfe\xff\xfe", "garbage.csv")),
        _raised(lambda: read_table(b"PK\x03\x04 not a workbook", "beds.xlsx")),
        _raised(lambda: read_table(b"\n\n", "beds.csv")),
        _raised(lambda: source_name(" ")),
        _raised(lambda: source_name("x" * 65)),
    ]


def sheet_messages() -> list[Text]:
    beds = _frame([["H0001", "icu", "10", "12"], ["H9999", "icu", "5", "1"], ["H0001", "beds", "x", "x"],
                   ["", "icu", "1", "1"], ["H0002", "general", "5", "1"], ["H0002", "general", "5", "1"]], BED_HEADER)
    stock = _frame([["D01", "stalls", "x", "x"], ["D9999", "stalls", "1", "1"], ["D01", "nope", "1", "1"],
                    ["", "", "1", "1"]], STOCK_HEADER)
    held = {("D01", "stalls"): "吨"}  # the unit of each line the depot holds
    return [
        *_sheet_problems(check_bed_sheet(beds, {"H0001", "H0002"})),
        *_sheet_problems(check_bed_sheet(_frame([["H0001"]], ["医院编码"]), {"H0001"})),
        *_sheet_problems(check_bed_sheet(_frame([], BED_HEADER), {"H0001"})),
        *_sheet_problems(check_stock_sheet(stock, held)),
        *_sheet_problems(check_stock_sheet(_frame([["D01"]], ["仓库编码"]), held)),
    ]


def zone_messages() -> list[Text]:
    town = build_town().facts.city
    lon, lat = lonlat(100, 100)
    documents = [
        b"nope", b"[1, 2]",
        {"type": "Point", "coordinates": [lon, lat]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[13_500_000, 3_480_000], [13_510_000, 3_480_000],
                                             [13_510_000, 3_490_000], [13_500_000, 3_480_000]]]},
        {"type": "Polygon", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
         "coordinates": [[[lon, lat], [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]]]},
        BOWTIE,
        {"type": "Polygon", "coordinates": [[[100, 20], [100.1, 20], [100.1, 20.1], [100, 20]]]},
        {"type": "Polygon", "coordinates": [[["a", 1]]]},
        {"type": "FeatureCollection", "features": []},
        b" " * (ZONE_MAX_BYTES + 1),
    ]
    texts = [d if isinstance(d, bytes) else json.dumps(d) for d in documents]
    messages = [_raised(partial(polygon_from_geojson, text, town)) for text in texts]
    return [*messages, _raised(lambda: polygon_from_text("121.5, 29.8", town))]


def scenario_messages() -> list[Text]:
    town = build_town().facts
    inside = lonlat(1000, 500)
    bad = {"close": ["P1", "NOPE1"], "reopen": ["P1"], "capacities": {"P2": -5, "P3": 10**9},
           "new_points": [{"name": "", "lon": 100.0, "lat": 20.0, "capacity": "x", "kind": "castle"},
                          {"name": "n" * 65, "lon": inside[0], "lat": 95, "capacity": 10},
                          {"name": "nowhere", "lon": 100.0, "lat": 20.0, "capacity": 10}],
           "field_hospitals": [{"name": "nowhere", "lon": "x", "lat": inside[1]}],
           "beds": [{"hospital_code": "H9", "bed_type": "stalls", "total": 3}],
           "stock": [{"depot_code": "D1", "item": "nope", "quantity": 1}],
           "hazard_zone": BOWTIE, "multipliers": [{"category": "stalls", "area_code": "999999", "factor": 2}],
           "surprise": 1}
    return [_raised(lambda: parse_overrides(bad, town)),
            _raised(lambda: parse_overrides({"close": ["P1"], "reopen": ["P1"]}, town)),
            _raised(lambda: parse_overrides({"hazard_zone": {"type": "Polygon", "coordinates": {1, 2}}}))]


def store_messages(engine: sa.Engine) -> list[Text]:
    facts = build_town().facts
    scenario_store.save_scenario(engine, "plan-A", "amy", {}, facts=facts)
    return [_raised(lambda: scenario_store.save_scenario(engine, "plan-A", "amy", {}, facts=facts)),
            _raised(lambda: scenario_store.save_scenario(engine, "", "", {"close": ["NOPE1"]}, facts=facts)),
            _raised(lambda: scenario_store.load_scenario(engine, "nowhere"))]


def access_messages(engine: sa.Engine) -> list[Text]:
    """Who may look (access.py) and the users an admin keeps (queries/users.py)."""
    at = pd.Timestamp("2026-01-02").to_pydatetime()
    yinzhou = Viewer("u1", "U", ("leader",), "330212", "district")
    settings = {"city_code": "330200", "roles_claim": "cityops_roles", "area_claim": "cityops_area"}
    row = Account("u1", "U", None, ("leader",), "330200", False, at)
    users.add_user(engine, "taken", name="T", roles=["leader"], home_code="330200", at=at)
    return [_raised(lambda: check_scope(yinzhou, "330203")),
            _raised(lambda: viewer_from({"sub": "u1"}, row, **settings)),
            _raised(lambda: viewer_from({"sub": "u1"}, None, **settings)),
            _raised(lambda: viewer_from({"sub": "u1", "cityops_roles": "leader"}, None, **settings)),
            _raised(lambda: viewer_from({}, None, **settings)),
            _raised(lambda: users.add_user(engine, "taken", name="T", roles=["leader"], home_code="330200", at=at)),
            _raised(lambda: users.add_user(engine, "", name="", roles=["root"], home_code="330200", at=at)),
            _raised(lambda: users.add_user(engine, "", name="", roles=[], home_code="330200", at=at)),
            _raised(lambda: users.add_user(engine, "", name="", email="x", roles=["leader"], home_code="330200",
                                           at=at)),
            _raised(lambda: users.set_enabled(engine, "nobody", False, at=at))]


def area_and_database_messages(engine: sa.Engine, empty_url: str) -> list[Text]:
    with engine.connect() as conn:
        messages = [_raised(lambda: resolve(conn, "nope")), _raised(lambda: resolve(conn, "339999"))]
    down = make_engine(f"postgresql+psycopg2://cityops:x@127.0.0.1:{free_port()}/cityops")
    with make_engine(empty_url, create=True).connect():  # the file made, nothing built in it
        pass
    missing = make_engine(empty_url.replace(".sqlite", "-missing.sqlite"))
    messages += [_raised(lambda: check_reachable(down)), _raised(lambda: check_reachable(make_engine(empty_url))),
                 _raised(lambda: check_reachable(missing))]
    start = pd.Timestamp("2026-01-02").to_pydatetime()
    messages += [_raised(lambda: Window(start, start)),
                 _raised(lambda: Filters(categories=("stalls",), sources=("stalls",), statuses=("stalls",)))]
    # no test can unload SpatiaLite from this process: its two messages as the engine module makes them
    return [*messages, SPATIALITE_INSTALL_HINT, Message("db.no_extensions", command="pip install pysqlite3-binary")]


@pytest.fixture(scope="module")
def messages(demo_templates, tmp_path_factory) -> Iterator[list[Text]]:
    """Every message the checks raised for bad files, sheets, zones, scenarios, areas and databases."""
    folder = tmp_path_factory.mktemp("messages")
    engine = demo_templates.copy("sqlite", folder, days=SMALL_DAYS)
    empty = new_database("sqlite", folder)
    try:
        yield [*file_messages(), *sheet_messages(), *zone_messages(), *scenario_messages(), *store_messages(engine),
               *access_messages(engine), *area_and_database_messages(engine, empty)]
    finally:
        discard(engine)


def _keys(message: object) -> set[str]:
    """The catalogue keys a message renders: its own and its values' (nested messages, lists, languages)."""
    if isinstance(message, Message):
        return {message.key}.union(*(_keys(v) for v in message.values.values()))
    if isinstance(message, ByLanguage):
        return set().union(*(_keys(v) for v in message.values()))
    if isinstance(message, (list, tuple)):
        return set().union(*(_keys(v) for v in message))
    return set()


def literal_message_keys() -> dict[str, str]:
    """Key -> where, of every Message("key", ...) with a literal key in the code below the UI (the UI's own,
    URL problems and the database going down while a page draws, are checked on its pages below)."""
    found: dict[str, str] = {}
    for path in sorted(PROJECT_ROOT.rglob("*.py")):
        parts = set(path.relative_to(PROJECT_ROOT).parts)
        if parts & {".venv", "tests", "tmp", "data", "test-artifacts", "ui", "pages"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Message"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found[node.args[0].value] = f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"
    return found


def test_the_messages_raised_cover_every_message_of_the_code(messages):
    """The cases above are every message the code can say (a new one must be added to them)."""
    from imports import beds, stock

    raised = set().union(*(_keys(m) for m in messages))
    expected = dict(literal_message_keys())
    expected |= {c.wrong: "imports" for c in (*beds.COLUMNS, *stock.COLUMNS, stock.MIN_LEVEL)}
    assert len(expected) > 60
    assert {key: where for key, where in expected.items() if key not in raised} == {}


def test_no_message_is_a_finished_english_sentence(messages):
    """Only the intake API's answers (machines read them) may be plain text; every check's is a Message."""
    assert [m for m in messages if not isinstance(m, Message)] == []


def test_in_english_the_messages_hold_no_chinese(messages):
    shown = [render(m, "en") for m in messages]
    # the only Chinese a message quotes is a header the sheet lacks, named in the sheet's own language
    assert [(text, chinese_outside(text, "")) for text in shown if chinese_outside(text, "")] == []


def test_in_chinese_the_messages_hold_no_english(messages):
    shown = [render(m, "zh") for m in messages]
    assert [(text, english_outside(text)) for text in shown if english_outside(text)] == []
    assert all(CJK.search(text) for text in shown), [text for text in shown if not CJK.search(text)]


def test_str_of_an_error_is_its_english_message_for_the_cli_and_the_api(messages):
    error = CityOpsError(Message("sheet.unknown_hospital", code="H9999"))
    assert str(error) == "unknown hospital code 'H9999'" == render(error.message, "en")
    assert error.in_language("zh") == "未知医院编码“H9999”"


# ------------------------------------------------------------------ every page, as a user sees it

TEXT_FIELDS = {"body", "label", "help", "placeholder", "caption", "content"}
CHART_KEYS = {"text", "name", "hovertemplate", "texttemplate", "ticktext"}


def _proto_texts(message) -> Iterator[str]:
    """The strings a user can read in an element's protobuf (labels, bodies, options, help)."""
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            for item in value if field.is_repeated else [value]:
                yield from _proto_texts(item)
        elif field.type == field.TYPE_STRING and (field.name in TEXT_FIELDS or field.name == "options"):
            yield from (value if field.is_repeated else [value])


def _chart_texts(spec: object) -> Iterator[str]:
    """Titles, trace names, hover and tick texts of a Plotly figure's JSON (not its data)."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in CHART_KEYS and isinstance(value, str):
                yield value
            elif key in CHART_KEYS and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            elif key not in ("x", "y", "z", "customdata", "locations", "geojson"):
                yield from _chart_texts(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from _chart_texts(item)


def _deck_tips(spec: object) -> Iterator[str]:
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "tip" and isinstance(value, str):
                yield value
            else:
                yield from _deck_tips(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from _deck_tips(item)


def _plain(text: str) -> str:
    """A markup's text (st.html, HTML in Markdown or chart labels); a style sheet shows no text."""
    text = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def visible_texts(app: AppTest) -> list[str]:
    """Every text of every element drawn (main and sidebar): labels, bodies, options, alerts, table headers
    and text cells, chart titles and hover texts."""
    texts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            texts.extend(_plain(t) for t in _proto_texts(proto))
            if getattr(node, "type", "") == "plotly_chart":
                texts.extend(_plain(t) for t in _chart_texts(json.loads(proto.spec)))
            if getattr(node, "type", "") == "deck_gl_json_chart":  # the map's hover texts
                texts.extend(_plain(t) for t in _deck_tips(json.loads(proto.json)))
        if getattr(node, "type", "") in ("dataframe", "arrow_data_frame", "table"):
            frame = node.value
            texts.extend(str(c) for c in frame.columns)
            texts.extend(v for c in frame.columns for v in frame[c].tolist() if isinstance(v, str))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)
    return [t for t in texts if t.strip()]


@cache
def _data_names(url: str) -> str:
    """Every name the database holds (places, facilities, items, units, sources, addresses), one a line:
    Chinese by nature, shown as they are in either language."""
    engine = sa.create_engine(url)
    columns = {"area": ["name"], "assembly_point": ["name", "source"], "hospital": ["name", "grade", "source"],
               "supply_depot": ["name", "source"], "stock": ["item", "category", "unit"],
               "incident": ["address", "description"], "incident_contact": ["name"], "scenario": ["name", "author"]}
    names: set[str] = set()
    with engine.connect() as conn:
        for table, cols in columns.items():
            for col in cols:
                names |= {str(v) for v in conn.execute(sa.text(f"SELECT DISTINCT {col} FROM {table}")).scalars()}  # noqa: S608
    engine.dispose()
    return "\n".join(sorted(names))


@pytest.fixture
def on_demo(demo_engines, monkeypatch):
    engine = demo_engines("sqlite")
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    with read_as_city_viewer():  # the tests call the pages' parts themselves too
        yield _data_names(engine.url.render_as_string(hide_password=False))
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


FRAMED = [spec.key for spec in PAGES if spec.framed]


def _page(page: str, lang: str) -> AppTest:
    app = (page_app(page, lang=lang) if page == "imports" else page_app(page, scope=DISTRICT, lang=lang)).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize("page", FRAMED)
def test_an_english_page_shows_chinese_only_in_the_databases_names(on_demo, page):
    texts = visible_texts(_page(page, "en"))
    assert len(texts) > 10
    assert [(text, chinese_outside(text, on_demo)) for text in texts if chinese_outside(text, on_demo)] == []


@pytest.mark.parametrize("page", FRAMED)
def test_a_chinese_page_shows_english_only_in_formats_codes_and_data(on_demo, page):
    texts = visible_texts(_page(page, "zh"))
    assert len(texts) > 10 and any(CJK.search(text) for text in texts)
    data = frozenset(WORD.findall(on_demo))  # e.g. an address or a facility name with Latin letters
    assert [(text, english_outside(text, data)) for text in texts if english_outside(text, data)] == []


BAD_SHEET = "\n".join([",".join(BED_HEADER), "H9999,icu,5,1", "H0001,beds,x,1", "H0001,icu,10,12"]).encode()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("content", "name"), [(BAD_SHEET, "beds.csv"), (b"\xff\xfe\xff\xfe", "garbage.csv"),
                                               (b"", "empty.csv")])
def test_the_import_pages_problems_are_in_the_pages_language(on_demo, lang, content, name):
    app = _page("imports", lang)
    uploader = next(u for u in app.get("file_uploader") if u.proto.id.endswith("import-beds-file-0"))
    uploader.set_value((name, content, "text/csv")).run()
    assert not app.exception and app.error
    shown = [markdown_text(e.value) for e in app.error] + [t.value for t in app.text]  # as the reader sees it
    if lang == "en":
        assert [text for text in shown if CJK.search(text)] == []
    else:
        assert [(text, english_outside(text)) for text in shown if english_outside(text)] == []
    if content == BAD_SHEET:  # one line per problem, each with its line number, none cut short
        lines = app.text[0].value.splitlines()
        assert len(lines) == 4 and all(re.search(r"\b[234]\b", line) for line in lines)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("params", [{"scope": "339999"}, {"scope": "nope", "window": "never", "category": "stalls",
                                                           "source": "stalls", "status": "stalls", "layers": "stalls"}])
def test_a_bad_link_is_explained_in_the_pages_language(on_demo, lang, params):
    app = page_app("overview", lang=lang, **params).run()
    assert not app.exception and len(app.warning) == 1
    shown = app.warning[0].value
    assert all(value in shown for value in params.values())
    if lang == "en":
        assert not CJK.search(shown), shown
    else:
        assert english_outside(shown) == [], shown


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_database_down_is_said_in_the_pages_language(monkeypatch, lang):
    """One calm message (tests/test_database_down.py), and in the language of the link."""
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg2://cityops:x@127.0.0.1:{free_port()}/cityops")
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        app = page_app("overview", scope=DISTRICT, lang=lang).run()
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        get_settings.cache_clear()
    shown = [e.value for e in app.error]
    assert not app.exception and len(shown) == 1
    assert (not CJK.search(shown[0])) if lang == "en" else (english_outside(shown[0]) == []), shown


# ------------------------------------------------------------------ what users take away: exports and templates


def _workbook_texts(content: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [*book.sheetnames, *(str(cell) for sheet in book.worksheets
                                for row in sheet.iter_rows(values_only=True) for cell in row if isinstance(cell, str))]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_exported_table_is_in_one_language(on_demo, demo_engines, lang):
    """The CSV and XLSX of every briefing chart: sheet names, headers, cells and provenance."""
    engine = demo_engines("sqlite")
    facts = briefing_data.collect(engine, export_view(ViewState(scope=DISTRICT, lang=lang)))
    charts = [briefing_data.map_chart(facts), *briefing_data.incident_charts(facts),
              *briefing_data.resource_charts(facts)]
    assert len(charts) >= 8
    data = frozenset(WORD.findall(on_demo))
    for chart in charts:
        shown = _workbook_texts(tables.xlsx_bytes(chart.table, facts.provenance))
        shown += tables.csv_bytes(chart.table, facts.provenance).decode("utf-8-sig").splitlines()
        if lang == "en":
            assert [(t, chinese_outside(t, on_demo)) for t in shown if chinese_outside(t, on_demo)] == [], chart.key
        else:
            assert [(t, english_outside(t, data)) for t in shown if english_outside(t, data)] == [], chart.key


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", sheet_import.KINDS, ids=lambda kind: kind.key)
def test_the_import_template_is_in_the_pages_language_and_imports_back(on_demo, lang, kind):
    with in_language(lang):
        template = sheet_import.template_csv(kind)
        name = sheet_import.template_name(kind)
    lines = template.decode("utf-8-sig").splitlines()
    if lang == "en":
        assert [line for line in lines if chinese_outside(line, on_demo)] == [] and name.isascii()
    else:
        data = frozenset(WORD.findall(on_demo))
        assert [line for line in lines if english_outside(line, data)] == [] and not name.isascii()
    sheet = sheet_import.check(kind, template, name)
    assert sheet.ok and len(sheet.rows) == len(lines) - 1, sheet.problems[:3]
