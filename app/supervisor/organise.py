"""Organising tasks: archive and unarchive, delete a finished one with its run folders,
and clear finished ones (archive or delete them) after a preview.

Any process may run these (the app, the CLI): they touch only the database and run
folders. A task that runs, waits in the queue, lands, or still has a worktree is never
deleted: the refusal says what to do first. Deleting a task removes its run folders'
``spec.json`` first, so a crash half way leaves folders that no longer look like runs the
database lost (DESIGN §3), then its rows, then the folders themselves.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import Task
from app.core.states import RunState
from app.core.workspaces import WorkspaceState
from app.runner import protocol
from app.store import land_repo, organise_repo, repo, workspace_repo
from app.store.db import Connection, transaction
from app.supervisor.commands import CommandRefused
from app.supervisor.disk_use import disk_use

log = get_logger(__name__)

DAY_S = 86400.0
FINISHED = frozenset({RunState.SUCCEEDED, RunState.CANCELLED})
FAILED = frozenset({RunState.FAILED, RunState.TIMED_OUT, RunState.INTERRUPTED})


def archive(conn: Connection, task_ref: str | int) -> Task:
    """Archive an ended task: it leaves the default view and no longer asks for attention."""
    with transaction(conn):
        task = repo.resolve_task(conn, str(task_ref))
        if not _ended(task):
            raise CommandRefused(
                f"task {task.id} is still {_state(task)}; cancel it or wait for it to end "
                "before archiving it"
            )
        organise_repo.set_archived(conn, task.id, True)
        return repo.get_task(conn, task.id)


def unarchive(conn: Connection, task_ref: str | int) -> Task:
    with transaction(conn):
        task = repo.resolve_task(conn, str(task_ref))
        organise_repo.set_archived(conn, task.id, False)
        return repo.get_task(conn, task.id)


def dismiss(conn: Connection, task_id: int) -> None:
    """The person saw how the task ended and chose to leave it as it is."""
    with transaction(conn):
        organise_repo.set_dismissed(conn, task_id)


# ---------------------------------------------------------------------- deleting


@dataclass(frozen=True)
class DeletePlan:
    """What deleting one task removes, or why it may not be deleted now."""

    task_id: int
    title: str
    folders: tuple[Path, ...]  # its run folders that exist on disk
    size: int | None  # bytes they take, when measured
    refused: str | None  # None: it may be deleted


@dataclass(frozen=True)
class Deleted:
    task_id: int
    title: str
    folders: int  # run folders removed
    left: tuple[str, ...] = ()  # folders that could not be removed, each with why


def refusal(conn: Connection, task: Task) -> str | None:
    """Why ``task`` may not be deleted now, in words that say what to do first."""
    if not _ended(task):
        return f"task {task.id} is still {_state(task)}; cancel it or wait for it to end"
    workflow = organise_repo.workflow_of(conn, task.id)
    if workflow is not None:
        return f"task {task.id} is a step of workflow {workflow}; its history stays with it"
    if any(land.is_active for land in land_repo.of_task(conn, task.id)):
        return f"task {task.id} is being landed; wait for the land to end"
    workspace = workspace_repo.get(conn, task.id)
    if workspace is not None and workspace.state is not WorkspaceState.REMOVED:
        return (
            f"task {task.id} still has its worktree {workspace.path} (branch "
            f"{workspace.branch}); merge or discard it first (`agentry discard {task.id}`)"
        )
    return None


def plan(
    conn: Connection, locations: Locations, task_ids: Iterable[int], *, measure: bool = False
) -> list[DeletePlan]:
    """What deleting each task would remove; ``measure`` sizes the folders (disk work:
    off the UI thread and the supervisor's loop)."""
    plans = []
    for task_id in task_ids:
        task = repo.get_task(conn, task_id)
        folders = tuple(p for p in _folders(conn, locations, task_id) if p.exists())
        size = sum(disk_use(p) for p in folders) if measure else None
        plans.append(DeletePlan(task_id, task.title, folders, size, refusal(conn, task)))
    return plans


def delete(conn: Connection, locations: Locations, task_ref: str | int) -> Deleted:
    """Delete an ended task, its rows and its run folders; CommandRefused when it may not
    be. Blocking (it removes folders): off the UI thread and the supervisor's loop."""
    task = repo.resolve_task(conn, str(task_ref))
    with transaction(conn):
        why = refusal(conn, task)
        if why is not None:
            raise CommandRefused(f"{why}. Nothing was deleted.")
        folders = _folders(conn, locations, task.id)
    for folder in folders:  # no longer a run: a crash now cannot look like a lost database
        try:
            (folder / protocol.SPEC).unlink(missing_ok=True)
        except OSError as exc:
            raise CommandRefused(
                f"could not delete task {task.id}: {folder / protocol.SPEC}: {exc.strerror}. "
                "Nothing was deleted; close what uses the folder and try again."
            ) from exc
    detail = {"title": task.title, "folders": [f.name for f in folders], "at": time.time()}
    with transaction(conn):
        organise_repo.delete_task(conn, task.id, detail=detail)
    left = tuple(why for folder in folders if (why := _remove(folder)) is not None)
    return Deleted(task.id, task.title, len(folders) - len(left), left)


def _remove(folder: Path) -> str | None:
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("could not remove run folder %s: %s", folder, exc)
        return f"{folder}: {exc.strerror or exc} (Clean up offers it again)"
    return None


def _folders(conn: Connection, locations: Locations, task_id: int) -> list[Path]:
    return [locations.run_dir(run.dir) for run in repo.runs_for_task(conn, task_id)]


# ---------------------------------------------------------------------- clearing


@dataclass(frozen=True)
class ClearFilter:
    """Which ended tasks "Clear finished…" takes: succeeded and cancelled ones, failed
    ones too when asked, only those that ended ``older_than_days`` ago or more."""

    failed: bool = False
    older_than_days: float | None = None

    def states(self) -> frozenset[RunState]:
        return FINISHED | FAILED if self.failed else FINISHED


def clearable(conn: Connection, which: ClearFilter, *, now: float | None = None) -> list[Task]:
    """The tasks ``which`` names that are not archived yet, newest first."""
    before = None
    if which.older_than_days is not None:
        before = (time.time() if now is None else now) - which.older_than_days * DAY_S
    return organise_repo.finished(conn, which.states(), ended_before=before)


@dataclass(frozen=True)
class Cleared:
    archived: tuple[int, ...] = ()
    deleted: tuple[Deleted, ...] = ()
    refused: tuple[tuple[int, str], ...] = ()  # task id, why it was left as it is


def clear(
    conn: Connection, locations: Locations, task_ids: Iterable[int], *, delete_them: bool
) -> Cleared:
    """Archive (or delete) each of ``task_ids``; one that may not be is left, with why."""
    archived: list[int] = []
    deleted: list[Deleted] = []
    refused: list[tuple[int, str]] = []
    for task_id in task_ids:
        try:
            if delete_them:
                deleted.append(delete(conn, locations, task_id))
            else:
                archived.append(archive(conn, task_id).id)
        except CommandRefused as exc:
            refused.append((task_id, str(exc)))
    return Cleared(tuple(archived), tuple(deleted), tuple(refused))


def _ended(task: Task) -> bool:
    return task.latest_run is None or task.latest_run.state.is_terminal


def _state(task: Task) -> str:
    return task.latest_run.state.value if task.latest_run else "new"
