"""``agentry list``'s one query (app.store.summary_repo) says what ``Task.summary()`` says,
and ``list_tasks`` reading many rows at once builds the Tasks ``get_task`` builds."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.agent_events import RunSummary
from app.core.models import RunKind, TaskOrigin, TaskSpec
from app.core.states import ExitReason, RunState
from app.store import organise_repo, repo
from app.store.db import open_database, transaction
from app.store.summary_repo import task_summaries


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(tmp_path / "agentry.db")
    yield connection
    connection.close()


def _expected(conn: sqlite3.Connection, limit: int | None, archived: bool | None) -> list[Any]:
    """What ``agentry list --json`` wrote from Task records before."""
    return [
        t.summary()
        | {"waiting_for": None if t.waiting_for is None else {"task": t.waiting_for,
                                                             "folder": t.lock_key}}
        for t in repo.list_tasks(conn, limit, archived=archived)
    ]  # fmt: skip


def _end(conn: sqlite3.Connection, run_id: int, state: RunState, code: int | None) -> None:
    with transaction(conn):
        repo.transition(conn, run_id, RunState.STARTING)
        repo.transition(conn, run_id, RunState.RUNNING, started_at=time.time())
        reason = ExitReason.CANCELLED if state is RunState.CANCELLED else ExitReason.EXIT
        repo.transition(conn, run_id, state, ended_at=time.time(), exit_code=code,
                        reason=reason.value, message=f"ended {state.value}")  # fmt: skip


def _varied(conn: sqlite3.Connection, tmp_path: Path) -> dict[str, int]:
    """Tasks of every shape a summary reads differently."""
    ids: dict[str, int] = {}
    with transaction(conn):
        ids["plain"], run = repo.create_task(
            conn, TaskSpec(argv=("echo", 'é "quoted", [x]'), cwd=str(tmp_path)), 60.0
        )
    _end(conn, run, RunState.SUCCEEDED, 0)
    agent = TaskSpec(argv=(), cwd=str(tmp_path), title="agent", agent="claude",
                     prompt="hi", options={"model": "opus", "permission_mode": None})  # fmt: skip
    with transaction(conn):
        ids["agent"], run = repo.create_task(conn, agent, None)
        repo.record_argv(conn, run, ["claude", "-p", "hi"])  # what the run itself ran
        repo.update_run_summary(conn, run, RunSummary(session_id="s-1", cost_usd=0.25))
    _end(conn, run, RunState.FAILED, 2)
    with transaction(conn):
        retry = repo.add_run(conn, ids["agent"], None, kind=RunKind.RETRY)
        repo.update_run_summary(conn, retry, RunSummary(cost_usd=0.5, model="sonnet"))
    no_model = TaskSpec(argv=(), cwd=str(tmp_path), title="no model", agent="codex",
                        options={"model": ""})  # fmt: skip
    with transaction(conn):
        ids["run model"], run = repo.create_task(conn, no_model, None)
        repo.update_run_summary(conn, run, RunSummary(model="gpt-x"))
        repo.record_argv(conn, run, [])  # an empty recorded argv: the spec's counts
    folder = str(tmp_path / "repo")
    locking = TaskSpec(argv=("make",), cwd=folder, title="holds", lock=True)
    with transaction(conn):
        ids["holder"], held = repo.create_task(conn, locking, None, lock_key=folder)
        ids["waiter"], _ = repo.create_task(conn, locking, None, lock_key=folder)
        repo.transition(conn, held, RunState.STARTING)
    with transaction(conn):
        ids["archived"], run = repo.create_task(conn, TaskSpec(argv=("ls",), cwd="/"), 1.0)
        organise_repo.set_archived(conn, ids["archived"], True)
    _end(conn, run, RunState.CANCELLED, -15)
    with transaction(conn):
        ids["newer reason"], run = repo.create_task(conn, TaskSpec(argv=("x",), cwd="/"), 1.0)
    _end(conn, run, RunState.FAILED, 1)
    conn.execute("UPDATE runs SET reason = 'from_a_newer_version' WHERE id = ?", (run,))
    for name, origin in (("by mcp", TaskOrigin("mcp", "claude-code")), ("mcp", TaskOrigin("mcp"))):
        with transaction(conn):
            ids[name], _ = repo.create_task(
                conn, TaskSpec(argv=("x",), cwd="/", origin=origin), None
            )
    with transaction(conn):
        ids["odd origin"], _ = repo.create_task(conn, TaskSpec(argv=("x",), cwd="/"), None)
    conn.execute(
        "UPDATE tasks SET spec_json = json_set(spec_json, '$.origin', 'mcp') WHERE id = ?",
        (ids["odd origin"],),
    )  # not an object: no origin, in both readings
    return ids


@pytest.mark.parametrize("archived", [None, False, True])
def test_summaries_are_the_task_records_summaries(
    conn: sqlite3.Connection, tmp_path: Path, archived: bool | None
) -> None:
    ids = _varied(conn, tmp_path)
    summaries = task_summaries(conn, archived=archived)
    assert summaries == _expected(conn, None, archived)
    assert len(summaries) == (len(ids) if archived is None else 1 if archived else len(ids) - 1)
    assert [s["id"] for s in task_summaries(conn, 3, archived=archived)] == [
        s["id"] for s in summaries[:3]
    ]
    by_id = {s["id"]: s for s in task_summaries(conn)}  # the shapes are really there
    assert by_id[ids["waiter"]]["waiting_for"] == {"task": ids["holder"],
                                                   "folder": str(tmp_path / "repo")}  # fmt: skip
    assert by_id[ids["agent"]]["cost_usd"] == 0.75 and by_id[ids["agent"]]["model"] == "opus"
    assert by_id[ids["run model"]]["model"] == "gpt-x"
    assert by_id[ids["newer reason"]]["reason"] is None
    assert by_id[ids["archived"]]["archived"] is True
    assert by_id[ids["by mcp"]]["origin"] == {"via": "mcp", "client": "claude-code"}
    assert by_id[ids["mcp"]]["origin"] == {"via": "mcp"}
    assert by_id[ids["odd origin"]]["origin"] is None
    assert by_id[ids["plain"]]["origin"] is None


def test_an_empty_database_lists_nothing(conn: sqlite3.Connection) -> None:
    assert task_summaries(conn) == [] == repo.list_tasks(conn)


def test_list_tasks_builds_what_get_task_builds(conn: sqlite3.Connection, tmp_path: Path) -> None:
    ids = _varied(conn, tmp_path)
    listed = repo.list_tasks(conn)
    assert [t.id for t in listed] == sorted(ids.values(), reverse=True)
    assert listed == [repo.get_task(conn, t.id) for t in listed]
    assert repo.list_tasks(conn, 2, archived=False) == [t for t in listed if not t.archived][:2]


def test_the_events_since_a_mark_name_the_tasks_changed(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    ids = _varied(conn, tmp_path)
    mark = repo.last_event_id(conn)
    assert repo.tasks_named_since(conn, mark) == (mark, [])
    with transaction(conn):
        organise_repo.set_dismissed(conn, ids["plain"])
        new_id, _ = repo.create_task(conn, TaskSpec(argv=("x",), cwd="/"), None)
        organise_repo.set_archived(conn, ids["plain"], True)
    newest, named = repo.tasks_named_since(conn, mark)
    assert named == [ids["plain"], new_id]  # each once, in the order they changed
    assert newest == repo.last_event_id(conn) > mark
