"""Open working folder / Reveal run folder: a failure is said in the window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtWidgets import QMessageBox

from app.core.models import TaskSpec

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX xdg-open stand-in")


def _opener(folder: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder.mkdir()
    script = folder / "xdg-open"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def _boxes(window: object) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox, "cannotOpenFolder") if b.isVisible()]  # type: ignore[attr-defined]


def test_a_folder_that_cannot_be_opened_is_reported_in_the_window(
    driver: AppDriver, home: Home, work_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _opener(tmp_path / "bin", 'echo "no method available for opening" >&2; exit 3', monkeypatch)
    app = driver.start()
    window = app.window
    assert window is not None
    task_id = window.submit(TaskSpec(argv=("true",), cwd=str(work_dir), title="t"))
    assert task_id is not None
    driver.wait(lambda: home.run(task_id).state.value == "succeeded")
    window.task_list.select(task_id)

    window.action_set.open_folder_action.trigger()
    driver.wait(lambda: _boxes(window))
    (box,) = _boxes(window)
    assert box.windowTitle() == "Could not open the working folder"
    assert box.text() == (
        f"xdg-open could not open {work_dir}: no program to open folders is installed "
        "(no method available for opening)"
    )
    box.accept()


def test_a_folder_that_opens_shows_no_message(
    driver: AppDriver, home: Home, work_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "seen"
    _opener(tmp_path / "bin", f'echo "$1" > {seen}', monkeypatch)
    app = driver.start()
    window = app.window
    assert window is not None
    task_id = window.submit(TaskSpec(argv=("true",), cwd=str(work_dir), title="t"))
    assert task_id is not None
    driver.wait(lambda: home.run(task_id).state.value == "succeeded")
    window.task_list.select(task_id)
    window.action_set.reveal_run_action.trigger()
    driver.wait(lambda: seen.exists() and seen.read_text().strip())
    assert Path(seen.read_text().strip()) == home.run_dir(task_id)
    assert not _boxes(window)
