"""Stable codes for levels, incident categories, sources, priorities and states; their labels are in texts.py."""

from __future__ import annotations

from typing import NamedTuple

from texts import text


class Term(NamedTuple):
    """A stable code of a vocabulary; its label is the catalogue's text of key '<vocabulary>.<code>'."""

    vocabulary: str
    code: str

    @property
    def key(self) -> str:
        return f"{self.vocabulary}.{self.code}"

    def label(self, lang: str) -> str:
        return text(self.key, lang)

    # Open311 answers and sheet imports use both languages at once.
    @property
    def zh(self) -> str:
        return self.label("zh")

    @property
    def en(self) -> str:
        return self.label("en")


def _terms(vocabulary: str, *codes: str) -> tuple[Term, ...]:
    return tuple(Term(vocabulary, code) for code in codes)


LEVELS = ("city", "district", "street", "community", "grid")
LEVEL_LABELS = {term.code: term for term in _terms("level", *LEVELS)}
# Length of the code at each level: 6-digit county code + 3 street + 3 community + 3 grid.
CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 15}

CATEGORIES = _terms("category", "city_appearance", "street_order", "construction", "illegal_advertising",
                    "public_utilities", "roads_traffic", "greening", "disputes", "public_security", "fire",
                    "public_health", "environment", "hazardous_chemicals", "flood_typhoon", "group_rental",
                    "other")
SOURCES = _terms("source", "hotline_12345", "grid_patrol", "video_ai", "iot_sensor", "link_110", "department")
PRIORITIES = _terms("priority", "routine", "urgent", "critical")
# Disposal deadline by priority, hours from report (digital city management practice).
DUE_HOURS = {"routine": 48.0, "urgent": 8.0, "critical": 2.0}

STATUSES = _terms("status", "reported", "dispatched", "handling", "resolved", "closed", "voided", "parked",
                  "escalated")
# States in which the loop is not closed yet (Open311 "open").
OPEN_STATUSES = ("reported", "dispatched", "handling", "resolved", "parked", "escalated")
CLOSED_STATUSES = ("closed", "voided")
# Open states taken out of the live backlog: parked 挂账 (waiting on conditions outside the handlers'
# reach) and escalated 督查 (taken up by the supervision office). They are not counted as overdue.
HELD_STATUSES = ("parked", "escalated")
# The live backlog: open and still with its handlers, so a passed due time makes it overdue.
LIVE_STATUSES = tuple(s for s in OPEN_STATUSES if s not in HELD_STATUSES)
# Timestamp column recording when an incident entered each state.
STATUS_TIME_COLUMN = {s.code: f"{s.code}_at" for s in STATUSES}

# Lifecycle actions (the Open311 transitions extension) and, per current state, the state each
# allowed action leads to: the one table of allowed transitions. closed and voided are final.
ACTIONS = _terms("action", "dispatch", "handle", "resolve", "close", "void", "park", "escalate", "reopen")
TRANSITIONS = {
    "reported": {"dispatch": "dispatched", "void": "voided", "escalate": "escalated"},
    "dispatched": {"handle": "handling", "void": "voided", "escalate": "escalated"},
    "handling": {"resolve": "resolved", "park": "parked", "escalate": "escalated"},
    # verification failed: back to handling
    "resolved": {"close": "closed", "reopen": "handling", "escalate": "escalated"},
    "parked": {"reopen": "handling", "escalate": "escalated"},
    "escalated": {"dispatch": "dispatched", "handle": "handling", "resolve": "resolved"},
    "closed": {},
    "voided": {},
}
# Groups of categories as the Open311 service list shows them.
CATEGORY_GROUPS = {
    "城市管理 City management": ("city_appearance", "street_order", "construction",
                                 "illegal_advertising", "public_utilities", "roads_traffic", "greening"),
    "社会治理 Social governance": ("disputes", "public_security", "group_rental"),
    "安全应急 Safety and emergencies": ("fire", "public_health", "environment",
                                     "hazardous_chemicals", "flood_typhoon"),
    "其他 Other": ("other",),
}

CATEGORY_CODES = tuple(t.code for t in CATEGORIES)
SOURCE_CODES = tuple(t.code for t in SOURCES)
PRIORITY_CODES = tuple(t.code for t in PRIORITIES)
STATUS_CODES = tuple(t.code for t in STATUSES)
ACTION_CODES = tuple(t.code for t in ACTIONS)

ASSEMBLY_KINDS = _terms("assembly_kind", "square", "park", "green_space", "stadium", "school", "air_defence",
                        "evacuation_base")
FACILITY_STATUSES = _terms("facility_status", "open", "closed", "full")
BED_TYPES = _terms("bed_type", "general", "icu", "emergency", "isolation")
BED_TYPE_CODES = tuple(t.code for t in BED_TYPES)

# Units of supply stock. A unit that counts things holds whole numbers (342 艘, never 342.1 boats); a
# measured unit, or a count in thousands (1.5 千只 is 1,500 masks), may hold fractions. The demo, the
# sheet import and every display ask counts_things(); tests/test_units.py checks each unit in use is listed.
COUNTED_UNITS = frozenset({"艘", "台", "顶", "件", "个", "套", "张", "床", "箱", "部", "辆", "只", "条", "把", "块",
                           "架", "具", "副", "双", "盏", "桶", "袋", "包", "卷", "组"})
MEASURED_UNITS = frozenset({"吨", "千克", "公斤", "kg", "t", "升", "L", "m³", "立方米", "米", "m",
                            "千只", "千条", "万只"})


def counts_things(unit: str) -> bool:
    """Whether a stock unit counts whole things (an unknown unit is taken as measured: fractions allowed)."""
    return unit.strip() in COUNTED_UNITS


def unit_digits(unit: str) -> int:
    """Decimals a quantity in this unit is printed with: none for counted things, one otherwise."""
    return 0 if counts_things(unit) else 1
