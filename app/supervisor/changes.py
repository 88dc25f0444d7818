"""What a worktree task changed, read for its Changes tab (issue 11, Review; DESIGN §7a).

:func:`request` reads the database on the event loop (quick); :func:`build` runs git and
blocks, so the supervisor runs it in the executor. The overlap warning compares the task's
files with those of the other *active* worktree tasks of the same repository, before
anyone merges. Their file lists are cached for half a minute, so twenty open Changes tabs
refreshing every two seconds do not each ask git about all twenty worktrees: on a
repository of 100,000 files, reading a list takes a pass over every file, and with a
few seconds' cache one tab in view kept re-reading its nineteen peers (a core's worth).
A peer's edit may so reach the warning half a minute late; merging checks for itself.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.core.states import RunState
from app.core.workspaces import Workspace, WorkspaceState
from app.store import repo, workspace_repo
from app.store.db import Connection
from app.supervisor.git import Git, GitError
from app.supervisor.git_output import FileChange

# A task whose latest run may still change its worktree.
WORKING = frozenset({RunState.QUEUED, RunState.STARTING, RunState.RUNNING})
PEER_TTL_S = 30.0


@dataclass(frozen=True)
class ChangedFile:
    change: FileChange
    added: int | None  # lines; None for a binary file (or one whose count git did not give)
    removed: int | None

    @property
    def path(self) -> str:
        return self.change.path


@dataclass(frozen=True)
class Changes:
    """A task's worktree against the merge-base with its base, as ``agentry diff`` shows it."""

    task_id: int
    worktree: str
    branch: str
    base: str
    files: tuple[ChangedFile, ...]
    commits: tuple[tuple[str, str], ...]  # (sha, subject) the agent committed, oldest first
    uncommitted: frozenset[str]  # paths with changes not yet committed (untracked included)
    diffs: dict[str, str] = field(default_factory=dict)  # path -> its part of the diff
    overlaps: dict[str, tuple[int, ...]] = field(default_factory=dict)  # path -> other tasks

    def diff_of(self, path: str) -> str:
        return self.diffs.get(path, "")


@dataclass(frozen=True)
class Request:
    """What :func:`build` needs from the database, read before leaving the loop."""

    workspace: Workspace
    peers: tuple[Workspace, ...]  # other active worktree tasks of the same repository


def request(conn: Connection, task_id: int) -> Request | None:
    """None when the task has no worktree ready to read (none, not made yet, removed)."""
    workspace = workspace_repo.get(conn, task_id)
    if workspace is None or workspace.state is not WorkspaceState.READY:
        return None
    peers = tuple(
        other
        for other in workspace_repo.in_states(conn, WorkspaceState.READY)
        if other.task_id != task_id and other.repo == workspace.repo and _working(conn, other)
    )
    return Request(workspace, peers)


def _working(conn: Connection, workspace: Workspace) -> bool:
    run = repo.get_task(conn, workspace.task_id).latest_run
    return run is not None and run.state in WORKING


def build(git: Git, wanted: Request, peers: PeerCache | None = None) -> Changes:
    """Blocking: every git call for one refresh of the task's Changes tab."""
    workspace = wanted.workspace
    cache = peers if peers is not None else PEERS
    with cache.reading(workspace.path) as found:  # a peer's refresh waits for this list
        review = git.review(Path(workspace.path), workspace.base_sha)
        found(frozenset(c.path for c in review.changes))
    diffs = split_diff(review.diff)
    files = tuple(
        ChangedFile(change, *count_lines(diffs.get(change.path, ""))) for change in review.changes
    )
    mine = frozenset(f.path for f in files)
    overlaps: dict[str, list[int]] = {}
    for peer in wanted.peers:
        for shared in sorted(mine & cache.files(git, peer)):
            overlaps.setdefault(shared, []).append(peer.task_id)
    return Changes(
        task_id=workspace.task_id,
        worktree=workspace.path,
        branch=workspace.branch,
        base=workspace.base,
        files=files,
        commits=review.commits,
        uncommitted=frozenset(c.path for c in review.uncommitted),
        diffs=diffs,
        overlaps={p: tuple(ids) for p, ids in overlaps.items()},
    )


