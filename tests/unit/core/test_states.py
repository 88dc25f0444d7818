"""Tests for app.core.states: the transition table, checked exhaustively, and exit mapping."""

from __future__ import annotations

import itertools

import pytest

from app.core.states import (
    ACTIVE,
    ALLOWED,
    TERMINAL,
    ExitReason,
    IllegalTransition,
    RunState,
    check_transition,
    state_for_exit,
)

ALL_PAIRS = list(itertools.product(RunState, RunState))
ALLOWED_PAIRS = [(old, new) for old, new in ALL_PAIRS if new in ALLOWED[old]]
FORBIDDEN_PAIRS = [(old, new) for old, new in ALL_PAIRS if new not in ALLOWED[old]]

# DESIGN §4, written out by hand so a change to the table has to be a deliberate one.
EXPECTED_ALLOWED = {
    (RunState.QUEUED, RunState.STARTING),
    (RunState.QUEUED, RunState.CANCELLED),
    (RunState.STARTING, RunState.RUNNING),
    (RunState.STARTING, RunState.QUEUED),  # its runner provably never started (recovery)
    (RunState.STARTING, RunState.SUCCEEDED),
    (RunState.STARTING, RunState.FAILED),
    (RunState.STARTING, RunState.TIMED_OUT),
    (RunState.STARTING, RunState.CANCELLED),
    (RunState.STARTING, RunState.INTERRUPTED),
    (RunState.RUNNING, RunState.SUCCEEDED),
    (RunState.RUNNING, RunState.FAILED),
    (RunState.RUNNING, RunState.TIMED_OUT),
    (RunState.RUNNING, RunState.CANCELLED),
    (RunState.RUNNING, RunState.INTERRUPTED),
}


def _pair_id(pair: tuple[RunState, RunState]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_table_has_an_entry_for_every_state() -> None:
    assert set(ALLOWED) == set(RunState)


def test_table_allows_exactly_the_documented_transitions() -> None:
    assert set(ALLOWED_PAIRS) == EXPECTED_ALLOWED


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=_pair_id)
def test_allowed_transition_passes_the_check(pair: tuple[RunState, RunState]) -> None:
    old, new = pair
    check_transition(old, new)


@pytest.mark.parametrize("pair", FORBIDDEN_PAIRS, ids=_pair_id)
def test_transition_outside_the_table_raises_illegal_transition(
    pair: tuple[RunState, RunState],
) -> None:
    old, new = pair
    with pytest.raises(IllegalTransition) as caught:
        check_transition(old, new)
    assert caught.value.old is old
    assert caught.value.new is new
    assert f"{old.value} -> {new.value}" in str(caught.value)


@pytest.mark.parametrize("state", sorted(TERMINAL), ids=str)
def test_terminal_state_has_no_exits(state: RunState) -> None:
    assert ALLOWED[state] == frozenset()
    assert state.is_terminal


def test_terminal_states_are_the_five_endings() -> None:
    assert {
        RunState.SUCCEEDED,
        RunState.FAILED,
        RunState.TIMED_OUT,
        RunState.CANCELLED,
        RunState.INTERRUPTED,
    } == TERMINAL


@pytest.mark.parametrize("state", list(RunState), ids=str)
def test_a_state_is_terminal_exactly_when_it_has_no_exits(state: RunState) -> None:
    assert state.is_terminal == (not ALLOWED[state])


def test_active_states_are_starting_and_running() -> None:
    assert {s for s in RunState if s.is_active} == {RunState.STARTING, RunState.RUNNING}
    assert frozenset({RunState.STARTING, RunState.RUNNING}) == ACTIVE


def test_no_state_is_both_active_and_terminal() -> None:
    assert not (ACTIVE & TERMINAL)


def test_illegal_transition_is_a_runtime_error() -> None:
    assert issubclass(IllegalTransition, RuntimeError)


@pytest.mark.parametrize(
    ("reason", "returncode", "expected"),
    [
        pytest.param(ExitReason.EXIT, 0, RunState.SUCCEEDED, id="exit-0-succeeded"),
        pytest.param(ExitReason.EXIT, 1, RunState.FAILED, id="exit-1-failed"),
        pytest.param(ExitReason.EXIT, 3, RunState.FAILED, id="exit-3-failed"),
        pytest.param(ExitReason.EXIT, -9, RunState.FAILED, id="exit-killed-by-signal-failed"),
        pytest.param(ExitReason.EXIT, None, RunState.FAILED, id="exit-no-code-failed"),
        pytest.param(ExitReason.TIMEOUT, -15, RunState.TIMED_OUT, id="timeout"),
        pytest.param(ExitReason.TIMEOUT, 0, RunState.TIMED_OUT, id="timeout-even-with-code-0"),
        pytest.param(ExitReason.CANCELLED, -15, RunState.CANCELLED, id="cancelled"),
        pytest.param(ExitReason.CANCELLED, 0, RunState.CANCELLED, id="cancelled-with-code-0"),
        pytest.param(ExitReason.SPAWN_ERROR, None, RunState.FAILED, id="spawn-error-failed"),
        pytest.param(ExitReason.INTERRUPTED, -15, RunState.INTERRUPTED, id="interrupted"),
    ],
)
def test_state_for_exit_maps_reason_and_code_to_final_state(
    reason: ExitReason, returncode: int | None, expected: RunState
) -> None:
    assert state_for_exit(reason, returncode) is expected


@pytest.mark.parametrize("reason", list(ExitReason), ids=str)
def test_every_exit_reason_maps_to_a_terminal_state(reason: ExitReason) -> None:
    assert state_for_exit(reason, 0).is_terminal
    assert state_for_exit(reason, 1).is_terminal


@pytest.mark.parametrize("reason", list(ExitReason), ids=str)
def test_a_running_run_may_move_to_the_state_of_any_exit(reason: ExitReason) -> None:
    check_transition(RunState.RUNNING, state_for_exit(reason, 1))
