"""Numbers as the screens, exports and briefing packs print them ("—" where there is no value)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
from babel.numbers import format_decimal, format_percent

from texts import DEFAULT_LANGUAGE, LANGUAGES
from vocab import unit_digits

MISSING = "—"


# A value is a number or missing (None, NaN, NaT, pd.NA: pd.isna covers them all). Typed Any, not
# float | None: the cells of a frame are what these print, and pandas types a cell as any scalar.
def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _pattern(digits: int) -> str:
    """A CLDR number pattern with thousands separators and this many decimals: '#,##0.0' for 1."""
    return "#,##0." + "0" * digits if digits else "#,##0"


def _locale(lang: str) -> str:
    return LANGUAGES[lang].number_locale


# Babel is given the float's exact binary value (Decimal(float)), so that it rounds as Python's format() always
# has (half-even on the exact value): from the float's shortest repr it would print 2.45 as 2.4, format() 2.5.
def fmt_int(value: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """'12,345' (a fraction is cut off, as int() does)."""
    return MISSING if _missing(value) else format_decimal(int(value), _pattern(0), locale=_locale(lang))


def fmt_num(value: Any, digits: int = 1, lang: str = DEFAULT_LANGUAGE) -> str:
    """'1,234.5' with `digits` decimals."""
    if _missing(value):
        return MISSING
    return format_decimal(Decimal(float(value)), _pattern(digits), locale=_locale(lang))


def fmt_pct(value: Any, digits: int = 1, lang: str = DEFAULT_LANGUAGE) -> str:
    """A ratio as '12.3%'. The percentage is the float value * 100, rounded as format() rounds it."""
    if _missing(value):
        return MISSING
    percent = Decimal(float(value) * 100)
    return format_percent(percent / 100, _pattern(digits) + "%", locale=_locale(lang))


def fmt_quantity(value: Any, unit: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A stock quantity with its unit: '342 艘' for things counted, '12.5 吨' for measured ones."""
    return MISSING if _missing(value) else f"{fmt_num(value, unit_digits(unit), lang)} {unit}"


# Code points from the CJK radicals up: Chinese characters and full-width punctuation.
CJK_START = 0x2E80


def text_em(text: str, latin: float = 0.56) -> float:
    """A text's width in ems: a Chinese character is about one em wide, a Latin one about `latin` em."""
    return sum(1.0 if ord(ch) >= CJK_START else latin for ch in str(text))
