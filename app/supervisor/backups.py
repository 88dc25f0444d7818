"""The supervisor's database backups: every ``backups_every_h`` hours and at a clean stop.

A backup reads the whole database, so it runs in the executor on a connection of its own
(SQLite's backup API copies a consistent snapshot while the supervisor keeps writing in
WAL mode). When the last one was made is read off the backups folder, so a supervisor
that restarts every few hours still backs up once a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.log import get_logger
from app.store import backup as store_backup
from app.supervisor.events import Notice
from app.supervisor.host import ExtensionHost

if TYPE_CHECKING:
    from app.core.models import Run

log = get_logger(__name__)

HOUR_S = 3600.0
FIRST_BACKUP_S = 60.0  # a backup that is due at start waits for recovery and first launches
RETRY_S = HOUR_S  # after a failed scheduled backup


class Backups:
    """Scheduled and shutdown backups, plus "back up now" for the CLI and the UI."""

    def __init__(self, host: ExtensionHost) -> None:
        self._host = host
        self._due = float("inf")  # wall-clock time of the next scheduled backup
        self._running: asyncio.Task[Path] | None = None
        self._at_shutdown = True

    async def back_up_now(self, reason: str = "manual") -> Path:
        """A backup into the backups folder, pruned to ``backups_keep``; raises BackupFailed."""
        locations = self._host.locations
        keep = self._host.settings.backups_keep
        return await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: store_backup.backup(locations.database, locations.backups, reason, keep=keep),
        )

    async def at_shutdown(self) -> None:
        """The backup of a clean stop (when the schedule is on); a failure is logged, not
        raised: the stop must go on, and the database itself is untouched."""
        await self.drain()
        if self._host.settings.backups_every_h <= 0 or not self._at_shutdown:
            return
        try:
            made = await self.back_up_now("shutdown")
        except store_backup.BackupFailed as exc:
            log.warning("no backup at shutdown: %s", exc)
            return
        log.info("backed up the database to %s", made)

    def skip_shutdown_backup(self) -> None:
        """No backup at this stop: a restore follows, which keeps the current file aside
        anyway, and pruning could remove the very backup about to be restored."""
        self._at_shutdown = False

    async def drain(self) -> None:
        """Let a scheduled backup under way finish (its failure was already reported)."""
        if self._running is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._running

    # ------------------------------------------------------------------ extension hooks

    def on_started(self) -> None:
        every = self._host.settings.backups_every_h * HOUR_S
        newest = store_backup.newest_backup(self._host.locations.backups)
        soonest = time.time() + FIRST_BACKUP_S
        self._due = soonest if newest is None else max(soonest, newest.made_at + every)

    def on_run_ended(self, run: Run) -> None:
        """Nothing: backups follow the clock, not the runs."""

    def on_tick(self) -> None:
        every = self._host.settings.backups_every_h * HOUR_S
        if every <= 0 or self._running is not None or time.time() < self._due:
            return
        self._running = asyncio.ensure_future(
            self.back_up_now("daily" if every == 24 * HOUR_S else "scheduled")
        )
        self._running.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Path]) -> None:
        self._running = None
        every = self._host.settings.backups_every_h * HOUR_S
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            log.info("backed up the database to %s", task.result())
            self._due = time.time() + every
            return
        self._due = time.time() + min(every, RETRY_S)
        if isinstance(exc, store_backup.BackupFailed):
            log.warning("scheduled backup failed: %s", exc)
            text = (
                f"The scheduled backup of the database failed: {exc} It is tried again in an hour."
            )
            self._host.bus.publish(Notice("warning", text))
        else:
            log.error("scheduled backup failed", exc_info=exc)
            self._host.bus.publish(Notice("error", f"The scheduled backup failed: {exc}"))
