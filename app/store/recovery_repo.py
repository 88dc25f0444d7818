"""All SQL for recovery reports (what each start-up found) and the small key/value facts
the supervisor keeps between sessions (whether the last one ended cleanly)."""

from __future__ import annotations

import json
import sqlite3

from app.core.models import RecoveryReport
from app.store.repo import add_event


def save_recovery_report(conn: sqlite3.Connection, report: RecoveryReport) -> int:
    cur = conn.execute(
        "INSERT INTO recovery_reports (at, duration_ms, report_json) VALUES (?, ?, ?)",
        (report.started_at, report.duration_ms, json.dumps(report.to_json())),
    )
    add_event(conn, "recovery", detail=report.counts())
    return int(cur.lastrowid or 0)


def recovery_reports(conn: sqlite3.Connection, limit: int = 50) -> list[RecoveryReport]:
    rows = conn.execute(
        "SELECT report_json FROM recovery_reports ORDER BY id DESC LIMIT ?", (limit,)
    )
    return [RecoveryReport.from_json(json.loads(row[0])) for row in rows]


def get_meta(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
