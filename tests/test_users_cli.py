"""cli.py users add|list|disable|enable|set-role on SpatiaLite and PostGIS: rows written as said, bad input refused."""

from __future__ import annotations

import sqlalchemy as sa

import cli
from queries.schema import app_user
from queries.users import account_of


def rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(app_user.c.subject, app_user.c.name, app_user.c.email,
                                                         app_user.c.roles, app_user.c.home_code,
                                                         app_user.c.enabled).order_by(app_user.c.subject))]


def run(writable, *args: str) -> int:
    return cli.main(["users", *args, "--database-url", writable.url.render_as_string(False)])


def test_add_list_disable_enable_set_role(writable, capsys):
    assert run(writable, "add", "wang.li", "--roles", "planner,leader", "--home", "330212", "--name", "王丽",
               "--email", "wang.li@example.org") == 0
    assert run(writable, "add", "chen", "--roles", "admin", "--home", "330200") == 0
    assert rows(writable) == [("chen", "chen", None, "admin", "330200", True),
                              ("wang.li", "王丽", "wang.li@example.org", "leader,planner", "330212", True)]
    capsys.readouterr()
    assert run(writable, "list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1:] == ["chen\tchen\t-\tadmin\t330200\tenabled",
                          "wang.li\t王丽\twang.li@example.org\tleader,planner\t330212\tenabled"]
    assert run(writable, "disable", "wang.li") == 0
    assert "open sessions lose their data" in capsys.readouterr().out
    assert rows(writable)[1][-1] is False
    assert account_of(writable, "wang.li").enabled is False
    assert run(writable, "enable", "wang.li") == 0
    assert run(writable, "set-role", "wang.li", "duty_officer", "--home", "330212001") == 0
    assert rows(writable)[1] == ("wang.li", "王丽", "wang.li@example.org", "duty_officer", "330212001", True)
    # found by a verified email when the IdP's subject is another id
    assert account_of(writable, "f3b1-uuid", "wang.li@example.org").subject == "wang.li"
    assert account_of(writable, "f3b1-uuid") is None


def test_bad_input_is_refused_and_writes_nothing(writable, capsys):
    assert run(writable, "add", "a", "--roles", "leader", "--home", "330200") == 0
    before = rows(writable)
    capsys.readouterr()
    cases = [
        (["add", "a", "--roles", "leader", "--home", "330200"], "there is already a user a"),
        (["add", "b", "--roles", "leader,root", "--home", "330200"], "unknown role root"),
        (["add", "b", "--roles", ",", "--home", "330200"], "at least one role"),
        (["add", "b", "--roles", "leader", "--home", "339999"], "no area with code 339999"),
        (["add", "b", "--roles", "leader", "--home", "330200", "--email", "nobody"], "must hold an '@'"),
        (["add", "b" * 300, "--roles", "leader", "--home", "330200"], "the user id must be given"),
        (["disable", "nobody"], "there is no user nobody"),
        (["set-role", "a", "wizard"], "unknown role wizard"),
        (["set-role", "a", "leader", "--home", "339999"], "no area with code 339999"),
    ]
    for args, says in cases:
        assert run(writable, *args) == 2, args
        assert says in capsys.readouterr().err, args
    assert rows(writable) == before
