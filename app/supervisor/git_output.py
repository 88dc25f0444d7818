"""What git prints, read into records: worktree lists, status, name-status and numstat.

Pure functions with no git to run, so every quirk of git's output (renames, NUL-separated
names with spaces and newlines, binary files, conflicts) is tested on its own;
:mod:`app.supervisor.git` runs the commands and hands their output here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

NULL_SHA = "0" * 40
ChangeStatus = Literal["added", "modified", "deleted", "renamed", "untracked", "conflicted"]
UNMERGED = frozenset({"DD", "AU", "UD", "UA", "DU", "AA", "UU"})


@dataclass(frozen=True)
class WorktreeInfo:
    path: Path
    head: str | None  # None before the first commit of its branch
    branch: str | None  # short name ("main"); None when HEAD is detached
    locked: str | None = None  # the lock reason ("" without one); "initializing": half-made


@dataclass(frozen=True)
class FileChange:
    path: str
    status: ChangeStatus
    old_path: str | None = None  # for "renamed"


@dataclass(frozen=True)
class Review:
    """A worktree against the merge-base with its base, read in one go (``Git.review``)."""

    changes: tuple[FileChange, ...]  # as Git.changes: committed, uncommitted, untracked
    diff: str  # as Git.diff
    uncommitted: tuple[FileChange, ...]  # as Git.status
    commits: tuple[tuple[str, str], ...]  # as Git.commits


@dataclass(frozen=True)
class DiffStat:
    path: str
    added: int | None  # None for a binary file
    removed: int | None


def short_branch(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


# --- parsers (pure, so every quirk is tested without git) ----------------------------------


def parse_worktrees(text: str, sep: str = "\0") -> list[WorktreeInfo]:
    """``git worktree list --porcelain`` (``-z``: sep "\\0"): records of "key value" lines,
    each record ended by an empty line."""
    found: list[WorktreeInfo] = []
    record: dict[str, str] = {}
    for line in text.split(sep):
        if line:
            key, _, value = line.partition(" ")
            record[key] = value
            continue
        if "worktree" in record:
            found.append(_worktree_info(record))
        record = {}
    if "worktree" in record:
        found.append(_worktree_info(record))
    return found


def _worktree_info(record: dict[str, str]) -> WorktreeInfo:
    head = record.get("HEAD")
    branch = record.get("branch")
    return WorktreeInfo(
        path=Path(record["worktree"]),
        head=head if head and head != NULL_SHA else None,
        branch=short_branch(branch) if branch else None,
        locked=record.get("locked"),
    )


def parse_status(text: str) -> list[FileChange]:
    """``git status --porcelain=v1 -z``: "XY path", and for a rename or copy "XY new" then
    the old path as the next field. X is the index against HEAD, Y the worktree against
    the index."""
    fields = text.split("\0")
    changes: list[FileChange] = []
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        xy, path = entry[:2], entry[3:]
        old = None
        if xy[0] in "RC":
            old, i = fields[i], i + 1
        changes.append(FileChange(path, _status_of(xy), old if xy[0] == "R" else None))
    return changes


def _status_of(xy: str) -> ChangeStatus:
    if xy == "??":
        return "untracked"
    if xy in UNMERGED:
        return "conflicted"
    if xy[0] == "R":
        return "renamed"
    if "A" in xy or xy[0] == "C":
        return "added"
    if "D" in xy:
        return "deleted"
    return "modified"


def parse_name_status(text: str) -> list[FileChange]:
    """``git diff --name-status -z``: a status letter (with a score for R and C) then the
    path, or the old and the new path for R and C."""
    fields = text.split("\0")
    changes: list[FileChange] = []
    i = 0
    while i < len(fields):
        letter = fields[i][:1]
        if not letter or i + 1 >= len(fields):
            break
        if letter in "RC":
            old, path, i = fields[i + 1], fields[i + 2], i + 3
            changes.append(
                FileChange(
                    path, "renamed" if letter == "R" else "added", old if letter == "R" else None
                )
            )
            continue
        changes.append(FileChange(fields[i + 1], _NAME_STATUS.get(letter, "modified")))
        i += 2
    return changes


_NAME_STATUS: dict[str, ChangeStatus] = {"A": "added", "D": "deleted", "U": "conflicted"}


def parse_numstat(text: str) -> list[DiffStat]:
    """``git diff --numstat -z``: "added<TAB>removed<TAB>path", or for a rename (and for
    ``--no-index`` against /dev/null) "added<TAB>removed<TAB>" then the old and the new
    path as fields. Binary files count "-"."""
    fields = text.split("\0")
    stats: list[DiffStat] = []
    i = 0
    while i < len(fields):
        if not fields[i]:
            i += 1
            continue
        added, removed, path = fields[i].split("\t", 2)
        i += 1
        if not path:
            path, i = fields[i + 1], i + 2
        stats.append(DiffStat(path, _count(added), _count(removed)))
    return stats


def _count(text: str) -> int | None:
    return None if text == "-" else int(text)
