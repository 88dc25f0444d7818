"""Restart policies decided over a task's runs (app.core.restarts): when a run ending is
followed by a restart, how long the backoff is, when it gives up or stops a flapping task."""

from __future__ import annotations

import pytest

from app.core.models import TaskSpec
from app.core.policies import RestartMode, RestartPolicy
from app.core.restarts import (
    FLAP_RUNS,
    BackoffError,
    GiveUp,
    Restart,
    RunEnding,
    decide,
    parse_backoff,
)
from app.core.states import ExitReason, RunState

ON_FAILURE = RestartPolicy(
    RestartMode.ON_FAILURE, max_restarts=2, backoff_min_s=5, backoff_max_s=60
)


def ending(state: RunState, *, restart: bool = False, at: float = 0.0, ran: float = 100.0,
           reason: ExitReason | None = ExitReason.EXIT) -> RunEnding:  # fmt: skip
    return RunEnding(state, reason, restart, at, at + ran)


def test_no_policy_and_unfinished_runs_are_followed_by_nothing() -> None:
    assert decide(RestartPolicy(), [ending(RunState.FAILED)]) is None
    assert decide(ON_FAILURE, [ending(RunState.RUNNING)]) is None
    assert decide(ON_FAILURE, []) is None


@pytest.mark.parametrize(
    ("state", "reason", "mode", "restarts"),
    [
        (RunState.FAILED, ExitReason.EXIT, RestartMode.ON_FAILURE, True),
        (RunState.FAILED, ExitReason.SPAWN_ERROR, RestartMode.ON_FAILURE, True),
        (RunState.INTERRUPTED, ExitReason.INTERRUPTED, RestartMode.ON_FAILURE, True),
        (RunState.SUCCEEDED, ExitReason.EXIT, RestartMode.ON_FAILURE, False),
        (RunState.SUCCEEDED, ExitReason.EXIT, RestartMode.ALWAYS, True),
        (RunState.CANCELLED, ExitReason.CANCELLED, RestartMode.ALWAYS, False),
        (RunState.TIMED_OUT, ExitReason.TIMEOUT, RestartMode.ALWAYS, False),
        (RunState.FAILED, ExitReason.SETUP_FAILED, RestartMode.ALWAYS, False),
    ],
)
def test_which_endings_call_for_a_restart(
    state: RunState, reason: ExitReason, mode: RestartMode, restarts: bool
) -> None:
    decision = decide(RestartPolicy(mode), [ending(state, reason=reason)])
    assert isinstance(decision, Restart) is restarts
    if not restarts:
        assert decision is None  # a cancel or a timeout is never "given up" either


def test_restarts_are_counted_and_the_policy_gives_up_after_its_maximum() -> None:
    first = ending(RunState.FAILED)
    assert decide(ON_FAILURE, [first]) == Restart(1, 2, 5.0)
    second = ending(RunState.FAILED, restart=True, at=200)
    assert decide(ON_FAILURE, [first, second]) == Restart(2, 2, 10.0)
    third = ending(RunState.FAILED, restart=True, at=400)
    assert decide(ON_FAILURE, [first, second, third]) == GiveUp("gave up after 2 restarts")


def test_a_person_starting_it_again_starts_the_count_again() -> None:
    earlier = [ending(RunState.FAILED), ending(RunState.FAILED, restart=True, at=200),
               ending(RunState.FAILED, restart=True, at=400)]  # fmt: skip
    retried = ending(RunState.FAILED, at=600)  # a Retry: not queued by the policy
    assert decide(ON_FAILURE, [*earlier, retried]) == Restart(1, 2, 5.0)


def test_backoff_doubles_up_to_its_maximum() -> None:
    policy = RestartPolicy(RestartMode.ALWAYS, 10, backoff_min_s=5, backoff_max_s=30)
    assert [policy.delay(n) for n in range(1, 6)] == [5, 10, 20, 30, 30]
    assert RestartPolicy(RestartMode.ALWAYS, 3, 0, 0).delay(3) == 0


def test_a_task_that_ends_over_and_over_within_a_minute_is_flapping_and_stopped() -> None:
    policy = RestartPolicy(RestartMode.ALWAYS, max_restarts=100, backoff_min_s=0, backoff_max_s=0)
    runs = [
        ending(RunState.SUCCEEDED, restart=i > 0, at=i * 2.0, ran=1.0) for i in range(FLAP_RUNS)
    ]
    decision = decide(policy, runs)
    assert isinstance(decision, GiveUp) and decision.message.startswith("flapping")
    slow = [
        ending(RunState.SUCCEEDED, restart=i > 0, at=i * 30.0, ran=1.0) for i in range(FLAP_RUNS)
    ]
    assert isinstance(decide(policy, slow), Restart)  # the same count, spread out: no flapping


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("5s..5m", (5.0, 300.0)),
        ("0..10", (0.0, 10.0)),
        ("..1h", (0.0, 3600.0)),
        ("2m..2m", (120.0, 120.0)),
    ],
)
def test_backoff_is_read_as_min_dot_dot_max(text: str, bounds: tuple[float, float]) -> None:
    assert parse_backoff(text) == bounds


@pytest.mark.parametrize("text", ["5s", "5m..5s", "x..1m", "1m..soon"])
def test_a_backoff_that_cannot_be_read_says_how_to_write_it(text: str) -> None:
    with pytest.raises(BackoffError, match=r"backoff"):
        parse_backoff(text)


def test_a_policy_goes_into_the_spec_and_a_spec_without_one_reads_as_before() -> None:
    spec = TaskSpec(argv=("false",), cwd="/tmp", restart=ON_FAILURE)
    data = spec.to_json()
    assert data["restart"] == {"mode": "on-failure", "max_restarts": 2, "backoff_min_s": 5,
                               "backoff_max_s": 60}  # fmt: skip
    assert TaskSpec.from_json(data) == spec
    plain = TaskSpec(argv=("true",), cwd="/tmp")
    assert "restart" not in plain.to_json()
    assert TaskSpec.from_json(plain.to_json()).restart == RestartPolicy()
    newer = {**data, "restart": {"mode": "when-the-moon-is-full"}}
    assert TaskSpec.from_json(newer).restart.mode is RestartMode.NEVER
