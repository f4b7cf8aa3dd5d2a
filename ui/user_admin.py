"""The Users page's parts: the app_user table listed, a user added, disabled or enabled, given roles; through
the same query functions as `cli.py users`, each write only for a viewer who may administer."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from access import ROLES, Account, Viewer, may
from clock import now_utc
from errors import CityOpsError, Message
from queries import users
from ui import data
from ui.i18n import say, t
from ui.widgets import plain


def _done(message: str) -> None:
    st.session_state["_users_done"] = message


def _write(viewer: Viewer, write, done: str) -> None:
    """Run a write when the viewer may administer (checked again now); its problem shown as a message."""
    if not may(viewer, "admin"):
        st.error(say(Message("access.page")))
        return
    try:
        write()
    except CityOpsError as exc:
        st.error(plain(say(exc.message)))
        return
    _done(done)
    st.rerun()


def users_table() -> list[Account]:
    accounts = users.list_users(data.get_engine())
    if done := st.session_state.pop("_users_done", None):
        st.success(plain(done))
    frame = pd.DataFrame([{t("users.subject"): a.subject, t("name"): a.name, t("users.email"): a.email or "",
                           t("users.roles"): t("list_separator").join(t(f"role.{r}") for r in a.roles),
                           t("users.home"): a.home_code,
                           t("users.state"): t("users.enabled") if a.enabled else t("users.disabled")}
                          for a in accounts])
    if frame.empty:
        st.info(t("users.none"))
    else:
        st.dataframe(frame, hide_index=True, width="stretch")
    return accounts


def add_form(viewer: Viewer) -> None:
    with st.form("user-add", clear_on_submit=False):
        st.subheader(t("users.add"))
        subject = st.text_input(t("users.subject"), help=t("users.subject_help"))
        name = st.text_input(t("name"))
        email = st.text_input(t("users.email"))
        roles = st.multiselect(t("users.roles"), list(ROLES), format_func=lambda r: t(f"role.{r}"))
        home = st.text_input(t("users.home"), value=viewer.home_code, help=t("users.home_help"))
        if st.form_submit_button(t("users.add"), type="primary"):
            _write(viewer, lambda: users.add_user(data.get_engine(), subject, name=name or subject, roles=roles,
                                                  home_code=home, email=email or None, at=now_utc()),
                   t("users.added", subject=subject))


def change_form(viewer: Viewer, accounts: list[Account]) -> None:
    if not accounts:
        return
    st.subheader(t("users.change"))
    by_subject = {a.subject: a for a in accounts}
    subject = st.selectbox(t("users.subject"), list(by_subject), key="user-pick")
    account = by_subject[subject]
    roles = st.multiselect(t("users.roles"), list(ROLES), default=list(account.roles),
                           format_func=lambda r: t(f"role.{r}"), key=f"user-roles-{subject}")
    home = st.text_input(t("users.home"), value=account.home_code, key=f"user-home-{subject}")
    left, right = st.columns(2)
    if left.button(t("users.set_roles"), key="user-set-roles"):
        _write(viewer, lambda: users.set_roles(data.get_engine(), subject, roles, home_code=home, at=now_utc()),
               t("users.changed", subject=subject))
    toggle = "users.enable" if not account.enabled else "users.disable"
    if right.button(t(toggle), key="user-toggle"):
        _write(viewer, lambda: users.set_enabled(data.get_engine(), subject, not account.enabled, at=now_utc()),
               t("users.changed", subject=subject))
