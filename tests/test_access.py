"""The role matrix, the union of several roles, the jurisdiction (home area and descendants) and viewer_from."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from access import (
    ACTIONS,
    MATRIX,
    ROLES,
    Account,
    Viewer,
    check_scope,
    claim,
    may,
    may_open,
    may_see,
    viewer_from,
)
from errors import AccountRefused, OutsideJurisdiction
from queries.areas import areas_at_level
from settings import PROJECT_ROOT
from ui.router import PAGES

CITY, YINZHOU, HAISHU = "330200", "330212", "330203"
AT = datetime(2026, 12, 2, 8, 0)
SETTINGS = {"city_code": CITY, "roles_claim": "cityops_roles", "area_claim": "cityops_area"}
# The matrix as the issue states it (issue 14, item 2), written out again: access.MATRIX must say the same.
READ = {"overview", "incidents", "resources", "scenarios", "briefing"}
EXPECTED = {
    "leader": (READ | {"wall"}, set()),
    "duty_officer": (READ | {"wall"}, {"transition", "unmask"}),
    "planner": (READ, {"save_scenario", "delete_scenario"}),
    "data_officer": ({"overview", "incidents", "resources", "imports"}, {"import"}),
    "department_user": ({"incidents"}, {"transition"}),
    "admin": ({"users"}, {"admin"}),
}


def viewer(*roles: str, home: str = CITY, level: str = "city") -> Viewer:
    return Viewer("u1", "U One", roles, home, level)


def test_the_matrix_is_the_issues():
    assert {role: (set(grant.pages), set(grant.actions)) for role, grant in MATRIX.items()} == EXPECTED
    assert set(ACTIONS) == set().union(*(actions for _, actions in EXPECTED.values()))


def test_every_page_a_role_opens_is_a_page_of_the_app_or_the_users_page():
    assert set().union(*(grant.pages for grant in MATRIX.values())) == {spec.key for spec in PAGES} | {"users"}


@pytest.mark.parametrize("role", ROLES)
def test_one_role_opens_its_pages_and_takes_its_actions_only(role):
    pages, actions = EXPECTED[role]
    one = viewer(role)
    assert {page for page in ("users", *(s.key for s in PAGES)) if may_open(one, page)} == pages
    assert {action for action in ACTIONS if may(one, action)} == actions


def test_several_roles_give_the_union():
    both = viewer("data_officer", "planner")
    assert {page for page in ("users", *(s.key for s in PAGES)) if may_open(both, page)} == READ | {"imports"}
    assert {a for a in ACTIONS if may(both, a)} == {"import", "save_scenario", "delete_scenario"}
    assert both.first_page == "overview" and viewer("admin").first_page == "users"
    assert viewer("department_user").first_page == "incidents"


def test_the_admin_sees_no_figures_of_the_city():
    assert not (MATRIX["admin"].pages & (READ | {"wall", "imports"}))


def test_an_unknown_action_is_an_error_not_a_no():
    with pytest.raises(ValueError, match="unknown action"):
        may(viewer("leader"), "launch")


def test_the_jurisdiction_is_the_home_area_and_its_descendants(engine):
    """Against the database: every area whose ancestors (parent chain) include the home area, and no other."""
    everything = areas_at_level(engine, CITY)
    parent = dict(zip(everything["code"], everything["parent_code"], strict=True))

    def chain(code):
        while code is not None:
            yield code
            code = parent.get(code)

    yinzhou = viewer("leader", home=YINZHOU, level="district")
    street = next(c for c in everything["code"] if parent.get(c) == YINZHOU)
    on_street = viewer("leader", home=street, level="street")
    for one in (yinzhou, on_street, viewer("leader")):
        expected = {code for code in everything["code"] if one.home_code in set(chain(code))}
        assert {code for code in everything["code"] if may_see(one, code)} == expected
    assert len({c for c in everything["code"] if may_see(yinzhou, c)}) > 100


def test_a_scope_outside_is_refused_with_a_message_naming_it():
    yinzhou = viewer("duty_officer", home=YINZHOU, level="district")
    assert check_scope(yinzhou, "330212001") == "330212001"
    for outside in (HAISHU, CITY, "330203001002", "3302120", "nope", ""):
        with pytest.raises(OutsideJurisdiction) as caught:
            check_scope(yinzhou, outside)
        assert caught.value.in_language("en").startswith(f"Area {outside.strip()[:15]} is outside your jurisdiction")
        assert "辖区" in caught.value.in_language("zh")


def test_a_city_viewer_sees_every_district_but_not_another_city():
    city = viewer("leader")
    assert all(may_see(city, code) for code in (CITY, YINZHOU, HAISHU, "330212001002003"))
    assert not may_see(city, "330102") and not may_see(city, "310101")


def account(**changes) -> Account:
    values = {"subject": "u1", "name": "Row Name", "email": None, "roles": ("planner",), "home_code": YINZHOU,
              "enabled": True, "updated_at": AT} | changes
    return Account(**values)


def test_roles_and_home_come_from_the_token_when_it_carries_them():
    claims = {"sub": "u1", "name": "Token Name", "cityops_roles": ["leader", "unknown"], "cityops_area": HAISHU}
    seen = viewer_from(claims, account(), **SETTINGS)
    assert (seen.roles, seen.home_code, seen.home_level, seen.name) == (("leader",), HAISHU, "district", "Token Name")


def test_else_from_the_users_table():
    seen = viewer_from({"sub": "u1"}, account(), **SETTINGS)
    assert (seen.roles, seen.home_code, seen.home_level, seen.name) == (("planner",), YINZHOU, "district", "Row Name")
    city = viewer_from({"sub": "u1", "cityops_roles": "leader, planner"}, account(home_code=CITY), **SETTINGS)
    assert (city.roles, city.home_level) == (("leader", "planner"), "city")


def test_a_dotted_claim_path_reaches_into_objects():
    claims = {"sub": "u1", "realm_access": {"roles": ["offline_access", "data_officer"]}, "org": {"area": YINZHOU}}
    seen = viewer_from(claims, None, city_code=CITY, roles_claim="realm_access.roles", area_claim="org.area")
    assert (seen.roles, seen.home_code) == (("data_officer",), YINZHOU)
    assert claim(claims, "realm_access.nothing") is None and claim(claims, "org.area.deeper") is None


def test_a_disabled_user_is_refused_even_when_the_token_carries_roles():
    claims = {"sub": "u1", "cityops_roles": ["leader"], "cityops_area": CITY}
    with pytest.raises(AccountRefused) as caught:
        viewer_from(claims, account(enabled=False), **SETTINGS)
    assert "disabled" in str(caught.value)


@pytest.mark.parametrize(("claims", "row", "says"), [
    ({"sub": "u1"}, None, "no role"),  # neither the token nor a row names a role
    ({"sub": "u1", "cityops_roles": []}, account(), "no role"),  # the IdP's empty list wins over the row
    ({"sub": "u1", "cityops_roles": ["root"]}, None, "no role"),
    ({"sub": "u1", "cityops_roles": ["leader"]}, None, "no home area"),
    ({"sub": "u1", "cityops_roles": ["leader"], "cityops_area": "310101"}, None, "no home area"),
    ({"sub": "u1", "cityops_roles": ["leader"], "cityops_area": "33021"}, None, "no home area"),
    ({"cityops_roles": ["leader"], "cityops_area": CITY}, None, "no user id"),
])
def test_a_user_without_role_home_or_id_is_refused(claims, row, says):
    with pytest.raises(AccountRefused, match=says):
        viewer_from(claims, row, **SETTINGS)


def readme_roles() -> dict[str, tuple[set[str], set[str]]]:
    """The README's roles table: role code (in backticks) -> (pages, actions)."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| role | pages | actions |", 1)[1].split("\n\n", 1)[0]
    found = {}
    for line in table.strip().splitlines()[1:]:
        role, pages, actions = (cell.strip() for cell in line.strip("|").split("|"))
        code = re.search(r"`(\w+)`", role)
        assert code, line
        found[code.group(1)] = ({p.strip() for p in pages.split(",")},
                                set() if actions == "—" else {a.strip() for a in actions.split(",")})
    return found


def test_the_readme_roles_table_is_the_matrix():
    assert readme_roles() == {role: (set(grant.pages), set(grant.actions)) for role, grant in MATRIX.items()}
