"""Plotly figures to PNG, SVG or PDF with kaleido driving the system Chromium (kept open)."""

from __future__ import annotations

import asyncio
import atexit
import copy
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import kaleido
import plotly.graph_objects as go
from kaleido import PageGenerator

from errors import ExportFailed
from exports.provenance import Provenance
from formats import text_em
from settings import get_settings
from texts import text

MIME_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
DEFAULT_WIDTH = 1200
DEFAULT_HEIGHT = 600
RENDER_TIMEOUT_S = 60
START_TIMEOUT_S = 60
# Latin first: Chromium's PDF then keeps digits searchable. In a PDF, WenQuanYi before Noto CJK:
# Chromium maps some Noto glyphs back to Kangxi radicals (面 -> ⾯), so copied text would differ.
EXPORT_FONTS = {
    "pdf": "Liberation Sans, Arial, WenQuanYi Zen Hei, Noto Sans CJK SC, Microsoft YaHei, sans-serif",
    "other": "Liberation Sans, Arial, Noto Sans CJK SC, WenQuanYi Zen Hei, Microsoft YaHei, sans-serif",
}


class _PdfPage(PageGenerator):
    """kaleido's page with a zero @page margin. kaleido prints a PDF with Chromium's printToPDF and
    margins of 0.1 inch on a page of the figure's size: the figure was shrunk to the page's width and
    its bottom cut off (the provenance lines of short charts). A margin set by the page's own CSS
    takes precedence, so the page is exactly the figure, as the PNG and SVG are."""

    header = PageGenerator.header.replace(
        '<style id="head-style"></style>', '<style>@page { margin: 0; }</style><style id="head-style"></style>'
    )


# One Chromium at a time: the machine is small and Streamlit sessions share the process.
_BROWSER_LOCK = threading.Lock()


def _text_px(text: str, size: int) -> float:
    return size * text_em(text)


def wrap_parts(parts: list[str], max_px: float, size: int, joiner: str = " | ") -> list[str]:
    """Join parts into lines no wider than max_px (a part longer than a line gets its own)."""
    lines: list[str] = []
    for part in parts:
        candidate = f"{lines[-1]}{joiner}{part}" if lines else part
        if lines and _text_px(candidate, size) <= max_px:
            lines[-1] = candidate
        else:
            lines.append(part)
    return lines


def with_provenance(
    figure: go.Figure, provenance: Provenance, *, width: int | None = None, size: int = 11
) -> go.Figure:
    """A copy of the figure with the provenance stamp printed under the plot, wrapped to its width."""
    stamped = go.Figure(copy.deepcopy(figure.to_dict()))
    margin = stamped.layout.margin
    usable = (width or stamped.layout.width or DEFAULT_WIDTH) - (margin.l or 0) - (margin.r or 0) - 10
    lines = wrap_parts(
        [*provenance.stamp_parts(), f"{text('exported_at', provenance.lang)}: {provenance.exported_text()}"],
        usable,
        size,
    )
    bottom = (margin.b or 10) + len(lines) * (size + 5) + 12
    stamped.update_layout(margin={"b": bottom})
    stamped.add_annotation(
        text="<br>".join(lines),
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-(bottom - 6),
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        align="left",
        font={"size": size, "color": "#4b5563"},
    )
    return stamped


def _check_format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in MIME_TYPES:
        raise ExportFailed(f"Cannot export a chart as '{fmt}': use png, svg or pdf.")
    return fmt


class _Browser:
    """One headless Chromium kept open for the process (starting one costs seconds), driven by
    kaleido on a private event-loop thread; every wait has a timeout and a failure restarts it."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido: kaleido.Kaleido | None = None

    def _call(self, coroutine, timeout: float):
        if self._loop is None:  # _ensure_open starts the loop before any call
            raise RuntimeError("the kaleido loop is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=timeout)

    def _ensure_open(self) -> kaleido.Kaleido:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, name="kaleido-loop", daemon=True).start()
        if self._kaleido is None:
            self._kaleido = self._call(self._open(), START_TIMEOUT_S)
        return self._kaleido

    @staticmethod
    async def _open() -> kaleido.Kaleido:
        # mathjax=False: kaleido would otherwise fetch MathJax from a CDN (no network here).
        page = _PdfPage(mathjax=False)
        browser = kaleido.Kaleido(path=get_settings().chromium_path, page_generator=page, n=1, timeout=RENDER_TIMEOUT_S)
        await browser.open()
        return browser

    def render(self, figure: go.Figure, opts: dict) -> bytes:
        browser = self._ensure_open()
        try:
            return self._call(browser.calc_fig(figure, opts=opts), RENDER_TIMEOUT_S + 5)
        except BaseException:
            self.close()  # a crashed or stuck browser is replaced on the next call
            raise

    def close(self) -> None:
        browser, self._kaleido = self._kaleido, None
        if browser is not None and self._loop is not None:
            try:
                self._call(browser.close(), 15)
            except Exception:  # noqa: S110 - already gone; nothing else to clean up
                pass


_BROWSER = _Browser()
atexit.register(_BROWSER.close)


def close_browser() -> None:
    """Close the kept-open Chromium (the next export opens it again)."""
    with _BROWSER_LOCK:
        _BROWSER.close()


def _size(figure: go.Figure, width: int | None, height: int | None) -> tuple[int, int]:
    return width or figure.layout.width or DEFAULT_WIDTH, height or figure.layout.height or DEFAULT_HEIGHT


def render_many(
    figures: Sequence[go.Figure],
    fmt: str = "png",
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float = 2.0,
    on_each: Callable[[int], object] | None = None,
) -> list[bytes]:
    """Each figure as the bytes of a PNG/SVG/PDF file.

    Width and height default to the figure's own layout size; `scale` multiplies PNG pixels.
    `on_each(n)` is called after the n-th figure is done (progress bars).
    """
    fmt = _check_format(fmt)
    if not figures:
        return []
    if not Path(get_settings().chromium_path).exists():
        raise ExportFailed(
            f"Chart export needs Chromium at {get_settings().chromium_path}: "
            "install it with `apt-get install chromium` or set CITYOPS_CHROMIUM_PATH."
        )
    opts = [
        dict(zip(("width", "height"), _size(f, width, height), strict=True), format=fmt, scale=scale) for f in figures
    ]
    family = EXPORT_FONTS.get(fmt, EXPORT_FONTS["other"])
    figures = [go.Figure(f).update_layout(font_family=family) for f in figures]
    results: list[bytes] = []
    with _BROWSER_LOCK:
        try:
            for figure, options in zip(figures, opts, strict=True):
                results.append(_BROWSER.render(figure, options))
                if on_each is not None:
                    on_each(len(results))
        except Exception as exc:  # kaleido/choreographer raise many kinds; users get one message
            raise ExportFailed(f"The chart could not be rendered as {fmt.upper()}: {exc!r}") from exc
    return results


def render(figure: go.Figure, fmt: str = "png", **options) -> bytes:
    """One figure as PNG/SVG/PDF bytes (see render_many for the options)."""
    return render_many([figure], fmt, **options)[0]
