"""``agentry project``: how Agentry treats one repository's worktrees (DESIGN §7a) — the
files a new worktree gets from the checkout, the setup command run before its first
agent, and the check a land must pass. Kept in ``settings.json``, per repository top."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.common import EXIT_OK, Subparsers, print_json

if TYPE_CHECKING:
    from app.core.settings import ProjectSettings


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser(
        "project",
        help="show or change a repository's worktree settings (files to copy, setup, check)",
        description="Without options, shows the settings of the repository that holds PATH; "
        "with options, changes and saves them. A running Agentry uses them for runs that "
        "start from then on.",
    )
    p.add_argument("path", nargs="?", default=".", help="a folder in the repository (default: .)")
    p.add_argument(
        "--setup", metavar="CMD", help="run before the agent in a new worktree; '' for none"
    )
    p.add_argument("--check", metavar="CMD", help="must pass before a land; '' for none")
    copy = p.add_mutually_exclusive_group()
    copy.add_argument(
        "--copy",
        nargs="+",
        metavar="PATTERN",
        help="files to copy from the checkout into a new worktree (globs from the top, "
        "e.g. '.env*' 'config/*.local.toml'); replaces the list",
    )
    copy.add_argument("--no-copy", action="store_true", help="copy no files into new worktrees")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_project)


def cmd_project(args: argparse.Namespace) -> int:
    from app.core.settings import SettingsError
    from app.store.locations import ensure_folders, locations_from_env
    from app.store.settings import load_settings, save_settings

    top = _repository(Path(args.path))
    locations = locations_from_env()
    ensure_folders(locations)
    settings = load_settings(locations.settings)
    current = settings.project(top)
    wanted = _changed(current, args)
    if wanted != current:
        problems = wanted.problems()
        if problems:
            raise SettingsError("; ".join(problems))
        save_settings(locations.settings, settings.with_project(top, wanted))
    if args.json:
        print_json(to_json(top, wanted))
    else:
        print(describe(top, wanted))
        if wanted != current:
            print("Saved. Runs that start from now on use these settings.")
    return EXIT_OK


def _repository(path: Path) -> str:
    from app.supervisor.commands import CommandRefused
    from app.supervisor.git import Git
    from app.supervisor.workspaces import repository_of

    folder = path.expanduser().resolve()
    if not folder.is_dir():
        raise CommandRefused(f"{folder} is not a folder; name a folder in the repository")
    top = repository_of(Git(), str(folder))
    if top is None:
        raise CommandRefused(
            f"{folder} is not inside a git repository; project settings are for a "
            "repository's worktrees (run `git init` there, or name a folder inside one)"
        )
    return top


def _changed(current: ProjectSettings, args: argparse.Namespace) -> ProjectSettings:
    changes: dict[str, Any] = {}
    if args.setup is not None:
        changes["setup"] = args.setup.strip()
    if args.check is not None:
        changes["check"] = args.check.strip()
    if args.no_copy:
        changes["copy_files"] = ()
    elif args.copy is not None:
        changes["copy_files"] = tuple(dict.fromkeys(p.strip() for p in args.copy))
    return dataclasses.replace(current, **changes)


def to_json(top: str, project: ProjectSettings) -> dict[str, Any]:
    return {
        "project": top,
        "copy_files": list(project.copy_files),
        "setup": project.setup,
        "check": project.check,
    }


def describe(top: str, project: ProjectSettings) -> str:
    return "\n".join(
        [
            f"Project {top}",
            f"  Files to copy:  {', '.join(project.copy_files) or 'none'}",
            f"  Setup command:  {project.setup or 'none'}",
            f"  Check command:  {project.check or 'none'}",
        ]
    )
