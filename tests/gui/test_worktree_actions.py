"""The Changes tab's actions on a real worktree of a real repository: Merge (and a conflict
that changes nothing), Push to a bare remote, Discard asked first, the follow-up that asks
the agent to resolve a conflict, and the worktree's size in the tab."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gitrepo import git, isolate_git, make_repo
from helpers.gui import AppDriver
from PySide6.QtGui import QDesktopServices

from app.core.models import TaskSpec
from app.core.settings import ProjectSettings
from app.core.states import RunState
from app.core.workspaces import WorkspaceState
from app.supervisor.worktree_ops import rebase_request
from app.ui.application import AgentryApp
from app.ui.changes_view import DISCARDED, ChangesView
from app.ui.worktree_actions import WorktreeActions

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
    pytest.mark.skipif(sys.platform == "win32", reason="the fake agents are sh scripts"),
]

FAKE_AIDER = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "aider 0.86.1"; exit 0; fi
echo "aider's line" > a.txt
echo "Edited a.txt"
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"a.txt": "line\n"})


def commit_line(text: str) -> tuple[str, ...]:
    return ("sh", "-c", f"echo {text} > a.txt && git commit -q -am '{text}'")


def submit(app: AgentryApp, repo: Path, argv: tuple[str, ...], title: str, **kw: object) -> int:
    assert app.window is not None
    task_id = app.window.submit(
        TaskSpec(argv=argv, cwd=str(repo), worktree=True, title=title, **kw)  # type: ignore[arg-type]
    )
    assert task_id is not None
    return task_id


def changes_tab(driver: AppDriver, app: AgentryApp, task_id: int) -> ChangesView:
    """The ended task's Changes tab in front, with its worktree's status read."""
    window = app.window
    assert window is not None
    driver.wait(lambda: (t := window.model.task(task_id)) and t.state is RunState.SUCCEEDED,
                timeout_ms=30_000)  # fmt: skip
    window.open_task(task_id)
    view = window.task_tabs.changes[task_id]
    window.panes[task_id].sections.setCurrentWidget(view)
    actions = view.worktree
    driver.wait(lambda: actions.status is not None and actions.status.state is not None
                and not actions.busy and not actions.reading
                and view.changes is not None)  # fmt: skip
    return view


def act(driver: AppDriver, actions: WorktreeActions, click: Callable[[], object]) -> None:
    """Click, and wait until the action and the status read after it are done."""
    driver.wait(lambda: not actions.busy and not actions.reading)
    done = actions.operations
    click()
    driver.wait(lambda: actions.operations > done and not actions.busy and not actions.reading)


def branch_of(app: AgentryApp, task_id: int) -> str:
    status = app.window.task_tabs.changes[task_id].worktree.status  # type: ignore[union-attr]
    assert status is not None
    return status.branch


def test_merge_fast_forwards_the_base_and_the_tab_says_so(driver: AppDriver, repo: Path) -> None:
    app = driver.start()
    task_id = submit(app, repo, commit_line("merged"), "Merge me")
    view = changes_tab(driver, app, task_id)
    actions = view.worktree
    assert actions.merge_button.isEnabled()
    assert actions.place.full_text().startswith("worktree ")  # its size, measured off the loop
    assert actions.place.full_text().endswith(f"{task_id}-merge-me")
    assert actions.status is not None and actions.status.size

    (repo / "a.txt").write_text("my own edit\n")  # a dirty checkout of the base refuses
    act(driver, actions, actions.merge_button.click)
    assert actions.note.level == "error"
    assert "uncommitted changes (a.txt)" in actions.note.label.text()
    assert git(repo, "log", "-1", "--format=%s") == "first\n"

    git(repo, "checkout", "--", "a.txt")
    act(driver, actions, actions.merge_button.click)
    assert "Merged into <b>main</b> (fast-forward)" in actions.note.label.text()
    assert (repo / "a.txt").read_text() == "merged\n"  # the checkout moved with its branch
    assert git(repo, "rev-parse", "main") == git(repo, "rev-parse", branch_of(app, task_id))
    assert not actions.merge_button.isEnabled()
    assert "nothing to merge" in actions.merge_button.toolTip()


def test_squash_from_the_merge_menu_makes_one_commit(driver: AppDriver, repo: Path) -> None:
    app = driver.start()
    argv = ("sh", "-c", "echo 1 > b.txt && git add b.txt && git commit -qm one && "
            "echo 2 >> b.txt && git commit -qam two")  # fmt: skip
    actions = changes_tab(driver, app, submit(app, repo, argv, "Squashed")).worktree
    git(repo, "commit", "-q", "--allow-empty", "-m", "base moved")
    assert actions.merge_actions["squash"].text() == "Squash and merge into main"

    act(driver, actions, actions.merge_actions["squash"].trigger)
    assert "Merged into <b>main</b> (commit " in actions.note.label.text()
    assert git(repo, "log", "-2", "--format=%s") == "Squashed\nbase moved\n"
    assert (repo / "b.txt").read_text() == "1\n2\n"


def test_a_conflicting_merge_shows_the_files_and_changes_nothing(
    driver: AppDriver, repo: Path
) -> None:
    app = driver.start()
    first = submit(app, repo, commit_line("one"), "First")
    second = submit(app, repo, commit_line("two"), "Second")
    changes_tab(driver, app, first)
    driver.run(app.supervisor.worktrees.merge(first))
    before = git(repo, "rev-parse", "main")

    actions = changes_tab(driver, app, second).worktree
    act(driver, actions, actions.merge_button.click)
    banner = actions.conflict
    assert banner.isVisible() and banner.files == ["a.txt"]
    assert "<code>a.txt</code>" in banner.label.text()
    assert banner.ask_button.text() == "Ask the agent to rebase onto main and resolve"
    assert not banner.ask_button.isEnabled()  # a shell command has no session to continue
    assert "shell tasks cannot take follow-ups" in banner.ask_button.toolTip()
    assert banner.terminal_button.isEnabled()
    assert git(repo, "rev-parse", "main") == before
    assert (repo / "a.txt").read_text() == "one\n"
    assert git(repo, "status", "--porcelain") == ""


def test_asking_the_agent_to_resolve_queues_a_follow_up_naming_the_base_and_files(
    driver: AppDriver, home: Home, repo: Path, tmp_path: Path
) -> None:
    aider = tmp_path / "bin" / "aider"
    aider.parent.mkdir()
    aider.write_text(FAKE_AIDER)
    aider.chmod(0o755)
    home.write_settings(agent_paths={"aider": str(aider)})
    app = driver.start()
    task_id = submit(app, repo, (), "Aider", agent="aider", prompt="Change the line")
    actions = changes_tab(driver, app, task_id).worktree
    (repo / "a.txt").write_text("the person's line\n")  # the base moves on: a conflict
    git(repo, "commit", "-q", "-am", "mine")

    act(driver, actions, actions.merge_button.click)
    assert actions.conflict.isVisible()
    assert actions.conflict.ask_button.isEnabled()
    actions.conflict.ask_button.click()

    driver.wait(lambda: len(home.runs(task_id)) == 2)
    branch = branch_of(app, task_id)
    assert home.runs(task_id)[1].prompt == rebase_request(branch, "main", ["a.txt"])
    assert "`git rebase main`" in rebase_request(branch, "main", ["a.txt"])
    assert not actions.conflict.isVisible()
    assert "Asked the agent to rebase onto <b>main</b>" in actions.note.label.text()


def test_discard_asks_first_and_cancel_keeps_everything(driver: AppDriver, repo: Path) -> None:
    app = driver.start()
    argv = ("sh", "-c", "echo kept > a.txt && git commit -q -am 'Keep me' && echo x > new.txt")
    task_id = submit(app, repo, argv, "Throw away")
    view = changes_tab(driver, app, task_id)
    actions = view.worktree
    assert actions.status is not None
    folder, branch = Path(actions.status.path), actions.status.branch

    actions.discard_button.click()
    driver.wait(lambda: actions.discard_box is not None)
    box = actions.discard_box
    assert box is not None
    text = box.informativeText()
    assert "new.txt" in text and "Keep me" in text and "lost for good" in text
    assert box.defaultButton() is box.cancel_button  # the safe answer is the default
    box.cancel_button.click()
    driver.wait(lambda: actions.discard_box is None)
    assert folder.is_dir() and git(repo, "branch", "--list", branch).strip()

    actions.discard_button.click()
    driver.wait(lambda: actions.discard_box is not None)
    box = actions.discard_box
    assert box is not None
    act(driver, actions, box.discard_button.click)
    assert not folder.exists()
    assert git(repo, "branch", "--list", branch) == ""
    assert git(repo, "worktree", "list").count("\n") == 1
    assert actions.status is not None and actions.status.state is WorkspaceState.REMOVED
    driver.wait(lambda: view.summary.text() == DISCARDED)
    for button in (actions.merge_button, actions.push_button, actions.discard_button,
                   actions.editor_button, actions.terminal_button):  # fmt: skip
        assert not button.isEnabled() and "discarded" in button.toolTip()


def test_push_sends_the_branch_to_the_bases_remote_and_offers_the_pull_request_page(
    driver: AppDriver, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    app = driver.start()
    task_id = submit(app, repo, commit_line("pushed"), "Push me")
    actions = changes_tab(driver, app, task_id).worktree
    branch = branch_of(app, task_id)
    assert actions.push_button.isEnabled()

    act(driver, actions, actions.push_button.click)
    assert git(remote, "show", f"{branch}:a.txt") == "pushed\n"
    assert f"Pushed <b>{branch}</b> to origin." in actions.note.label.text()
    assert not actions.note.action_button.isVisible()  # not GitHub or GitLab: no page to open

    # A GitHub remote without gh: the page that opens the pull request, one click away.
    git(repo, "remote", "set-url", "origin", "git@github.com:me/project.git")
    git(repo, "remote", "set-url", "--push", "origin", str(remote))  # pushes still go here
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    act(driver, actions, actions.request_action.trigger)
    assert "Could not open a pull request here (gh is not installed)" in actions.note.label.text()
    assert actions.note.level == "warning"
    assert actions.note.action_button.isVisible()
    assert actions.note.action_button.text() == "Open in browser"
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    actions.note.action_button.click()
    assert opened == [f"https://github.com/me/project/compare/main...{branch}?expand=1"]


def test_a_repository_without_remote_disables_push_and_says_how_to_add_one(
    driver: AppDriver, repo: Path
) -> None:
    app = driver.start()
    actions = changes_tab(driver, app, submit(app, repo, commit_line("x"), "X")).worktree
    assert not actions.push_button.isEnabled()
    assert "git remote add origin" in actions.push_button.toolTip()


def test_changing_actions_wait_for_the_run_to_end(
    driver: AppDriver, repo: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    app = driver.start()
    argv = ("sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done; echo done > a.txt")
    task_id = submit(app, repo, argv, "Busy")
    window = app.window
    assert window is not None
    driver.wait(lambda: (t := window.model.task(task_id)) and t.state is RunState.RUNNING)
    window.open_task(task_id)
    view = window.task_tabs.changes[task_id]
    window.panes[task_id].sections.setCurrentWidget(view)
    actions = view.worktree
    driver.wait(lambda: actions.status is not None and actions.status.state is not None)
    for button in (actions.merge_button, actions.push_button, actions.discard_button):
        assert not button.isEnabled()
        assert f"Task #{task_id} is still running in its worktree" in button.toolTip()
    assert actions.editor_button.isEnabled() and actions.terminal_button.isEnabled()

    gate.touch()
    driver.wait(lambda: actions.merge_button.isEnabled(), timeout_ms=30_000)
    assert actions.discard_button.isEnabled()


# ---------------------------------------------------------------- Land


def set_check(app: AgentryApp, repo: Path, command: str) -> None:
    supervisor = app.supervisor
    top = str(repo.resolve())
    project = ProjectSettings(check=command)
    supervisor.apply_settings(supervisor.settings.with_project(top, project))


def test_land_rebases_checks_and_moves_the_base_and_the_tab_follows_it(
    driver: AppDriver, repo: Path
) -> None:
    app = driver.start()
    task_id = submit(app, repo, ("sh", "-c", "echo landed >> a.txt"), "Land me")
    view = changes_tab(driver, app, task_id)
    actions = view.worktree
    git(repo, "commit", "-q", "--allow-empty", "-m", "the base moved on")
    set_check(app, repo, "echo checking the landing; grep -q landed a.txt")
    actions.refresh_status()
    driver.wait(lambda: not actions.reading)
    assert actions.land_button.text() == "Land" and actions.land_button.isEnabled()
    assert "run `echo checking the landing; grep -q landed a.txt`" in actions.land_button.toolTip()

    actions.land_button.click()
    driver.wait(lambda: "Landing on <b>main</b>" in actions.note.label.text())
    driver.wait(lambda: "Landed: main is now at" in actions.note.label.text(), timeout_ms=30_000)

    assert git(repo, "log", "--format=%s", "-2", "main").split("\n")[:2] == [
        "Land me", "the base moved on"
    ]  # fmt: skip
    assert (repo / "a.txt").read_text() == "line\nlanded\n"
    pane = app.window.panes[task_id]  # type: ignore[union-attr]
    driver.wait(lambda: "checking the landing" in pane.view.toPlainText())
    assert "land check" in pane.view.toPlainText()  # the check run's separator
    driver.wait(lambda: not actions.reading and actions.land_button.text() == "Land")


def test_land_without_a_check_command_says_so_and_offers_to_land_without_one(
    driver: AppDriver, repo: Path
) -> None:
    app = driver.start()
    task_id = submit(app, repo, commit_line("unchecked"), "No check")
    actions = changes_tab(driver, app, task_id).worktree
    assert "No check command is set" in actions.land_button.toolTip()
    assert not actions.land.checked_action.isEnabled()

    actions.land_button.click()
    assert actions.note.level == "warning"
    assert "No check command is set for this repository" in actions.note.label.text()
    assert actions.note.action_button.text() == "Land without a check"
    actions.note.action_button.click()
    driver.wait(lambda: "Landed: main is now at" in actions.note.label.text(), timeout_ms=30_000)
    assert (repo / "a.txt").read_text() == "unchecked\n"


def test_cancel_land_stops_the_check_and_leaves_the_base(driver: AppDriver, repo: Path) -> None:
    app = driver.start()
    task_id = submit(app, repo, commit_line("cancelled"), "Cancel me")
    actions = changes_tab(driver, app, task_id).worktree
    set_check(app, repo, "sleep 60")
    actions.refresh_status()
    driver.wait(lambda: not actions.reading)
    before = git(repo, "rev-parse", "main")

    actions.land_button.click()
    driver.wait(lambda: "checking: sleep 60" in actions.note.label.text(), timeout_ms=30_000)
    driver.wait(lambda: actions.land_button.text() == "Cancel land" and
                actions.land_button.isEnabled())  # fmt: skip
    assert not actions.merge_button.isEnabled()  # the land works on the same branch
    driver.wait(lambda: app.window.model.task(task_id).state is RunState.RUNNING)  # type: ignore[union-attr]
    actions.land_button.click()
    driver.wait(lambda: "The land was cancelled; <b>main</b> was not changed."
                in actions.note.label.text(), timeout_ms=30_000)  # fmt: skip
    assert git(repo, "rev-parse", "main") == before
    driver.wait(lambda: not actions.reading and actions.land_button.text() == "Land")
