"""Database backups as values: what the backups folder holds, and what a restore did.

Making and restoring them is the store's job (:mod:`app.store.backup`); the supervisor
schedules them and the CLI and the UI show these records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BackupFile:
    path: Path
    made_at: float  # when it was written (the file's modification time)
    reason: str  # "daily", "scheduled", "shutdown", "migration", "manual", "before-restore"
    size: int

    def describe(self) -> str:
        """``2026-12-04 17:50:02  shutdown    147.5 KB  /path/agentry-….db``, for lists."""
        return f"{self.when}  {self.reason:<10} {_size(self.size):>9}  {self.path}"

    def summary(self) -> str:
        """``2026-12-04 17:50:02 — shutdown, 147.5 KB``: for a list that names the folder."""
        return f"{self.when} — {self.reason}, {_size(self.size)}"

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.made_at))


@dataclass(frozen=True)
class Restored:
    source: Path  # the backup that was copied in
    kept_aside: tuple[Path, ...]  # the replaced database and its WAL/SHM, renamed, never deleted


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
