"""What the health checks read from the database besides tasks and runs: the last
integrity check (kept in ``meta`` by whoever ran one), waiting approvals, the last recovery.

Every integrity check that runs (the supervisor's at start, ``agentry doctor``'s) is
recorded here, so the Health view can say when the database was last found sound without
reading the whole file again.
"""

from __future__ import annotations

import sqlite3
import time

from app.core.log import get_logger
from app.core.models import RecoveryReport
from app.store.recovery_repo import get_meta, recovery_reports, set_meta

log = get_logger(__name__)

INTEGRITY_AT_KEY = "integrity_checked_at"  # epoch seconds, as repr(float)
INTEGRITY_RESULT_KEY = "integrity_result"  # PRAGMA quick_check's first line: "ok" when sound


def record_integrity(conn: sqlite3.Connection, verdict: str, at: float | None = None) -> None:
    """Keep the result of an integrity check; a database that cannot take the write (it is
    damaged, read-only, full) still had its check, so this never raises."""
    try:
        set_meta(conn, INTEGRITY_AT_KEY, repr(time.time() if at is None else at))
        set_meta(conn, INTEGRITY_RESULT_KEY, verdict)
    except sqlite3.Error as exc:
        log.warning("could not record the integrity check (%s): %s", verdict, exc)


def last_integrity(conn: sqlite3.Connection) -> tuple[float, str] | None:
    """When the last integrity check ran and what it said; None if none was recorded."""
    at = get_meta(conn, INTEGRITY_AT_KEY)
    verdict = get_meta(conn, INTEGRITY_RESULT_KEY)
    if at is None or verdict is None:
        return None
    try:
        return float(at), verdict
    except ValueError:
        return None


def pending_approval_times(conn: sqlite3.Connection) -> list[float]:
    """When each tool call still waiting for a person was asked, oldest first."""
    rows = conn.execute(
        "SELECT created_at FROM approvals WHERE state = 'pending' ORDER BY created_at"
    )
    return [float(row[0]) for row in rows]


def last_recovery(conn: sqlite3.Connection) -> RecoveryReport | None:
    reports = recovery_reports(conn, 1)
    return reports[0] if reports else None
