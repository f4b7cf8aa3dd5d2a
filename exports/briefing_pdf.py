"""The briefing pack as a PDF (reportlab, A4 landscape, embedded CJK font, provenance on every page)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from exports.briefing_story import Section, Story, TextTable, tile_columns
from exports.fonts import pdf_font

PAGE = landscape(A4)
MARGIN = 12 * mm
FOOTER = 16 * mm
HEADER = 10 * mm
BLUE = colors.HexColor("#1d4ed8")
GREY = colors.HexColor("#4b5563")
LIGHT = colors.HexColor("#eff6ff")
TABLE_ROWS = 14  # a landscape page holds about this many table rows under a heading
COVER_COLUMNS = (45 * mm, 190 * mm)
HALVES = (0.45, 0.55)  # shares of the page width when a page holds two tables
# Tables in half a page keep column widths of their own, as fractions of the page width.
HALF_PAGE_COLUMNS = {"assembly_kinds": (0.14, 0.08, 0.1, 0.1), "below_min": (0.22, 0.1, 0.1, 0.1)}


@dataclass(frozen=True)
class Body:
    """What every section renderer needs: the styles, chart images and the size of the page body."""

    styles: dict[str, ParagraphStyle]
    images: dict[str, bytes]
    width: float
    height: float


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


def _decorate(story: Story, styles: dict):
    """Header (scope, title) and footer (provenance stamp, page number) on every page."""

    def draw(canvas, doc) -> None:
        canvas.saveState()
        width, height = PAGE
        canvas.setFont(styles["base"].fontName, 8.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, height - MARGIN + 2, story.header)
        canvas.drawRightString(width - MARGIN, height - MARGIN + 2, story.page_label(doc.page))
        canvas.setStrokeColor(colors.HexColor("#d1d5db"))
        canvas.line(MARGIN, FOOTER, width - MARGIN, FOOTER)
        stamp = _p(story.footer, styles["small"])
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
    commands: list[tuple] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d1d5db")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), LIGHT))
    table.setStyle(TableStyle(commands))
    return table


def _side_by_side(cells: list, widths: list[float]) -> Table:
    table = Table([cells], colWidths=widths)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _cover(section: Section, body: Body) -> list:
    styles = body.styles
    return [
        Spacer(1, 30 * mm),
        _p(section.title, styles["cover"]),
        _p(section.subtitle, styles["subtitle"]),
        Spacer(1, 4 * mm),
        *[_p(line, styles["base"]) for line in section.lines],
        Spacer(1, 10 * mm),
        *[_grid(t.rows, list(COVER_COLUMNS), styles, header=False) for t in section.tables],
    ]


def _kpis(section: Section, body: Body) -> list:
    styles = body.styles
    tiles: list[list[Paragraph] | str] = [[_p(value, styles["value"]), _p(name, styles["tile"])]
                                          for name, value in section.tiles]
    columns = tile_columns(section.tiles)
    tiles += [""] * (-len(tiles) % columns)  # empty cells end a shorter last row
    rows = [tiles[i:i + columns] for i in range(0, len(tiles), columns)]
    table = Table(rows, colWidths=[body.width / columns] * columns, rowHeights=[42 * mm] * len(rows))
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
    return [_p(section.title, styles["h1"]), Spacer(1, 8 * mm), table]


def _map(section: Section, body: Body) -> list:
    return [_image(body.images[section.charts[0].key], body.width, body.height - 4)]


def _charts(section: Section, body: Body) -> list:
    heading, width, height = _p(section.title, body.styles["h1"]), body.width, body.height
    charts = section.charts
    if len(charts) == 1 and charts[0].slot != "half":
        return [heading, _image(body.images[charts[0].key], width, height - 30)]
    cells = [_image(body.images[c.key], width / 2 - 6, height - 30) for c in charts]
    return [heading, _side_by_side(cells, [width / 2] * len(cells))]


def _summary(section: Section, body: Body) -> list:
    styles, width = body.styles, body.width
    flow: list[Flowable] = [_p(section.title, styles["h1"])]
    flow += [_p("· " + line, styles["base"]) for line in section.lines]
    flow.append(Spacer(1, 3 * mm))
    cells = [_image(body.images[c.key], width / 2 - 6, body.height - 90) for c in section.charts]
    if cells:
        flow.append(Table([cells], colWidths=[width / 2] * len(cells)))
    return flow


def _table(table: TextTable, widths: list[float], styles: dict) -> list:
    """The table's heading, then its rows (clipped to a page, with a note) or its empty message."""
    flow: list[Flowable] = [_p(table.title, styles["subtitle"])] if table.title else []
    if not table.rows and table.empty:
        return [*flow, _p(table.empty, styles["base"])]
    rows, more = table.clipped(TABLE_ROWS)
    flow.append(_grid([table.header, *rows] if table.header else rows, widths, styles, header=bool(table.header)))
    return flow + ([_p(more, styles["small"])] if more else [])


def _columns(table: TextTable, width: float) -> list[float]:
    count = len(table.header or table.rows[0])
    return [width * w for w in table.shares or [1 / count] * count]


def _tables(section: Section, body: Body) -> list:
    heading, styles, width = _p(section.title, body.styles["h1"]), body.styles, body.width
    if len(section.tables) == 1:
        table = section.tables[0]
        return [heading, *_table(table, _columns(table, width), styles)]
    cells = [_table(t, [width * w for w in HALF_PAGE_COLUMNS[t.key]], styles) for t in section.tables]
    return [heading, _side_by_side(cells, [width * share for share in HALVES])]


RENDERERS: dict[str, Callable[[Section, Body], list[Flowable]]] = {
    "cover": _cover,
    "kpis": _kpis,
    "map": _map,
    "charts": _charts,
    "summary": _summary,
    "tables": _tables,
}


def pack_pdf(story: Story, images: dict[str, bytes]) -> bytes:
    """The pack as PDF bytes: one page per section of the story."""
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
        title=story.title,
        author="CityOps 城运一张图",
        subject=story.subject,
    )
    frame = Frame(
        MARGIN, FOOTER + 2, width, height, id="body", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_decorate(story, styles))])
    body = Body(styles, images, width, height)
    flow: list[Flowable] = []
    for section in story.sections:
        flow += [*RENDERERS[section.kind](section, body), PageBreak()]
    doc.build(flow[:-1])  # no blank page after the last section
    return buffer.getvalue()
