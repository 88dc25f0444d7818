"""What Agentry left on disk or running that nothing needs any more (DESIGN §7a).

:func:`find` lists candidates, each with its size and whether removing it can lose work;
:func:`remove` removes the chosen ones and notes each in the audit trail. A candidate
that may hold work (a worktree with uncommitted or unmerged work, a worktree or run folder
no task knows, a runner no task knows) is never removed unless named explicitly.
Blocking: run it off the UI thread and off the supervisor's loop (:mod:`housekeeping`).
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

from app.core.locations import Locations
from app.core.log import get_logger
from app.core.workspaces import Workspace, WorkspaceState
from app.runner import procs
from app.store import land_repo, repo, workspace_repo
from app.store.db import Connection, transaction
from app.supervisor import workspaces
from app.supervisor.disk_use import disk_use
from app.supervisor.git import Git, GitError

log = get_logger(__name__)

Kind = Literal[
    "merged worktree", "unmerged worktree", "unknown worktree", "unknown run folder",
    "unknown runner",
]  # fmt: skip
WORKTREE_KINDS: frozenset[Kind] = frozenset({"merged worktree", "unmerged worktree"})


@dataclass(frozen=True)
class Candidate:
    id: str  # "W3" (task 3's worktree), "U:name", "F:name" (folders), "P1234" (a runner)
    kind: Kind
    what: str  # a path, or a process
    size: int  # bytes on disk (0 for a process)
    safe: bool  # removing it loses nothing (its work is merged, or it is empty)
    why: str  # why it is offered and, when it is not safe, what work it holds
    task_id: int | None = None  # the task whose worktree it is
    ended_at: float | None = None  # when that task's latest run ended

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "what": self.what, "size": self.size,
                "safe": self.safe, "why": self.why, "task_id": self.task_id}  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    removed: tuple[Candidate, ...]
    failed: tuple[tuple[Candidate, str], ...]  # each with what went wrong, for the person


class Refused(Exception):
    """What was listed must not be removed any more (its task runs or lands again)."""


def find(conn: Connection, locations: Locations, git: Git) -> list[Candidate]:
    found = worktrees(conn, git)
    rows = workspace_repo.in_states(conn, WorkspaceState.READY, WorkspaceState.CREATING)
    known = {Path(ws.path).resolve() for ws in rows}
    found += _unknown_folders(locations.worktrees, known, "unknown worktree", "U")
    run_dirs = {Path(locations.run_dir(d)).resolve() for d in repo.run_folders(conn)}
    found += _unknown_folders(locations.runs, run_dirs, "unknown run folder", "F")
    active = {locations.run_dir(r.dir).resolve() for r in repo.active_runs(conn)}
    found += _unknown_runners(locations.runs, active)
    return found


def worktrees(conn: Connection, git: Git) -> list[Candidate]:
    """The worktrees of ended tasks: safe ones (merged, nothing uncommitted) and the rest."""
    rows = workspace_repo.in_states(conn, WorkspaceState.READY, WorkspaceState.CREATING)
    return [c for ws in rows if (c := _worktree(git, ws, conn)) is not None]


def remove(
    conn: Connection, locations: Locations, git: Git, chosen: list[Candidate], *, by: str
) -> Outcome:
    """Remove each chosen candidate and note it, with ``by`` (who asked), in the audit
    trail. A failure is reported and left for later; the others are still removed."""
    removed: list[Candidate] = []
    failed: list[tuple[Candidate, str]] = []
    for candidate in chosen:
        try:
            _remove_one(conn, locations, git, candidate)
        except (GitError, OSError, psutil.Error, Refused) as exc:
            log.warning("could not clean up %s (%s): %s", candidate.id, candidate.what, exc)
            failed.append((candidate, str(exc)))
            continue
        with transaction(conn):
            repo.add_event(conn, "cleaned_up", task_id=candidate.task_id,
                           detail=candidate.to_json() | {"by": by})  # fmt: skip
        removed.append(candidate)
    return Outcome(tuple(removed), tuple(failed))


def _remove_one(conn: Connection, locations: Locations, git: Git, candidate: Candidate) -> None:
    if candidate.kind in WORKTREE_KINDS:
        assert candidate.task_id is not None
        _remove_worktree(conn, git, candidate.task_id)
    elif candidate.kind == "unknown runner":
        process = _runner_of(int(candidate.id[1:]), locations.runs)
        if process is not None:
            procs.kill_tree(process, 5.0)
    else:
        with contextlib.suppress(FileNotFoundError):  # gone already: nothing left to do
            shutil.rmtree(candidate.what)


def _remove_worktree(conn: Connection, git: Git, task_id: int) -> None:
    workspace = workspace_repo.get(conn, task_id)
    if workspace is None or workspace.state is WorkspaceState.REMOVED:
        return
    if not _ended(conn, task_id):  # retried since it was listed: its worktree is in use
        raise Refused(f"task {task_id} is running or landing again; its worktree was kept")
    with transaction(conn):  # the intent first: a crash now is completed at the next start
        workspace_repo.transition(conn, task_id, WorkspaceState.REMOVING)
    workspaces.remove(git, workspace)
    with transaction(conn):
        workspace_repo.transition(conn, task_id, WorkspaceState.REMOVED)


def _ended(conn: Connection, task_id: int) -> bool:
    """No run of the task may still change its worktree, and no land of it is under way."""
    run = repo.get_task(conn, task_id).latest_run
    if run is not None and not run.state.is_terminal:
        return False
    return not any(land.is_active for land in land_repo.of_task(conn, task_id))


def _worktree(git: Git, workspace: Workspace, conn: Connection) -> Candidate | None:
    """The worktree of an ended task: safe when its branch is merged into its base and it
    holds nothing uncommitted, otherwise offered with what it holds."""
    if not _ended(conn, workspace.task_id):
        return None
    run = repo.get_task(conn, workspace.task_id).latest_run
    repo_path, path = Path(workspace.repo), Path(workspace.path)
    try:
        if not workspaces.exists(git, workspace):
            return None
        base = workspace.base
        if not git.branch_exists(repo_path, base):  # a commit, or a branch deleted since
            base = workspace.base_sha
        uncommitted = len(git.status(path))
        unmerged = len(git.commits(path, base))
    except GitError as exc:
        log.warning("could not look at the worktree of task %s: %s", workspace.task_id, exc)
        return None
    safe = not uncommitted and not unmerged
    kind: Kind = "merged worktree" if safe else "unmerged worktree"
    why = f"its work is merged into {_short(base)}" if safe else _holds(uncommitted, unmerged, base)
    ended = run.ended_at if run is not None else None
    return Candidate(f"W{workspace.task_id}", kind, workspace.path, disk_use(path), safe, why,
                     workspace.task_id, ended)  # fmt: skip


def _holds(uncommitted: int, unmerged: int, base: str) -> str:
    parts = []
    if uncommitted:
        parts.append(f"{uncommitted} uncommitted file{'s' if uncommitted != 1 else ''}")
    if unmerged:
        commits = f"{unmerged} commit{'s' if unmerged != 1 else ''}"
        parts.append(f"{commits} not in {_short(base)}")
    return "holds " + " and ".join(parts)


def _short(ref: str) -> str:
    """A branch name as it is, a commit by its first ten hex digits."""
    is_sha = len(ref) == 40 and all(c in "0123456789abcdef" for c in ref)
    return ref[:10] if is_sha else ref


def _unknown_folders(parent: Path, known: set[Path], kind: Kind, prefix: str) -> list[Candidate]:
    if not parent.is_dir():
        return []
    found = []
    for folder in sorted(p for p in parent.iterdir() if p.is_dir()):
        if folder.resolve() in known:
            continue
        empty = not any(folder.iterdir())
        why = "no task knows it" + ("; it is empty" if empty else "; it may hold work")
        ident = f"{prefix}:{folder.name}"  # stable across listings, unlike a number
        found.append(Candidate(ident, kind, str(folder), disk_use(folder), empty, why))
    return found


def _runner_folder(cmdline: list[str], runs: Path) -> Path | None:
    """The run folder of a runner of this data folder (``app.runner DIR``, ``--runner DIR``)."""
    if not cmdline or not ("app.runner" in cmdline or "--runner" in cmdline):
        return None
    folder = Path(cmdline[-1])
    return folder if folder.parent.resolve() == runs.resolve() else None


def _runner_of(pid: int, runs: Path) -> psutil.Process | None:
    """The process ``pid`` if it still is a runner of this data folder (not a reused pid)."""
    try:
        process = psutil.Process(pid)
        return process if _runner_folder(process.cmdline(), runs) else None
    except psutil.Error:
        return None


def _unknown_runners(runs: Path, active: set[Path]) -> list[Candidate]:
    found = []
    for process in psutil.process_iter(["cmdline", "pid"]):
        folder = _runner_folder(process.info.get("cmdline") or [], runs)
        if folder is None or folder.resolve() in active:
            continue
        pid = process.info["pid"]
        why = "a runner of this data folder that no active run knows"
        found.append(Candidate(f"P{pid}", "unknown runner", f"pid {pid}: {folder}", 0, False, why))
    return found
