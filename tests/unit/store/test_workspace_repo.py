"""The workspace row's setup fact: when a worktree's setup command passed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import TaskSpec
from app.core.workspaces import WorkspaceState
from app.store import repo, workspace_repo
from app.store.db import open_database, transaction


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(tmp_path / "agentry.db")
    yield connection
    connection.close()


def ready_worktree(conn: sqlite3.Connection) -> tuple[int, int]:
    """(task id, run id) of a task whose worktree is ready."""
    with transaction(conn):
        task_id, run_id = repo.create_task(conn, TaskSpec(argv=("true",), cwd="/src"), None)
        workspace_repo.record_intent(conn, task_id, repo="/src", path="/wt/1-x",
                                     branch="agentry/1-x", base="main", base_sha="0" * 40,
                                     subdir="")  # fmt: skip
        workspace_repo.transition(conn, task_id, WorkspaceState.READY)
    return task_id, run_id


def test_a_new_worktree_has_not_been_set_up(conn: sqlite3.Connection) -> None:
    task_id, _ = ready_worktree(conn)
    found = workspace_repo.get(conn, task_id)
    assert found is not None and found.setup_done_at is None


def test_a_passed_setup_is_recorded_once_with_its_event(conn: sqlite3.Connection) -> None:
    task_id, run_id = ready_worktree(conn)
    with transaction(conn):
        assert workspace_repo.record_setup_done(conn, task_id, run_id)
        assert not workspace_repo.record_setup_done(conn, task_id, run_id)
    found = workspace_repo.get(conn, task_id)
    assert found is not None and found.setup_done_at is not None
    kinds = [row[0] for row in conn.execute("SELECT kind FROM events WHERE task_id = ?",
                                            (task_id,))]  # fmt: skip
    assert kinds.count("workspace_setup_done") == 1


def test_a_worktree_made_again_must_be_set_up_again(conn: sqlite3.Connection) -> None:
    task_id, run_id = ready_worktree(conn)
    with transaction(conn):
        workspace_repo.record_setup_done(conn, task_id, run_id)
        remade = workspace_repo.transition(conn, task_id, WorkspaceState.CREATING)
    assert remade.setup_done_at is None


def test_a_task_without_a_worktree_has_nothing_to_record(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        task_id, run_id = repo.create_task(conn, TaskSpec(argv=("true",), cwd="/src"), None)
        assert not workspace_repo.record_setup_done(conn, task_id, run_id)
