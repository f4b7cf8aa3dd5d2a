"""A CJK font reportlab can embed: TrueType outlines (Noto CJK's CFF outlines are refused)."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from errors import ExportFailed

PDF_FONT = "CityOpsCJK"
# Tried when fontconfig is not there to ask; Debian package names in the comments.
KNOWN_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # fonts-wqy-microhei
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # fonts-droid-fallback
)
FONT_HINT = "No Chinese TrueType font found for PDF export: install one with `apt-get install fonts-wqy-zenhei`."


def _fontconfig_candidates() -> list[tuple[str, int]]:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    listing = subprocess.run(  # noqa: S603 - fc-list found on PATH, fixed arguments, no shell
        [fc_list, ":lang=zh:fontformat=TrueType", "--format", "%{file}|%{index}\n"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout
    found = []
    for line in sorted(set(listing.splitlines())):
        path, _, index = line.partition("|")
        found.append((path, int(index.split(",")[0] or 0)))
    # the sans faces read best on a slide or tablet; "Mono"/"Sharp" variants sort later
    return sorted(found, key=lambda f: ("wqy-zenhei" not in f[0], f[1]))


@lru_cache(maxsize=1)
def pdf_font() -> str:
    """Register a CJK TrueType font with reportlab once; return its reportlab name."""
    for path, index in [*_fontconfig_candidates(), *KNOWN_FONTS]:
        if not Path(path).exists():
            continue
        try:
            pdfmetrics.registerFont(TTFont(PDF_FONT, path, subfontIndex=index))
        except Exception:  # noqa: S112 - CFF outlines or a broken file: try the next font
            continue
        return PDF_FONT
    raise ExportFailed(FONT_HINT)
