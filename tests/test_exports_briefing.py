"""Briefing packs for the whole city and one community: the PDF and PPTX hold the scope, the query
layer's key figures and the provenance on every page; the PDF pages are rendered for a look."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from pptx import Presentation

from exports.briefing import build_pack
from exports.briefing_data import collect
from exports.briefing_story import story
from exports.provenance import ExportView
from queries.areas import ancestors_of
from queries.facilities import assembly_points_in_scope, hospitals_in_scope, stock_in_scope
from queries.incidents import Window, incident_counts_by_child, incident_totals
from queries.schema import incident
from tests.support import demo_window, poppler

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "exports"
PAGES = 9


def _busiest_community(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(incident.c.community_code)
            .group_by(incident.c.community_code)
            .order_by(sa.func.count().desc(), incident.c.community_code)
            .limit(1)
        ).scalar_one()


def _build(engine, code: str, name: str, lang: str = "zh") -> dict:
    window, steps = demo_window(), []
    pack = build_pack(
        engine, ExportView(code, window, lang=lang), progress=lambda fraction, text: steps.append((fraction, text))
    )
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.png"):
        old.unlink()
    (folder / "pack.pdf").write_bytes(pack.pdf)
    (folder / "pack.pptx").write_bytes(pack.pptx)
    # pages rendered for people to look at (test-artifacts/exports/<name>/page-N.png)
    poppler("pdftoppm", "-r", "60", "-png", str(folder / "pack.pdf"), str(folder / "page"))
    text = poppler("pdftotext", str(folder / "pack.pdf"), "-")
    return {
        "pack": pack,
        "window": window,
        "steps": steps,
        "folder": folder,
        "pages": [_squash(page) for page in text.split("\f")[:-1]],
    }


def _squash(text: str) -> str:
    """Text without whitespace: PDF line breaks fall anywhere in a wrapped line."""
    return re.sub(r"\s+", "", text)


def _pptx_slides(payload: bytes) -> list[str]:
    deck = Presentation(io.BytesIO(payload))
    slides = []
    for slide in deck.slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
        slides.append(_squash(" ".join(parts)))
    return slides


def _expected_figures(engine, code: str, window: Window) -> dict[str, str]:
    """The key figures as the query layer gives them, formatted as the pack prints them."""
    totals = incident_totals(engine, code, window=window)
    hospitals = hospitals_in_scope(engine, code)
    points = assembly_points_in_scope(engine, code)
    stock = stock_in_scope(engine, code)
    disposal_rate = totals["disposal_rate"]
    assert disposal_rate is not None, f"{code} has no incidents to close in the window"
    figures = {
        "incidents": f"{totals['incidents']:,}",
        "open": f"{totals['open']:,}",
        "disposal_rate": f"{disposal_rate * 100:.1f}%",
        "beds_available": f"{int((hospitals['beds_total'] - hospitals['beds_occupied']).sum()):,}",
        "assembly_capacity": f"{int(points.loc[points['status'] == 'open', 'capacity'].sum()):,}",
        "items_below_min": f"{int((stock['quantity'] < stock['min_level']).sum()):,}",
    }
    if totals["on_time_rate"] is not None:
        figures["on_time_rate"] = f"{totals['on_time_rate'] * 100:.1f}%"
    if totals["median_hours"] is not None:
        figures["median_hours"] = f"{totals['median_hours']:.1f}"
    return figures


def _top_hotspot(engine, code: str, window: Window) -> tuple[str, str]:
    counts = incident_counts_by_child(engine, code, window=window)
    top = counts.sort_values(["incidents", "code"], ascending=[False, True]).iloc[0]
    return top["name"], f"{top['incidents']:,}"


@pytest.fixture(scope="module", params=["city-sqlite", "community-sqlite", "community-postgis"])
def built(request, demo_engines):
    """(engine, scope code, built pack) for the whole city and for the busiest community.

    The city pack runs on SpatiaLite only (the slow one; the query layer is the same code)."""
    kind, backend = request.param.split("-")
    engine = demo_engines(backend)
    code = "330200" if kind == "city" else _busiest_community(engine)
    return engine, code, _build(engine, code, f"pack-{kind}-{backend}")


def test_pdf_pages_carry_scope_and_provenance(built):
    engine, code, result = built
    names = list(ancestors_of(engine, code)["name"])
    pages = result["pages"]
    assert len(pages) == PAGES
    assert _squash("·".join(names)) in pages[0]
    for page in pages:
        assert _squash(f"范围: {'·'.join(names)} ({code})") in page
        assert "数据截至" in page and "时间范围" in page and "推演方案:基线" in page


def test_pdf_key_figures_equal_the_query_layer(built):
    engine, code, result = built
    key_page = result["pages"][1]
    for name, value in _expected_figures(engine, code, result["window"]).items():
        assert value in key_page, name
    printed = dict(result["pack"].key_figures)
    # overdue counts open incidents past due *now*: allow for one falling due during the test
    overdue = incident_totals(engine, code, window=result["window"])["overdue"]
    assert abs(int(printed["当前超期"].replace(",", "")) - overdue) <= 2
    assert printed["当前超期"] in key_page
    # parked and escalated items are not overdue: their own tile, counted straight from the table
    assert printed["挂账/督查"] == f"{_held_now(engine, code):,}" and "挂账/督查" in key_page
    for name, value in printed.items():  # every tile on the page, none cut off by the grid
        assert _squash(name) in key_page and value in key_page, name


def _held_now(engine, code: str) -> int:
    """Incidents parked or escalated now in the scope (the city, or a community), by plain SQL."""
    held = sa.select(sa.func.count()).where(incident.c.status.in_(["parked", "escalated"]))
    if code != "330200":
        held = held.where(incident.c.community_code == code)
    with engine.connect() as conn:
        return int(conn.execute(held).scalar_one())


def test_pdf_hotspots_table_leads_with_the_busiest_child(built):
    engine, code, result = built
    name, count = _top_hotspot(engine, code, result["window"])
    last = result["pages"][-1]
    assert "事件高发区域" in last
    assert f"1{_squash(name)}{count}" in last


def test_pptx_has_the_same_figures_and_provenance_on_every_slide(built):
    engine, code, result = built
    slides = _pptx_slides(result["pack"].pptx)
    assert len(slides) == PAGES
    names = list(ancestors_of(engine, code)["name"])
    for slide in slides:
        assert _squash(f"范围: {'·'.join(names)} ({code})") in slide
    for name, value in _expected_figures(engine, code, result["window"]).items():
        assert value in slides[1], name
    top_name, count = _top_hotspot(engine, code, result["window"])
    assert _squash(top_name) + count in slides[-1]


def test_pdf_and_pptx_show_the_story_titles_in_the_same_order(built):
    engine, code, result = built
    sections = story(collect(engine, ExportView(code, result["window"]))).sections
    slides = _pptx_slides(result["pack"].pptx)
    assert len(sections) == len(slides) == len(result["pages"]) == PAGES
    for number, section in enumerate(sections):
        if section.kind == "map":  # its title is drawn inside the map image
            continue
        title = _squash(section.title)
        assert title in result["pages"][number], (number, section.title)
        assert title in slides[number], (number, section.title)


def test_pptx_shapes_stay_on_the_slide(built):
    deck = Presentation(io.BytesIO(built[2]["pack"].pptx))
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (number, shape.name)
            assert shape.left + shape.width <= deck.slide_width, (number, shape.name)
            assert shape.top + shape.height <= deck.slide_height, (number, shape.name)


def test_rendered_pages_are_not_blank(built):
    folder = built[2]["folder"]
    pngs = sorted(folder.glob("page-*.png"))
    assert len(pngs) == PAGES
    for png in pngs:
        with Image.open(png) as image:
            gray = image.convert("L")
            inked = sum(n for n, level in gray.getcolors(256) if level < 200)
            assert inked > 0.01 * gray.width * gray.height, png.name


def test_progress_and_file_names(built):
    engine, code, result = built
    fractions = [f for f, _ in result["steps"]]
    assert fractions == sorted(fractions) and fractions[0] < 0.1 and fractions[-1] == 1.0
    assert sum("生成图表" in m for _, m in result["steps"]) >= 6
    pack = result["pack"]
    path = "-".join(ancestors_of(engine, code)["name"])
    assert re.fullmatch(rf"{path}-\d{{4}}-\d{{2}}-\d{{2}}-简报\.pdf", pack.pdf_name)
    assert pack.pptx_name == pack.pdf_name.removesuffix(".pdf") + ".pptx"


def test_english_pack_for_a_grid_cell(demo_engines):
    engine = demo_engines("sqlite")
    with engine.connect() as conn:
        grid = conn.execute(sa.select(incident.c.grid_code).order_by(incident.c.grid_code).limit(1)).scalar_one()
    pack = build_pack(engine, ExportView(grid, demo_window(), lang="en"))
    slides = _pptx_slides(pack.pptx)
    assert len(slides) == PAGES
    assert "Cityoperationsbriefing" in slides[0] and f"({grid})" in slides[0]
    totals = incident_totals(engine, grid, window=demo_window())
    assert f"{totals['incidents']:,}Incidents" in slides[1]
    assert pack.pdf.startswith(b"%PDF-") and pack.pdf_name.endswith("-briefing.pdf")
