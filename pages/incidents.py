"""Incidents (事件): counts by category, source and status, hourly trend, closed loop, latest list."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from clock import to_local
from geo import charts
from ui import data
from ui.frame import current_view
from ui.i18n import t, term
from ui.state import ViewState, set_view, url_widget_key
from ui.widgets import ONE_DECIMAL, PERCENT, fmt_int, fmt_num, fmt_pct, kpi_row, local_time_text, table
from vocab import CATEGORIES, SOURCES, STATUSES


def _filters(state: ViewState) -> ViewState:
    """Category / source / status filters, kept in the URL."""
    columns = st.columns(3)
    picks = {}
    for column, (field, vocabulary, terms) in zip(columns, (
        ("categories", "category", CATEGORIES), ("sources", "source", SOURCES),
        ("statuses", "status", STATUSES)), strict=True):
        picks[field] = tuple(column.multiselect(
            t(vocabulary), [x.code for x in terms], default=list(getattr(state, field)),
            format_func=partial(term, vocabulary),
            key=url_widget_key(f"filter-{vocabulary}", getattr(state, field)),
            placeholder=t("all_values")))
    if any(picks[f] != getattr(state, f) for f in picks):
        state = set_view(state, **picks)
    return state


def _labels(vocabulary: str, codes) -> dict:
    return {c: term(vocabulary, c) for c in codes}


def _breakdowns(state: ViewState) -> None:
    window, filters = state.time_window(), state.filters()
    columns = st.columns(3)
    for column, dimension in zip(columns, ("category", "source", "status"), strict=True):
        counts = data.counts_by(state.scope, dimension, window, filters)
        figure = charts.incidents_bar(counts, dimension, t(f"by_{dimension}"),
                                      _labels(dimension, counts[dimension]))
        column.plotly_chart(figure, width="stretch", key=f"chart-{dimension}")


def _trend(state: ViewState) -> None:
    hourly = data.hourly(state.scope, state.time_window(), state.filters()).copy()
    hourly["hour_start"] = hourly["hour_start"].map(lambda h: to_local(h).replace(tzinfo=None))
    st.plotly_chart(charts.hourly_trend_figure(hourly, t("hourly_trend")), width="stretch", key="chart-trend")


def _closed_loop(state: ViewState) -> None:
    loop = data.closed_loop(state.scope, state.time_window(), state.filters())
    if loop.empty:
        return
    left, right = st.columns([2, 3])
    left.plotly_chart(charts.closed_loop_figure(loop, t("closed_loop"), t("disposal_rate")),
                      width="stretch", key="chart-loop")
    rates = pd.DataFrame({
        t("name"): loop["name"], t("incidents_total"): loop["incidents"], t("open"): loop["open"],
        t("disposal_rate"): loop["disposal_rate"] * 100, t("on_time_rate"): loop["on_time_rate"] * 100,
        t("median_hours"): loop["median_hours"],
    })
    table(right, rates, height=420, formats={t("disposal_rate"): PERCENT, t("on_time_rate"): PERCENT,
                                             t("median_hours"): ONE_DECIMAL})


def _overdue(state: ViewState, count: int) -> None:
    """The items behind the overdue tile: the live backlog past due now, whatever the window."""
    st.subheader(t("overdue_list"), anchor="overdue")
    rows = data.overdue(state.scope)
    if rows.empty:
        st.caption(t("no_overdue"))
        return
    cut = f" {t('overdue_list_cut', shown=fmt_int(len(rows)))}" if len(rows) >= data.OVERDUE_LIMIT else ""
    st.caption(t("overdue_list_note", count=fmt_int(max(count, len(rows)))) + cut)
    table = pd.DataFrame({
        t("incident_id"): rows["id"],
        t("category"): rows["category"].map(lambda c: term("category", c)),
        term("level", "community"): rows["area_name"],
        t("reported_at"): rows["reported_at"].map(local_time_text),
        t("due_at"): rows["due_at"].map(local_time_text),
        t("hours_overdue"): rows["hours_overdue"],  # a number, so the column sorts as one
        t("status"): rows["status"].map(lambda c: term("status", c)),
    })
    st.dataframe(table, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(table)), key="overdue-list",
                 column_config={t("incident_id"): st.column_config.NumberColumn(format="%d"),
                                t("hours_overdue"): st.column_config.NumberColumn(format="%.1f")})


def _latest(state: ViewState) -> None:
    st.subheader(t("latest"))
    rows = data.latest(state.scope)
    table = pd.DataFrame({
        t("reported_at"): rows["reported_at"].map(local_time_text),
        t("category"): rows["category"].map(lambda c: term("category", c)),
        t("source"): rows["source"].map(lambda c: term("source", c)),
        t("priority"): rows["priority"].map(lambda c: term("priority", c)),
        t("status"): rows["status"].map(lambda c: term("status", c)),
        t("due_at"): rows["due_at"].map(local_time_text),
        t("level.community"): rows["community_name"].fillna(""),
        t("level.grid"): rows["grid_name"].fillna(rows["grid_code"]),
        t("address"): rows["address"].fillna(""),
        t("description"): rows["description"].fillna(""),
        t("reporter"): rows["reporter"], t("phone"): rows["phone"],
    })
    # st.dataframe draws every cell as plain text (no Markdown, no HTML), as outside text must be.
    st.dataframe(table, hide_index=True, width="stretch", height=360)


state = current_view()
state = _filters(state)
totals = data.totals(state.scope, state.time_window(), state.filters())
kpi_row([
    ("incidents_window", fmt_int(totals["incidents"]), t(state.window)),
    ("disposal_rate", fmt_pct(totals["disposal_rate"]), None),
    ("on_time_rate", fmt_pct(totals["on_time_rate"]), None),
    ("median_hours", fmt_num(totals["median_hours"]), None),
    ("overdue_now", fmt_int(totals["overdue"]), t("overdue_help")),
    ("held", fmt_int(totals["held"]), t("held_help")),
])
_overdue(state, int(totals["overdue"] or 0))
_breakdowns(state)
_trend(state)
_closed_loop(state)
_latest(state)
