"""The core of a crash-safe file write, with nothing but ``os``: a private temp file
beside the target, written and fsynced, renamed over the target, then the folder fsynced.

:mod:`app.store.fsops` wraps it with Windows retries and errors that say what to do;
the runner uses it bare, because it must stay small for the hours it waits beside its
agent (DESIGN §3): this module imports only what every Python has loaded at start-up.
"""

from __future__ import annotations

import errno
import os
import stat
import sys

IS_WINDOWS = sys.platform == "win32"

# Private by default (POSIX): what Agentry keeps (prompts, output, settings, the database)
# is readable by its user alone, whatever the umask. Modes are set on each file and folder
# as it is made, never through the process umask, which the agents would inherit.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700

# Filesystems that cannot fsync a directory say so with these; durability is then the
# filesystem's business and there is nothing useful we can do.
DIR_FSYNC_REFUSED = frozenset(
    {errno.EINVAL, errno.EBADF, getattr(errno, "ENOTSUP", -1), getattr(errno, "EOPNOTSUPP", -1)}
)


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open` that makes a new file 0600 whatever the umask, and
    tightens an existing one of ours that an older Agentry left readable to others.

    Never logs: the log file handler opens its files through it.
    """
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    if not IS_WINDOWS:
        try:
            if stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE_FILE_MODE:
                os.fchmod(fd, PRIVATE_FILE_MODE)
        except PermissionError:
            pass  # another user's file we may write to: its mode is theirs to set
    return fd


def make_private_dirs(path: str) -> None:
    """``mkdir -p`` where every folder made is 0700 whatever the umask; folders that exist
    are left as they are. Raises ``NotADirectoryError`` when ``path`` is something else."""
    missing = []
    walk = os.path.abspath(path)
    while not os.path.exists(walk) and os.path.dirname(walk) != walk:
        missing.append(walk)
        walk = os.path.dirname(walk)
    for made in reversed(missing):
        try:
            os.mkdir(made, PRIVATE_DIR_MODE)  # the umask may still take bits away ...
        except FileExistsError:
            continue  # ... made meanwhile by another process of ours, which sets its mode
        if not IS_WINDOWS:
            os.chmod(made, PRIVATE_DIR_MODE)  # ... so the mode is set exactly
    if not os.path.isdir(path):
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", path)


def temp_name(path: str) -> str:
    """A fresh temp path beside ``path``: same folder (so the rename stays on one device),
    hidden, and carrying this process's pid so cleanup can tell if the writer is alive."""
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def write_temp(tmp: str, payload: bytes) -> None:
    """Create ``tmp`` (never reusing an existing file), private, and make its content durable."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = private_opener(tmp, flags)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str) -> None:
    """Make a rename in ``path`` durable by fsyncing the folder itself.

    A no-op on Windows (a folder cannot be opened for fsync; NTFS journals the rename);
    filesystems that refuse with EINVAL/EBADF/ENOTSUP are ignored for the same reason.
    """
    if IS_WINDOWS:
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in DIR_FSYNC_REFUSED:
            raise
    finally:
        os.close(fd)


def replace(path: str, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` so that readers and crashes see old or new, never
    half; on failure the temp file is removed and the target keeps its old content.
    Missing folders are made, private. No retries: a caller that may meet a locked file
    retries itself."""
    make_private_dirs(os.path.dirname(path) or ".")
    tmp = temp_name(path)
    try:
        write_temp(tmp, payload)
        os.replace(tmp, path)
    except BaseException:
        try:  # noqa: SIM105 - contextlib would import collections and functools
            os.unlink(tmp)
        except OSError:
            pass  # never made, or gone: the real error is the one to raise
        raise
    fsync_dir(os.path.dirname(path) or ".")
