"""Who is signed in: the viewer of this run (st.user's ID token claims and the app_user row, re-read every run),
and the only things a browser that may not look is drawn: the sign-in page, a refusal with a sign-out button."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitAPIException, StreamlitAuthError

from access import Account, Viewer, jurisdiction_of, may_see, viewer_from
from errors import AccountRefused, DatabaseUnavailable, Message, Text
from queries import users
from settings import get_settings
from ui import data
from ui.i18n import say, t
from ui.live import OUTAGE_ERRORS
from ui.widgets import plain

log = logging.getLogger("cityops.session")
_VIEWER = "_admitted_viewer"  # session_state: the viewer current_viewer() let in last


def _claims() -> Mapping[str, object]:
    return st.user.to_dict()


def signed_in() -> bool:
    """Whether st.user holds a signed-in identity (no [auth] configured: nobody is)."""
    return bool(_claims().get("is_logged_in"))


def current_viewer() -> Viewer:
    """The signed-in viewer (_signed_in_viewer), whose jurisdiction this session then reads within; a
    refused one reads nothing (ui.data fails closed)."""
    data.read_within(None)
    st.session_state.pop(_VIEWER, None)
    viewer = _signed_in_viewer()
    data.read_within(jurisdiction_of(viewer))
    st.session_state[_VIEWER] = viewer
    return viewer


def _signed_in_viewer() -> Viewer:
    """The signed-in viewer, with the app_user row read again now (so a disabled user is refused at once);
    AccountRefused when the user may not look.

    With the database away the row cannot be read: the session's last reading stands in, else the ID token's
    claims alone (nothing of the city can be read until the database is back, and the first reading then
    decides); a token that does not admit on its own claims gets the outage's own message."""
    claims = _claims()
    if not claims.get("is_logged_in"):
        raise AccountRefused(t("signin.needed"))
    subject = str(claims.get("sub") or "")
    email = claims.get("email") if claims.get("email_verified") is True else None
    kept: dict[str, Account | None] = st.session_state.setdefault("_viewer_accounts", {})
    try:
        kept[subject] = users.account_of(data.system_engine(), subject, str(email) if email else None)
    except OUTAGE_ERRORS as exc:
        outage = exc if isinstance(exc, DatabaseUnavailable) else DatabaseUnavailable(Message("db.down_now"))
        log.warning("the users table cannot be read (%s): the last reading of %r stands in", exc, subject)
        try:
            return _viewer(claims, kept.get(subject))
        except AccountRefused:
            if kept.get(subject) is not None:  # e.g. disabled at the last reading: that is the answer
                raise
            raise outage from exc
    return _viewer(claims, kept[subject])


def _viewer(claims: Mapping[str, object], account: Account | None) -> Viewer:
    settings = get_settings()
    return viewer_from(claims, account, city_code=settings.city_code, roles_claim=settings.auth_roles_claim,
                       area_claim=settings.auth_area_claim)


def admitted_viewer() -> Viewer:
    """The viewer app.py let in at the start of this run (no second reading of the users table);
    AccountRefused when it let nobody in."""
    viewer: Viewer | None = st.session_state.get(_VIEWER)
    if viewer is None:
        raise AccountRefused(Message("signin.needed"))
    return viewer


def sign_in_page() -> None:
    """The whole page of a browser that has not signed in: the app's name and a sign-in button, nothing of the
    city."""
    st.title(t("app_title"))
    st.write(t("signin.intro"))
    if st.button(t("signin.button"), type="primary", icon=":material/login:", key="sign-in"):
        if not identity_provider_answers():
            st.error(t("signin.provider_down"))
            return
        try:
            st.login()
        except (StreamlitAuthError, StreamlitAPIException):  # no [auth] section: an operator's job, said plainly
            log.exception("sign-in is not configured")
            st.error(t("signin.not_configured"))


def identity_provider_answers(timeout: float = 3.0) -> bool:
    """Whether the identity provider's discovery document answers now. Checked before st.login(), whose own
    failure is a bare "Authentication error" page from Streamlit's server (no way back into the app). No
    [auth] URL to ask: True (st.login() then says what is missing)."""
    url = st.secrets.get("auth", {}).get("server_metadata_url") if "auth" in st.secrets else None
    if not url:
        return True
    try:
        with urllib.request.urlopen(str(url), timeout=timeout) as answer:  # noqa: S310 - the operator's https URL
            return bool(answer.status == 200)
    except (OSError, ValueError) as exc:  # refused, timed out, unknown host, an HTTP error status
        log.warning("the identity provider does not answer at %s: %s", url, exc)
        return False


def refusal(message: Text) -> None:
    """A refused page: the message and a sign-out button only."""
    st.error(plain(say(message)))
    sign_out_button("refused")


def sign_out_button(where: str) -> None:
    if st.button(t("signin.sign_out"), icon=":material/logout:", key=f"sign-out-{where}"):
        st.logout()


def account_box(viewer: Viewer, *, divided: bool = True) -> None:
    """Name, roles and sign-out, drawn at the foot of the sidebar (at its top it moved the overview map's
    clicks: the drill-down lost them); divided from the scope picker above it, when there is one."""
    with st.sidebar:
        if divided:
            st.divider()
        with st.container(key="account-box"):
            st.caption(plain(viewer.name) + " · " + t("list_separator").join(t(f"role.{r}") for r in viewer.roles))
            sign_out_button("sidebar")


def recheck(scope: str) -> None:
    """At each refresh of a live fragment: when the viewer may no longer see the scope (disabled, roles
    taken away, signed out), rerun the whole app, which then draws the refusal instead of the page. The
    database away is no refusal: the fragment keeps its last figures (nothing new reaches the browser)."""
    try:
        viewer = current_viewer()
    except OUTAGE_ERRORS:
        return
    except AccountRefused:
        st.rerun()
    if not may_see(viewer, scope):
        st.rerun()
