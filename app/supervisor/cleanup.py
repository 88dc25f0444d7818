"""What Agentry left on disk or running that nothing needs any more (DESIGN §7a).

:func:`find` lists candidates, each with its size and whether removing it can lose work;
:func:`remove` removes the chosen ones and notes each in the audit trail. A candidate
that may hold work (a worktree or run folder no task knows, a runner no task knows) is
never removed unless named explicitly. Blocking: run it off the UI thread.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

from app.core.locations import Locations
from app.core.workspaces import Workspace, WorkspaceState
from app.runner import procs
from app.store import repo, workspace_repo
from app.store.db import Connection, transaction
from app.supervisor import workspaces
from app.supervisor.git import Git, GitError

Kind = Literal["merged worktree", "unknown worktree", "unknown run folder", "unknown runner"]


@dataclass(frozen=True)
class Candidate:
    id: str  # "W3" (task 3's worktree), "U:name", "F:name" (folders), "P1234" (a runner)
    kind: Kind
    what: str  # a path, or a process
    size: int  # bytes on disk (0 for a process)
    safe: bool  # removing it loses nothing (its work is merged, or it is empty)
    why: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "what": self.what, "size": self.size,
                "safe": self.safe, "why": self.why}  # fmt: skip


def find(conn: Connection, locations: Locations, git: Git) -> list[Candidate]:
    rows = workspace_repo.in_states(conn, WorkspaceState.READY, WorkspaceState.CREATING)
    found = [c for ws in rows if (c := _merged(git, ws, conn)) is not None]
    known = {Path(ws.path).resolve() for ws in rows}
    found += _unknown_folders(locations.worktrees, known, "unknown worktree", "U")
    run_dirs = {Path(locations.run_dir(d)).resolve() for d in repo.run_folders(conn)}
    found += _unknown_folders(locations.runs, run_dirs, "unknown run folder", "F")
    active = {locations.run_dir(r.dir).resolve() for r in repo.active_runs(conn)}
    found += _unknown_runners(locations.runs, active)
    return found


def remove(
    conn: Connection, locations: Locations, git: Git, chosen: list[Candidate]
) -> list[Candidate]:
    """Remove each chosen candidate; returns those removed (a failure is left for later)."""
    done = []
    for candidate in chosen:
        if candidate.kind == "merged worktree":
            task_id = int(candidate.id[1:])
            workspace = workspace_repo.get(conn, task_id)
            if workspace is None:
                continue
            with transaction(conn):
                workspace_repo.transition(conn, task_id, WorkspaceState.REMOVING)
            workspaces.remove(git, workspace)
            with transaction(conn):
                workspace_repo.transition(conn, task_id, WorkspaceState.REMOVED)
        elif candidate.kind == "unknown runner":
            process = _runner_of(int(candidate.id[1:]), locations.runs)
            if process is not None:
                procs.kill_tree(process, 5.0)
        else:
            shutil.rmtree(candidate.what, ignore_errors=True)
        with transaction(conn):
            repo.add_event(conn, "cleaned_up", detail=candidate.to_json())
        done.append(candidate)
    return done


def _merged(git: Git, workspace: Workspace, conn: Connection) -> Candidate | None:
    """A worktree whose branch is merged into its base and that holds nothing uncommitted."""
    run = repo.get_task(conn, workspace.task_id).latest_run
    if run is not None and not run.state.is_terminal:
        return None
    repo_path = Path(workspace.repo)
    try:
        if not workspaces.exists(git, workspace) or git.dirty(Path(workspace.path)):
            return None
        tip = git.resolve(repo_path, workspace.branch)
        if not git.branch_exists(repo_path, workspace.base):
            return None
        if not git.is_ancestor(repo_path, tip, git.resolve(repo_path, workspace.base)):
            return None
    except GitError:
        return None
    why = f"task {workspace.task_id}'s branch is merged into {workspace.base}"
    size = _size(Path(workspace.path))
    return Candidate(f"W{workspace.task_id}", "merged worktree", workspace.path, size, True, why)


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
        found.append(Candidate(ident, kind, str(folder), _size(folder), empty, why))
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


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path, onerror=lambda _e: None):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total
