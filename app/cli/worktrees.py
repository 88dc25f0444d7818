"""The ``agentry`` commands about tasks' own git worktrees (DESIGN §7a): diff, merge, push
and discard, and the check ``run --worktree`` makes before anything is queued."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.common import EXIT_ERROR, EXIT_OK, Subparsers, open_store, print_json

if TYPE_CHECKING:  # git and the worktree work load only for the commands that use them
    from app.core.models import Task
    from app.core.workspaces import Workspace
    from app.store.db import Connection
    from app.supervisor.git import MergeHow
    from app.supervisor.workspaces import AtRisk


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser("diff", help="what a worktree task changed, against its base")
    p.add_argument("task", help="task id")
    p.add_argument("--stat", action="store_true", help="only the files and their line counts")
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("merge", help="merge a worktree task's branch into its base")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--squash", action="store_true", help="as one commit")
    how.add_argument("--rebase", action="store_true", help="its commits replayed on the base")
    p.add_argument("task", help="task id")
    p.set_defaults(handler=cmd_merge)

    p = sub.add_parser("push", help="push a worktree task's branch to the base's remote")
    p.add_argument("task", help="task id")
    p.add_argument("--pr", action="store_true", help="and open a pull/merge request for it")
    p.set_defaults(handler=cmd_push)

    p = sub.add_parser("cleanup", help="remove merged worktrees, and list what no task knows about")
    p.add_argument("--dry-run", action="store_true", help="only list; remove nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--include",
        nargs="+",
        default=[],
        metavar="ID",
        help="also remove these (from the listing), though they may hold work",
    )
    p.set_defaults(handler=cmd_cleanup)

    p = sub.add_parser("discard", help="remove a task's worktree and branch")
    p.add_argument("task", help="task id")
    p.add_argument(
        "--yes", action="store_true", help="even if uncommitted or unmerged work is lost"
    )
    p.set_defaults(handler=cmd_discard)


def check_worktree_folder(folder: Path, base: str | None) -> None:
    """Refuse ``--worktree`` for a folder outside a git repository or an unknown base."""
    from app.supervisor.git import Git

    git = Git()
    git.check()
    top = git.toplevel(folder)
    if base:
        git.resolve(top, base)


def _workspace(conn: Connection, task_ref: str) -> Workspace:
    from app.supervisor.worktree_ops import ready_workspace

    return ready_workspace(conn, task_ref)


def cmd_diff(args: argparse.Namespace) -> int:
    from app.supervisor.git import Git

    _, conn = open_store()
    workspace = _workspace(conn, args.task)
    git = Git()
    path = Path(workspace.path)
    if args.stat:
        for stat in git.diff_stat(path, workspace.base_sha):
            counts = "binary" if stat.added is None else f"+{stat.added} -{stat.removed}"
            print(f"{counts:>14}  {stat.path}")
        return EXIT_OK
    sys.stdout.write(git.diff(path, workspace.base_sha))
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from app.supervisor import workspaces
    from app.supervisor.git import Git

    locations, conn = open_store()
    workspace = _workspace(conn, args.task)
    task = _ended(conn, workspace, "merge")
    how: MergeHow = "squash" if args.squash else "rebase" if args.rebase else "merge"
    merged = workspaces.merge(Git(), locations, workspace, task, how)
    if merged.committed_changes:
        print(f"Committed the uncommitted changes of task {task.id} on {workspace.branch}.")
    way = "fast-forward" if merged.fast_forward else f"{how} commit {merged.commit[:10]}"
    print(f"Merged task {task.id} into {merged.base} ({way}).")
    return EXIT_OK


def cmd_push(args: argparse.Namespace) -> int:
    from app.supervisor import worktree_ops
    from app.supervisor.git import Git

    _, conn = open_store()
    workspace = _workspace(conn, args.task)
    task = _ended(conn, workspace, "push")
    pushed = worktree_ops.push(Git(), workspace, task, request=args.pr)
    print(f"Pushed {pushed.branch} to {pushed.remote}.")
    if pushed.request is not None:
        print(f"Opened: {pushed.request}")
        return EXIT_OK
    if pushed.compare_url is None:
        return EXIT_OK
    if pushed.request_failed is not None:
        print(f"Could not open it here ({pushed.request_failed}); open it in your browser:")
    else:
        print("To open a pull request:")
    print(f"  {pushed.compare_url}")
    return EXIT_OK


def cmd_cleanup(args: argparse.Namespace) -> int:
    """Lists candidates; removes the safe ones (merged, empty) and those named with
    --include; never anything that may hold work unless it is named."""
    from app.supervisor import cleanup
    from app.supervisor.commands import CommandRefused
    from app.supervisor.git import Git

    locations, conn = open_store()
    git = Git()
    found = cleanup.find(conn, locations, git)
    unknown = set(args.include) - {c.id for c in found}
    if unknown:
        raise CommandRefused(
            f"nothing to clean up is called {', '.join(sorted(unknown))}; "
            "`agentry cleanup --dry-run` lists what there is"
        )
    chosen = [c for c in found if c.safe or c.id in args.include]
    outcome = None if args.dry_run else cleanup.remove(conn, locations, git, chosen, by="cli")
    gone = {c.id for c in outcome.removed} if outcome else set()
    failed = {c.id: why for c, why in outcome.failed} if outcome else {}
    if args.json:
        print_json([c.to_json() | {"removed": c.id in gone, "error": failed.get(c.id)}
                    for c in found])  # fmt: skip
        return EXIT_ERROR if failed else EXIT_OK
    if not found:
        print("Nothing to clean up.")
    for c in found:
        mark = "removed" if c.id in gone else "failed" if c.id in failed else "kept"
        mark = "safe" if mark == "kept" and c.safe else mark
        print(f"{c.id:>6}  {mark:<7} {c.kind:<18} {_megabytes(c.size):>9}  {c.what}  ({c.why})")
    kept = [c.id for c in found if c.id not in gone and not c.safe]
    if kept and not args.dry_run:
        print("Kept what may hold work; name it with --include ID to remove it anyway.")
    for ident, why in failed.items():
        print(f"Could not remove {ident}: {why}. Try again later.", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MiB" if size else "-"


def _ended(conn: Connection, workspace: Workspace, doing: str) -> Task:
    from app.supervisor.worktree_ops import ended_task

    return ended_task(conn, workspace, doing)


def cmd_discard(args: argparse.Namespace) -> int:
    from app.core.workspaces import WorkspaceState
    from app.store import workspace_repo
    from app.store.db import transaction
    from app.supervisor import workspaces
    from app.supervisor.git import Git

    _, conn = open_store()
    workspace = _workspace(conn, args.task)
    _ended(conn, workspace, "discard")
    git = Git()
    risk = workspaces.at_risk(git, workspace)
    if not risk.nothing and not args.yes and not _confirmed(workspace, risk):
        print("Nothing was removed.")
        return EXIT_ERROR
    with transaction(conn):  # the intent, before git removes anything
        workspace_repo.transition(conn, workspace.task_id, WorkspaceState.REMOVING)
    workspaces.remove(git, workspace)
    with transaction(conn):
        workspace_repo.transition(conn, workspace.task_id, WorkspaceState.REMOVED)
    print(f"Removed the worktree {workspace.path} and the branch {workspace.branch}.")
    return EXIT_OK


def _confirmed(workspace: Workspace, risk: AtRisk) -> bool:
    """Name what would be lost; ask when a person is at the terminal, else refuse."""
    from app.supervisor.commands import CommandRefused

    lines = [f"Discarding the worktree of task {workspace.task_id} loses:"]
    lines += [f"  uncommitted  {change.status:<9} {change.path}" for change in risk.uncommitted]
    lines += [f"  commit       {sha[:10]}  {subject}" for sha, subject in risk.commits]
    print("\n".join(lines))
    if not sys.stdin.isatty():
        raise CommandRefused("pass --yes to discard it anyway (nothing was removed)")
    return input("Discard it? [y/N] ").strip().lower() in ("y", "yes")
