"""What a worktree task's Changes tab may do now, and the reason it gives when it may not."""

from __future__ import annotations

import dataclasses

import pytest

from app.core.models import Run, Task, TaskSpec
from app.core.states import RunState
from app.core.workspaces import WorkspaceState
from app.supervisor.worktree_ops import WorktreeStatus, rebase_request
from app.ui.labels import short_path, waiting_label
from app.ui.worktree_state import Availability, availability, size_text

READY = WorktreeStatus(3, WorkspaceState.READY, "/w/3-fix", "agentry/3-fix", "main", 4096,
                       merged=False, remote="origin")  # fmt: skip


def task(state: RunState | None, **kw: object) -> Task:
    run = None if state is None else Run(id=9, task_id=3, attempt=1, state=state, dir="d",
                                         priority=0, timeout=None, created_at=0.0)  # fmt: skip
    spec = TaskSpec(argv=("true",), cwd="/repo", title="Fix", worktree=True)
    return Task(3, "Fix", "shell", spec, 0, 0.0, run, **kw)  # type: ignore[arg-type]


def test_an_ended_task_with_a_ready_worktree_may_do_everything() -> None:
    assert availability(task(RunState.SUCCEEDED), READY, uncommitted=False,
                        busy="") == Availability()  # fmt: skip


@pytest.mark.parametrize("state", [RunState.QUEUED, RunState.STARTING, RunState.RUNNING])
def test_an_active_run_blocks_what_changes_the_worktree_but_not_opening_it(
    state: RunState,
) -> None:
    can = availability(task(state), READY, uncommitted=False, busy="")
    why = f"Task #3 is still {state.value} in its worktree: wait for it to end, or cancel it"
    assert (can.merge, can.push, can.discard, can.open) == (why, why, why, "")


def test_a_merged_branch_has_nothing_to_merge_unless_work_is_uncommitted() -> None:
    merged = dataclasses.replace(READY, merged=True)
    can = availability(task(RunState.SUCCEEDED), merged, uncommitted=False, busy="")
    assert can.merge == "main already has every commit of agentry/3-fix: nothing to merge"
    assert availability(task(RunState.SUCCEEDED), merged, uncommitted=True, busy="").merge == ""


def test_no_remote_disables_push_with_how_to_add_one() -> None:
    alone = dataclasses.replace(READY, remote=None)
    assert "git remote add origin" in availability(task(RunState.FAILED), alone,
                                                   uncommitted=False, busy="").push  # fmt: skip


@pytest.mark.parametrize(
    ("state", "why"),
    [
        (None, "The worktree is made when the task's run starts"),
        (WorkspaceState.CREATING, "The worktree is made when the task's run starts"),
        (WorkspaceState.REMOVING, "The worktree is being removed"),
        (WorkspaceState.REMOVED, "The worktree was discarded, and its branch with it"),
    ],
)
def test_without_a_ready_worktree_nothing_can_be_done(
    state: WorkspaceState | None, why: str
) -> None:
    status = dataclasses.replace(READY, state=state)
    can = availability(task(RunState.SUCCEEDED), status, uncommitted=False, busy="")
    assert can == Availability(why, why, why, why)


def test_a_land_in_progress_blocks_what_changes_the_worktree() -> None:
    landing = dataclasses.replace(READY, landing=True)
    can = availability(task(RunState.SUCCEEDED), landing, uncommitted=False, busy="")
    why = "Task #3 is being landed on main: wait for the land to end"
    assert (can.merge, can.push, can.discard, can.open) == (why, why, why, "")


def test_one_action_at_a_time() -> None:
    can = availability(task(RunState.SUCCEEDED), READY, uncommitted=False, busy="merging")
    assert (can.merge, can.push, can.discard, can.open) == ("Wait: merging…",) * 3 + ("",)


def test_sizes_read_as_people_write_them() -> None:
    assert [size_text(n) for n in (None, 512, 4_096, 132_400_000, 2_500_000_000)] == [
        "missing", "512 bytes", "4.1 KB", "132 MB", "2.5 GB"
    ]  # fmt: skip


def test_the_home_folder_is_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/ana")
    assert short_path("/home/ana/.local/share/agentry/worktrees/12-fix") == (
        "~/.local/share/agentry/worktrees/12-fix"
    )
    assert short_path("/home/anabel/x") == "/home/anabel/x"


def test_waiting_is_said_in_one_wording_with_or_without_the_folder() -> None:
    waiting = task(RunState.QUEUED, waiting_for=7, lock_key="/srv/project")
    assert waiting_label(waiting) == "waiting for #7 on /srv/project"
    assert waiting_label(waiting, where="name") == "waiting for #7 on project"
    assert waiting_label(waiting, where="") == "waiting for #7"
    assert waiting_label(task(RunState.QUEUED)) == ""


def test_the_rebase_request_names_the_branch_the_base_and_every_file() -> None:
    text = rebase_request("agentry/3-fix", "main", ["a.txt", "src/b.py"])
    assert text.startswith("Merging your branch agentry/3-fix into main conflicts in: a.txt, "
                           "src/b.py.")  # fmt: skip
    assert "`git rebase main`" in text and "`git rebase --continue`" in text
    assert "Do not merge into main yourself" in text
