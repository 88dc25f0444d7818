"""The health checks that read the database: the file itself, its backups, the runs that
should have a live runner, their heartbeats, approvals waiting, notifications not yet
delivered, and the last recovery.

:func:`database_checks` opens the database read-only (never creating or migrating it)
and gives every check of this module a row, even when the database cannot be read, so
the JSON's keys are the same whatever state the data folder is in.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.core.health import HealthCheck, Status
from app.core.locations import Locations
from app.core.models import Run
from app.core.settings import Settings
from app.core.sizes import format_size
from app.runner import procs, protocol
from app.store import audit_repo, diskspace, health_repo, notify_repo, repo
from app.store.backup import newest_backup
from app.store.db import (
    SCHEMA_VERSION,
    Connection,
    DatabaseError,
    NoDatabase,
    StoreError,
    check_integrity,
    describe_sqlite_error,
    open_database,
)
from app.supervisor import lost_runs
from app.supervisor.health_checks import Thresholds

DB_KEYS = (
    "database", "backups", "runners", "heartbeats", "approvals", "deliveries", "recovery",
    "audit",
)  # fmt: skip
TITLES = {
    "database": "Database",
    "backups": "Backups",
    "runners": "Runners",
    "heartbeats": "Heartbeats",
    "approvals": "Approvals",
    "deliveries": "Notifications",
    "recovery": "Last recovery",
    "audit": "Audit trail",
}
REBUILD = "Bring them back with `agentry recover --rebuild`"


def database_checks(
    locations: Locations, settings: Settings, thresholds: Thresholds, *, run_integrity: bool
) -> list[HealthCheck]:
    """One row per key of :data:`DB_KEYS`; ``run_integrity`` runs ``PRAGMA quick_check``
    now (and records it), else the last recorded check is shown."""
    now = time.time()
    backups = backups_check(locations, settings, thresholds, now)
    try:
        conn = open_database(locations.database, create=False)  # the doctor only looks
    except NoDatabase as exc:
        return [_no_database(locations, str(exc)), backups, *_not_read("no database yet", "ok")]
    except (StoreError, DatabaseError, OSError) as exc:
        return [
            _unreadable(locations, exc),
            backups,
            *_not_read("not checked: the database cannot be read", "warn"),
        ]
    try:
        return [
            _database(conn, locations, run_integrity, now),
            backups,
            *_runs(conn, locations, thresholds, now),
            _approvals(conn, now),
            _deliveries(conn, now),
            _recovery(conn, now),
            _audit(conn),
        ]
    except DatabaseError as exc:  # damage that only shows when a table is read
        return [
            _unreadable(locations, exc),
            backups,
            *_not_read("not checked: the database cannot be read", "warn"),
        ]
    finally:
        conn.close()


def _not_read(why: str, status: Status) -> list[HealthCheck]:
    return [HealthCheck(key, TITLES[key], status, why) for key in DB_KEYS[2:]]


def _file_sizes(path: Path) -> dict[str, int | None]:
    def size(p: Path) -> int | None:
        try:
            return p.stat().st_size
        except OSError:
            return None

    return {"size_bytes": size(path), "wal_bytes": size(path.with_name(path.name + "-wal"))}


def _no_database(locations: Locations, said: str) -> HealthCheck:
    lost = lost_runs.unknown_run_folders(None, locations)
    data = {"path": str(locations.database), "exists": False, "lost_run_folders": len(lost)}
    if lost:
        return HealthCheck(
            "database",
            "Database",
            "fail",
            f"{said}, but {len(lost)} run folder(s) hold runs",
            REBUILD,
            data=data,
        )
    return HealthCheck("database", "Database", "ok", said, data=data)


def _unreadable(locations: Locations, exc: BaseException) -> HealthCheck:
    if isinstance(exc, DatabaseError):
        said = describe_sqlite_error(exc, locations.database)
    elif isinstance(exc, OSError):
        said = diskspace.describe(exc, locations.data)
    else:
        said = str(exc)
    data = {
        "path": str(locations.database),
        "exists": locations.database.exists(),
        **_file_sizes(locations.database),
        "readable": False,
    }
    return HealthCheck(
        "database",
        "Database",
        "fail",
        said,
        "Keep a copy of the data folder; `agentry restore` puts the newest "
        "backup back, `agentry recover --rebuild` rebuilds from the run folders",
        data=data,
    )


def _database(
    conn: Connection, locations: Locations, run_integrity: bool, now: float
) -> HealthCheck:
    if run_integrity:
        health_repo.record_integrity(conn, check_integrity(conn), now)
    last = health_repo.last_integrity(conn)
    sizes = _file_sizes(locations.database)
    counts = repo.count_by_state(conn)
    lost = lost_runs.unknown_run_folders(conn, locations)
    data = {
        "path": str(locations.database),
        "exists": True,
        "readable": True,
        "schema": SCHEMA_VERSION,
        **sizes,
        "tasks": counts,
        "integrity": last[1] if last else None,
        "integrity_checked_at": last[0] if last else None,
        "lost_run_folders": len(lost),
    }
    integrity = (
        "integrity never checked"
        if last is None
        else f"integrity {last[1]} ({_ago(now - last[0])})"
    )
    size = f"{format_size(sizes['size_bytes'] or 0)}, WAL {format_size(sizes['wal_bytes'] or 0)}"
    tasks = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no tasks"
    detail = (f"{locations.database} (schema {SCHEMA_VERSION})", f"tasks: {tasks}")
    summary = f"{size}; {integrity}"
    if last is not None and last[1] != "ok":
        return HealthCheck(
            "database",
            "Database",
            "fail",
            summary,
            "Keep a copy of the data folder, then `agentry restore` puts the newest backup back",
            detail,
            data,
        )
    if lost:
        return HealthCheck(
            "database",
            "Database",
            "fail",
            f"{len(lost)} run folder(s) hold runs the database does not know "
            "(was it replaced or emptied?)",
            REBUILD,
            detail,
            data,
        )
    if last is None:
        return HealthCheck(
            "database",
            "Database",
            "warn",
            summary,
            "Run `agentry doctor` to check it",
            detail,
            data,
        )
    return HealthCheck("database", "Database", "ok", summary, detail=detail, data=data)


def backups_check(
    locations: Locations, settings: Settings, thresholds: Thresholds, now: float
) -> HealthCheck:
    newest = newest_backup(locations.backups)
    every_h = settings.backups_every_h
    data = {
        "folder": str(locations.backups),
        "every_h": every_h,
        "newest": str(newest.path) if newest else None,
        "newest_at": newest.made_at if newest else None,
    }
    if every_h <= 0:
        return HealthCheck(
            "backups",
            "Backups",
            "warn",
            "scheduled backups are off",
            "Set backups_every_h in Settings, or back up with `agentry backup`",
            data=data,
        )
    if newest is None:
        return HealthCheck(
            "backups",
            "Backups",
            "warn",
            f"no backup in {locations.backups} yet",
            "`agentry backup` makes one now (Agentry makes one a minute after it starts)",
            data=data,
        )
    summary = f"newest {_ago(now - newest.made_at)} ({newest.reason}): {newest.path.name}"
    if now - newest.made_at > thresholds.backup_late_factor * every_h * 3600:
        return HealthCheck(
            "backups",
            "Backups",
            "warn",
            summary,
            f"Backups are due every {every_h:g} h: is Agentry running? "
            "`agentry backup` makes one now",
            data=data,
        )
    return HealthCheck("backups", "Backups", "ok", summary, data=data)


def _runs(
    conn: Connection, locations: Locations, thresholds: Thresholds, now: float
) -> list[HealthCheck]:
    """The runners check (is each active run's runner alive?) and the heartbeats check."""
    lines: list[str] = []
    dead: list[int] = []
    stale: list[tuple[int, float]] = []
    active = repo.active_runs(conn)
    for run in active:
        line, alive = _runner_line(run, locations)
        age = _heartbeat_age(locations.run_dir(run.dir), now)
        lines.append(line + ("" if age is None else f", heartbeat {age:.0f} s ago"))
        if alive is False:
            dead.append(run.id)
        elif alive and age is not None and age > thresholds.stale_heartbeat_s:
            stale.append((run.id, age))
    runners = _runners_check(len(active), dead, tuple(lines))
    return [runners, _heartbeats_check(len(active), stale, thresholds.stale_heartbeat_s)]


def _runner_line(run: Run, locations: Locations) -> tuple[str, bool | None]:
    """What one active run's runner is doing; alive True/False, None when it has ended."""
    what = f"task {run.task_id} run {run.id}"
    try:
        info = protocol.read_runner_info(locations.run_dir(run.dir))
    except protocol.ProtocolError as exc:
        return f"{what}: {exc}", False
    pid = info.runner_pid if info else run.runner_pid
    created = info.runner_create_time if info else run.runner_create_time
    if procs.is_alive(pid, created):
        return f"{what}: runner pid {pid} alive", True
    if (locations.run_dir(run.dir) / protocol.EXIT).exists():
        return f"{what}: ended; the supervisor will record it", None
    return f"{what}: runner pid {pid} is gone", False


def _runners_check(expected: int, dead: list[int], lines: tuple[str, ...]) -> HealthCheck:
    data = {"expected": expected, "alive": expected - len(dead), "dead_runs": dead}
    if dead:
        return HealthCheck(
            "runners",
            "Runners",
            "warn",
            f"{expected - len(dead)} of {expected} runners alive; {len(dead)} gone without a word",
            "The supervisor marks those runs "
            "interrupted at its next start; Retry them from the task list",
            lines,
            data,
        )
    summary = f"{expected} of {expected} runners alive" if expected else "no active runs"
    return HealthCheck("runners", "Runners", "ok", summary, detail=lines, data=data)


def _heartbeats_check(active: int, stale: list[tuple[int, float]], limit: float) -> HealthCheck:
    data = {"stale_after_s": limit, "stale_runs": {str(run): round(age) for run, age in stale}}
    if stale:
        runs = ", ".join(f"run {run} ({_ago(age)})" for run, age in stale)
        return HealthCheck(
            "heartbeats",
            "Heartbeats",
            "warn",
            f"{len(stale)} live runner(s) have not beaten for over {limit:.0f} s: {runs}",
            "A runner stuck this long may be starved or suspended: check the "
            "machine's load, or cancel and retry the task",
            data=data,
        )
    summary = "every live runner beat recently" if active else "no active runs"
    return HealthCheck("heartbeats", "Heartbeats", "ok", summary, data=data)


def _heartbeat_age(run_dir: Path, now: float) -> float | None:
    try:
        return max(0.0, now - (run_dir / protocol.HEARTBEAT).stat().st_mtime)
    except OSError:
        return None


def _approvals(conn: Connection, now: float) -> HealthCheck:
    times = health_repo.pending_approval_times(conn)
    oldest = now - times[0] if times else None
    data = {"pending": len(times), "oldest_age_s": round(oldest) if oldest is not None else None}
    if not times:
        return HealthCheck("approvals", "Approvals", "ok", "none waiting", data=data)
    return HealthCheck(
        "approvals",
        "Approvals",
        "warn",
        f"{len(times)} tool call(s) waiting for you; the oldest for {_ago(oldest or 0)}",
        "Answer them in Task → Approvals… or with `agentry approvals`",
        data=data,
    )


DELIVERY_LATE_S = 15 * 60  # a notification not out after this has a target in trouble
DELIVERY_FAILED_DAYS = 7


def _deliveries(conn: Connection, now: float) -> HealthCheck:
    """Notifications (issue #16) that wait to be sent, or that were given up lately."""
    pending = notify_repo.pending_times(conn)
    failed = notify_repo.failed_since(conn, now - DELIVERY_FAILED_DAYS * 86400)
    oldest = now - pending[0] if pending else None
    data = {"pending": len(pending), "oldest_pending_age_s": round(oldest) if oldest else None,
            "failed_recently": failed}  # fmt: skip
    if failed:
        return HealthCheck(
            "deliveries", "Notifications", "warn",
            f"{failed} notification(s) gave up in the last {DELIVERY_FAILED_DAYS} days",
            "See why in Tools → Deliveries… (or `agentry notify log`), fix the target, then "
            "Retry now (`agentry notify retry ID`)",
            data=data,
        )  # fmt: skip
    if oldest is not None and oldest > DELIVERY_LATE_S:
        return HealthCheck(
            "deliveries", "Notifications", "warn",
            f"{len(pending)} notification(s) not delivered yet; the oldest waits since "
            f"{_ago(oldest)}",
            "Agentry keeps retrying while it runs; Tools → Deliveries… shows each attempt",
            data=data,
        )  # fmt: skip
    summary = f"{len(pending)} being sent" if pending else "nothing waiting to be sent"
    return HealthCheck("deliveries", "Notifications", "ok", summary, data=data)


def _recovery(conn: Connection, now: float) -> HealthCheck:
    report = health_repo.last_recovery(conn)
    if report is None:
        return HealthCheck(
            "recovery", "Last recovery", "ok", "Agentry has not started yet", data={"at": None}
        )
    counts = report.counts()
    found = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "nothing to recover"
    data = {"at": report.started_at, "previous_clean": report.previous_clean, **counts}
    summary = f"{_ago(now - report.started_at)}: {found}"
    if not report.previous_clean:
        return HealthCheck(
            "recovery",
            "Last recovery",
            "warn",
            f"{summary}; the session before it did not end cleanly",
            "See Help → Recovery history… (or `agentry recovery`) for what was found",
            data=data,
        )
    return HealthCheck("recovery", "Last recovery", "ok", summary, data=data)


def _audit(conn: Connection) -> HealthCheck:
    """The hash chain of the audit trail (app.core.audit), checked from its first row: about
    0.4 s for 100,000 rows, and only ever off the UI thread."""
    verdict = audit_repo.verify(conn)
    data = {key: value for key, value in verdict.to_json().items() if key != "message"}
    if verdict.broken is None:
        summary = f"intact: {verdict.rows} rows as they were written"
        return HealthCheck("audit", "Audit trail", "ok", summary, data=data)
    return HealthCheck(
        "audit", "Audit trail", "fail",
        f"altered outside Agentry: {verdict.broken.message}",
        "Restore a backup (File → Restore a backup…, or `agentry restore`) to get the trail "
        "as it was; `agentry audit export` keeps what is there now",
        data=data,
    )  # fmt: skip


def _ago(seconds: float) -> str:
    """``42 s ago``, ``12 min ago``, ``5 h ago``, ``3 days ago``: how old, at a glance."""
    seconds = max(0.0, seconds)
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size if unit == "days" else seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"
