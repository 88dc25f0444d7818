"""``agentry recover --rebuild``: bring back the runs a lost database forgot, from their run
folders (DESIGN §3), while no supervisor runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import EXIT_OK, Subparsers, print_json
from app.store.db import Connection, StoreError, copy_aside, open_database, set_aside
from app.store.locations import ensure_folders, locations_from_env


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser(
        "recover",
        help="bring back tasks and runs the database lost, from their run folders",
    )
    p.add_argument("--rebuild", action="store_true", required=True,
                   help="write the runs the database does not know back into it")  # fmt: skip
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_recover)


def cmd_recover(args: argparse.Namespace) -> int:
    from app.store import rebuild_repo
    from app.supervisor import rebuild
    from app.supervisor.lock import InstanceLock

    locations = locations_from_env()
    ensure_folders(locations)
    lock = InstanceLock(locations, "cli")
    lock.acquire()  # AlreadyRunning: quit the app (or serve) first; it says so
    try:
        kept, conn = _database(locations.database)
        try:
            if kept is None and rebuild_repo.count_tasks(conn) > 0:
                kept = copy_aside(conn, locations.database, "before-rebuild")
            report = rebuild.ingest_unknown_runs(conn, locations)
        finally:
            conn.close()
    finally:
        lock.release()
    if args.json:
        print_json({"tasks": report.tasks, "runs": report.runs, "running": report.running,
                    "renumbered": {str(k): v for k, v in report.renumbered.items()},
                    "skipped": report.skipped,
                    "kept": str(kept) if kept else None})  # fmt: skip
        return EXIT_OK
    print(f"Rebuilt from {locations.runs}: {report.describe()}.")
    for name, why in report.skipped.items():
        print(f"  not brought back: {name}: {why}")
    if kept is not None:
        print(f"The database as it was is kept as {kept}.")
    return EXIT_OK


def _database(path: Path) -> tuple[Path | None, Connection]:
    """The database to write into: the current one when it can be opened and holds tasks,
    else a new one, with the old file kept aside (never deleted)."""
    from app.store import rebuild_repo

    try:
        conn = open_database(path)
    except StoreError:
        kept = set_aside(path, "unreadable")
        return kept, open_database(path)
    if rebuild_repo.count_tasks(conn) > 0:
        return None, conn
    conn.close()
    kept = set_aside(path, "empty")
    return kept, open_database(path)
