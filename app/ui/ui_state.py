"""What the window remembers between launches that is not a setting: its geometry and
state, splitter positions, column widths, the New task dialog's last choices.

Kept by QSettings in ``ui-state.ini`` beside ``settings.json``. Qt writes the file through
a QSaveFile (a temporary file renamed over the old one), so a crash mid-write leaves the
previous copy whole. It is a convenience, never a reason not to start: a file Qt cannot
parse is kept aside under a dated name and the window opens with its defaults.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings

from app.core.locations import Locations
from app.core.log import get_logger

log = get_logger(__name__)

FILE_NAME = "ui-state.ini"


def ui_state(locations: Locations) -> QSettings:
    """The remembered UI state of this data folder's app (read and written by key)."""
    path = locations.config / FILE_NAME
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    if settings.status() is QSettings.Status.FormatError:
        kept = _keep_aside(path)
        log.warning("%s could not be read; kept it as %s and started afresh", path, kept)
        settings = QSettings(str(path), QSettings.Format.IniFormat)
    return settings


def _keep_aside(path: Path) -> Path:
    kept = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
    path.replace(kept)
    return kept
