"""The Changes tab of a worktree task: a real diff of a real worktree, comments that become
one follow-up, and refreshes that never run git on the event loop."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gitrepo import isolate_git, make_repo
from helpers.gui import AppDriver
from PySide6.QtGui import QTextCursor

from app.core.models import TaskSpec
from app.core.states import RunState
from app.supervisor.git_output import Review
from app.ui.application import AgentryApp
from app.ui.changes_view import ChangesView
from app.ui.diff_view import DiffEdit
from app.ui.review_comments import Comment, comment_on, compose

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
    pytest.mark.skipif(sys.platform == "win32", reason="the fake agents are sh scripts"),
]

APP_PY = "def hello():\n    return 1\n\n\ndef bye():\n    return 0\n"
EDIT = (
    "printf 'def hello():\\n    return 2\\n\\n\\ndef bye():\\n    return 0\\n' > app.py"
    " && git commit -q -am 'Return two' && echo '# notes' > notes.md"
)
FAKE_AIDER = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "aider 0.86.1"; exit 0; fi
printf 'def hello():\\n    return 3\\n\\n\\ndef bye():\\n    return 0\\n' > app.py
echo "Edited app.py"
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository on main with app.py committed; git's config isolated (runners too)."""
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "project", {"app.py": APP_PY})


def changes_tab(driver: AppDriver, app: AgentryApp, task_id: int) -> ChangesView:
    """The task's Changes tab, brought to the front once its run has ended."""
    window = app.window
    assert window is not None
    driver.wait(lambda: (t := window.model.task(task_id)) and t.state is RunState.SUCCEEDED,
                timeout_ms=30_000)  # fmt: skip
    pane = window.panes[task_id]
    view = window.task_tabs.changes[task_id]
    pane.sections.setCurrentWidget(view)
    driver.wait(lambda: view.changes is not None and view.changes.files)
    return view


