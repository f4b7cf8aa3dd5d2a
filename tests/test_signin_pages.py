"""Sign-in in the frame, through Streamlit's own AppTest.user (what st.user holds): nobody signed in gets the
sign-in page only; a role gets its pages; a scope outside the jurisdiction, a page the role may not open and a
disabled user get a message and a sign-out button, nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from clock import now_utc
from demo.signin import demo_accounts
from queries import users
from settings import get_settings
from tests.apps import APP, page_app, signed_in
from tests.browser import free_port, provider_url

ACCOUNTS = {account.subject: account for account in demo_accounts()}


def claims(subject: str) -> dict:
    return {"is_logged_in": True, "sub": subject, **ACCOUNTS[subject].claims()}


@pytest.fixture
def on_db(writable, monkeypatch) -> Iterator:
    monkeypatch.setenv("DATABASE_URL", writable.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield writable
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def drawn(app: AppTest) -> str:
    """Every text the run drew (markdown, titles, captions, alerts, buttons, metrics)."""
    parts = [e.value for kind in ("markdown", "title", "caption", "error", "warning", "info", "subheader")
             for e in getattr(app, kind)]
    return "\n".join([*map(str, parts), *(b.label for b in app.button), *(m.label for m in app.metric)])


def refused_only(app: AppTest) -> str:
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.error) == 1 and not app.metric and not app.dataframe and not app.selectbox
    assert [b.key for b in app.button] == ["sign-out-refused"]
    return app.error[0].value


def test_nobody_signed_in_gets_the_sign_in_page_only(on_db):
    app = AppTest.from_file(APP, default_timeout=60)
    app.user = {"is_logged_in": False}
    app.query_params["scope"] = "330212"
    app.run()
    assert not app.exception
    assert [b.key for b in app.button] == ["sign-in"]
    assert not app.metric and not app.dataframe and not app.error and not app.sidebar.children
    assert "鄞州" not in drawn(app) and "330212" not in drawn(app)


@pytest.mark.parametrize(("subject", "page", "opens"), [
    ("leader", "overview", True), ("leader", "imports", False), ("planner", "scenarios", True),
    ("planner", "imports", False), ("data", "imports", True), ("data", "scenarios", False),
    ("admin", "overview", False), ("admin", "users", True), ("department", "incidents", True),
    ("department", "overview", False),
])
def test_each_role_opens_its_pages_and_is_refused_the_others(on_db, subject, page, opens):
    app = AppTest.from_file(APP, default_timeout=60)
    app.user = claims(subject)
    app.run()
    app.switch_page(f"pages/{page}.py").run()
    if opens:
        assert not app.exception and not app.error, [e.value for e in app.error]
        assert app.title[0].value
    else:
        assert "不能打开此页面" in refused_only(app)


def test_slash_opens_the_roles_first_page_in_its_home_area(on_db):
    app = AppTest.from_file(APP, default_timeout=60)
    app.user = claims("duty.yinzhou")
    app.run()
    assert app.query_params["scope"] == "330212"
    crumbs = [b.key for b in app.button if b.key and b.key.startswith("crumb-")]
    assert crumbs == ["crumb-330212"]  # the breadcrumbs start at the home area
    picker = next(s for s in app.sidebar.selectbox)
    # only the home area to pick: neither the city nor another district
    assert (picker.value, len(picker.options)) == ("330212", 1), picker.options


def test_a_scope_outside_the_jurisdiction_draws_nothing(on_db):
    app = signed_in(page_app("overview", scope="330203"), claims("duty.yinzhou")).run()
    assert refused_only(app).startswith("区域 330203 不在您的辖区内")
    assert "海曙" not in drawn(app)


def test_a_disabled_user_is_refused_at_the_next_run(on_db):
    users.add_user(on_db, "leader", name="L", roles=["leader"], home_code="330200", at=now_utc())
    app = signed_in(page_app("overview", scope="330212"), claims("leader")).run()
    assert app.metric
    users.set_enabled(on_db, "leader", False, at=now_utc())
    app.run()
    assert "停用" in refused_only(app)


def test_the_admin_keeps_users_through_the_page(on_db):
    app = signed_in(page_app("users"), claims("admin")).run()
    assert not app.exception and app.info  # no users yet
    app.text_input[0].input("wang.li")
    app.text_input[1].input("王丽")
    app.multiselect[0].select("duty_officer")
    app.text_input[3].input("330212")
    next(b for b in app.button if b.label == "添加用户").click().run()
    [row] = users.list_users(on_db)
    assert (row.subject, row.name, row.roles, row.home_code, row.enabled) == \
        ("wang.li", "王丽", ("duty_officer",), "330212", True)


def _auth_secrets(provider: str) -> dict[str, str]:
    return {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "s" * 32,
            "client_id": "cityops-demo", "client_secret": "x",
            "server_metadata_url": f"{provider}/.well-known/openid-configuration"}


def test_an_identity_provider_that_does_not_answer_is_said_on_the_sign_in_page(on_db):
    app = AppTest.from_file(APP, default_timeout=60)
    app.secrets["auth"] = _auth_secrets(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    app.run()
    app.button(key="sign-in").click().run()
    assert not app.exception
    assert [e.value for e in app.error] == ["统一身份认证服务暂时无法连接。请稍后再试；如仍无法连接，请联系运维人员。"]
    assert not app.metric and not app.sidebar.selectbox


def test_the_provider_check_asks_the_real_discovery_document(on_db):
    app = AppTest.from_function(_answers, default_timeout=60)
    app.secrets["auth"] = _auth_secrets(provider_url())  # the tests' oidc-provider-mock on loopback
    assert [m.value for m in app.run().markdown] == ["True"]
    app.secrets["auth"] = _auth_secrets(f"http://127.0.0.1:{free_port()}")
    assert [m.value for m in app.run().markdown] == ["False"]


def _answers() -> None:  # pragma: no cover - AppTest runs its source as the app script
    import streamlit as st

    from ui.session import identity_provider_answers

    st.write(str(identity_provider_answers()))
