"""The briefing pack as a PDF (reportlab, A4 landscape, embedded CJK font, provenance on every page)."""

from __future__ import annotations

import io
from html import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    Image,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from exports.briefing_data import (
    BriefingData,
    Chart,
    below_minimum,
    hotspot_rows,
    hotspots,
    key_figures,
    resource_summary,
)
from exports.fonts import pdf_font
from formats import fmt_int, fmt_num
from texts import term, text

PAGE = landscape(A4)
MARGIN = 12 * mm
FOOTER = 16 * mm
HEADER = 10 * mm
BLUE = colors.HexColor("#1d4ed8")
GREY = colors.HexColor("#4b5563")
LIGHT = colors.HexColor("#eff6ff")
TABLE_ROWS = 14  # a landscape page holds about this many table rows under a heading


def _styles() -> dict[str, ParagraphStyle]:
    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "base": base,
        "cover": ParagraphStyle("cover", base, fontSize=30, leading=40, textColor=BLUE),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=18, leading=26),
        "h1": ParagraphStyle("h1", base, fontSize=17, leading=24, textColor=BLUE, spaceAfter=6),
        "value": ParagraphStyle("value", base, fontSize=24, leading=30, alignment=1, textColor=BLUE),
        "tile": ParagraphStyle("tile", base, fontSize=10, leading=13, alignment=1, textColor=GREY),
        "small": ParagraphStyle("small", base, fontSize=7.5, leading=9.5, textColor=GREY),
        "cell": ParagraphStyle("cell", base, fontSize=9.5, leading=12),
    }


def _p(value, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(value)), style)


def _decorate(data: BriefingData, styles: dict):
    """Header (scope, title) and footer (provenance stamp, page number) on every page."""
    provenance = data.provenance
    header = f"{provenance.scope_title} · {text('briefing_title', provenance.lang)}"

    def draw(canvas, doc) -> None:
        canvas.saveState()
        width, height = PAGE
        canvas.setFont(styles["base"].fontName, 8.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, height - MARGIN + 2, header)
        canvas.drawRightString(width - MARGIN, height - MARGIN + 2, text("page_of", provenance.lang, n=doc.page))
        canvas.setStrokeColor(colors.HexColor("#d1d5db"))
        canvas.line(MARGIN, FOOTER, width - MARGIN, FOOTER)
        stamp = _p(
            f"{provenance.stamp()} | {text('exported_at', provenance.lang)}: "
            f"{provenance.exported_text()} | {text('data_source', provenance.lang)}: "
            f"{provenance.source_text()}",
            styles["small"],
        )
        _, used = stamp.wrap(width - 2 * MARGIN, FOOTER)
        stamp.drawOn(canvas, MARGIN, FOOTER - 3 - used)
        canvas.restoreState()

    return draw


def _image(png: bytes, max_width: float, max_height: float) -> Image:
    image = Image(io.BytesIO(png))
    ratio = min(max_width / image.imageWidth, max_height / image.imageHeight)
    image.drawWidth, image.drawHeight = image.imageWidth * ratio, image.imageHeight * ratio
    return image


def _grid(rows: list[list], widths: list[float], styles: dict, header: bool = True) -> Table:
    cells = [[c if isinstance(c, Paragraph) else _p(c, styles["cell"]) for c in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
    commands = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d1d5db")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), LIGHT))
    table.setStyle(TableStyle(commands))
    return table


def _cover(data: BriefingData, styles: dict) -> list:
    provenance = data.provenance
    rows = [[_p(k, styles["cell"]), _p(v, styles["cell"])] for k, v in provenance.items()]
    return [
        Spacer(1, 30 * mm),
        _p(provenance.scope_title, styles["cover"]),
        _p(text("briefing_title", provenance.lang), styles["subtitle"]),
        Spacer(1, 4 * mm),
        _p(provenance.window_text(), styles["base"]),
        Spacer(1, 10 * mm),
        _grid(rows, [45 * mm, 190 * mm], styles, header=False),
        PageBreak(),
    ]


def _key_figures(data: BriefingData, styles: dict, width: float) -> list:
    tiles = [[_p(value, styles["value"]), _p(label, styles["tile"])] for label, value in key_figures(data)]
    rows = [tiles[:5], tiles[5:]]
    table = Table(rows, colWidths=[width / 5] * 5, rowHeights=[42 * mm, 42 * mm])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, colors.HexColor("#93c5fd")),
                ("INNERGRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#93c5fd")),
                ("BACKGROUND", (0, 0), (-1, -1), LIGHT),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return [_p(text("key_figures", data.provenance.lang), styles["h1"]), Spacer(1, 8 * mm), table, PageBreak()]


