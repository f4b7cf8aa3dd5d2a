"""Masking of reporters' personal data (names, phone numbers, ID-card numbers) wherever it is read."""

from __future__ import annotations

import re

MASK = "*"
MIN_SHOWN_DIGITS = 7  # a number shorter than this (110, an extension) is hidden whole
# A phone- or ID-like run in free text: digits, optionally split by single spaces or hyphens, the
# 18-character resident ID card (身份证) ending in its check character X. \d covers full-width digits
# (１３８…) and the separators include full-width ones, which Chinese input methods produce.
_NUMBER_RUN = re.compile(r"\+?\d(?:[ \-\u3000－]?\d)+[Xx]?")


def _is_digit(char: str) -> bool:
    return char.isdigit() or char in "Xx"


def visible_digits(count: int) -> int:
    """How many of a number's digits stay visible: none below MIN_SHOWN_DIGITS, else a third, rounded down."""
    return 0 if count < MIN_SHOWN_DIGITS else count // 3


def mask_number(number: str | None) -> str:
    """A phone or ID number with all but its last third of digits masked (all of them when it is
    short); separators (+, spaces, hyphens) stay, so the shape is seen but not the number."""
    if not isinstance(number, str) or not number:
        return ""
    digits = sum(map(_is_digit, number))
    hidden = digits - visible_digits(digits)
    out, seen = [], 0
    for char in number:
        if _is_digit(char):
            seen += 1
            out.append(MASK if seen <= hidden else char)
        else:
            out.append(char)
    return "".join(out)


def mask_name(name: str | None) -> str:
    """A reporter's name: its first character, the rest masked."""
    return name[0] + MASK * max(1, len(name) - 1) if isinstance(name, str) and name else ""


def mask_numbers_in_text(text: str | None) -> str | None:
    """Free text (a description, a note) with every phone- or ID-like run of 7+ digits masked."""
    if not isinstance(text, str):
        return text

    def masked(match: re.Match[str]) -> str:
        run = match.group(0)
        return mask_number(run) if sum(map(_is_digit, run)) >= MIN_SHOWN_DIGITS else run

    return _NUMBER_RUN.sub(masked, text)


# An e-mail address a caller says in a description (ASCII only: \w would eat the Chinese words before it).
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def mask_description(text: str | None, reporter: str | None = None) -> str:
    """A description as every read path shows it: phone- and ID-like runs masked (mask_numbers_in_text),
    e-mail addresses starred out, and the reporter's own name masked where the text repeats it."""
    if not isinstance(text, str) or not text:
        return ""
    masked = _EMAIL.sub(lambda m: MASK * len(m.group(0)), mask_numbers_in_text(text) or "")
    if isinstance(reporter, str) and len(reporter) > 1:
        masked = masked.replace(reporter, mask_name(reporter))
    return masked
