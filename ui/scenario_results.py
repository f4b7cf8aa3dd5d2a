"""The Scenarios page's figures: the baseline and both sides' outcomes, cached per scope, window and overrides."""

from __future__ import annotations

import streamlit as st

from access import Jurisdiction
from geo import scenario as sc
from geo import scenario_map as smap
from queries import scenarios
from queries.incidents import Window
from queries.scope import CHILD_LEVEL
from scenario_model import Overrides, parse_overrides
from settings import get_settings
from ui import data


@data.per_jurisdiction
@st.cache_resource(ttl=300, max_entries=8, show_spinner=False)
def baseline_for(j: Jurisdiction, scope: str, window: Window) -> sc.Baseline:
    """The baseline inputs of a scope, read once per 5 minutes (never modified: overrides apply on read)."""
    city = get_settings().city_code
    return sc.prepare_baseline(**scenarios.baseline_inputs(data.engine_within(j), scope, city_code=city, window=window))


@data.per_jurisdiction
@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def outcomes(j: Jurisdiction, scope: str, window: Window, reference: str,
             scenario: str) -> tuple[sc.Outcome, sc.Outcome]:
    """Both sides evaluated once per scope, window and overrides; the summaries at every level share them."""
    baseline, walk = baseline_for(scope, window), get_settings().walking_distance_m
    return (sc.evaluate(baseline, parse_overrides(reference), walking_m=walk),
            sc.evaluate(baseline, parse_overrides(scenario), walking_m=walk))


@data.per_jurisdiction
@st.cache_data(ttl=300, max_entries=32, show_spinner=False)
def compared(j: Jurisdiction, scope: str, window: Window, level: str, reference: str, scenario: str) -> dict:
    """Summaries of both sides at `level`, the difference (worse first), totals and supply."""
    baseline = baseline_for(scope, window)
    ref, scn = outcomes(scope, window, reference, scenario)
    scen_table = sc.summarise(baseline, scn, level)
    diff = sc.compare(sc.summarise(baseline, ref, level), scen_table)
    supply = sc.supply(ref, baseline).merge(sc.supply(scn, baseline)[["item", "days_of_supply"]], on="item",
                                             suffixes=("_base", "_scen"))
    fields = [c for c in ("nearest_name", "nearest_m") if c in scen_table]
    return {"ref": sc.totals(baseline, ref), "scn": sc.totals(baseline, scn), "supply": supply,
            "diff": diff.merge(scen_table[["code", *fields]], on="code", how="left"), "hazard": scn.hazard,
            "changes": smap.facility_changes(ref.assembly, scn.assembly, scn.hospitals[scn.hospitals["is_new"]])}


def map_level(scope_level: str, level: str) -> str:
    """The level the map draws: a city-wide map of 3,000 communities would exceed the 2 MB budget."""
    return "street" if scope_level == "city" and level in ("community", "grid") else level


def levels(scope_level: str) -> list[str]:
    """The levels a scope's results can be summarised at, from its children down (grids below a district)."""
    found: list[str] = []
    level: str | None = CHILD_LEVEL[scope_level] or "grid"
    while level and (level != "grid" or scope_level in ("street", "community", "grid")):
        found.append(level)
        level = CHILD_LEVEL[level]
    return found


def saved_names() -> list[str]:
    return list(scenarios.list_scenarios(data.get_engine())["name"])


def saved_overrides(name: str) -> Overrides:
    """The overrides of a saved scenario (InvalidInput when there is none of that name)."""
    return scenarios.load_scenario(data.get_engine(), name).overrides


def delete_saved(name: str) -> None:
    scenarios.delete_scenario(data.get_engine(), name)


def save(name: str, author: str, overrides: dict, *, facts, replace: bool) -> None:
    """Save the overrides under a name (InvalidInput naming each problem, nothing written)."""
    scenarios.save_scenario(data.get_engine(), name, author, overrides, facts=facts, replace=replace)


@data.per_jurisdiction
@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def override_names(j: Jurisdiction, overrides: str) -> scenarios.OverrideNames:
    """The database's names of the places the overrides (JSON) name."""
    return scenarios.override_names(data.engine_within(j), parse_overrides(overrides))
