"""Tests for app.store.organise_repo (and the seen mark) against a real database file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import TaskSpec
from app.core.states import RunState
from app.store import organise_repo, recovery_repo, repo
from app.store.db import open_database, transaction
from app.supervisor.recovery import mark_seen


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(tmp_path / "agentry.db")
    yield connection
    connection.close()


def _ended(conn: sqlite3.Connection, title: str, state: RunState, at: float) -> int:
    with transaction(conn):
        task_id, run_id = repo.create_task(conn, TaskSpec(("true",), "/tmp", title), 60.0)
        for step in (RunState.STARTING, RunState.RUNNING):
            repo.transition(conn, run_id, step)
        repo.transition(conn, run_id, state, ended_at=at)
    return task_id


def test_ended_since_lists_what_ended_after_the_mark_and_not_archived_ones(
    conn: sqlite3.Connection,
) -> None:
    before = _ended(conn, "before", RunState.SUCCEEDED, 100.0)
    after = _ended(conn, "after", RunState.FAILED, 300.0)
    hidden = _ended(conn, "hidden", RunState.SUCCEEDED, 400.0)
    with transaction(conn):
        assert organise_repo.set_archived(conn, hidden, True)
        assert not organise_repo.set_archived(conn, hidden, True), "no second event"
    assert [t.id for t in organise_repo.ended_since(conn, 200.0)] == [after]
    assert [t.id for t in organise_repo.ended_since(conn, 50.0)] == [before, after]


def test_the_seen_mark_never_moves_back(conn: sqlite3.Connection) -> None:
    mark_seen(conn, 200.0)
    mark_seen(conn, 100.0)
    assert recovery_repo.get_meta(conn, organise_repo.SEEN_KEY) == "200.0"
    mark_seen(conn, 250.5)
    assert recovery_repo.get_meta(conn, organise_repo.SEEN_KEY) == "250.5"


def test_list_tasks_filters_by_archived(conn: sqlite3.Connection) -> None:
    kept = _ended(conn, "kept", RunState.SUCCEEDED, 1.0)
    gone = _ended(conn, "gone", RunState.SUCCEEDED, 2.0)
    with transaction(conn):
        organise_repo.set_archived(conn, gone, True)
    assert [t.id for t in repo.list_tasks(conn)] == [gone, kept]
    assert [t.id for t in repo.list_tasks(conn, archived=False)] == [kept]
    assert [t.id for t in repo.list_tasks(conn, archived=True)] == [gone]
    assert repo.get_task(conn, gone).summary()["archived"] is True
