"""The shared chart builders (pages and exports draw the same figures): axes that say what they show."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from exports.figures import render
from geo import charts

HOUR = pd.Timedelta(hours=1)


def _hourly(hours: int, start: str = "2026-11-30 09:00") -> pd.DataFrame:
    """Hourly counts over `hours` hours in local time, as the Incidents page and the briefing pass them."""
    return pd.DataFrame({"hour_start": pd.date_range(start, periods=hours, freq="h"),
                         "incidents": [(7 * i) % 23 for i in range(hours)]})


@pytest.mark.parametrize("hours", [3, 6, 24, 49, 168, 720])
def test_hourly_trend_ticks_fall_on_whole_hours_and_are_few(hours):
    hourly = _hourly(hours)
    axis = charts.hourly_trend_figure(hourly, "每小时事件").layout.xaxis
    assert axis.dtick is not None and int(axis.dtick) % 3_600_000 == 0, axis.dtick
    step = pd.Timedelta(milliseconds=int(axis.dtick))
    tick0 = pd.Timestamp(axis.tick0)
    assert tick0 == tick0.floor("h")
    first, last = hourly["hour_start"].iloc[0], hourly["hour_start"].iloc[-1]
    ticks = [t for t in pd.date_range(tick0, last, freq=step) if t >= first]
    assert 1 <= len(ticks) <= charts.MAX_TICKS
    # daily ticks sit on midnight and name only the day
    assert (axis.tickformat == "%m-%d") == (step >= 24 * HOUR)


@pytest.mark.parametrize("hours", [6, 24])
def test_exported_hourly_trend_labels_whole_hours_only(hours):
    """The ticks plotly draws (read from the rendered SVG): every label is a whole hour, an hour or more apart."""
    figure = charts.hourly_trend_figure(_hourly(hours), "每小时事件")
    svg = render(figure, "svg", width=1000, height=360).decode("utf-8")
    times = re.findall(r'<g class="xtick">.*?>(\d{2}):(\d{2})</tspan>', svg)
    assert len(times) >= 2
    assert all(minute == "00" for _, minute in times), times
    labelled = [int(hour) for hour, _ in times]
    assert all((b - a) % 24 >= 1 for a, b in zip(labelled, labelled[1:], strict=False))


def test_closed_loop_bars_start_at_zero_so_their_length_is_the_rate():
    loop = pd.DataFrame({"name": ["海曙区", "江北区", "北仑区", "镇海区"],
                         "disposal_rate": [0.995, 0.981, 0.962, 0.999]})
    figure = charts.closed_loop_figure(loop, "闭环处置", "处置率")
    axis = figure.layout.xaxis
    assert axis.range[0] == 0 and axis.range[1] >= 100
    bars = figure.data[0]
    assert sorted(bars.x) == sorted(loop["disposal_rate"] * 100)
    assert all(f"{rate * 100:.1f}%" in bars.text for rate in loop["disposal_rate"])
