"""Tests for app.store.repo against a real database file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import RecoveryReport, TaskSpec
from app.core.states import IllegalTransition, RunState
from app.store import recovery_repo, repo
from app.store.db import open_database, transaction


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(tmp_path / "agentry.db")
    yield connection
    connection.close()


def _spec(title: str = "demo", priority: int = 0) -> TaskSpec:
    return TaskSpec(argv=("echo", "hi"), cwd="/tmp", title=title, priority=priority)


def _create(conn: sqlite3.Connection, title: str = "demo", priority: int = 0) -> tuple[int, int]:
    with transaction(conn):
        return repo.create_task(conn, _spec(title, priority), timeout=60.0)


def _move(conn: sqlite3.Connection, run_id: int, *states: RunState) -> None:
    for state in states:
        with transaction(conn):
            repo.transition(conn, run_id, state)


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _run_row(conn: sqlite3.Connection, run_id: int) -> dict[str, object]:
    return dict(conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())


# --- create_task -----------------------------------------------------------------------


def test_create_task_makes_a_task_with_a_first_queued_run(conn: sqlite3.Connection) -> None:
    task_id, run_id = _create(conn, "first")
    task = repo.get_task(conn, task_id)
    assert task.title == "first"
    assert task.spec == _spec("first")
    assert task.latest_run is not None
    assert task.latest_run.id == run_id
    assert task.latest_run.state is RunState.QUEUED
    assert task.latest_run.attempt == 1
    assert task.latest_run.timeout == 60.0


def test_create_task_records_creation_and_queued_events(conn: sqlite3.Connection) -> None:
    task_id, run_id = _create(conn)
    events = repo.events_for_task(conn, task_id)
    assert [e["kind"] for e in events] == ["task_created", "run_state"]
    assert events[1]["run_id"] == run_id
    assert events[1]["old_state"] is None
    assert events[1]["new_state"] == "queued"


def test_create_task_writes_nothing_when_its_transaction_rolls_back(
    conn: sqlite3.Connection,
) -> None:
    with pytest.raises(RuntimeError), transaction(conn):
        repo.create_task(conn, _spec(), timeout=None)
        raise RuntimeError("crash right after create_task")
    assert (_count(conn, "tasks"), _count(conn, "runs"), _count(conn, "events")) == (0, 0, 0)


def test_create_task_without_title_uses_the_command_line(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        task_id, _ = repo.create_task(
            conn, TaskSpec(argv=("make", "test"), cwd="/tmp"), timeout=None
        )
    assert repo.get_task(conn, task_id).title == "make test"


def test_each_run_gets_its_own_folder_name(conn: sqlite3.Connection) -> None:
    _, first = _create(conn)
    _, second = _create(conn)
    first_dir = repo.get_run(conn, first).dir
    second_dir = repo.get_run(conn, second).dir
    assert first_dir != second_dir
    assert first_dir.startswith(f"{first:06d}-")


# --- transition ------------------------------------------------------------------------


def test_transition_changes_the_state_and_returns_the_updated_run(
    conn: sqlite3.Connection,
) -> None:
    _, run_id = _create(conn)
    with transaction(conn):
        run = repo.transition(conn, run_id, RunState.STARTING)
    assert run is not None
    assert run.state is RunState.STARTING
    assert repo.get_run(conn, run_id).state is RunState.STARTING


def test_transition_writes_an_event_with_old_and_new_state(conn: sqlite3.Connection) -> None:
    task_id, run_id = _create(conn)
    _move(conn, run_id, RunState.STARTING)
    last = repo.events_for_task(conn, task_id)[-1]
    assert (last["kind"], last["run_id"], last["old_state"], last["new_state"]) == (
        "run_state",
        run_id,
        "queued",
        "starting",
    )


def test_transition_stores_the_given_fields(conn: sqlite3.Connection) -> None:
    _, run_id = _create(conn)
    _move(conn, run_id, RunState.STARTING, RunState.RUNNING)
    with transaction(conn):
        repo.transition(conn, run_id, RunState.FAILED, exit_code=3, reason="exit", ended_at=5.0)
    run = repo.get_run(conn, run_id)
    assert (run.exit_code, run.reason, run.ended_at) == (3, "exit", 5.0)


def test_transition_event_detail_holds_the_exit_code(conn: sqlite3.Connection) -> None:
    task_id, run_id = _create(conn)
    _move(conn, run_id, RunState.STARTING, RunState.RUNNING)
    with transaction(conn):
        repo.transition(conn, run_id, RunState.FAILED, exit_code=3, reason="exit")
    detail = repo.events_for_task(conn, task_id)[-1]["detail"]
    assert '"exit_code": 3' in detail


def test_illegal_transition_raises(conn: sqlite3.Connection) -> None:
    _, run_id = _create(conn)
    with transaction(conn), pytest.raises(IllegalTransition):
        repo.transition(conn, run_id, RunState.SUCCEEDED)


def test_illegal_transition_writes_nothing(conn: sqlite3.Connection) -> None:
    """Even when the caller swallows the error and commits, the row and the log are untouched."""
    _, run_id = _create(conn)
    row_before = _run_row(conn, run_id)
    events_before = _count(conn, "events")
    with transaction(conn), pytest.raises(IllegalTransition):
        repo.transition(conn, run_id, RunState.RUNNING, started_at=123.0)
    assert _run_row(conn, run_id) == row_before
    assert _count(conn, "events") == events_before


def test_no_transition_leaves_a_terminal_state(conn: sqlite3.Connection) -> None:
    _, run_id = _create(conn)
    _move(conn, run_id, RunState.CANCELLED)
    with transaction(conn), pytest.raises(IllegalTransition):
        repo.transition(conn, run_id, RunState.STARTING)
    assert repo.get_run(conn, run_id).state is RunState.CANCELLED


def test_only_from_returns_none_when_the_run_has_moved_on(conn: sqlite3.Connection) -> None:
    _, run_id = _create(conn)
    _move(conn, run_id, RunState.STARTING)
    with transaction(conn):
        result = repo.transition(conn, run_id, RunState.CANCELLED, only_from=[RunState.QUEUED])
    assert result is None


def test_only_from_mismatch_leaves_state_and_events_alone(conn: sqlite3.Connection) -> None:
    _, run_id = _create(conn)
    _move(conn, run_id, RunState.STARTING)
    events_before = _count(conn, "events")
    with transaction(conn):
        repo.transition(conn, run_id, RunState.CANCELLED, only_from=[RunState.QUEUED])
    assert repo.get_run(conn, run_id).state is RunState.STARTING
    assert _count(conn, "events") == events_before


def test_only_from_match_performs_the_transition(conn: sqlite3.Connection) -> None:
    _, run_id = _create(conn)
    with transaction(conn):
        run = repo.transition(conn, run_id, RunState.CANCELLED, only_from=[RunState.QUEUED])
    assert run is not None
    assert run.state is RunState.CANCELLED


def test_transition_rejects_a_field_that_is_not_a_run_field(conn: sqlite3.Connection) -> None:
    _, run_id = _create(conn)
    with transaction(conn), pytest.raises(ValueError, match="state_hack"):
        repo.transition(conn, run_id, RunState.STARTING, state_hack="x")
    assert repo.get_run(conn, run_id).state is RunState.QUEUED


def test_transition_of_unknown_run_raises_lookup_error(conn: sqlite3.Connection) -> None:
    with transaction(conn), pytest.raises(LookupError):
        repo.transition(conn, 999, RunState.STARTING)


# --- add_run ---------------------------------------------------------------------------


def test_add_run_increments_the_attempt(conn: sqlite3.Connection) -> None:
    task_id, first = _create(conn)
    _move(conn, first, RunState.STARTING, RunState.FAILED)
    with transaction(conn):
        second = repo.add_run(conn, task_id, timeout=None)
    assert [r.attempt for r in repo.runs_for_task(conn, task_id)] == [1, 2]
    assert repo.get_run(conn, second).state is RunState.QUEUED


def test_add_run_makes_the_new_run_the_latest(conn: sqlite3.Connection) -> None:
    task_id, first = _create(conn)
    _move(conn, first, RunState.STARTING, RunState.FAILED)
    with transaction(conn):
        second = repo.add_run(conn, task_id, timeout=None)
    task = repo.get_task(conn, task_id)
    assert task.latest_run is not None
    assert task.latest_run.id == second
    assert task.state is RunState.QUEUED


def test_add_run_to_unknown_task_raises_unknown_task(conn: sqlite3.Connection) -> None:
    with transaction(conn), pytest.raises(repo.UnknownTask):
        repo.add_run(conn, 404, timeout=None)


# --- queued_runs -----------------------------------------------------------------------


def test_queued_runs_come_by_priority_then_first_come_first_served(
    conn: sqlite3.Connection,
) -> None:
    _, low_1 = _create(conn, "low-1", priority=0)
    _, high_1 = _create(conn, "high-1", priority=5)
    _, low_2 = _create(conn, "low-2", priority=0)
    _, high_2 = _create(conn, "high-2", priority=5)
    _, urgent = _create(conn, "urgent", priority=9)
    assert [r.id for r in repo.queued_runs(conn)] == [urgent, high_1, high_2, low_1, low_2]


def test_queued_runs_leave_out_runs_that_started(conn: sqlite3.Connection) -> None:
    _, started = _create(conn)
    _, waiting = _create(conn)
    _move(conn, started, RunState.STARTING)
    assert [r.id for r in repo.queued_runs(conn)] == [waiting]


def test_queued_runs_limit_takes_the_first_in_order(conn: sqlite3.Connection) -> None:
    _create(conn, priority=0)
    _, high = _create(conn, priority=1)
    assert [r.id for r in repo.queued_runs(conn, limit=1)] == [high]


# --- resolve_task ----------------------------------------------------------------------


@pytest.mark.parametrize("template", ["{}", "#{}", " {} ", " #{}"])
def test_resolve_task_accepts_the_number_with_or_without_hash(
    conn: sqlite3.Connection, template: str
) -> None:
    _create(conn, "other")
    task_id, _ = _create(conn, "wanted")
    assert repo.resolve_task(conn, template.format(task_id)).title == "wanted"


@pytest.mark.parametrize("ref", ["abc", "", "#", "1.5", "-1"])
def test_resolve_task_rejects_text_that_is_not_a_task_number(
    conn: sqlite3.Connection, ref: str
) -> None:
    _create(conn)
    with pytest.raises(repo.UnknownTask) as caught:
        repo.resolve_task(conn, ref)
    assert "agentry list" in str(caught.value)


def test_resolve_task_rejects_a_superscript_digit_as_unknown_task(
    conn: sqlite3.Connection,
) -> None:
    _create(conn)
    with pytest.raises(repo.UnknownTask):
        repo.resolve_task(conn, "²")


def test_resolve_task_names_the_reference_it_could_not_find(conn: sqlite3.Connection) -> None:
    with pytest.raises(repo.UnknownTask) as caught:
        repo.resolve_task(conn, "abc")
    assert "'abc'" in str(caught.value)


def test_resolve_task_of_a_missing_number_raises_unknown_task(conn: sqlite3.Connection) -> None:
    _create(conn)
    with pytest.raises(repo.UnknownTask, match="agentry list"):
        repo.resolve_task(conn, "12")


# --- recovery reports and meta ---------------------------------------------------------


def test_recovery_report_is_saved_and_loaded_back(conn: sqlite3.Connection) -> None:
    report = RecoveryReport(
        started_at=100.0,
        previous_clean=False,
        duration_ms=4.5,
        interrupted=[3],
        notes={3: "runner gone"},
    )
    with transaction(conn):
        recovery_repo.save_recovery_report(conn, report)
    assert recovery_repo.recovery_reports(conn) == [report]


def test_recovery_reports_come_newest_first(conn: sqlite3.Connection) -> None:
    for started in (1.0, 2.0, 3.0):
        with transaction(conn):
            recovery_repo.save_recovery_report(conn, RecoveryReport(started_at=started))
    assert [r.started_at for r in recovery_repo.recovery_reports(conn, limit=2)] == [3.0, 2.0]


def test_saving_a_recovery_report_logs_an_event(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        recovery_repo.save_recovery_report(conn, RecoveryReport(started_at=1.0, queued=[1, 2]))
    kinds = [row[0] for row in conn.execute("SELECT kind FROM events")]
    assert kinds == ["recovery"]


def test_get_meta_of_a_missing_key_returns_the_default(conn: sqlite3.Connection) -> None:
    assert recovery_repo.get_meta(conn, "clean_exit") is None
    assert recovery_repo.get_meta(conn, "clean_exit", "unknown") == "unknown"


def test_set_meta_stores_a_value(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        recovery_repo.set_meta(conn, "clean_exit", "1")
    assert recovery_repo.get_meta(conn, "clean_exit") == "1"


def test_set_meta_overwrites_the_previous_value(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        recovery_repo.set_meta(conn, "clean_exit", "1")
    with transaction(conn):
        recovery_repo.set_meta(conn, "clean_exit", "0")
    assert recovery_repo.get_meta(conn, "clean_exit") == "0"
    assert _count(conn, "meta") == 1
