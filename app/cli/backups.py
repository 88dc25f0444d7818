"""``agentry backup`` and ``agentry restore``: copies of the database, and putting one back.

A backup is made online (a running supervisor keeps working); a restore needs the data
folder to itself, so it is refused while Agentry runs.
"""

from __future__ import annotations

import argparse
import sys

from app.cli.common import EXIT_ERROR, EXIT_OK, Subparsers, print_json


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser(
        "backup",
        help="back up the database now (Agentry may keep running), or list the backups",
        description="Copies the database into the backups folder of the data folder and "
        "prints the new file. The newest `backups_keep` backups are kept.",
    )
    p.add_argument("--list", action="store_true", help="list the backups, newest first")
    p.add_argument("--json", action="store_true", help="machine-readable output (with --list)")
    p.set_defaults(handler=cmd_backup)
    p = sub.add_parser(
        "restore",
        help="put a backup of the database back (Agentry must not be running)",
        description="Replaces the database with FILE (default: the newest backup). The "
        "current database is kept aside beside it, never deleted.",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="a backup file or its name")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    from app.store import backup as store_backup
    from app.store.locations import locations_from_env
    from app.store.settings import load_settings
    from app.supervisor import restore

    locations = locations_from_env()
    if args.list:
        backups = restore.list_backups(locations)
        if args.json:
            print_json([{**vars(b), "path": str(b.path)} for b in backups])
        for item in [] if args.json else backups:
            print(item.describe())
        if not backups and not args.json:
            print(f"No backups in {locations.backups} yet.")
        return EXIT_OK
    keep = load_settings(locations.settings).backups_keep
    made = store_backup.backup(locations.database, locations.backups, "manual", keep=keep)
    print(made)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from app.store.locations import ensure_folders, locations_from_env
    from app.supervisor import restore

    locations = locations_from_env()
    ensure_folders(locations)
    chosen = restore.choose(locations, args.file)
    if not args.yes and not _confirm(
        f"Replace {locations.database} with the backup {chosen}? "
        f"The current database is kept aside. [y/N] "
    ):
        print("Nothing was restored.")
        return EXIT_ERROR
    outcome = restore.restore_backup(locations, chosen)
    print("\n".join(outcome.describe()))
    return EXIT_OK


def _confirm(question: str) -> bool:
    print(question, end="", flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")
