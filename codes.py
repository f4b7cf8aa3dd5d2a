"""Area codes: a six-digit GB/T 2260 code, then three digits per level below, so a code holds its ancestors."""

from __future__ import annotations

from vocab import CODE_LENGTH


def is_area_code(code: str) -> bool:
    """Whether a string has the shape of an area code: digits, 6 (city or district), 9, 12 or 15 long."""
    return code.isdigit() and len(code) in CODE_LENGTH.values()


def ancestor_codes(code: str) -> list[str]:
    """The codes from the area's district down to the area itself: one prefix per level."""
    return [code[:length] for length in CODE_LENGTH.values() if length <= len(code)]


def prefix_inside(code: str, level: str) -> str:
    """The prefix that every code inside an area starts with, the area's own code included.

    A city's districts share its first four digits (GB/T 2260: province, prefecture), not all six;
    below the city the area's whole code is the prefix of its descendants' codes.
    """
    return code[:4] if level == "city" else code
