"""The lifecycle table (vocab.TRANSITIONS) and the simulator's plans, which must follow it."""

from __future__ import annotations

import numpy as np
import pytest

from intake.simulator import _lifecycle, remaining_steps
from vocab import ACTION_CODES, CLOSED_STATUSES, OPEN_STATUSES, PRIORITY_CODES, STATUS_CODES, TRANSITIONS


def _reachable(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in TRANSITIONS[todo.pop()].values():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _follow(state: str, actions: list[str]) -> str:
    for action in actions:
        assert action in TRANSITIONS[state], f"{action} is not allowed from {state}"
        state = TRANSITIONS[state][action]
    return state


def test_the_table_covers_every_state_with_known_actions():
    assert set(TRANSITIONS) == set(STATUS_CODES)
    assert {a for steps in TRANSITIONS.values() for a in steps} <= set(ACTION_CODES)
    assert {s for steps in TRANSITIONS.values() for s in steps.values()} <= set(STATUS_CODES)


def test_closed_and_voided_are_final_and_every_open_state_can_still_close():
    assert all(TRANSITIONS[s] == {} for s in CLOSED_STATUSES)
    assert _reachable("reported") == set(STATUS_CODES)
    for state in OPEN_STATUSES:
        assert "closed" in _reachable(state), state


def test_the_main_line_is_the_digital_city_management_order():
    assert _follow("reported", ["dispatch", "handle", "resolve", "close"]) == "closed"


@pytest.mark.parametrize("priority", PRIORITY_CODES)
def test_simulated_lifecycles_are_allowed_and_in_time_order(priority):
    rng = np.random.default_rng(11)
    ends = set()
    for _ in range(20_000):  # enough draws to meet the rare void / park / escalate paths
        steps = _lifecycle(priority, rng)
        times = [t for t, _ in steps]
        assert times == sorted(times) and times[0] >= 0
        ends.add(_follow("reported", [a for _, a in steps]))
    assert {"closed", "voided"} <= ends and ends <= {"closed", "voided", "parked", "resolved"}


@pytest.mark.parametrize("state", STATUS_CODES)
def test_resumed_lifecycles_continue_from_the_state_found(state):
    rng = np.random.default_rng(3)
    steps = remaining_steps(state, "routine", rng)
    final = _follow(state, [a for _, a in steps])
    assert [t for t, _ in steps] == sorted(t for t, _ in steps) and all(t >= 0 for t, _ in steps)
    expected = {"parked": "parked", "closed": "closed", "voided": "voided", "escalated": "resolved"}
    assert final == expected.get(state, "closed")
