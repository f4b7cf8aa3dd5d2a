"""The briefing pack as a 16:9 PPTX (python-pptx), the same sections as the PDF, provenance on each slide."""

from __future__ import annotations

import io

from PIL import Image as PILImage
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from exports.briefing_data import (
    BriefingData,
    Chart,
    below_minimum,
    hotspot_rows,
    hotspots,
    key_figures,
    resource_summary,
)
from formats import fmt_int, fmt_num
from texts import term, text

# Office on the leaders' Windows machines has YaHei; LibreOffice substitutes Noto CJK.
FONT = "Microsoft YaHei"
BLUE, GREY, DARK, LIGHT = "1D4ED8", "4B5563", "111827", "EFF6FF"
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.4)
BODY_TOP, BODY_BOTTOM = Inches(1.0), Inches(6.75)
BLANK_LAYOUT = 6
TABLE_ROWS = 12


def _font(run, size: float, color: str = DARK, bold: bool = False) -> None:
    run.font.size, run.font.bold = Pt(size), bold
    run.font.color.rgb = RGBColor.from_string(color)
    run.font.name = FONT  # the Latin typeface; Chinese glyphs need the East Asian one too
    latin = run._r.get_or_add_rPr().find(qn("a:latin"))
    east_asian = latin.makeelement(qn("a:ea"), {"typeface": FONT})
    latin.addnext(east_asian)


def _text(slide, box: tuple, lines: list[str], size: float, color: str = DARK, bold: bool = False, align=PP_ALIGN.LEFT):
    shape = slide.shapes.add_textbox(*box)
    frame = shape.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = align
        _font(paragraph.add_run(), size, color, bold)
        paragraph.runs[0].text = line
    return shape


def _slide(deck, data: BriefingData, title: str | None):
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK_LAYOUT])
    provenance = data.provenance
    if title:
        _text(slide, (MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.6)), [title], 24, BLUE, bold=True)
    footer = (
        f"{provenance.stamp()} | {text('exported_at', provenance.lang)}: {provenance.exported_text()} | "
        f"{text('data_source', provenance.lang)}: {provenance.source_text()}"
    )
    _text(slide, (MARGIN, BODY_BOTTOM + Inches(0.05), WIDTH - 2 * MARGIN, Inches(0.6)), [footer], 9, GREY)
    number = text("page_of", provenance.lang, n=len(deck.slides))
    _text(
        slide,
        (WIDTH - MARGIN - Inches(1.5), Inches(0.05), Inches(1.5), Inches(0.3)),
        [number],
        9,
        GREY,
        align=PP_ALIGN.RIGHT,
    )
    return slide


def _picture(slide, png: bytes, left, top, max_width, max_height) -> None:
    with PILImage.open(io.BytesIO(png)) as image:
        width_px, height_px = image.size
    ratio = min(max_width / width_px, max_height / height_px)
    width, height = int(width_px * ratio), int(height_px * ratio)
    slide.shapes.add_picture(
        io.BytesIO(png), Emu(int(left + (max_width - width) / 2)), Emu(int(top)), Emu(width), Emu(height)
    )


def _table(
    slide, rows: list[list[str]], box: tuple, size: float = 12, *, shares: tuple | None = None, header: bool = True
) -> None:
    """A table in the box; `shares` splits its width between the columns (equal by default)."""
    left, top, width, height = box
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, min(height, Inches(0.4) * len(rows)))
    table = shape.table
    table.first_row = header
    for column, share in zip(table.columns, shares or [1 / len(rows[0])] * len(rows[0]), strict=True):
        column.width = Emu(int(width * share))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            paragraph = table.cell(r, c).text_frame.paragraphs[0]
            first = header and r == 0
            _font(paragraph.add_run(), size, BLUE if first else DARK, bold=first)
            paragraph.runs[0].text = str(value)


def _cover(deck, data: BriefingData) -> None:
    provenance = data.provenance
    slide = _slide(deck, data, None)
    _text(slide, (MARGIN, Inches(1.4), WIDTH - 2 * MARGIN, Inches(1.0)), [provenance.scope_title], 40, BLUE, True)
    _text(
        slide,
        (MARGIN, Inches(2.4), WIDTH - 2 * MARGIN, Inches(0.7)),
        [text("briefing_title", provenance.lang)],
        28,
        DARK,
    )
    _table(
        slide,
        [[k, v] for k, v in provenance.items()],
        (MARGIN, Inches(3.4), Inches(10), Inches(3.2)),
        size=13,
        shares=(0.2, 0.8),
        header=False,
    )


