"""``agentry doctor``: a health report a person can read, and act on line by line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from app.core.locations import Locations
from app.runner import procs, protocol
from app.store import diskspace, fsops, repo
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
from app.store.locations import ensure_folders
from app.store.settings import load_settings
from app.supervisor import rebuild
from app.supervisor.lock import is_locked, read_holder, running_holder

LOW_DISK_BYTES = 1 << 30
MIB = 1 << 20


class _Report:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.problems: list[str] = []

    def ok(self, text: str) -> None:
        self.out.write(f"  ok    {text}\n")

    def warn(self, text: str) -> None:
        self.out.write(f"  WARN  {text}\n")

    def fail(self, text: str) -> None:
        self.problems.append(text)
        self.out.write(f"  FAIL  {text}\n")

    def section(self, title: str) -> None:
        self.out.write(f"{title}\n")


def run_checks(locations: Locations, out: TextIO) -> list[str]:
    """Print every check; return the problems found (empty when all is well)."""
    report = _Report(out)
    _check_folders(locations, report)
    _check_disk(locations, report)
    _check_supervisor(locations, report)
    _check_database_and_runs(locations, report)
    _check_settings(locations, report)
    _check_agents(locations, report)
    out.write(
        "No problems found.\n"
        if not report.problems
        else f"{len(report.problems)} problem(s) found.\n"
    )
    return report.problems


def _check_folders(locations: Locations, report: _Report) -> None:
    report.section("Data folder")
    report.ok(f"data {locations.data}")
    report.ok(f"config {locations.config}; logs {locations.logs}")
    try:
        ensure_folders(locations)
        probe = locations.data / ".doctor-probe"
        fsops.atomic_write(probe, b"ok")
        probe.unlink()
        report.ok("writable (atomic write and rename work)")
    except OSError as exc:
        report.fail(diskspace.describe(exc, locations.data))


def _check_disk(locations: Locations, report: _Report) -> None:
    report.section("Disk")
    state = diskspace.disk_state(locations.data)
    if state.free is None:
        report.fail(f"cannot read the free space of {locations.data}")
        return
    minimum = load_settings(locations.settings).gate_min_free_disk_mb
    line = f"{state.describe_free()} on the disk holding {locations.data}"
    trouble = diskspace.trouble(locations.data)
    if trouble is not None:
        report.fail(f"{trouble}. {diskspace.advice(locations.data)}")
    elif minimum and state.free < minimum * MIB:
        report.warn(
            f"{line}: below the {minimum} MiB minimum (gate_min_free_disk_mb), so queued "
            "tasks wait until space is freed"
        )
    elif state.free < LOW_DISK_BYTES:
        report.warn(f"{line}: agents' logs may soon fill the disk")
    else:
        report.ok(line)
    if minimum:
        report.ok(f"queued tasks wait while less than {minimum} MiB is free")
    else:
        report.ok("queued tasks never wait for disk space (gate_min_free_disk_mb is 0)")


def _check_supervisor(locations: Locations, report: _Report) -> None:
    report.section("Supervisor")
    try:
        _report_supervisor(locations, report)
    except OSError as exc:  # a read-only folder: the lock file cannot even be opened
        problem = diskspace.describe(exc, locations.data)
        report.fail(f"cannot tell whether a supervisor runs: {problem}")


def _report_supervisor(locations: Locations, report: _Report) -> None:
    holder = running_holder(locations)
    if holder:
        report.ok(f"running: pid {holder['pid']} ({holder.get('mode')})")
    elif is_locked(locations.lock):
        stale = read_holder(locations)
        report.ok(f"running (lock held{'; pid ' + str(stale['pid']) if stale else ''})")
    else:
        report.ok("not running (queued tasks wait until `agentry serve --headless` or the app)")


def _check_database_and_runs(locations: Locations, report: _Report) -> None:
    report.section("Database")
    try:
        conn = open_database(locations.database, create=False)  # doctor only looks
    except NoDatabase as exc:
        lost = rebuild.unknown_run_folders(None, locations)
        if lost:
            report.fail(f"{exc}, but {len(lost)} run folder(s) hold runs: bring them back "
                        "with `agentry recover --rebuild`")  # fmt: skip
        else:
            report.ok(str(exc))
        return
    except StoreError as exc:
        report.fail(str(exc))
        return
    except DatabaseError as exc:  # a full disk, a read-only folder, an I/O error
        report.fail(describe_sqlite_error(exc, locations.database))
        return
    except OSError as exc:
        report.fail(diskspace.describe(exc, locations.data))
        return
    try:
        integrity = check_integrity(conn)
        if integrity == "ok":
            report.ok(f"{locations.database} (schema {SCHEMA_VERSION}, integrity ok)")
        else:
            report.fail(f"{locations.database} integrity check says: {integrity}")
        counts = repo.count_by_state(conn)
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no tasks"
        report.ok(f"tasks: {summary}")
        lost = rebuild.unknown_run_folders(conn, locations)
        if lost:
            report.fail(f"{len(lost)} run folder(s) hold runs the database does not know "
                        "(was it replaced or emptied?): `agentry recover --rebuild` brings "
                        "them back")  # fmt: skip
        _check_runs(locations, conn, report)
    finally:
        conn.close()


def _check_runs(locations: Locations, conn: Connection, report: _Report) -> None:
    report.section("Runners")
    active = repo.active_runs(conn)
    if not active:
        report.ok("no active runs")
    for run in active:
        run_dir = locations.run_dir(run.dir)
        try:
            info = protocol.read_runner_info(run_dir)
        except protocol.ProtocolError as exc:
            report.fail(f"task {run.task_id}: {exc}")
            continue
        pid = info.runner_pid if info else run.runner_pid
        created = info.runner_create_time if info else run.runner_create_time
        beat = _heartbeat_age(run_dir)
        if procs.is_alive(pid, created):
            report.ok(f"task {run.task_id} run {run.id}: runner pid {pid} alive{beat}")
        elif (run_dir / protocol.EXIT).exists():
            report.ok(f"task {run.task_id} run {run.id}: ended; the supervisor will record it")
        else:
            report.warn(
                f"task {run.task_id} run {run.id}: runner pid {pid} is gone{beat}; "
                "the next start marks it interrupted"
            )


def _heartbeat_age(run_dir: Path) -> str:
    try:
        age = time.time() - (run_dir / protocol.HEARTBEAT).stat().st_mtime
    except OSError:
        return ""
    return f", heartbeat {age:.0f} s ago"


def _check_settings(locations: Locations, report: _Report) -> None:
    report.section("Settings")
    settings = load_settings(locations.settings)
    problems = settings.problems()
    for problem in problems:
        report.fail(f"{locations.settings}: {problem}")
    if not problems:
        limit = settings.default_timeout_s
        report.ok(
            f"max {settings.max_concurrency} agents at once; default timeout "
            f"{'none' if not limit else f'{limit:g} s'}"
        )


def _check_agents(locations: Locations, report: _Report) -> None:
    from app.supervisor.adapters import detect_all

    report.section("Agents")
    for detection in detect_all(load_settings(locations.settings).agent_paths).values():
        if detection.found:
            report.ok(detection.describe())
        elif detection.problem:
            report.warn(detection.describe())
        else:
            report.ok(detection.describe())
