"""Tests for app.store.usage_repo against a real database file: the period's edges are
local midnights, and the query finds the period's runs by index however many runs exist."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.core.agent_events import RunSummary
from app.core.models import TaskSpec
from app.core.states import RunState
from app.core.usage import Usage
from app.store import repo, usage_repo
from app.store.db import open_database, transaction


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(tmp_path / "agentry.db")
    yield connection
    connection.close()


def _ended(conn: sqlite3.Connection, at: float, cost: float | None) -> None:
    with transaction(conn):
        spec = TaskSpec(("claude",), "/src/app", agent="claude", prompt="go")
        _, run_id = repo.create_task(conn, spec, 60.0)
        for step in (RunState.STARTING, RunState.RUNNING):
            repo.transition(conn, run_id, step)
        repo.transition(conn, run_id, RunState.SUCCEEDED, ended_at=at)
        repo.update_run_summary(conn, run_id, RunSummary(cost_usd=cost, input_tokens=10))


def test_the_period_runs_from_its_first_local_midnight_to_the_end_of_its_last_day(
    conn: sqlite3.Connection,
) -> None:
    first, last = date(2026, 5, 4), date(2026, 5, 6)
    start, end = usage_repo.local_midnight(first), usage_repo.local_midnight(date(2026, 5, 7))
    for at, cost in ((start - 1, 1.0), (start, 2.0), (end - 1, 4.0), (end, 8.0)):
        _ended(conn, at, cost)
    report = usage_repo.usage_report(conn, first, last)
    assert [(r.day, r.agent, r.project, r.usage) for r in report.rows] == [
        (first, "claude", "/src/app", Usage(2.0, 10, 0, 1)),
        (last, "claude", "/src/app", Usage(4.0, 10, 0, 1)),
    ]
    assert time.localtime(start)[:6] == (2026, 5, 4, 0, 0, 0)


def test_the_period_is_found_by_index_not_by_reading_every_run(conn: sqlite3.Connection) -> None:
    plan = " / ".join(
        row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + usage_repo._QUERY, (0.0, 1.0))
    )
    assert "SEARCH r USING INDEX runs_by_end" in plan, plan
    assert "SCAN" not in plan, plan
