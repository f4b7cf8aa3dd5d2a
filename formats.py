"""Numbers as the screens, exports and briefing packs print them ("—" where there is no value)."""

from __future__ import annotations

from typing import Any

import pandas as pd

MISSING = "—"


# A value is a number or missing (None, NaN, NaT, pd.NA: pd.isna covers them all). Typed Any, not
# float | None: the cells of a frame are what these print, and pandas types a cell as any scalar.
def fmt_int(value: Any) -> str:
    return MISSING if pd.isna(value) else f"{int(value):,}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    return MISSING if pd.isna(value) else f"{value * 100:.{digits}f}%"


def fmt_num(value: Any, digits: int = 1) -> str:
    return MISSING if pd.isna(value) else f"{value:,.{digits}f}"


# Code points from the CJK radicals up: Chinese characters and full-width punctuation.
CJK_START = 0x2E80


def text_em(text: str, latin: float = 0.56) -> float:
    """A text's width in ems: a Chinese character is about one em wide, a Latin one about `latin` em."""
    return sum(1.0 if ord(ch) >= CJK_START else latin for ch in str(text))