def select_rows(edit: DiffEdit, first: int, last: int) -> None:
    doc = edit.document()
    cursor = QTextCursor(doc)
    cursor.setPosition(doc.findBlockByNumber(first).position())
    block = doc.findBlockByNumber(last)
    cursor.setPosition(block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    edit.setTextCursor(cursor)


def file_rows(view: ChangesView) -> list[list[str]]:
    items = [view.files.topLevelItem(n) for n in range(view.files.topLevelItemCount())]
    return [[item.text(c) for c in range(5)] for item in items if item is not None]


def row_index(edit: DiffEdit, kind: str, text: str) -> int:
    return next(
        n for n, row in enumerate(edit.rows) if row and row.kind == kind and row.text == text
    )


def test_the_changes_tab_shows_a_worktree_tasks_files_commits_and_diff(
    driver: AppDriver, repo: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    task_id = app.window.submit(
        TaskSpec(argv=("sh", "-c", EDIT), cwd=str(repo), worktree=True, title="Edit")
    )
    assert task_id is not None
    view = changes_tab(driver, app, task_id)

    rows = {texts[1]: [texts[0], texts[2], texts[3]] for texts in file_rows(view)}
    assert rows == {"app.py": ["M", "+1", "\u22121"], "notes.md": ["?", "+1", "\u22120"]}
    assert file_rows(view)[1][4] == "uncommitted"
    commits = [view.commits.item(n).text()[10:] for n in range(view.commits.count())]
    assert commits == ["Return two"]
    assert view.selected_path() == "app.py"
    pane = app.window.panes[task_id]
    assert pane.sections.tabText(pane.sections.indexOf(view)) == "Changes 2"
    text = view.diff.unified.toPlainText()
    assert "-     return 1" in text and "+     return 2" in text
    view.side_button.setChecked(True)
    assert "return 1" in view.diff.left.toPlainText()
    assert "return 2" in view.diff.right.toPlainText()
    assert "return 2" not in view.diff.left.toPlainText()
    assert (repo / "app.py").read_text() == APP_PY  # the person's checkout is untouched

    # a refresh keeps the file the person is looking at
    second = view.files.topLevelItem(1)
    assert second is not None
    view.files.setCurrentItem(second)
    done = view.refreshes
    view.refresh()
    driver.wait(lambda: view.refreshes > done)
    assert view.selected_path() == "notes.md"
    # a shell command has no session: comments can be written, not sent
    assert not view.pending.send_button.isEnabled()


def test_comments_on_diff_lines_are_sent_to_the_agent_as_one_follow_up(
    driver: AppDriver, home: Home, repo: Path, tmp_path: Path
) -> None:
    aider = tmp_path / "bin" / "aider"
    aider.parent.mkdir()
    aider.write_text(FAKE_AIDER)
    aider.chmod(0o755)
    home.write_settings(agent_paths={"aider": str(aider)})
    app = driver.start()
    assert app.window is not None
    spec = TaskSpec(argv=(), cwd=str(repo), agent="aider", prompt="Return three",
                    worktree=True, title="Three")  # fmt: skip
    task_id = app.window.submit(spec)
    assert task_id is not None
    view = changes_tab(driver, app, task_id)
    edit = view.diff.unified
    assert not view.comment_button.isEnabled()

    select_rows(edit, row_index(edit, "removed", "    return 1"),
                row_index(edit, "added", "    return 3"))  # fmt: skip
    assert view.comment_button.isEnabled()
    view.comment_button.click()
    assert view.editor.isVisible() and not view.editor.add_button.isEnabled()
    view.editor.text.setPlainText("Use a named constant")
    view.editor.add_button.click()
    select_rows(edit, row_index(edit, "context", "def bye():"),
                row_index(edit, "context", "def bye():"))  # fmt: skip
    view.comment_button.click()
    view.editor.text.setPlainText("Add a docstring")
    view.editor.add_button.click()
    assert view.pending.list.count() == 2
    assert view.pending.send_button.isEnabled()

    view.pending.send_button.click()
    driver.wait(lambda: len(home.runs(task_id)) == 2)
    prompt = home.runs(task_id)[1].prompt or ""
    assert prompt == (
        "In app.py line 2:\n> -    return 1\n> +    return 3\nUse a named constant\n\n"
        "In app.py line 5:\n>  def bye():\nAdd a docstring"
    )
    assert view.pending.comments == [] and not view.pending.isVisible()
    assert not view.pending.send_button.isEnabled() or view.pending.list.count() == 0


def test_a_refresh_runs_git_off_the_event_loop_and_never_twice_at_once(
    driver: AppDriver, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = driver.start()
    assert app.window is not None
    task_id = app.window.submit(
        TaskSpec(argv=("sh", "-c", EDIT), cwd=str(repo), worktree=True, title="Edit")
    )
    assert task_id is not None
    view = changes_tab(driver, app, task_id)
    git = app.supervisor.git
    threads: list[threading.Thread] = []
    release = threading.Event()
    real_review = git.review

    def slow_review(worktree: Path, base: str) -> Review:
        threads.append(threading.current_thread())
        release.wait(10)  # blocks its thread: were it the UI's, nothing below could run
        return real_review(worktree, base)

    driver.wait(lambda: not view.busy)  # the refreshes of the task's ending are over
    monkeypatch.setattr(git, "review", slow_review)
    done = view.refreshes
    view.refresh()
    driver.wait(lambda: threads)
    view.refresh()  # while the first is in flight: only noted
    view.refresh()
    driver.qtbot.wait(50)  # the UI's event loop keeps turning meanwhile
    assert len(threads) == 1 and view.refreshes == done and view.busy
    release.set()
    driver.wait(lambda: view.refreshes == done + 2)  # the one in flight, then one more
    assert len(threads) == 2
    assert all(thread is not threading.main_thread() for thread in threads)


def test_compose_quotes_each_comment_with_its_file_lines_and_text() -> None:
    from app.ui.diff_rows import Row

    removed = Row("removed", "x = 1", old=7)
    one = comment_on("a.py", [removed], "why remove it?")
    assert one == Comment("a.py", 7, 7, True, ("-x = 1",), "why remove it?")
    two = comment_on("b.py", [Row("added", "y", new=3), Row("added", "z", new=4)], " ok \n")
    assert compose([one, two]) == (
        "In a.py line 7 (before the change):\n> -x = 1\nwhy remove it?\n\n"
        "In b.py lines 3\u20134:\n> +y\n> +z\nok"
    )
