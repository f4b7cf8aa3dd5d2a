"""Sign-in through the real OpenID Connect flow on loopback (oidc-provider-mock, tests/browser.py) in chromium:
what each role may open, what an anonymous browser receives, the jurisdiction, sign-out, a disabled user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from clock import now_utc
from queries import users
from queries.areas import areas_at_level
from tests.browser import IDLE, SIGN_IN, VIEWPORT, ServedApp, open_page, screenshot, sign_in

pytestmark = pytest.mark.timeout(240)
CITY, YINZHOU, HAISHU = "330200", "330212", "330203"
REFUSED = "[data-testid=stAlert]"
SIGN_OUT = "[class*='st-key-sign-out-'] button"


@pytest.fixture
def fresh(chromium: Browser) -> Iterator[Page]:
    """A page in a context that has not signed in."""
    context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN")
    yield context.new_page()
    context.close()


def refusal(page: Page, url: str) -> str:
    open_page(page, url, ready=SIGN_OUT)
    assert page.locator("[data-testid=stMetric], [data-testid=stDeckGlJsonChart], [data-testid=stDataFrame]"
                        ).count() == 0
    return page.locator(REFUSED).first.inner_text()


@pytest.mark.parametrize(("subject", "allowed", "forbidden"), [
    ("leader", ["overview", "incidents", "briefing"], ["imports", "users"]),
    ("data", ["overview", "imports"], ["scenarios", "briefing"]),
    ("planner", ["scenarios", "resources"], ["imports", "users"]),
    ("admin", ["users"], ["overview", "imports"]),  # keeping users is apart from reading the city
])
def test_a_role_opens_its_pages_and_is_refused_the_others(dashboard: ServedApp, chromium, subject, allowed,
                                                          forbidden):
    context = dashboard.context(chromium, subject, viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    try:
        for key in allowed:
            ready = {"imports": ".st-key-import-beds-template button",
                     "users": "[data-testid=stForm]"}.get(key, "[class*='st-key-crumb-'] button")
            open_page(page, dashboard.url(key, scope=CITY), ready=ready)
            assert page.locator("[class*='st-key-account-box']").count() == 1
        screenshot(page, f"signin-{subject}-{allowed[-1]}")
        for key in forbidden:
            assert "不能打开此页面" in refusal(page, dashboard.url(key, scope=CITY))
        screenshot(page, f"signin-{subject}-refused")
    finally:
        context.close()


def test_an_anonymous_browser_receives_nothing_of_the_city(dashboard: ServedApp, fresh: Page):
    frames: list[bytes] = []

    def keep(data: bytes | str) -> None:
        frames.append(data if isinstance(data, bytes) else data.encode())

    fresh.on("websocket", lambda ws: ws.on("framereceived", keep))
    for url in (dashboard.url(), dashboard.url("overview", scope=YINZHOU), dashboard.url("incidents", scope=HAISHU),
                dashboard.url("", wall="1")):
        fresh.goto(url)
        fresh.wait_for_selector(SIGN_IN, timeout=60_000)
        fresh.wait_for_selector(IDLE, timeout=60_000)
    screenshot(fresh, "signin-anonymous")
    received = b"".join(frames) + fresh.content().encode()
    districts = areas_at_level(dashboard.engine, CITY, "district")
    leaked = [name for name in districts["name"] if name.encode() in received]
    leaked += [code for code in [*districts["code"], YINZHOU + "001"] if code.encode() in received]
    assert frames and leaked == []
    for element in ("stMetric", "stDeckGlJsonChart", "stDataFrame", "stSidebar", "stPlotlyChart"):
        assert fresh.locator(f"[data-testid={element}]").count() == 0, element


def test_the_yinzhou_duty_officer_lands_on_yinzhou_and_is_refused_haishu(dashboard: ServedApp, chromium):
    context = dashboard.context(chromium, "duty.yinzhou", viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    try:
        open_page(page, dashboard.url())
        assert f"scope={YINZHOU}" in page.url
        crumbs = page.locator("[class*='st-key-crumb-']").evaluate_all("els => els.map(e => e.className)")
        assert len(crumbs) == 1 and f"crumb-{YINZHOU}" in crumbs[0]
        assert refusal(page, dashboard.url("overview", scope=HAISHU)).startswith("区域 330203 不在您的辖区内")
        screenshot(page, "signin-yinzhou-on-haishu")
    finally:
        context.close()


def test_sign_out_leaves_only_the_sign_in_page(dashboard: ServedApp, fresh: Page):
    sign_in(fresh, dashboard.base_url, "leader")
    open_page(fresh, dashboard.url(scope=CITY))
    fresh.locator("[class*='st-key-sign-out-sidebar'] button").click()
    # the provider's end-session page (RP-initiated logout) asks to confirm, then sends the browser back
    fresh.get_by_role("button", name="End session").click(timeout=60_000)
    fresh.wait_for_selector(SIGN_IN, timeout=60_000)
    open_page(fresh, dashboard.url(scope=CITY), ready=SIGN_IN)
    assert fresh.locator("[data-testid=stMetric]").count() == 0


def test_a_disabled_users_open_overview_is_refused_without_a_click(dashboard: ServedApp, fresh: Page):
    engine = dashboard.engine
    users.add_user(engine, "duty", name="Duty", roles=["duty_officer"], home_code=CITY, at=now_utc())
    try:
        sign_in(fresh, dashboard.base_url, "duty")
        open_page(fresh, dashboard.url(scope=CITY))
        fresh.wait_for_selector("[data-testid=stMetric]", timeout=30_000)
        users.set_enabled(engine, "duty", False, at=now_utc())
        # the KPI fragment refreshes every few seconds: it reruns the app, which refuses the user
        fresh.wait_for_selector(SIGN_OUT.replace("sign-out-", "sign-out-refused"), timeout=30_000)
        assert "停用" in fresh.locator(REFUSED).first.inner_text()
        assert fresh.locator("[data-testid=stMetric], [data-testid=stDeckGlJsonChart]").count() == 0
        screenshot(fresh, "signin-disabled")
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM app_user WHERE subject = 'duty'")


def test_a_yinzhou_duty_officer_receives_nothing_of_another_district(dashboard: ServedApp, chromium):
    """The leak test: links to somewhere else (another district, a street and a grid of it, a wall playlist of
    other districts, the briefing and the scenarios there) and their own district's pages; the websocket frames
    the browser receives are scanned for the other districts' names, and for the codes of those no link named."""
    engine = dashboard.engine
    districts = areas_at_level(engine, CITY, "district")
    others = districts[districts["code"] != YINZHOU]
    street = areas_at_level(engine, HAISHU, "street")["code"].iloc[0]
    grid = areas_at_level(engine, street, "grid")["code"].iloc[0]
    playlist = [HAISHU, str(others["code"].iloc[-1])]
    context = dashboard.context(chromium, "duty.yinzhou", viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(
        data if isinstance(data, bytes) else data.encode())))
    try:
        for url in (dashboard.url("overview", scope=HAISHU), dashboard.url("incidents", scope=street),
                    dashboard.url("resources", scope=grid), dashboard.url("briefing", scope=HAISHU),
                    dashboard.url("scenarios", scope=HAISHU)):
            assert "不在您的辖区内" in refusal(page, url), url
        page.goto(dashboard.url("", wall="1", playlist=",".join(playlist), profile="picker"))
        page.wait_for_selector(".wall-kpis", timeout=60_000)
        page.wait_for_timeout(3000)  # a refresh or two of the wall
        assert page.locator(".wall-kpis").get_attribute("data-scope") == YINZHOU  # the playlist cut to their own
        for key in ("overview", "incidents", "resources", "briefing"):  # their own district, drawn in full
            open_page(page, dashboard.url(key, scope=YINZHOU))
        screenshot(page, "signin-yinzhou-own-briefing")
    finally:
        context.close()
    received = b"".join(frames)
    named = {HAISHU, street, grid, *playlist}  # codes the browser sent: a refusal may quote them back
    leaked = [name for name in others["name"] if name.encode() in received]
    leaked += [code for code in others["code"] if code not in named and code.encode() in received]
    assert frames and leaked == []
