"""Run states and the one table of legal transitions (DESIGN §4).

A task has no state of its own: it shows the state of its latest run.
"""

from __future__ import annotations

import enum


class RunState(enum.StrEnum):
    QUEUED = "queued"
    STARTING = "starting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_active(self) -> bool:
        """A runner may exist for the run (it was launched and has not been ingested)."""
        return self in ACTIVE


TERMINAL = frozenset(
    {
        RunState.SUCCEEDED,
        RunState.FAILED,
        RunState.TIMED_OUT,
        RunState.CANCELLED,
        RunState.INTERRUPTED,
    }
)
ACTIVE = frozenset({RunState.STARTING, RunState.RUNNING})

_ENDINGS = frozenset(
    {
        RunState.SUCCEEDED,
        RunState.FAILED,
        RunState.TIMED_OUT,
        RunState.CANCELLED,
        RunState.INTERRUPTED,
    }
)

ALLOWED: dict[RunState, frozenset[RunState]] = {
    RunState.QUEUED: frozenset({RunState.STARTING, RunState.CANCELLED}),
    # A runner can finish (or be found finished) before we ever saw runner.json. A run
    # whose runner provably never started goes back to the queue at recovery.
    RunState.STARTING: frozenset({RunState.RUNNING, RunState.QUEUED}) | _ENDINGS,
    RunState.RUNNING: _ENDINGS,
    RunState.SUCCEEDED: frozenset(),
    RunState.FAILED: frozenset(),
    RunState.TIMED_OUT: frozenset(),
    RunState.CANCELLED: frozenset(),
    RunState.INTERRUPTED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """A state change the table does not allow: always a bug, never user input."""

    def __init__(self, old: RunState, new: RunState, what: str = "run") -> None:
        super().__init__(f"illegal {what} transition {old.value} -> {new.value}")
        self.old = old
        self.new = new


def check_transition(old: RunState, new: RunState) -> None:
    if new not in ALLOWED[old]:
        raise IllegalTransition(old, new)


class ExitReason(enum.StrEnum):
    """Why a runner says its agent ended (the `reason` of exit.json)."""

    EXIT = "exit"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    SPAWN_ERROR = "spawn_error"
    INTERRUPTED = "interrupted"  # the runner itself was told to stop (e.g. SIGTERM at logout)
    SETUP_FAILED = "setup_failed"  # the worktree's setup command failed: the agent never ran
    MEMORY_LIMIT = "memory_limit"  # its process tree used more memory than its limit: stopped


def state_for_exit(reason: ExitReason, returncode: int | None) -> RunState:
    """The final run state an exit.json stands for."""
    if reason is ExitReason.EXIT:
        return RunState.SUCCEEDED if returncode == 0 else RunState.FAILED
    return {
        ExitReason.TIMEOUT: RunState.TIMED_OUT,
        ExitReason.CANCELLED: RunState.CANCELLED,
        ExitReason.SPAWN_ERROR: RunState.FAILED,
        ExitReason.SETUP_FAILED: RunState.FAILED,
        ExitReason.MEMORY_LIMIT: RunState.FAILED,
        ExitReason.INTERRUPTED: RunState.INTERRUPTED,
    }[reason]


# Exit status the CLI returns for a run that did not end with an agent exit code of its own,
# following the shell conventions people already know (timeout(1), Ctrl+C, command not found).
CLI_EXIT_FOR_STATE: dict[RunState, int] = {
    RunState.TIMED_OUT: 124,
    RunState.CANCELLED: 130,
    RunState.INTERRUPTED: 75,  # EX_TEMPFAIL: try again (retry or resume)
}
SPAWN_ERROR_EXIT = 127
