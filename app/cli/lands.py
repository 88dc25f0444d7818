"""``agentry land``: the safe way to put a worktree task's work on its base (DESIGN §7a).

The land is queued in the database, so the running app (or, when none runs, a supervisor
this command starts for as long as it follows the land) carries it through; standard
output shows the check's output as it runs, standard error the land's progress.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.cli.common import EXIT_ERROR, EXIT_OK, Subparsers, open_store

if TYPE_CHECKING:
    from app.core.lands import Land
    from app.core.locations import Locations
    from app.store.db import Connection


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser(
        "land",
        help="rebase a worktree task onto its base, run the project's check, and "
        "fast-forward the base only if it passes",
    )
    p.add_argument("task", help="task id")
    p.add_argument("--no-check", action="store_true", help="land without running a check")
    p.add_argument("--detach", action="store_true", help="queue it and return at once")
    p.add_argument("--cancel", action="store_true", help="cancel the task's land in progress")
    p.set_defaults(handler=cmd_land)


def cmd_land(args: argparse.Namespace) -> int:
    from app.core.lands import LandState
    from app.store import land_repo
    from app.store.settings import load_settings
    from app.supervisor import lander
    from app.supervisor.git import Git

    locations, conn = open_store()
    if args.cancel:
        land = lander.cancel(conn, locations, args.task)
        print(f"Cancelling the land of task {land.task_id}; {land.base} was not changed.")
        return EXIT_OK
    settings = load_settings(locations.settings)
    land = lander.request(conn, Git(), settings, args.task, check=not args.no_check)
    ahead = [x for x in land_repo.active(conn) if x.repo == land.repo and x.id < land.id]
    how = f"after `{land.check}` passes" if land.check else "without a check"
    behind = f", behind {len(ahead)} other land(s)" if ahead else ""
    _say(f"land {land.id}: task {land.task_id} onto {land.base} {how}{behind}")
    if args.detach:
        print(land.id)
        return EXIT_OK
    import asyncio

    land = asyncio.run(_follow_land(locations, conn, land.id))
    if land.state is LandState.LANDED:
        _say(f"task {land.task_id} landed: {land.message}")
        return EXIT_OK
    _say(f"task {land.task_id} did not land ({land.state.value}): {land.message}")
    return EXIT_ERROR


async def _follow_land(locations: Locations, conn: Connection, land_id: int) -> Land:
    import asyncio

    from app.cli.follow import follow
    from app.cli.tasks import hosting
    from app.core.lands import LandState
    from app.store import land_repo

    async with hosting(locations):
        said: LandState | None = None
        followed: set[int] = set()
        while True:
            land = land_repo.get(conn, land_id)
            if land.state is not said and not land.state.is_terminal:
                said = land.state
                _say(land.progress)
            # A quick check can pass, and the land end, between two looks: its output is
            # shown all the same, whatever state the land has moved on to.
            if land.run_id is not None and land.run_id not in followed:
                followed.add(land.run_id)
                await follow(conn, locations, land.run_id, sys.stdout)
                continue
            if land.state.is_terminal:
                return land
            await asyncio.sleep(0.1)


def _say(text: str) -> None:
    print(f"agentry: {text}", file=sys.stderr, flush=True)
