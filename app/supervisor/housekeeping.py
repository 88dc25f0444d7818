"""The supervisor's clean-up work, done off its loop: listing and removing what nothing needs
any more (Tools → Clean up…), and pruning worktrees whose work was merged long ago.

Listing walks folders and asks git about every worktree, and removing deletes whole
trees: seconds on a big repository. So each job runs in the executor on a database
connection of its own (SQLite allows it, as for the CLI), never on the supervisor's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from app.core.log import get_logger
from app.store.db import Connection
from app.supervisor import cleanup
from app.supervisor.background import on_own_connection
from app.supervisor.cleanup import Candidate, Outcome
from app.supervisor.events import Notice
from app.supervisor.git import Git
from app.supervisor.host import ExtensionHost

if TYPE_CHECKING:
    from app.core.models import Run

log = get_logger(__name__)

T = TypeVar("T")

FIRST_PRUNE_S = 60.0  # after start: recovery and the first launches go first
PRUNE_EVERY_S = 3600.0
DAY_S = 86_400.0


class Housekeeping:
    """Clean-up commands for the UI, and the periodic prune when Settings asks for one."""

    def __init__(
        self, host: ExtensionHost, git: Git, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._host = host
        self._git = git
        self.clock = clock  # wall-clock time, compared with when tasks ended
        self._next_prune = float("inf")  # monotonic; set when the supervisor has started
        self._pruning: asyncio.Task[Outcome] | None = None

    async def find(self) -> list[Candidate]:
        """What could be removed, each with its size and whether it holds work."""
        return await self._off_loop(
            lambda conn: cleanup.find(conn, self._host.locations, self._git)
        )

    async def remove(self, chosen: Sequence[Candidate]) -> Outcome:
        """Remove what the person ticked (risky ones included: they were asked)."""
        return await self._off_loop(
            lambda conn: cleanup.remove(
                conn, self._host.locations, self._git, list(chosen), by="person"
            )
        )

    async def prune(self) -> Outcome:
        """Remove the worktrees of tasks that ended more than the set number of days ago
        and whose work is merged, each announced; nothing when the setting is off."""
        days = self._host.settings.prune_merged_after_days
        if days <= 0:
            return Outcome((), ())
        cutoff = self.clock() - days * DAY_S
        outcome = await self._off_loop(lambda conn: self._prune(conn, cutoff, days))
        for candidate in outcome.removed:
            self._host.bus.publish(Notice("info", _pruned(candidate, days), candidate.task_id))
        for candidate, why in outcome.failed:
            text = f"Could not remove the merged worktree {candidate.what}: {why}. It is "
            text += "tried again in an hour; Tools → Clean up… removes it now."
            self._host.bus.publish(Notice("warning", text, candidate.task_id))
        return outcome

    def _prune(self, conn: Connection, cutoff: float, days: int) -> Outcome:
        old = [
            c
            for c in cleanup.worktrees(conn, self._git)
            if c.safe and c.ended_at is not None and c.ended_at < cutoff
        ]
        by = f"prune: merged, ended over {days} days ago"
        return cleanup.remove(conn, self._host.locations, self._git, old, by=by)

    async def _off_loop(self, job: Callable[[Connection], T]) -> T:
        return await on_own_connection(self._host.locations.database, job)

    async def drain(self) -> None:
        """Let a prune under way finish (its failure was already reported)."""
        if self._pruning is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._pruning

    # ------------------------------------------------------------------ extension hooks

    def on_started(self) -> None:
        self._next_prune = time.monotonic() + FIRST_PRUNE_S

    def on_run_ended(self, run: Run) -> None:
        """Nothing: a task that just ended is days away from being pruned."""

    def on_tick(self) -> None:
        if self._host.settings.prune_merged_after_days <= 0 or self._pruning is not None:
            return
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY_S
        self._pruning = asyncio.ensure_future(self.prune())
        self._pruning.add_done_callback(self._pruned)

    def _pruned(self, task: asyncio.Task[Outcome]) -> None:
        self._pruning = None
        if task.cancelled() or task.exception() is None:
            return
        log.error("pruning merged worktrees failed", exc_info=task.exception())
        text = f"Pruning merged worktrees failed: {task.exception()}. It is tried again in an hour."
        self._host.bus.publish(Notice("error", text))


def _pruned(candidate: Candidate, days: int) -> str:
    return (
        f"Removed the worktree of task {candidate.task_id} ({candidate.what}): its work is "
        f"merged and the task ended more than {days} day{'s' if days != 1 else ''} ago."
    )
