"""``agentry recover --rebuild``: bring back the runs a lost database forgot, from their run
folders (DESIGN §3), while no supervisor runs."""

from __future__ import annotations

import argparse

from app.cli.common import EXIT_OK, Subparsers, print_json


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
    from app.store.locations import locations_from_env
    from app.supervisor.rebuild import rebuild_data_folder

    locations = locations_from_env()
    report, kept = rebuild_data_folder(locations)  # AlreadyRunning: quit Agentry first
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
