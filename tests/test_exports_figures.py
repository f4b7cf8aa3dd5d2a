"""Chart and static map exports: real PNG/SVG/PDF files with Chinese text, stamped with provenance."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pytest
from PIL import Image

from exports import briefing_data, static_map
from exports.figures import render_many, with_provenance
from exports.provenance import ExportView, provenance_for
from geo import charts, print_map
from queries.incidents import incident_counts_by, incident_counts_by_child
from tests.support import demo_window, poppler
from texts import term, text
from vocab import LEVEL_LABELS

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "exports"
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def _save(name: str, payload: bytes) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(payload)
    return path


@pytest.fixture(scope="module")
def category_chart(demo_engines):
    """The by-category chart of the city as PNG, SVG and PDF (SpatiaLite demo data)."""
    engine = demo_engines("sqlite")
    counts = incident_counts_by(engine, "330200", "category", window=demo_window())
    labels = {c: term("category", c, "zh") for c in counts["category"]}
    figure = charts.incidents_bar(counts, "category", "各类事件数量", labels)
    provenance = provenance_for(engine, ExportView("330200", demo_window()))
    stamped = with_provenance(figure, provenance, width=900)
    files = {fmt: render_many([stamped], fmt, width=900, height=700, scale=2)[0] for fmt in ("png", "svg", "pdf")}
    return counts, labels, provenance, files


def test_png_export_is_a_png_of_the_asked_size(category_chart):
    *_, files = category_chart
    assert files["png"].startswith(MAGIC["png"])
    with Image.open(io.BytesIO(files["png"])) as image:
        assert image.size == (1800, 1400)
        # a real drawing: plenty of the chart's blue bars, not a blank page
        blue = image.convert("RGB").getcolors(maxcolors=1 << 20)
    blue = dict((color, n) for n, color in blue).get((29, 78, 216), 0)
    assert blue > 10_000
    _save("by_category.png", files["png"])


def test_svg_export_holds_chinese_labels_and_provenance(category_chart):
    counts, labels, provenance, files = category_chart
    svg = files["svg"].decode("utf-8")
    assert svg.lstrip().startswith("<svg")
    assert "各类事件数量" in svg
    for code in counts["category"]:
        assert labels[code] in svg
    assert "范围: 宁波市 (330200)" in svg and "数据截至" in svg
    _save("by_category.svg", files["svg"])


def test_pdf_export_renders_with_an_embedded_cjk_font(category_chart, tmp_path):
    counts, labels, _, files = category_chart
    assert files["pdf"].startswith(MAGIC["pdf"])
    pdf = _save("by_category.pdf", files["pdf"])
    fonts = poppler("pdffonts", str(pdf))
    embedded = [line.split()[-5] for line in fonts.splitlines()[2:]]
    assert embedded and set(embedded) == {"yes"}  # Chromium embeds the glyphs it used
    poppler("pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(tmp_path / "page"))
    assert (tmp_path / "page.png").read_bytes().startswith(MAGIC["png"])
    words = poppler("pdftotext", str(pdf), "-")
    # copied text is the real characters (no Kangxi radicals such as ⾯ for 面)
    assert not any(0x2F00 <= ord(ch) <= 0x2FDF for ch in words)
    assert "各类事件数量" in words
    top = counts.sort_values("incidents").iloc[-1]
    assert labels[top["category"]] in words and f"{top['incidents']:,}" in words


def test_unknown_format_is_refused():
    from errors import ExportFailed

    with pytest.raises(ExportFailed, match="png, svg or pdf"):
        render_many([charts.hourly_trend_figure(_empty_hourly(), "x")], "gif")


def _empty_hourly():
    import pandas as pd

    return pd.DataFrame({"hour_start": [], "incidents": []})


def test_scale_bar_is_a_round_fifth_of_the_width():
    assert print_map.scale_bar_km(100) == 20
    assert print_map.scale_bar_km(9) == 1
    assert print_map.scale_bar_km(0.3) == 0.1


def test_class_labels_cover_whole_counts():
    assert static_map.class_labels([0, 1, 3, 8]) == ["0", "1", "2 – 3", "4 – 8"]
    assert static_map.class_labels([640, 1200]) == ["0 – 640", "641 – 1,200"]


def test_map_extent_is_true_to_scale():
    minx, miny, maxx, maxy = print_map.true_scale_extent((121.0, 29.0, 122.0, 30.5), *static_map._plot_px())
    width_px = static_map.MAP_WIDTH - static_map.MARGIN["l"] - static_map.MARGIN["r"]
    height_px = static_map.MAP_HEIGHT - static_map.MARGIN["t"] - static_map.MARGIN["b"]
    ground_x = (maxx - minx) * math.cos(math.radians(29.75)) / width_px
    ground_y = (maxy - miny) / height_px
    assert ground_x == pytest.approx(ground_y)
    assert minx <= 121.0 and maxx >= 122.0 and miny <= 29.0 and maxy >= 30.5


@pytest.fixture(scope="module")
def district_map(demo_engines):
    engine = demo_engines("sqlite")
    provenance = provenance_for(engine, ExportView("330212", demo_window()))
    areas = static_map.scope_map_areas(engine, "330212", window=demo_window())
    figure = static_map.map_figure(areas, provenance)
    png, svg = (render_many([figure], fmt, scale=1)[0] for fmt in ("png", "svg"))
    return engine, provenance, areas, figure, png, svg


def test_static_map_draws_every_child_area_with_its_class(district_map):
    engine, _, areas, figure, *_ = district_map
    counts = incident_counts_by_child(engine, "330212", window=demo_window())
    assert sorted(areas["code"]) == sorted(counts["code"])
    assert dict(zip(areas["code"], areas["incidents"], strict=True)) == dict(
        zip(counts["code"], counts["incidents"], strict=True)
    )
    filled = [t for t in figure.data if t.fill == "toself"]
    rings = sum(t.x.count(None) for t in filled)
    polygons = sum(len(getattr(g, "geoms", [g])) for g in areas.geometry)
    assert rings == polygons
    legend = [t.name for t in figure.data if t.showlegend]
    # the top class (bounds rounded to readable numbers) holds the busiest area
    lower, upper = (float(bound.replace(",", "")) for bound in legend[-1].split(" – "))
    assert lower < areas["incidents"].max() <= upper


def test_static_map_image_has_title_legend_arrow_scale_and_provenance(district_map):
    _, provenance, _, _, png, svg = district_map
    assert png.startswith(MAGIC["png"])
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (static_map.MAP_WIDTH, static_map.MAP_HEIGHT)
    _save("map-330212.png", png)
    text = svg.decode("utf-8")
    level = LEVEL_LABELS["street"].zh
    for expected in (
        f"宁波市·鄞州区各{level}事件分布",
        "事件数",
        ">北<",
        "公里",
        "导出时间",
        "数据来源",
        provenance.window_text(),
        "范围: 宁波市·鄞州区 (330212)",
    ):
        assert expected in text, expected


def _page_words(pdf: Path) -> tuple[tuple[float, float], list[tuple[str, float, float, float, float]]]:
    """The page size in points and each word with its box (x0, y0, x1, y1), as pdftotext reads them."""
    info = poppler("pdfinfo", str(pdf))
    size = next(line for line in info.splitlines() if line.startswith("Page size:")).split()
    boxes = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                       poppler("pdftotext", "-bbox", str(pdf), "-"))
    return (float(size[2]), float(size[4])), [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in boxes]


def _inked(page: Image.Image, box: tuple[float, float, float, float]) -> bool:
    """Whether the rendered page has dark pixels in the box (points at 72 dpi = pixels of the render)."""
    darkest, _ = page.crop(box).convert("L").getextrema()
    assert isinstance(darkest, int)
    return darkest < 160


@pytest.fixture(scope="module")
def chart_pdfs(demo_engines, tmp_path_factory):
    """Every chart the Briefing page offers, of a district with a scenario, exported alone as a PDF."""
    engine = demo_engines("sqlite")
    data = briefing_data.collect(engine, ExportView("330212", demo_window(), scenario="台风-梅花-预案A"))
    charts_ = [briefing_data.map_chart(data), *briefing_data.incident_charts(data),
               *briefing_data.resource_charts(data)]
    folder = tmp_path_factory.mktemp("chart-pdfs")
    pdfs = {c.key: _save(f"chart-{c.key}.pdf", briefing_data.chart_file(c, data.provenance, "pdf")) for c in charts_}
    for key, pdf in pdfs.items():
        poppler("pdftoppm", "-r", "72", "-png", "-singlefile", str(pdf), str(folder / key))
    return data.provenance, pdfs, folder


def test_every_chart_pdf_shows_every_provenance_line_on_its_page(chart_pdfs):
    provenance, pdfs, folder = chart_pdfs
    labels = [f"{text(key, 'zh')}:" for key in ("scope", "window", "filters", "as_of", "scenario", "exported_at")]
    assert "by_source" in pdfs and "map" in pdfs  # a short chart (6 bars) and the map among them
    for key, pdf in pdfs.items():
        (width, height), words = _page_words(pdf)
        with Image.open(folder / f"{key}.png") as page:
            page.load()
        assert abs(page.size[0] - width) <= 1 and abs(page.size[1] - height) <= 1
        for label in labels:
            found = [w for w in words if w[0] == label]
            assert found, f"{key}: no '{label}' in the PDF's text"
            _, x0, y0, x1, y1 = found[-1]
            assert 0 <= x0 and x1 <= width and 0 <= y0 and y1 <= height, f"{key}: '{label}' off the page"
            # printed, not clipped: ink in the upper and in the lower half of the label's box
            middle = (y0 + y1) / 2
            assert _inked(page, (x0, y0, x1, middle)) and _inked(page, (x0, middle, x1, y1)), f"{key}: '{label}' cut"
        # and no text runs off the right or bottom edge (a line wrapped too wide, the export time)
        assert all(w[3] <= width + 0.5 and w[4] <= height + 0.5 for w in words), key
