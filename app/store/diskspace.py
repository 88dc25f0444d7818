"""Full and read-only disks, told apart and said plainly.

A full disk and a read-only folder are the person's to fix, not bugs: every place that
writes in the data folder (the supervisor's lock note, the log file, a run folder, the
database) turns them into one message that names the folder, says how much is free and
what to do. Only the standard library, like :mod:`app.store.fsops`.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import AgentryError

FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
READ_ONLY_ERRNOS = frozenset({errno.EROFS})
NEARLY_FULL_BYTES = 256 * 1024
"""Below this, a write that failed without a clear errno is put down to a full disk."""


class DataFolderError(AgentryError):
    """Agentry cannot write in its data folder (full, read-only); the message says which
    folder, how much is free and what to do."""


@dataclass(frozen=True)
class DiskState:
    """What the file system holding a folder can take right now."""

    folder: Path
    free: int | None  # bytes; None when it cannot be read
    total: int | None
    read_only: bool

    def describe_free(self) -> str:
        if self.free is None or self.total is None:
            return "free space unknown"
        return f"{format_size(self.free)} free of {format_size(self.total)}"


def disk_state(folder: Path) -> DiskState:
    """The free space and writability of the file system holding ``folder`` (or its
    nearest existing parent: a folder that is not made yet lives there)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    import shutil  # here: importing it (zlib, bz2, lzma) is 2 ms of every `agentry run`

    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return DiskState(folder, None, None, _mounted_read_only(probe))
    return DiskState(folder, usage.free, usage.total, _mounted_read_only(probe))


def _mounted_read_only(folder: Path) -> bool:
    statvfs = getattr(os, "statvfs", None)
    if statvfs is None:  # Windows: a read-only volume shows as errors, not as a flag
        return False
    try:
        return bool(statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def os_errno(exc: BaseException) -> int | None:
    """The errno of ``exc`` or of the OS error it wraps (FileOperationError, a cause)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        wrapped = getattr(seen, "os_error", None)
        if isinstance(wrapped, OSError) and wrapped.errno is not None:
            return wrapped.errno
        seen = seen.__cause__ or seen.__context__
    return None


def trouble(folder: Path, exc: BaseException | None = None) -> str | None:
    """Says "disk full (…)" or "read-only (…)", a clause naming ``folder`` and its free space,
    when that is why a write in it failed (``exc``) or would fail; else None."""
    state = disk_state(folder)
    code = os_errno(exc) if exc is not None else None
    if code in READ_ONLY_ERRNOS or state.read_only:
        return f"read-only ({folder} is on a read-only file system; {state.describe_free()})"
    nearly_full = state.free is not None and state.free < NEARLY_FULL_BYTES
    if code in FULL_ERRNOS or nearly_full:
        return f"disk full ({state.describe_free()} on the disk holding {folder})"
    return None


def advice(folder: Path, exc: BaseException | None = None) -> str:
    """What to do about ``trouble(folder, exc)``."""
    failed_read_only = exc is not None and os_errno(exc) in READ_ONLY_ERRNOS
    if failed_read_only or disk_state(folder).read_only:
        return (
            "Remount it read-write (or fix its permissions), or point AGENTRY_HOME at a "
            "writable folder"
        )
    return (
        "Free some space on that disk (old run folders, caches, downloads), or point "
        "AGENTRY_HOME at a folder on another disk"
    )


def describe(exc: BaseException, folder: Path) -> str:
    """A failed write in ``folder`` as one sentence a person can act on."""
    what = trouble(folder, exc)
    if what is None:
        state = disk_state(folder)
        return (
            f"Agentry cannot write in {folder} ({exc}; {state.describe_free()}). Check "
            "that the folder exists and is writable, and that the disk is healthy."
        )
    return f"Agentry cannot write in {folder}: {what}. {advice(folder, exc)}."


def folder_error(exc: BaseException, folder: Path) -> DataFolderError:
    """``exc`` as the AgentryError the CLI prints and the app's error screen shows."""
    return DataFolderError(describe(exc, folder))


def is_disk_trouble(exc: BaseException) -> bool:
    """Whether ``exc`` is a full disk or a read-only file system."""
    return os_errno(exc) in FULL_ERRNOS | READ_ONLY_ERRNOS


def format_size(size: float) -> str:
    if size < 1024:
        return f"{size:.0f} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} TiB"
