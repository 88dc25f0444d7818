"""Tools → Clean up…, with the real app, real git worktrees and the real audit trail."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gitrepo import isolate_git, make_repo
from helpers.gui import AppDriver
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.core.workspaces import WorkspaceState
from app.store import repo as task_repo
from app.store import workspace_repo
from app.ui.dialogs.cleanup import CleanupDialog
from app.ui.main_window import MainWindow

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells drive the tasks")

CHECKED, UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"a.txt": "line\n"})


def merged_and_unmerged(home: Home, repo: Path) -> tuple[int, int]:
    """Task 1's commit is merged into main; task 2's is only on its own branch."""
    for title, script in (("Fix the login bug", "echo one > a.txt && git commit -qam one"),
                          ("Try a new parser", "echo two > b.txt && git add b.txt && "
                                               "git commit -qm two")):  # fmt: skip
        ran = home.cli("run", "--worktree", "--wait", "--title", title, "--cwd", str(repo),
                       "--", "sh", "-c", script)  # fmt: skip
        assert ran.returncode == 0, ran.stderr
    home.cli("merge", "1", check=True)
    return 1, 2


def state(home: Home, task_id: int) -> WorkspaceState:
    with home.db() as conn:
        found = workspace_repo.get(conn, task_id)
    assert found is not None
    return found.state


def open_cleanup(driver: AppDriver) -> tuple[MainWindow, CleanupDialog]:
    window = driver.start().window
    assert window is not None
    window.action_set.cleanup_action.trigger()
    dialog = window.findChild(CleanupDialog)
    assert dialog is not None and dialog.isVisible()
    driver.wait(lambda: not dialog.working)
    return window, dialog


def test_a_merged_worktree_is_ticked_an_unmerged_one_is_not_and_only_the_ticked_goes(
    driver: AppDriver, home: Home, repo: Path
) -> None:
    merged, unmerged = merged_and_unmerged(home, repo)
    _, dialog = open_cleanup(driver)
    rows = dialog.rows()
    assert set(rows) == {f"W{merged}", f"W{unmerged}"}
    safe, risky = rows[f"W{merged}"], rows[f"W{unmerged}"]
    assert safe.checkState(dialog.ITEM) == CHECKED
    assert safe.text(dialog.ITEM) == f"#{merged}  Fix the login bug"
    assert safe.text(dialog.DETAILS) == "Its work is merged into main."
    assert risky.checkState(dialog.ITEM) == UNCHECKED
    assert risky.text(dialog.DETAILS) == "Holds 1 commit not in main."
    assert not risky.icon(dialog.DETAILS).isNull() and safe.icon(dialog.DETAILS).isNull()
    assert dialog.total.text().startswith("1 of 2 ticked — ")

    dialog.remove_button.click()
    assert dialog.confirm_box is None, "nothing that holds work is ticked: no second question"
    driver.wait(lambda: not dialog.working)
    assert state(home, merged) is WorkspaceState.REMOVED
    assert state(home, unmerged) is WorkspaceState.READY
    assert set(dialog.rows()) == {f"W{unmerged}"}
    assert dialog.report.text().startswith("Removed 1 item, ")
    assert dialog.close_button.text() == "Close"
    with home.db() as conn:
        audited = [e for e in task_repo.events_for_task(conn, merged) if e["kind"] == "cleaned_up"]
    assert len(audited) == 1 and json.loads(audited[0]["detail"])["by"] == "person"


def test_ticking_what_holds_work_asks_once_more_before_removing_it(
    driver: AppDriver, home: Home, repo: Path
) -> None:
    merged, unmerged = merged_and_unmerged(home, repo)
    _, dialog = open_cleanup(driver)
    dialog.rows()[f"W{merged}"].setCheckState(dialog.ITEM, UNCHECKED)
    dialog.rows()[f"W{unmerged}"].setCheckState(dialog.ITEM, CHECKED)
    assert dialog.total.text().endswith("1 of them holding work")

    dialog.remove_button.click()
    box = dialog.confirm_box
    assert box is not None and box.isVisible()
    assert "#2  Try a new parser" in box.informativeText()
    cancel = next(b for b in box.findChildren(QPushButton) if b.text() == "Cancel")
    cancel.click()
    assert not dialog.working and state(home, unmerged) is WorkspaceState.READY

    dialog.remove_button.click()
    box = dialog.confirm_box
    assert box is not None
    anyway = next(b for b in box.findChildren(QPushButton) if b.text() == "Remove anyway")
    anyway.click()
    driver.wait(lambda: not dialog.working)
    assert state(home, unmerged) is WorkspaceState.REMOVED
    assert state(home, merged) is WorkspaceState.READY, "it was unticked"


def test_with_nothing_to_clean_up_the_dialog_says_so(driver: AppDriver, home: Home) -> None:
    _, dialog = open_cleanup(driver)
    assert dialog.pages.currentWidget() is dialog.empty
    assert "Nothing to clean up" in dialog.empty.text()
    assert not dialog.remove_button.isEnabled() and dialog.close_button.text() == "Close"
