"""The one catalogue of texts (gettext domain cityops, locale/): every label, by stable key, in Chinese and English."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DOMAIN = "cityops"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@dataclass(frozen=True)
class Language:
    """A language of the texts: its code (the URL's ?lang= and its directory under locale/) and locales."""

    code: str
    name: str  # in the language itself, as a language picker shows it
    number_locale: str  # Babel's locale for numbers (formats.py)
    browser_locale: str  # BCP 47 tag for the browser's Intl (the wall's clock)


LANGUAGES = {
    "zh": Language("zh", "中文", "zh_CN", "zh-CN"),
    # en-GB rather than en-US: a 24-hour clock and day-month dates, as a command centre reads them
    "en": Language("en", "English", "en", "en-GB"),
}
DEFAULT_LANGUAGE = "zh"


@cache
def catalogue(lang: str) -> gettext.GNUTranslations:
    """The compiled catalogue (locale/<lang>/LC_MESSAGES/cityops.mo) of a language, read once per process."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def text(key: str, lang: str, **values: object) -> str:
    """The text of a key in a language, with its {placeholders} filled in (the key itself when unknown)."""
    found = catalogue(lang).gettext(key)
    return found.format(**values) if values else found


def term(vocabulary: str, code: str, lang: str) -> str:
    """The label of a vocabulary's code (key 'category.greening'), or the code itself when unknown."""
    key = f"{vocabulary}.{code}"
    found = catalogue(lang).gettext(key)
    return code if found == key else found
