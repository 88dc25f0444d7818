"""Where Agentry keeps its files (DESIGN §9).

``AGENTRY_HOME`` puts everything in one folder (tests always set it); otherwise
platformdirs picks the usual per-user places of each operating system.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Agentry"
HOME_ENV = "AGENTRY_HOME"


@dataclass(frozen=True)
class Locations:
    data: Path
    config: Path
    logs: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Locations:
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV)
        if home:
            root = Path(home).expanduser().resolve()
            return cls(data=root, config=root, logs=root / "logs")
        import platformdirs  # imported lazily: the runner never needs it

        return cls(
            data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    @property
    def database(self) -> Path:
        return self.data / "agentry.db"

    @property
    def runs(self) -> Path:
        return self.data / "runs"

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

    def run_dir(self, name: str) -> Path:
        return self.runs / name

    def ensure(self) -> None:
        for folder in (self.data, self.config, self.logs, self.runs):
            folder.mkdir(parents=True, exist_ok=True)
