"""The scenario draft a planner is building (its overrides, in the session) and the map's last pick."""

from __future__ import annotations

import streamlit as st

from errors import InvalidInput
from geo.scenario import Baseline
from queries.scenarios import OverrideNames
from scenario_model import Overrides, parse_overrides
from ui import scenario_results as results
from ui.i18n import say, t

DRAFT, VERSION, PICK = "scn.draft", "scn.version", "scn.pick"


def draft() -> dict:
    """The overrides being built (JSON form), empty at first."""
    return st.session_state.setdefault(DRAFT, Overrides().model_dump(mode="json"))


def version() -> int:
    """Bumped on every change so keyed widgets start again from the draft."""
    return st.session_state.setdefault(VERSION, 0)


def replace_draft(overrides: Overrides) -> None:
    st.session_state[DRAFT] = overrides.model_dump(mode="json")
    st.session_state[VERSION] = version() + 1


def show_problems(exc: InvalidInput) -> None:
    # st.text, not markdown: a problem quotes what was typed (names, codes), shown as it is
    st.error(t("scn_problems"))
    st.text("\n".join(f"• {say(p)}" for p in exc.messages))


def apply(baseline: Baseline, **changes) -> None:
    """Validate the draft with the changes against the city; apply and rerun, or show why not."""
    try:
        replace_draft(parse_overrides({**draft(), **changes}, baseline.facts))
    except InvalidInput as exc:
        show_problems(exc)
        return
    st.rerun()


def picked() -> tuple[float, float] | None:
    return st.session_state.get(PICK)


def set_picked(location: tuple[float, float]) -> None:
    st.session_state[PICK] = location


def draft_names() -> OverrideNames:
    """The database's names of the places the draft names (a loaded scenario may name some outside the scope)."""
    return results.override_names(Overrides.model_validate(draft()).model_dump_json())


def named(names: dict[str, str], code: str) -> str:
    """A place by its name, the code beside it (the code alone if the database does not know it)."""
    return f"{names[code]} ({code})" if code in names else code
