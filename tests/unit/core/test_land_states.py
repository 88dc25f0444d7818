"""The land state table (DESIGN §7a): what may follow what."""

from __future__ import annotations

import pytest

from app.core.lands import LAND_ALLOWED, IllegalLandTransition, LandState, check_land_transition


def test_every_state_is_in_the_table_and_the_ends_lead_nowhere() -> None:
    assert set(LAND_ALLOWED) == set(LandState)
    for state in LandState:
        assert (LAND_ALLOWED[state] == frozenset()) == state.is_terminal


def test_the_base_moving_during_the_swap_sends_the_land_back_to_rebasing() -> None:
    check_land_transition(LandState.LANDING, LandState.REBASING)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (LandState.QUEUED, LandState.LANDING),  # never without a rebase onto the latest base
        (LandState.CHECKING, LandState.REBASING),
        (LandState.QUEUED, LandState.LANDED),
        (LandState.LANDED, LandState.REBASING),
        (LandState.FAILED, LandState.QUEUED),
    ],
)
def test_a_land_cannot_skip_its_steps_or_leave_an_end(old: LandState, new: LandState) -> None:
    with pytest.raises(IllegalLandTransition):
        check_land_transition(old, new)
