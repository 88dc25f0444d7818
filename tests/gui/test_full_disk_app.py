"""The app on a full data folder (issue 12 §2): its error screen says which folder, how
much is free and what to do; while the disk is below the minimum, the status bar says
why queued tasks wait."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.agentry import Home
from helpers.gui import AppDriver
from helpers.mounts import fill, tmpfs

from app.core.models import TaskSpec
from app.core.states import RunState
from app.store.db import open_database


def test_a_full_data_folder_shows_the_error_screen_with_the_free_space(
    driver: AppDriver, home: Home
) -> None:
    with tmpfs(home.path, "2m"):
        open_database(home.locations.database).close()
        fill(home.path)
        app = driver.start_expecting_failure()
        assert app.window is None
        assert app.error_screen is not None and app.error_screen.isVisible()
        text = app.error_screen.message.text()
        assert "disk full" in text and str(home.path) in text and "free of" in text, text
        assert "Free some space" in text
        app.error_screen.quit_button.click()
        driver.wait(app.finished.is_set)
        assert app.exit_code == 1


def test_the_status_bar_says_queued_tasks_wait_for_disk_space(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    with tmpfs(home.path, "8m"):
        home.write_settings(
            gate_max_cpu_percent=100.0, gate_max_memory_percent=100.0, gate_min_free_disk_mb=4
        )
        filler = fill(home.path, leave=2 << 20)
        app = driver.start()
        window = app.window
        assert window is not None
        task_id = app.supervisor.submit(TaskSpec(argv=("echo", "later"), cwd=str(work_dir)))
        driver.wait(lambda: "queue held: disk full" in window.counts_label.text())
        assert "MiB minimum" in window.counts_label.toolTip()
        filler.unlink()
        driver.wait(lambda: (t := window.model.task(task_id)) and t.state is RunState.SUCCEEDED)
        driver.wait(lambda: "queue held" not in window.counts_label.text())
        driver.quit(app)


def test_the_free_disk_minimum_is_set_in_settings_general_and_zero_is_no_check(
    driver: AppDriver, home: Home
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    dialog = window.show_settings()
    assert dialog.min_free_disk.value() == 0  # the test home turns it off
    assert dialog.min_free_disk.text() == "no check"
    dialog.min_free_disk.setValue(800)
    dialog.try_accept()
    assert app.supervisor.settings.gate_min_free_disk_mb == 800
    assert json.loads(home.locations.settings.read_text())["gate_min_free_disk_mb"] == 800
    assert window.show_settings().min_free_disk.value() == 800
