"""In chromium: an English overview and wall stay English across their fragments' refreshes (which rerun
outside the page's frame, possibly in another thread)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page

from tests.browser import ServedApp, open_page

pytestmark = pytest.mark.timeout(240)

CJK = re.compile(r"[\u3400-\u9fff]")
CITY, DISTRICT = "330200", "330212"


def _wait_until(page: Page, changed, what: str, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while not changed():
        assert time.monotonic() < deadline, f"no refresh of {what} in {seconds:.0f} s"
        page.wait_for_timeout(500)


def test_the_overview_kpis_stay_english_when_their_fragment_refreshes(dashboard: ServedApp, dashboard_page):
    page = dashboard_page
    open_page(page, dashboard.url(scope=DISTRICT, lang="en"))
    badge = page.get_by_text(re.compile(r"^Updated \d\d:\d\d:\d\d$"))
    first = badge.inner_text()
    _wait_until(page, lambda: badge.inner_text() != first, "the KPI tiles")  # the fragment ran again
    labels = page.locator("[data-testid=stMetricLabel]").all_inner_texts()
    assert len(labels) >= 10 and [label for label in labels if CJK.search(label)] == []


def test_the_wall_stays_english_when_it_refreshes_and_rotates(dashboard: ServedApp, chromium):
    context = dashboard.context(chromium, viewport={"width": 1920, "height": 1080}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(dashboard.url("", wall="1", lang="en", rotate="5", playlist=f"{CITY},{DISTRICT}"))
        scope = page.locator(".wall-scope[data-scope^='3302']")
        scope.wait_for(timeout=60_000)
        first = scope.get_attribute("data-scope")
        _wait_until(page, lambda: scope.get_attribute("data-scope") != first, "the wall's rotation")
        labels = page.locator(".wall-label").all_inner_texts()
        assert len(labels) >= 5 and [label for label in labels if CJK.search(label)] == []
    finally:
        context.close()
