"""Where Agentry keeps its files, as a value (DESIGN §9).

Which folders these are (``AGENTRY_HOME``, or platformdirs' usual places) and creating
them is the store's job (:mod:`app.store.locations`); every other layer, the UI included,
only reads paths off this record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Locations:
    data: Path
    config: Path
    logs: Path

    @classmethod
    def in_one_folder(cls, root: Path) -> Locations:
        """Everything under one folder, as ``AGENTRY_HOME`` lays it out."""
        return cls(data=root, config=root, logs=root / "logs")

    @property
    def database(self) -> Path:
        return self.data / "agentry.db"

    @property
    def runs(self) -> Path:
        return self.data / "runs"

    @property
    def worktrees(self) -> Path:
        """Tasks' own git worktrees (DESIGN §7a), one folder each."""
        return self.data / "worktrees"

    @property
    def backups(self) -> Path:
        """Copies of the database (before migrations, daily, at clean shutdown)."""
        return self.data / "backups"

    @property
    def lock(self) -> Path:
        return self.data / "agentry.lock"

    @property
    def holder(self) -> Path:
        """Who holds the lock: pid, mode and start time of the running supervisor."""
        return self.data / "supervisor.json"

    @property
    def settings(self) -> Path:
        return self.config / "settings.json"

    @property
    def notify_secrets(self) -> Path:
        """The notification targets' signing secrets: kept out of the database (and so out
        of its backups), in a file only the user may read."""
        return self.config / "notify-secrets.json"

    def run_dir(self, name: str) -> Path:
        return self.runs / name
