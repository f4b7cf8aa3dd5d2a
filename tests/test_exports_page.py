"""The Briefing page (简报) in AppTest: builds the pack with progress, then offers PDF/PPTX downloads
and a chart-by-chart section whose data downloads are neutralised CSV/XLSX."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.proto.Block_pb2 import Block
from streamlit.testing.v1 import AppTest

from queries.incidents import incident_totals
from settings import get_settings
from tests.apps import page_app
from ui.state import ViewState

DISTRICT = "330212"


@pytest.fixture
def page(demo_engines, monkeypatch):
    """An AppTest of the Briefing page reading the SpatiaLite demo database."""
    engine = demo_engines("sqlite")
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    app = page_app("briefing", timeout=120, scope=DISTRICT, window="7d")
    yield engine, app
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def _downloads(app: AppTest) -> list:
    return list(app.get("download_button"))


def test_page_builds_the_pack_and_offers_both_files(page):
    engine, app = page
    app.run()
    assert not app.exception and not app.error, [e.value for e in [*app.exception, *app.error]]
    assert [b.key for b in app.button if b.key == "brief-build"] == ["brief-build"]
    before = len(_downloads(app))  # the chart section's five downloads
    app.button(key="brief-build").click().run()
    assert not app.exception and not app.error, [e.value for e in [*app.exception, *app.error]]
    assert len(_downloads(app)) == before + 2
    status = app.get("status")
    assert [s.proto.label for s in status] == ["简报已生成"]
    assert status[0].proto.state == Block.Expandable.State.COMPLETE
    labels = [b.proto.label for b in _downloads(app)]
    assert labels[:2] == ["下载 PDF", "下载 PPTX"]
    window = ViewState(scope=DISTRICT, window="7d").time_window()
    totals = incident_totals(engine, DISTRICT, window=window)
    built = str([c.value for c in app.caption])
    assert "生成用时" in built
    _, pack = app.session_state["brief.pack"]
    assert pack.pdf.startswith(b"%PDF-") and pack.pptx.startswith(b"PK")
    assert pack.pdf_name.startswith("宁波市-鄞州区-") and pack.pdf_name.endswith("-简报.pdf")
    assert dict(pack.key_figures)["事件总数"] == f"{totals['incidents']:,}"


def test_chart_section_lists_every_chart_with_its_data(page):
    _, app = page
    app.run()
    picker = app.selectbox(key="brief-chart")
    assert picker.options[0].startswith("宁波市·鄞州区各")  # the map first
    assert "事件类别" in picker.options and "逐小时事件趋势" in picker.options
    picker.select("事件类别").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table.columns) == ["类别", "事件总数"]
    assert int(table["事件总数"].sum()) > 0
