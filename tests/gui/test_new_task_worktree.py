"""The New task dialog's worktree choice, with the real app and real git repositories."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from helpers.agentry import Home, py
from helpers.gitrepo import git, isolate_git, make_repo
from helpers.gui import AppDriver

from app.core.settings import Settings
from app.core.states import RunState
from app.store.settings import load_settings
from app.ui.application import AgentryApp
from app.ui.dialogs.new_task import NewTaskDialog, build_spec
from app.ui.main_window import MainWindow


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository on branch main with one commit, and a git config of its own."""
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"src/a.txt": "line\n"})


def window_of(app: AgentryApp) -> MainWindow:
    assert app.window is not None
    return app.window


def new_task(driver: AppDriver, window: MainWindow, agent: str, folder: Path) -> NewTaskDialog:
    dialog = window.show_new_task()
    dialog.select_agent(agent)
    dialog.cwd.setText(str(folder))
    driver.wait(lambda: not dialog.worktree.pending)
    return dialog


def test_outside_a_repository_the_worktree_choice_is_off_and_says_why(
    driver: AppDriver, repo: Path, work_dir: Path
) -> None:
    window = window_of(driver.start())
    dialog = new_task(driver, window, "claude", work_dir)
    check = dialog.worktree.check
    assert not check.isEnabled() and not check.isChecked()
    assert check.toolTip() == f"{work_dir} is not in a git repository"
    assert not dialog.worktree.base.isEnabled()


def test_a_coding_agent_on_a_repository_gets_a_worktree_a_shell_command_does_not(
    driver: AppDriver, repo: Path
) -> None:
    window = window_of(driver.start())
    dialog = new_task(driver, window, "claude", repo / "src")  # a folder inside it counts
    check = dialog.worktree.check
    assert check.isEnabled() and check.isChecked() and dialog.worktree.base.isEnabled()
    assert dialog.worktree.repository == str(repo.resolve())
    dialog.select_agent("shell")
    assert check.isEnabled() and not check.isChecked()
    dialog.select_agent("demo")
    assert not check.isChecked()


def test_a_projects_worktree_choice_is_remembered_for_the_next_dialog(
    driver: AppDriver, home: Home, repo: Path
) -> None:
    app = driver.start()
    window = window_of(app)
    window.set_paused(True)  # the task only has to be submitted, not run
    dialog = new_task(driver, window, "claude", repo)
    assert dialog.worktree.check.isChecked()
    dialog.worktree.check.click()
    dialog.prompt.setPlainText("Tidy up")
    dialog.try_accept()

    top = str(repo.resolve())
    assert app.supervisor.settings.worktree_by_project == {top: False}
    saved = json.loads(home.locations.settings.read_text())
    assert saved["worktree_by_project"] == {top: False}
    assert load_settings(home.locations.settings).worktree_by_project == {top: False}
    again = new_task(driver, window, "claude", repo)
    assert again.worktree.check.isEnabled() and not again.worktree.check.isChecked()
    again.reject()


def test_a_choice_the_dialog_proposed_anyway_is_not_saved(driver: AppDriver, repo: Path) -> None:
    app = driver.start()
    window = window_of(app)
    window.set_paused(True)
    dialog = new_task(driver, window, "claude", repo)
    dialog.prompt.setPlainText("Tidy up")
    dialog.try_accept()
    assert app.supervisor.settings.worktree_by_project == {}
    assert window.model.rowCount() == 1


def test_starting_before_the_folder_is_looked_up_waits_for_the_answer(
    driver: AppDriver, repo: Path
) -> None:
    window = window_of(driver.start())
    window.set_paused(True)
    dialog = window.show_new_task()
    dialog.select_agent("claude")
    dialog.prompt.setPlainText("Tidy up")
    dialog.cwd.setText(str(repo))  # pasted, and Enter at once
    dialog.try_accept()
    assert window.model.rowCount() == 0 and dialog.isVisible()

    driver.wait(lambda: window.model.rowCount() == 1)
    task = window.model.task_at(0)
    assert task is not None and task.spec.worktree and task.spec.base is None


def test_a_choice_survives_a_detour_through_a_folder_outside_any_repository(
    driver: AppDriver, repo: Path, work_dir: Path
) -> None:
    window = window_of(driver.start())
    dialog = new_task(driver, window, "shell", repo)
    dialog.worktree.check.click()
    dialog.cwd.setText(str(work_dir))
    driver.wait(lambda: not dialog.worktree.pending)
    assert not dialog.worktree.check.isChecked()
    dialog.cwd.setText(str(repo))
    driver.wait(lambda: not dialog.worktree.pending)
    assert dialog.worktree.check.isChecked()
    dialog.reject()


def test_a_submitted_task_runs_in_a_worktree_from_the_base_it_names(
    driver: AppDriver, repo: Path
) -> None:
    git(repo, "branch", "release")
    window = window_of(driver.start())
    dialog = new_task(driver, window, "shell", repo)
    dialog.command.setText(" ".join(f"'{a}'" for a in py("import os; print(os.getcwd())")))
    dialog.worktree.check.click()
    dialog.worktree.base.setText(" release ")
    dialog.try_accept()

    driver.wait(lambda: window.model.rowCount() == 1)
    task = window.model.task_at(0)
    assert task is not None and task.spec.worktree and task.spec.base == "release"
    driver.wait(lambda: (t := window.model.task(task.id)) and t.state is RunState.SUCCEEDED)
    assert git(repo, "status", "--porcelain") == ""
    branches = git(repo, "branch", "--format=%(refname:short)").split()
    assert any(b.startswith(f"agentry/{task.id}-") for b in branches)


def test_the_folder_is_looked_up_once_typing_pauses_and_stale_answers_are_dropped(
    driver: AppDriver, tmp_path: Path
) -> None:
    app = driver.start()
    asked: list[str] = []

    async def repository_of(folder: str) -> str | None:
        asked.append(folder)
        await asyncio.sleep(0.2 if folder.endswith("slow") else 0)
        return folder

    detections = app.supervisor.agent_detections()
    slow = str(tmp_path / "slow")
    dialog = NewTaskDialog(Settings(), slow, detections, repository_of=repository_of)
    dialog.select_agent("claude")
    driver.wait(lambda: asked == [slow])  # its answer is on its way
    for partial in ("/sr", "/src/a", "/src/app"):
        dialog.cwd.setText(partial)
    driver.wait(lambda: not dialog.worktree.pending)
    assert asked == [slow, "/src/app"]
    assert dialog.worktree.repository == "/src/app" and dialog.worktree.check.isChecked()
    driver.qtbot.wait(300)  # the slow first answer arrives late, and changes nothing
    assert dialog.worktree.repository == "/src/app"
    dialog.deleteLater()


@pytest.mark.parametrize(
    ("worktree", "base", "expected"),
    [(True, " release ", "release"), (True, "  ", None), (False, "release", None)],
)
def test_the_spec_names_a_base_only_for_a_worktree_and_only_when_one_was_typed(
    tmp_path: Path, worktree: bool, base: str, expected: str | None
) -> None:
    spec = build_spec(agent="shell", command="make test", prompt="", cwd=str(tmp_path),
                      timeout="", title="", worktree=worktree, base=base)  # fmt: skip
    assert spec.worktree is worktree and spec.base == expected