class PeerCache:
    """Recently read file sets of worktrees, shared by every refresh (any thread).

    Reading one costs a pass over the whole worktree, so a list is read by one thread at
    a time: whoever else wants it meanwhile waits for that reading instead of starting
    another. Without that, twenty tabs refreshing together each read all nineteen peers
    (380 passes over 100,000 files instead of 20; tests/benchmarks/test_bench_worktrees).
    """

    def __init__(self, ttl_s: float = PEER_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._files: dict[str, tuple[float, frozenset[str]]] = {}
        self._reading: dict[str, Future[frozenset[str]]] = {}

    def put(self, worktree: str, files: frozenset[str]) -> None:
        with self._lock:
            self._files[worktree] = (time.monotonic(), files)

    @contextmanager
    def reading(self, worktree: str) -> Iterator[Callable[[frozenset[str]], None]]:
        """Read ``worktree``'s files inside (and hand them to the callable yielded):
        meanwhile :meth:`files` waits for them. A reading that fails leaves the waiters to
        read for themselves."""
        pending: Future[frozenset[str]] = Future()
        with self._lock:
            self._reading[worktree] = pending

        def found(files: frozenset[str]) -> None:
            self.put(worktree, files)
            pending.set_result(files)

        try:
            yield found
        finally:
            with self._lock:
                if self._reading.get(worktree) is pending:
                    del self._reading[worktree]
            if not pending.done():
                pending.cancel()

    def files(self, git: Git, workspace: Workspace) -> frozenset[str]:
        with self._lock:
            seen = self._files.get(workspace.path)
            pending = self._reading.get(workspace.path)
        if seen is not None and time.monotonic() - seen[0] < self.ttl_s:
            return seen[1]
        if pending is not None:
            with contextlib.suppress(CancelledError):
                return pending.result()
        with self.reading(workspace.path) as found:
            try:
                listed = git.changes(Path(workspace.path), workspace.base_sha)
            except GitError:  # its worktree is being removed or repaired: no warning from it
                listed = []
            files = frozenset(c.path for c in listed)
            found(files)
        return files


PEERS = PeerCache()


# --- the unified diff, file by file -----------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f",
            "r": "\r", "v": "\v"}  # fmt: skip


def split_diff(text: str) -> dict[str, str]:
    """A unified diff of several files as path -> that file's part (header included).
    The path is the file's name after the change (before it, for a deletion)."""
    parts: dict[str, str] = {}
    chunk: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("diff --git ") and chunk:
            parts[_path_of(chunk)] = "".join(chunk)
            chunk = []
        chunk.append(line)
    if chunk:
        parts[_path_of(chunk)] = "".join(chunk)
    return parts


def count_lines(diff: str) -> tuple[int | None, int | None]:
    """Lines added and removed in one file's part of a diff; (None, None) for a binary file
    (or none at all). Counted from the diff shown, so the counts always match it."""
    if not diff or ("\nBinary files " in diff and "\n@@ " not in diff):
        return None, None
    added = removed = 0
    in_hunk = False
    for line in diff.splitlines():
        if line.startswith("@@ "):
            in_hunk = True
        elif in_hunk and line.startswith("+"):
            added += 1
        elif in_hunk and line.startswith("-"):
            removed += 1
    return added, removed


def _path_of(chunk: list[str]) -> str:
    new = old = renamed = None
    for line in chunk[1:]:
        if line.startswith("@@"):
            break
        body = line.rstrip("\n")
        if body.startswith("+++ ") and body != "+++ /dev/null":
            new = _unquote(body[4:]).removeprefix("b/")
        elif body.startswith("--- ") and body != "--- /dev/null":
            old = _unquote(body[4:]).removeprefix("a/")
        elif body.startswith("rename to "):
            renamed = _unquote(body[len("rename to ") :])
    return new or renamed or old or _header_path(chunk[0].rstrip("\n"))


def _header_path(header: str) -> str:
    """``diff --git a/X b/X`` when nothing else names the file (a mode change, a binary)."""
    names = header.removeprefix("diff --git ")
    half = (len(names) - 1) // 2
    return _unquote(names[half + 1 :]).removeprefix("b/")


def _unquote(name: str) -> str:
    """Git's C-style quoting of an unusual file name ("a/t\\303\\251st" → a/tést). An
    unquoted name with a space ends in a tab on the ---/+++ lines (for GNU patch)."""
    if not (name.startswith('"') and name.endswith('"')):
        return name.removesuffix("\t")
    raw = bytearray()
    for piece in re.split(r"(\\(?:[0-7]{3}|.))", name[1:-1]):
        if piece.startswith("\\") and len(piece) == 4 and piece[1:].isdigit():
            raw.append(int(piece[1:], 8))
        elif piece.startswith("\\") and len(piece) == 2:
            raw += _ESCAPES.get(piece[1], piece[1]).encode()
        else:
            raw += piece.encode()
    return raw.decode("utf-8", errors="replace")
