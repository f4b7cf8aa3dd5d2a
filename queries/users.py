"""The users an admin keeps (the app_user table): add, list, look up, enable or disable, set roles and home area."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from access import ROLES, Account
from errors import Conflict, InvalidInput, Message, NotFound, Problems, Text
from queries.schema import app_user
from queries.scope import resolve

SUBJECT_MAX, NAME_MAX, EMAIL_MAX = 255, 100, 255


def _account(row: sa.Row[Any]) -> Account:
    roles = tuple(role for role in row.roles.split(",") if role)
    return Account(row.subject, row.name, row.email, roles, row.home_code, bool(row.enabled), row.updated_at)


def checked_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Role codes in access.ROLES order; InvalidInput naming an unknown one, or none given."""
    named = [str(role).strip() for role in roles if str(role).strip()]
    if unknown := [role for role in named if role not in ROLES]:
        raise InvalidInput(Message("users.bad_role", role=", ".join(unknown), roles=", ".join(ROLES)))
    if not named:
        raise InvalidInput(Message("users.no_role", roles=", ".join(ROLES)))
    return tuple(role for role in ROLES if role in named)


def _checked(conn: sa.Connection, subject: str, name: str, email: str | None, home_code: str) -> None:
    problems: list[Text] = []
    if not subject.strip() or len(subject) > SUBJECT_MAX:
        problems.append(Message("users.bad_subject", most=SUBJECT_MAX))
    if not name.strip() or len(name) > NAME_MAX:
        problems.append(Message("users.bad_name", most=NAME_MAX))
    if email is not None and (len(email) > EMAIL_MAX or "@" not in email):
        problems.append(Message("users.bad_email", most=EMAIL_MAX))
    if problems:
        raise InvalidInput(Message("users.bad_user", problems=Problems(problems)), problems)
    resolve(conn, home_code)  # UnknownArea


def add_user(engine: Engine, subject: str, *, name: str, roles: Iterable[str], home_code: str, at: datetime,
             email: str | None = None) -> Account:
    """A new enabled user; Conflict when the subject is taken, InvalidInput / UnknownArea for bad values."""
    subject, name, home_code = subject.strip(), name.strip(), home_code.strip()
    email = email.strip() or None if email is not None else None
    checked = checked_roles(roles)
    with engine.begin() as conn:
        _checked(conn, subject, name, email, home_code)
        if conn.execute(sa.select(app_user.c.subject).where(app_user.c.subject == subject)).first():
            raise Conflict(Message("users.exists", subject=subject))
        conn.execute(app_user.insert().values(subject=subject, name=name, email=email, roles=",".join(checked),
                                              home_code=home_code, enabled=True, created_at=at, updated_at=at))
    return Account(subject, name, email, checked, home_code, True, at)


def list_users(engine: Engine) -> list[Account]:
    """Every user, by subject."""
    with engine.connect() as conn:
        return [_account(row) for row in conn.execute(sa.select(app_user).order_by(app_user.c.subject))]


def account_of(engine: Engine, subject: str, email: str | None = None) -> Account | None:
    """The user whose subject this is, else (given a verified email) the one with that email; None when neither."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(app_user).where(app_user.c.subject == subject)).first()
        if row is None and email:
            rows = conn.execute(sa.select(app_user).where(app_user.c.email == email).limit(2)).all()
            row = rows[0] if len(rows) == 1 else None  # an email two users share names neither
    return None if row is None else _account(row)


def _update(engine: Engine, subject: str, at: datetime, **values: object) -> Account:
    with engine.begin() as conn:
        if "home_code" in values:
            resolve(conn, str(values["home_code"]))
        done = conn.execute(app_user.update().where(app_user.c.subject == subject).values(updated_at=at, **values))
        if done.rowcount != 1:
            raise NotFound(Message("users.unknown", subject=subject))
        return _account(conn.execute(sa.select(app_user).where(app_user.c.subject == subject)).one())


def set_enabled(engine: Engine, subject: str, enabled: bool, *, at: datetime) -> Account:
    """Enable or disable a user (a disabled one is refused at the next run of any open session)."""
    return _update(engine, subject, at, enabled=enabled)


def set_roles(engine: Engine, subject: str, roles: Iterable[str], *, at: datetime,
              home_code: str | None = None) -> Account:
    """Replace a user's roles (and, given, the home area)."""
    values: dict[str, object] = {"roles": ",".join(checked_roles(roles))}
    if home_code is not None:
        values["home_code"] = home_code.strip()
    return _update(engine, subject, at, **values)
