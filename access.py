"""Who is looking: the roles (pages and actions of each), the signed-in viewer and the jurisdiction they see."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from codes import is_area_code, prefix_inside
from errors import AccountRefused, Message, OutsideJurisdiction
from vocab import CODE_LENGTH


class Grant(NamedTuple):
    """What one role may do: the pages it may open and the actions it may take."""

    pages: frozenset[str]
    actions: frozenset[str]


READ_PAGES = ("overview", "incidents", "resources", "scenarios", "briefing")
# The role matrix (README "Roles" shows the same table; tests/test_access.py checks that they agree).
# Admins see no figures of the city: keeping users is apart from reading the city (separation of duties).
MATRIX: dict[str, Grant] = {
    "leader": Grant(frozenset({*READ_PAGES, "wall"}), frozenset()),
    "duty_officer": Grant(frozenset({*READ_PAGES, "wall"}), frozenset({"transition", "unmask"})),
    "planner": Grant(frozenset(READ_PAGES), frozenset({"save_scenario", "delete_scenario"})),
    "data_officer": Grant(frozenset({"overview", "incidents", "resources", "imports"}), frozenset({"import"})),
    "department_user": Grant(frozenset({"incidents"}), frozenset({"transition"})),
    "admin": Grant(frozenset({"users"}), frozenset({"admin"})),
}
ROLES = tuple(MATRIX)
ACTIONS = ("transition", "unmask", "save_scenario", "delete_scenario", "import", "admin")
# The order pages are offered in: "/" opens the first one a viewer may open.
PAGE_ORDER = ("overview", "incidents", "resources", "scenarios", "briefing", "imports", "wall", "users")


@dataclass(frozen=True)
class Account:
    """A row of the app_user table: a user an admin keeps (roles and home area when the IdP sends none)."""

    subject: str  # the ID token's `sub` (or the login name the IdP uses as one)
    name: str
    email: str | None
    roles: tuple[str, ...]
    home_code: str
    enabled: bool
    updated_at: datetime


@dataclass(frozen=True)
class Viewer:
    """Who is looking: subject, name, roles, and the home area (code and level) whose descendants they see."""

    subject: str
    name: str
    roles: tuple[str, ...]
    home_code: str
    home_level: str

    @property
    def pages(self) -> frozenset[str]:
        return frozenset().union(*(MATRIX[role].pages for role in self.roles))

    @property
    def actions(self) -> frozenset[str]:
        return frozenset().union(*(MATRIX[role].actions for role in self.roles))

    @property
    def first_page(self) -> str | None:
        """The page "/" opens: the first of PAGE_ORDER the viewer may open."""
        return next((page for page in PAGE_ORDER if page in self.pages), None)


def may_open(viewer: Viewer, page: str) -> bool:
    """Whether one of the viewer's roles may open the page."""
    return page in viewer.pages


def may(viewer: Viewer, action: str) -> bool:
    """Whether one of the viewer's roles may take the action."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}: expected one of {', '.join(ACTIONS)}")
    return action in viewer.actions


class Jurisdiction(NamedTuple):
    """What a viewer may see: their home area and the code prefix every area inside it starts with. The
    queries read through an engine that carries one (queries.engine.within)."""

    home_code: str
    prefix: str

    def covers(self, code: str) -> bool:
        """Whether an area code is the home area or one of its descendants (codes hold their ancestors)."""
        code = str(code).strip()
        return is_area_code(code) and code.startswith(self.prefix)

    def check(self, code: str) -> str:
        """The code when it is inside; OutsideJurisdiction otherwise (never an empty answer that leaks counts)."""
        if not self.covers(code):
            raise OutsideJurisdiction(Message("access.outside", code=str(code).strip()[:15], home=self.home_code))
        return str(code).strip()


def jurisdiction_of(viewer: Viewer) -> Jurisdiction:
    return Jurisdiction(viewer.home_code, prefix_inside(viewer.home_code, viewer.home_level))


def may_see(viewer: Viewer, code: str) -> bool:
    """Whether an area code is the viewer's home area or one of its descendants."""
    return jurisdiction_of(viewer).covers(code)


def check_scope(viewer: Viewer, code: str) -> str:
    """The code when the viewer may see it; OutsideJurisdiction otherwise."""
    return jurisdiction_of(viewer).check(code)


def level_of(code: str, city_code: str) -> str:
    """The level of an area code by its length (six digits: the city's own code, else a district)."""
    if code == city_code:
        return "city"
    return next(level for level, length in CODE_LENGTH.items() if length == len(code))


def claim(claims: Mapping[str, object], path: str) -> object | None:
    """A claim by name or dotted path (`realm_access.roles`); None when any step is missing."""
    value: object = claims
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def _roles(value: object) -> tuple[str, ...]:
    """Known role codes in a claim's value (a list, or one string separated by spaces or commas), in ROLES order."""
    given = value.replace(",", " ").split() if isinstance(value, str) else value
    named = {str(v).strip() for v in given} if isinstance(given, Sequence) else set()
    return tuple(role for role in ROLES if role in named)


def parse_roles(text: str) -> tuple[str, ...]:
    """Role codes as stored and typed ("leader,planner"); ValueError naming an unknown one."""
    named = [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]
    if unknown := [name for name in named if name not in MATRIX]:
        raise ValueError(f"unknown role {', '.join(unknown)}: expected {', '.join(ROLES)}")
    return tuple(role for role in ROLES if role in named)


def viewer_from(claims: Mapping[str, object], account: Account | None, *, city_code: str,
                roles_claim: str, area_claim: str) -> Viewer:
    """The viewer of an ID token's claims: roles and home area from the claims when the IdP sends them, else
    from the account (the app_user row). A disabled account is refused even when the token carries roles; a
    user with no role, or no home area, is refused too (AccountRefused)."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise AccountRefused(Message("access.no_subject"))
    if account is not None and not account.enabled:
        raise AccountRefused(Message("access.disabled"))
    sent_roles, sent_area = claim(claims, roles_claim), claim(claims, area_claim)
    roles = _roles(sent_roles) if sent_roles is not None else account.roles if account else ()
    home = str(sent_area).strip() if sent_area is not None else account.home_code if account else ""
    if not roles:
        raise AccountRefused(Message("access.no_role"))
    if not is_area_code(home) or not home.startswith(prefix_inside(city_code, "city")):
        raise AccountRefused(Message("access.no_home"))
    name = str(claims.get("name") or claims.get("preferred_username") or (account.name if account else "") or subject)
    return Viewer(subject, name, roles, home, level_of(home, city_code))
