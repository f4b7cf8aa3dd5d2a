"""The briefing pack as a 16:9 PPTX (python-pptx): one slide per section of the story, provenance on each."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image as PILImage
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from exports.briefing_story import Section, Story, TextTable, tile_columns

# Office on the leaders' Windows machines has YaHei; LibreOffice substitutes Noto CJK.
FONT = "Microsoft YaHei"
BLUE, GREY, DARK, LIGHT = "1D4ED8", "4B5563", "111827", "EFF6FF"
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.4)
BODY_TOP, BODY_BOTTOM = Inches(1.0), Inches(6.75)
BLANK_LAYOUT = 6
TABLE_ROWS = 12


@dataclass(frozen=True)
class TableSlot:
    """Where a table goes on a slide: its column, size and type sizes; headings and notes share `text_width`."""

    left: int
    width: int
    height: int  # at most; a short table takes 0.4" a row
    size: float
    text_width: int
    empty_size: float


FULL_SLOT = TableSlot(MARGIN, WIDTH - 2 * MARGIN, BODY_BOTTOM - BODY_TOP - Inches(0.2), 13, Inches(8), 16)
HALF_SLOTS = (
    TableSlot(MARGIN, Inches(5.2), Inches(4.5), 12, Inches(5), 14),
    TableSlot(MARGIN + Inches(5.6), Inches(6.9), Inches(4.8), 11, Inches(6.5), 14),
)


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


def _slide(deck, story: Story, title: str | None):
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK_LAYOUT])
    if title:
        _text(slide, (MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.6)), [title], 24, BLUE, bold=True)
    _text(slide, (MARGIN, BODY_BOTTOM + Inches(0.05), WIDTH - 2 * MARGIN, Inches(0.6)), [story.footer], 9, GREY)
    _text(
        slide,
        (WIDTH - MARGIN - Inches(1.5), Inches(0.05), Inches(1.5), Inches(0.3)),
        [story.page_label(len(deck.slides))],
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


def _pictures(slide, pngs: list[bytes], top, height) -> None:
    """The images side by side across the slide, each centred in its share of the width."""
    slot_w = (WIDTH - 2 * MARGIN) / len(pngs)
    for i, png in enumerate(pngs):
        _picture(slide, png, MARGIN + slot_w * i, top, slot_w - Inches(0.1), height)


def _grid(
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


def _cover(deck, story: Story, section: Section, images: dict) -> None:
    slide = _slide(deck, story, None)
    _text(slide, (MARGIN, Inches(1.4), WIDTH - 2 * MARGIN, Inches(1.0)), [section.title], 40, BLUE, True)
    _text(slide, (MARGIN, Inches(2.4), WIDTH - 2 * MARGIN, Inches(0.7)), [section.subtitle or ""], 28, DARK)
    # section.lines (the window) is left out here as it always was: the table's second row gives it
    for table in section.tables:
        box = (MARGIN, Inches(3.4), Inches(10), Inches(3.2))
        _grid(slide, table.rows, box, size=13, shares=table.shares, header=False)


def _kpis(deck, story: Story, section: Section, images: dict) -> None:
    slide = _slide(deck, story, section.title)
    columns, tile_h, gap = tile_columns(section.tiles), Inches(2.2), Inches(0.16)
    tile_w = int((WIDTH - 2 * MARGIN - gap * (columns - 1)) / columns)
    for i, (name, value) in enumerate(section.tiles):
        left, top = MARGIN + (tile_w + gap) * (i % columns), BODY_TOP + Inches(0.4) + (tile_h + gap) * (i // columns)
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


def _map(deck, story: Story, section: Section, images: dict) -> None:
    slide = _slide(deck, story, None)  # the map image carries its own title
    top = Inches(0.35)
    _pictures(slide, [images[c.key] for c in section.charts], top, BODY_BOTTOM - top - Inches(0.1))


def _charts(deck, story: Story, section: Section, images: dict) -> None:
    slide = _slide(deck, story, section.title)
    _pictures(slide, [images[c.key] for c in section.charts], BODY_TOP, BODY_BOTTOM - BODY_TOP - Inches(0.1))


def _summary(deck, story: Story, section: Section, images: dict) -> None:
    slide = _slide(deck, story, section.title)
    _text(slide, (MARGIN, BODY_TOP, WIDTH - 2 * MARGIN, Inches(1.1)), ["· " + x for x in section.lines], 14)
    if section.charts:
        top = BODY_TOP + Inches(1.2)
        _pictures(slide, [images[c.key] for c in section.charts], top, BODY_BOTTOM - top)


def _table(slide, table: TextTable, slot: TableSlot) -> None:
    """The table's heading, then its rows (clipped to the slide, with a note) or its empty message."""
    top: int = BODY_TOP  # EMU: Inches + Inches is a plain int
    if table.title:
        _text(slide, (slot.left, top, slot.text_width, Inches(0.5)), [table.title], 16, BLUE)
        top += Inches(0.5)
    if not table.rows and table.empty:
        _text(slide, (slot.left, top, slot.text_width, Inches(0.5)), [table.empty], slot.empty_size)
        return
    rows, more = table.clipped(TABLE_ROWS)
    box = (slot.left, top, slot.width, slot.height)
    _grid(slide, [table.header, *rows] if table.header else rows, box, slot.size, shares=table.shares)
    if more:
        _text(slide, (slot.left, BODY_BOTTOM - Inches(0.4), slot.text_width, Inches(0.4)), [more], 10, GREY)


def _tables(deck, story: Story, section: Section, images: dict) -> None:
    slide = _slide(deck, story, section.title)
    slots = (FULL_SLOT,) if len(section.tables) == 1 else HALF_SLOTS
    for table, slot in zip(section.tables, slots, strict=True):
        _table(slide, table, slot)


RENDERERS: dict[str, Callable[..., None]] = {
    "cover": _cover,
    "kpis": _kpis,
    "map": _map,
    "charts": _charts,
    "summary": _summary,
    "tables": _tables,
}


def pack_pptx(story: Story, images: dict[str, bytes]) -> bytes:
    """The pack as PPTX bytes: one slide per section of the story, as in the PDF."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    for section in story.sections:
        RENDERERS[section.kind](deck, story, section, images)
    deck.core_properties.title = story.title
    deck.core_properties.subject = story.subject
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
