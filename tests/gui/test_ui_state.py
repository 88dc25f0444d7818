"""The UI state file: remembered across QSettings objects, a broken one kept aside."""

from __future__ import annotations

from pathlib import Path

from app.core.locations import Locations
from app.ui.ui_state import FILE_NAME, ui_state


def test_values_survive_a_new_settings_object(tmp_path: Path) -> None:
    locations = Locations.in_one_folder(tmp_path)
    first = ui_state(locations)
    first.setValue("newTask/agent", "claude")
    first.sync()
    assert (tmp_path / FILE_NAME).exists()
    assert ui_state(locations).value("newTask/agent") == "claude"


def test_an_unreadable_file_is_kept_aside(tmp_path: Path) -> None:
    locations = Locations.in_one_folder(tmp_path)
    broken = tmp_path / FILE_NAME
    broken.write_bytes(b"[window\n\xff\xfe=\n=x\n[[[\n")  # Qt: FormatError
    state = ui_state(locations)
    state.setValue("a", 1)
    state.sync()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(FILE_NAME + ".unreadable-")]
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"[window\n")
    assert ui_state(locations).value("a") in (1, "1")
