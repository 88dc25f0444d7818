"""Which folders Agentry uses, and making them (DESIGN §9).

``AGENTRY_HOME`` puts everything in one folder (tests always set it); otherwise
platformdirs picks the usual per-user places of each operating system. The paths
themselves are a core value, :class:`app.core.locations.Locations`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from app.core.locations import Locations

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
    for folder in (locations.data, locations.config, locations.logs, locations.runs):
        folder.mkdir(parents=True, exist_ok=True)