def _key_figures(deck, data: BriefingData) -> None:
    slide = _slide(deck, data, text("key_figures", data.provenance.lang))
    tile_w, tile_h, gap = Inches(2.35), Inches(2.2), Inches(0.16)
    for i, (name, value) in enumerate(key_figures(data)):
        left, top = MARGIN + (tile_w + gap) * (i % 5), BODY_TOP + Inches(0.4) + (tile_h + gap) * (i // 5)
        tile = slide.shapes.add_shape(1, left, top, tile_w, tile_h)  # 1 = rectangle
        tile.fill.solid()
        tile.fill.fore_color.rgb = RGBColor.from_string(LIGHT)
        tile.line.color.rgb = RGBColor.from_string("93C5FD")
        frame = tile.text_frame
        frame.word_wrap = True
        big = 30 if len(value) <= 7 else 24  # '4,372,050' must stay on one line
        for j, (line, size, color) in enumerate(((value, big, BLUE), (name, 13, GREY))):
            paragraph = frame.paragraphs[0] if j == 0 else frame.add_paragraph()
            paragraph.alignment = PP_ALIGN.CENTER
            _font(paragraph.add_run(), size, color, bold=j == 0)
            paragraph.runs[0].text = line


def _chart_slide(deck, data: BriefingData, title: str, charts: list[Chart], images: dict) -> None:
    is_map = [c.slot for c in charts] == ["map"]  # the map image carries its own title
    slide = _slide(deck, data, None if is_map else title)
    top = Inches(0.35) if is_map else BODY_TOP
    area_w, area_h = WIDTH - 2 * MARGIN, BODY_BOTTOM - top - Inches(0.1)
    slot_w = area_w / len(charts)
    for i, chart in enumerate(charts):
        _picture(slide, images[chart.key], MARGIN + slot_w * i, top, slot_w - Inches(0.1), area_h)


def _resources(deck, data: BriefingData, charts: dict[str, Chart], images: dict) -> None:
    slide = _slide(deck, data, text("resources", data.provenance.lang))
    lines = resource_summary(data)
    _text(slide, (MARGIN, BODY_TOP, WIDTH - 2 * MARGIN, Inches(1.1)), ["· " + x for x in lines], 14)
    shown = [charts[k] for k in ("beds_by_type", "stock_vs_min") if k in charts]
    if not shown:
        return
    slot_w, top = (WIDTH - 2 * MARGIN) / len(shown), BODY_TOP + Inches(1.2)
    for i, chart in enumerate(shown):
        _picture(slide, images[chart.key], MARGIN + slot_w * i, top, slot_w - Inches(0.1), BODY_BOTTOM - top)


def _details(deck, data: BriefingData) -> None:
    lang = data.provenance.lang
    slide = _slide(deck, data, text("resource_details", lang))
    kinds = [[text(k, lang) for k in ("kind", "points", "capacity", "open_capacity")]]
    kinds += [
        [term("assembly_kind", r.kind, lang), fmt_int(r.points), fmt_int(r.capacity), fmt_int(r.open_capacity)]
        for r in data.assembly_kinds.itertuples()
    ]
    _text(slide, (MARGIN, BODY_TOP, Inches(5), Inches(0.5)), [text("assembly_points", lang)], 16, BLUE)
    _table(slide, kinds, (MARGIN, BODY_TOP + Inches(0.5), Inches(5.2), Inches(4.5)))
    right = MARGIN + Inches(5.6)
    _text(slide, (right, BODY_TOP, Inches(6.5), Inches(0.5)), [text("supplies_below_min", lang)], 16, BLUE)
    lines = below_minimum(data)
    rows = [
        [r.depot_name, r.item, f"{fmt_num(r.quantity)} {r.unit}", f"{fmt_num(r.min_level)} {r.unit}"]
        for r in lines.head(TABLE_ROWS).itertuples()
    ]
    if not rows:
        empty = "none_below_min" if len(data.stock) else "no_depots"
        _text(slide, (right, BODY_TOP + Inches(0.5), Inches(6.5), Inches(0.5)), [text(empty, lang)], 14)
        return
    header = [text(k, lang) for k in ("depot", "item", "quantity", "min_level")]
    _table(
        slide,
        [header, *rows],
        (right, BODY_TOP + Inches(0.5), Inches(6.9), Inches(4.8)),
        size=11,
        shares=(0.46, 0.18, 0.18, 0.18),
    )
    if len(lines) > TABLE_ROWS:
        _text(
            slide,
            (right, BODY_BOTTOM - Inches(0.4), Inches(6.5), Inches(0.4)),
            [text("more_rows", lang, n=len(lines) - TABLE_ROWS)],
            10,
            GREY,
        )


def _hotspots(deck, data: BriefingData) -> None:
    lang, top = data.provenance.lang, hotspots(data)
    slide = _slide(deck, data, text("hotspots", lang, n=len(top)))
    if top.empty:
        _text(slide, (MARGIN, BODY_TOP, Inches(8), Inches(0.5)), [text("no_children", lang)], 16)
        return
    rows = hotspot_rows(top, lang)
    _table(
        slide,
        rows,
        (MARGIN, BODY_TOP, WIDTH - 2 * MARGIN, BODY_BOTTOM - BODY_TOP - Inches(0.2)),
        size=13,
        shares=(0.07, 0.27, 0.12, 0.14, 0.12, 0.14, 0.14),
    )


def pack_pptx(data: BriefingData, charts: list[Chart], images: dict[str, bytes]) -> bytes:
    """The pack as PPTX bytes: the same sections as the PDF, one per slide."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    lang, by_key = data.provenance.lang, {c.key: c for c in charts}
    _cover(deck, data)
    _key_figures(deck, data)
    for title, keys in (
        (by_key["map"].title, ["map"]),
        (text("incident_charts_1", lang), ["by_category", "by_source"]),
        (text("incident_charts_2", lang), ["by_status", "closed_loop"]),
        (text("hourly_trend", lang), ["hourly_trend"]),
    ):
        _chart_slide(deck, data, title, [by_key[k] for k in keys if k in by_key], images)
    _resources(deck, data, by_key, images)
    _details(deck, data)
    _hotspots(deck, data)
    deck.core_properties.title = f"{data.provenance.scope_title} {text('briefing_title', lang)}"
    deck.core_properties.subject = data.provenance.stamp()
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
