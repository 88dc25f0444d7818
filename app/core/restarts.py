"""Restart policies: what happens when a task's run ends (supervisord's and pm2's
semantics, for agents). Pure decisions over the task's runs; the supervisor acts on them
in the transaction that records the ending, so a crash can neither lose a restart nor
make two."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.durations import DurationError, parse_duration
from app.core.policies import RestartMode, RestartPolicy, seconds_text
from app.core.states import ExitReason, RunState

FLAP_RUNS = 5
"""A task whose last FLAP_RUNS runs all ended within FLAP_WINDOW_S is flapping: stopped."""
FLAP_WINDOW_S = 60.0


class BackoffError(ValueError):
    pass


def parse_backoff(text: str) -> tuple[float, float]:
    """``MIN..MAX`` as durations (``5s..5m``, ``0..10``) -> seconds; BackoffError if not."""
    low, sep, high = text.partition("..")
    if not sep:
        raise BackoffError(f"backoff {text!r} is not MIN..MAX (e.g. 5s..5m)")
    try:
        bounds = parse_duration(low.strip() or "0"), parse_duration(high.strip())
    except DurationError as exc:
        raise BackoffError(f"backoff {text!r}: {exc}") from None
    shortest, longest = (b or 0.0 for b in bounds)
    if shortest > longest:
        raise BackoffError(f"backoff {text!r}: the shortest wait is longer than the longest")
    return shortest, longest


@dataclass(frozen=True)
class RunEnding:
    """What the decision needs of one run of the task (oldest first)."""

    state: RunState
    reason: ExitReason | None
    restart: bool  # queued by the policy: it used up a restart
    started_at: float | None
    ended_at: float | None
    automatic: bool | None = None  # queued by Agentry (a restart, a resume after a limit);
    # None: as ``restart`` says. A person's run starts the count again.


@dataclass(frozen=True)
class Restart:
    number: int  # 1 for the first restart since a person last started the task
    of: int
    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    message: str


Decision = Restart | GiveUp | None


def decide(policy: RestartPolicy, runs: Sequence[RunEnding]) -> Decision:
    """What follows the ending of the last of ``runs``: a restart, giving up (said to the
    person), or nothing (no policy, an ending that never restarts, a run not ended)."""
    if not runs or not policy.restarts:
        return None
    last = runs[-1]
    if not last.state.is_terminal or not _calls_for_restart(policy, last):
        return None
    used = 0  # restarts since a person last started it (a start, retry, resume, follow-up)
    since = len(runs) - 1  # where that episode starts
    while since > 0 and _automatic(runs[since]):
        used += runs[since].restart
        since -= 1
    if _flapping(runs[since:]):
        return GiveUp(
            f"flapping: it ended {FLAP_RUNS} times within {seconds_text(FLAP_WINDOW_S)}; "
            "stopped (retry it once it is fixed)"
        )
    if used >= policy.max_restarts:
        times = "restart" if used == 1 else "restarts"
        return GiveUp(f"gave up after {used} {times}")
    return Restart(used + 1, policy.max_restarts, policy.delay(used + 1))


def _automatic(run: RunEnding) -> bool:
    return run.restart if run.automatic is None else run.automatic


def _calls_for_restart(policy: RestartPolicy, run: RunEnding) -> bool:
    if run.state in (RunState.CANCELLED, RunState.TIMED_OUT):
        return False  # the person's or the deadline's decision: never undone by a restart
    if run.reason is ExitReason.SETUP_FAILED:
        return False  # the worktree's setup failed: a restart would fail the same way
    if run.state is RunState.SUCCEEDED:
        return policy.mode is RestartMode.ALWAYS
    return run.state in (RunState.FAILED, RunState.INTERRUPTED)


def _flapping(episode: Sequence[RunEnding]) -> bool:
    """The last FLAP_RUNS runs since a person started it all began and ended in one window."""
    if len(episode) < FLAP_RUNS:
        return False
    recent = episode[-FLAP_RUNS:]
    first = recent[0].started_at or recent[0].ended_at
    last = recent[-1].ended_at
    return first is not None and last is not None and last - first <= FLAP_WINDOW_S
