"""Landing a task's branch on its base, as a value (DESIGN §7a): the local merge queue.

``agentry land TASK`` records a land (state ``queued``). The supervisor takes the lands of
one repository one at a time, in the order they were asked for: it rebases the task's
branch onto the base's latest commit in the task's worktree (``rebasing``), runs the
project's check command there as a run of the task (``checking``; its output is in the
task's transcript), and moves the base to the checked commit only if the check passed and
the base has not moved meanwhile (``landing``; if it moved, the land rebases again).

Every step is recorded before it acts and can be repeated, so a land interrupted by a
crash is resumed from its recorded state at the next start; the base only ever moves in
one compare-and-swap, so it is never left half-landed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LandState(enum.StrEnum):
    QUEUED = "queued"  # waiting for the lands before it on the same repository
    REBASING = "rebasing"  # committing leftovers and rebasing onto the base's latest
    CHECKING = "checking"  # the check run of the rebased commit is queued or running
    LANDING = "landing"  # the check passed: the base is being moved to the checked commit
    LANDED = "landed"
    FAILED = "failed"  # conflicts, a failed check, a dirty checkout: the base is untouched
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (LandState.LANDED, LandState.FAILED, LandState.CANCELLED)


_ENDINGS = frozenset({LandState.FAILED, LandState.CANCELLED})
LAND_ALLOWED: dict[LandState, frozenset[LandState]] = {
    LandState.QUEUED: frozenset({LandState.REBASING, *_ENDINGS}),
    LandState.REBASING: frozenset({LandState.CHECKING, LandState.LANDING, *_ENDINGS}),
    LandState.CHECKING: frozenset({LandState.LANDING, *_ENDINGS}),
    # The base moved between the rebase and the swap: rebase (and check) again.
    LandState.LANDING: frozenset({LandState.LANDED, LandState.REBASING, *_ENDINGS}),
    LandState.LANDED: frozenset(),
    LandState.FAILED: frozenset(),
    LandState.CANCELLED: frozenset(),
}


class IllegalLandTransition(RuntimeError):
    """Always a bug, never user input."""


def check_land_transition(old: LandState, new: LandState) -> None:
    if new not in LAND_ALLOWED[old]:
        raise IllegalLandTransition(f"illegal land transition {old} -> {new}")


@dataclass(frozen=True)
class Land:
    id: int
    task_id: int
    repo: str  # the repository's top folder: lands on one repository go one at a time
    base: str  # the branch that moves
    check: str  # the check command line; "" when landing without a check
    state: LandState
    created_at: float
    updated_at: float
    head_before: str | None = None  # the task branch's tip before the rebase
    base_sha: str | None = None  # the base's commit the branch was rebased onto
    head_sha: str | None = None  # the rebased tip: what is checked and what lands
    run_id: int | None = None  # the check run
    message: str = ""  # why it failed, or what landed

    @property
    def is_active(self) -> bool:
        return not self.state.is_terminal

    @property
    def progress(self) -> str:
        """Where an active land is, in a few words ("checking: make test")."""
        return {
            LandState.QUEUED: "waiting for the lands before it on this repository",
            LandState.REBASING: f"rebasing onto the latest {self.base}",
            LandState.CHECKING: f"checking: {self.check}",
            LandState.LANDING: f"the check passed; moving {self.base}",
        }.get(self.state, self.state.value)