def _chart_page(title: str, pair: list[Chart], images: dict, styles: dict, width: float, height: float) -> list:
    if len(pair) == 1 and pair[0].slot == "map":  # the map image carries its own title
        return [_image(images[pair[0].key], width, height - 4), PageBreak()]
    if len(pair) == 1 and pair[0].slot != "half":
        return [_p(title, styles["h1"]), _image(images[pair[0].key], width, height - 30), PageBreak()]
    cells = [_image(images[c.key], width / 2 - 6, height - 30) for c in pair]
    table = Table([cells], colWidths=[width / 2] * len(cells))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [_p(title, styles["h1"]), table, PageBreak()]


def _resource_summary(data: BriefingData, styles: dict) -> list:
    return [_p("· " + line, styles["base"]) for line in resource_summary(data)]


def _clipped(rows: list[list], limit: int, lang: str, styles: dict) -> tuple[list[list], list]:
    if len(rows) <= limit:
        return rows, []
    return rows[:limit], [_p(text("more_rows", lang, n=len(rows) - limit), styles["small"])]


def _details(data: BriefingData, styles: dict, width: float) -> list:
    lang = data.provenance.lang
    kinds = [[text(k, lang) for k in ("kind", "points", "capacity", "open_capacity")]]
    kinds += [
        [term("assembly_kind", r.kind, lang), fmt_int(r.points), fmt_int(r.capacity), fmt_int(r.open_capacity)]
        for r in data.assembly_kinds.itertuples()
    ]
    lines = below_minimum(data)
    rows = [
        [r.depot_name, r.item, f"{fmt_num(r.quantity)} {r.unit}", f"{fmt_num(r.min_level)} {r.unit}"]
        for r in lines.itertuples()
    ]
    rows, more = _clipped(rows, TABLE_ROWS, lang, styles)
    stock = [[text(k, lang) for k in ("depot", "item", "quantity", "min_level")], *rows]
    left = [
        _p(text("assembly_points", lang), styles["subtitle"]),
        _grid(kinds, [width * w for w in (0.14, 0.08, 0.1, 0.1)], styles),
    ]
    right = [_p(text("supplies_below_min", lang), styles["subtitle"])]
    empty = "none_below_min" if len(data.stock) else "no_depots"
    right += (
        [_grid(stock, [width * w for w in (0.22, 0.1, 0.1, 0.1)], styles), *more]
        if rows
        else [_p(text(empty, lang), styles["base"])]
    )
    table = Table([[left, right]], colWidths=[width * 0.45, width * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [_p(text("resource_details", lang), styles["h1"]), table, PageBreak()]


def _hotspots(data: BriefingData, styles: dict, width: float) -> list:
    lang, top = data.provenance.lang, hotspots(data)
    title = _p(text("hotspots", lang, n=len(top)), styles["h1"])
    if top.empty:
        return [title, _p(text("no_children", lang), styles["base"])]
    rows = hotspot_rows(top, lang)
    widths = [0.07, 0.27, 0.12, 0.14, 0.12, 0.14, 0.14]
    return [title, _grid(rows, [width * w for w in widths], styles)]


def _charts_story(
    data: BriefingData, charts: list[Chart], images: dict, styles: dict, width: float, height: float
) -> list:
    lang, by_key = data.provenance.lang, {c.key: c for c in charts}
    pages = [
        (by_key["map"].title, ["map"]),
        (text("incident_charts_1", lang), ["by_category", "by_source"]),
        (text("incident_charts_2", lang), ["by_status", "closed_loop"]),
        (text("hourly_trend", lang), ["hourly_trend"]),
    ]
    story = []
    for title, keys in pages:
        pair = [by_key[k] for k in keys if k in by_key]
        story += _chart_page(title, pair, images, styles, width, height)
    story += [_p(text("resources", lang), styles["h1"]), *_resource_summary(data, styles), Spacer(1, 3 * mm)]
    resources = [by_key[k] for k in ("beds_by_type", "stock_vs_min") if k in by_key]
    cells = [_image(images[c.key], width / 2 - 6, height - 90) for c in resources]
    if cells:
        story.append(Table([cells], colWidths=[width / 2] * len(cells)))
    story.append(PageBreak())
    return story


def pack_pdf(data: BriefingData, charts: list[Chart], images: dict[str, bytes]) -> bytes:
    """The pack as PDF bytes: cover, key figures, map, charts, resources, hotspots."""
    styles = _styles()
    buffer = io.BytesIO()
    width, height = PAGE[0] - 2 * MARGIN, PAGE[1] - MARGIN - HEADER - FOOTER
    doc = BaseDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER,
        bottomMargin=FOOTER + 2,
        title=f"{data.provenance.scope_title} {text('briefing_title', data.provenance.lang)}",
        author="CityOps 城运一张图",
        subject=data.provenance.stamp(),
    )
    frame = Frame(
        MARGIN, FOOTER + 2, width, height, id="body", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_decorate(data, styles))])
    story = [
        *_cover(data, styles),
        *_key_figures(data, styles, width),
        *_charts_story(data, charts, images, styles, width, height),
        *_details(data, styles, width),
        *_hotspots(data, styles, width),
    ]
    doc.build(story)
    return buffer.getvalue()
