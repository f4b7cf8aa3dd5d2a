"""The latest-incidents list: area names, address and description, contact details masked in the text too."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st

from privacy import mask_number
from queries import incidents as qi
from queries.intake import IncidentDraft, create_incident
from settings import get_settings
from tests.apps import page_app

CITY = "330200"
PHONE, ID_CARD, EMAIL, REPORTER = "13812345678", "33021219900101123X", "zhang.wei@example.cn", "张伟国"
# What callers say: a phone, an ID number, an e-mail and their own name, with markup that must stay text.
SAID = [
    (f"桥洞积水约30厘米，请回电{PHONE}，{REPORTER}", "鄞州区四明中路桥下"),
    (f"身份证{ID_CARD}，邮箱{EMAIL}，路灯不亮", "天童南路588号"),
    ("**加粗** <b>标签</b> [链接](http://x) 井盖缺失", "<i>中山东路</i>"),
]


def _write_said(engine) -> list[int]:
    """Three incidents, newest in the city, at the place of an existing one (so their grid is real)."""
    with engine.connect() as conn:
        spot = conn.execute(sa.text("SELECT lon, lat, grid_code, community_code, street_code, district_code, "
                                    "reported_at FROM incident ORDER BY reported_at DESC LIMIT 1")).mappings().one()
    ids = []
    for n, (description, address) in enumerate(SAID):
        draft = IncidentDraft(category="greening", source="hotline_12345", priority="routine", lon=spot["lon"],
                              lat=spot["lat"], grid_code=spot["grid_code"], community_code=spot["community_code"],
                              street_code=spot["street_code"], district_code=spot["district_code"],
                              description=description, address=address, external_id=f"latest-test-{n}",
                              contact_name=REPORTER, contact_phone=PHONE)
        with engine.begin() as conn:
            created = create_incident(conn, draft, city_code=CITY,
                                      now=pd.Timestamp(spot["reported_at"]).to_pydatetime() + timedelta(minutes=n + 1))
        ids.append(int(created.row["id"]))
    return ids


def _truth(engine, ids: list[int]) -> pd.DataFrame:
    """Each written incident with its grid's and community's names, read straight from the tables."""
    with engine.connect() as conn:
        rows = pd.read_sql(sa.text(
            "SELECT i.id, i.address, i.description, g.name AS grid_name, c.name AS community_name "
            "FROM incident i JOIN area g ON g.code = i.grid_code JOIN area c ON c.code = i.community_code"), conn)
    return rows.set_index("id").loc[ids]


def test_latest_incidents_name_the_place_and_mask_contacts_said_in_the_description(writable):
    ids = _write_said(writable)
    truth = _truth(writable, ids)
    latest = qi.latest_incidents(writable, CITY, limit=10).set_index("id")
    assert list(latest.index[:3]) == ids[::-1]  # the newest first
    got = latest.loc[ids]
    assert (got["grid_name"] == truth["grid_name"]).all() and (got["community_name"] == truth["community_name"]).all()
    assert (got["address"] == truth["address"]).all()
    text = " ".join(got["description"])
    for secret in (PHONE, ID_CARD, EMAIL, REPORTER, PHONE[3:]):
        assert secret not in text
    for said, shown in zip(truth["description"], got["description"], strict=True):
        # Only the personal parts change: numbers keep at most their last third (privacy.mask_number, tested
        # in the attack catalogue), the e-mail is starred out, the name keeps its first character.
        expected = (said.replace(PHONE, mask_number(PHONE)).replace(ID_CARD, mask_number(ID_CARD))
                    .replace(EMAIL, "*" * len(EMAIL)).replace(REPORTER, REPORTER[0] + "*" * (len(REPORTER) - 1)))
        assert shown == expected
    plain = qi.latest_incidents(writable, CITY, limit=10, unmasked=True).set_index("id").loc[ids]
    assert (plain["description"] == truth["description"]).all()


@pytest.fixture
def incidents_app(writable, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", writable.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield page_app("incidents", scope=CITY)
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.mark.parametrize("backend", ["sqlite"])  # the page on one backend: the query test covers both
def test_the_latest_table_shows_area_address_and_masked_description_as_text(writable, incidents_app):
    ids = _write_said(writable)
    truth = _truth(writable, ids)
    app = incidents_app.run()
    assert not app.exception
    table = next(frame.value for frame in app.dataframe if "地址" in frame.value.columns)
    top = table.head(3).iloc[::-1].reset_index(drop=True)
    assert list(top["社区(村)"]) == list(truth["community_name"]) and list(top["网格"]) == list(truth["grid_name"])
    assert list(top["地址"]) == list(truth["address"])  # markup included, as text
    assert list(top["事件描述"]) == list(qi.latest_incidents(writable, CITY, limit=3)["description"][::-1])
    assert PHONE not in " ".join(top["事件描述"]) and "编码" not in table.columns
    assert not [m for m in app.markdown if "加粗" in m.value]  # a cell, never Markdown
