"""The view follows the user: every page link carries it, /overview is a page, the picker names the scope."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from access import MATRIX
from queries import areas
from tests.apps import SIGNED_IN
from tests.browser import open_page, wait_idle
from tests.test_pages_apptest import DISTRICT, app_on, scope_at_level  # noqa: F401 - fixture
from ui.router import PAGES, WALL

VIEW = {"scope": DISTRICT, "window": "7d", "category": "greening", "layers": "grids,recent", "lang": "en"}


def _params(query: str) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(query).items()}


@pytest.mark.parametrize("page", ["pages/incidents.py", "pages/imports.py"])
def test_every_page_link_carries_the_whole_view(app_on, page):  # noqa: F811
    app = app_on(page, **VIEW)
    assert not app.exception
    links = {link.proto.page: _params(link.proto.query_string) for link in app.get("page_link")}
    # the pages the signed-in test user's roles open (tests/apps.py SIGNED_IN), and no other
    opened = {page for role in SIGNED_IN["cityops_roles"] for page in MATRIX[role].pages}
    assert set(links) == {spec.key for spec in PAGES if spec.key in opened}
    for key, params in links.items():
        assert params == VIEW | ({"wall": "1"} if key == WALL.key else {}), key


def test_the_scope_picker_shows_a_grid_scope_by_its_path(app_on, engine):  # noqa: F811
    grid = scope_at_level(engine, "grid")
    app = app_on(scope=grid)
    picker = app.selectbox(key=f"scope-picker-{grid}")
    assert picker.value == grid
    path = areas.ancestors_of(engine, grid)
    assert picker.format_func(grid) == " › ".join(path["name"].iloc[1:])  # district down to the grid


def _browser_params(url: str) -> dict[str, str]:
    return _params(urlparse(url).query)


def test_a_click_on_a_page_link_keeps_the_view_and_overview_has_its_own_address(dashboard, dashboard_page):
    page = dashboard_page
    open_page(page, dashboard.url("overview", **VIEW))
    assert page.locator("[role=dialog]").count() == 0, page.locator("[role=dialog]").all_inner_texts()
    assert urlparse(page.url).path == "/overview"
    for label, path in (("Incidents", "/incidents"), ("Resources", "/resources"), ("Overview", "/overview")):
        page.locator("[data-testid=stSidebar] [data-testid=stPageLink] a", has_text=label).first.click()
        page.wait_for_url(f"**{path}?**")
        wait_idle(page)
        assert urlparse(page.url).path == path and _browser_params(page.url) == VIEW, page.url
