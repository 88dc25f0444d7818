"""Which folders Agentry uses, and making them (DESIGN §9).

``AGENTRY_HOME`` puts everything in one folder (tests always set it); otherwise
platformdirs picks the usual per-user places of each operating system. The paths
themselves are a core value, :class:`app.core.locations.Locations`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from app.core.locations import Locations
from app.core.log import get_logger
from app.store import fsops

log = get_logger(__name__)

APP_NAME = "Agentry"
HOME_ENV = "AGENTRY_HOME"


def locations_from_env(environ: Mapping[str, str] | None = None) -> Locations:
    env = os.environ if environ is None else environ
    home = env.get(HOME_ENV)
    if home:
        return Locations.in_one_folder(Path(home).expanduser().resolve())
    import platformdirs  # imported lazily: the runner never needs it

    return Locations(
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def ensure_folders(locations: Locations) -> None:
    """Make Agentry's folders (0700 on POSIX), and tighten what an older Agentry left
    readable to others."""
    for folder in (locations.data, locations.config, locations.logs, locations.runs):
        fsops.make_private_dir(folder)
    tightened = [str(path) for path in _kept_at_top(locations) if _tighten(path)]
    if tightened:
        log.info(
            "made Agentry's files readable by their user alone (0600 files, 0700 folders): %s",
            ", ".join(tightened),
        )


def _tighten(path: Path) -> bool:
    try:
        return fsops.make_private(path)
    except OSError as exc:  # a read-only disk: what fails there is reported where it fails
        log.info("could not make %s readable by its user alone: %s", path, exc)
        return False


def _kept_at_top(locations: Locations) -> Iterator[Path]:
    """The folders and top-level files an older Agentry may have left readable to others.

    A handful of paths, so checking them at every start costs nothing; the run folders
    inside ``runs/`` are not walked (they are only reachable through it, now 0700).
    """
    yield from (locations.data, locations.config, locations.logs, locations.runs)
    yield from (locations.worktrees, locations.data / "scratch", locations.data / "sessions")
    database = locations.database
    yield from (database, database.with_name(database.name + "-wal"))
    yield database.with_name(database.name + "-shm")
    yield from locations.data.glob(f"{database.name}.*")  # copies kept aside
    yield from (locations.settings, locations.holder, locations.lock)
    yield from locations.config.glob(f"{locations.settings.name}.corrupt-*")
    yield from locations.logs.glob("*.log*")
