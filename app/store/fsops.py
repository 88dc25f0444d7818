"""Crash-safe writes and careful reads of the small state files Agentry keeps on disk.

Every state file (``runner.json``, ``exit.json`` and friends) is written the same way:
a temp file beside the target, written, flushed and fsynced, then renamed over the target,
then the folder is fsynced where the OS allows (DESIGN §8). A reader therefore sees either
the old file or the new one, never half of either, even if the writer is killed mid-write.

Windows makes the rename flaky: antivirus, search indexers and backup tools hold freshly
written files open for a while, so sharing violations are retried with a capped
exponential backoff. Renames across devices are refused rather than emulated by a copy,
because a copy is not atomic.

The core of a write (temp file, fsync, rename, folder fsync) is :mod:`app.core.atomicfile`,
which the runner uses bare while it waits small beside its agent; this module wraps it
with retries and errors that say what to do. It uses only the stdlib and
:mod:`app.core` (the Windows runner writes its records through it).
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.core import atomicfile
from app.core.atomicfile import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, private_opener
from app.core.log import get_logger
from app.core.platform import (
    IS_WINDOWS,
    can_fsync_directory,
    is_transient_fs_error,
    os_error_code,
)

logger = get_logger(__name__)

StrPath = str | os.PathLike[str]

# ".{name}.{pid}.{token}.tmp": the writer's pid lets cleanup tell whether it is still alive.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]+)\.tmp$")

# When we cannot tell whether a writer is alive, its temp file is only removed once it is
# this old: no atomic write takes an hour.
UNSURE_TEMP_MAX_AGE_SECONDS = 3600.0

_RETRY_ADVICE = (
    "Another program (antivirus, search indexer, backup tool or an editor) is probably "
    "holding the file open; close it or wait a moment and try again."
)
_DEVICE_ADVICE = (
    "A state file must be written beside its target, in the same folder, so the rename is "
    "atomic; Agentry never copies state files across devices. Check that the data folder "
    "was not moved or remounted during the write and try again."
)
_ERRNO_ADVICE = {
    errno.ENOSPC: "The disk is full; free some space and try again.",
    errno.EROFS: "The file system is read-only; choose a writable data folder.",
    errno.ENOENT: "The folder or temp file disappeared during the write; check that the "
    "data folder still exists.",
}
_DEFAULT_ADVICE = "Check that the folder exists, is writable and that the disk is healthy."


class FileOperationError(OSError):
    """A file operation on a state file failed for good.

    Carries everything a user or a bug report needs: the path, the operation
    (``replace``, ``write``, ``fsync``, ``mkdir``), how many attempts were made and the
    underlying OS error, and its message ends with what to do about it.
    """

    def __init__(
        self,
        path: StrPath,
        operation: str,
        attempts: int,
        os_error: OSError | None = None,
        source: StrPath | None = None,
        detail: str | None = None,
        advice: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.operation = operation
        self.attempts = attempts
        self.os_error = os_error
        self.source = Path(source) if source is not None else None
        self.detail = detail
        self.advice = advice or _advice_for(os_error)
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = str(self.path)
        if self.source is not None:
            via = "from" if self.operation == "replace" else "temp file"
            where += f" ({via} {self.source})"
        noun = "attempt" if self.attempts == 1 else "attempts"
        message = f"could not {self.operation} {where} after {self.attempts} {noun}"
        if self.detail:
            message += f": {self.detail}"
        elif self.os_error is not None:
            message += f": {_error_text(self.os_error)}"
        return f"{message}. {self.advice}"

    def __str__(self) -> str:
        return self._describe()

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError pickles its args, which here are the message; rebuild from the fields.
        fields = (self.path, self.operation, self.attempts, self.os_error)
        return (type(self), (*fields, self.source, self.detail, self.advice))


class CorruptFileError(ValueError):
    """A state file exists but cannot be decoded; it is left as it is for inspection."""

    def __init__(self, path: StrPath, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(self.path, reason)

    def __str__(self) -> str:
        return f"{self.path} is not valid JSON ({self.reason}); the file was kept for inspection"


def _error_text(exc: OSError) -> str:
    """The OS error's own text, with its short code (e.g. ``EACCES``) added if missing."""
    code = os_error_code(exc)
    text = str(exc)
    return text if code in text else f"{text} ({code})"


def _advice_for(exc: OSError | None) -> str:
    """What to do about a permanent error, judged by its errno."""
    if exc is not None and exc.errno in _ERRNO_ADVICE:
        return _ERRNO_ADVICE[exc.errno]
    return _DEFAULT_ADVICE


@contextmanager
def _as_file_error(path: StrPath, operation: str, source: StrPath | None = None) -> Iterator[None]:
    """Turn a bare OSError from one step into a FileOperationError naming the step."""
    try:
        yield
    except FileOperationError:
        raise
    except OSError as exc:
        raise FileOperationError(path, operation, 1, exc, source=source) from exc


def touch_private(path: StrPath) -> None:
    """Create ``path`` empty and 0600 if it is missing (never truncating it), e.g. so a
    program that copies the mode of a file it finds (SQLite's WAL) copies a private one."""
    os.close(private_opener(os.fspath(path), os.O_WRONLY | os.O_CREAT))


def make_private_dir(path: StrPath) -> Path:
    """``mkdir -p`` where every folder made is 0700 whatever the umask; folders that exist
    are left as they are (see :func:`make_private`). Raises ``NotADirectoryError`` when
    ``path`` is something else."""
    atomicfile.make_private_dirs(os.fspath(path))
    return Path(path)


def make_private(path: StrPath) -> bool:
    """Tighten an existing file to 0600 or folder to 0700 (POSIX); True if it changed.

    A missing path, or one that is another user's, is left alone (False). Symlinks are
    not followed: what one points to is not ours to change.
    """
    if IS_WINDOWS:
        return False  # the per-user profile folders already restrict access
    try:
        info = os.lstat(path)
        if info.st_uid != os.getuid():
            return False
        if stat.S_ISDIR(info.st_mode):
            wanted = PRIVATE_DIR_MODE
        elif stat.S_ISREG(info.st_mode):
            wanted = PRIVATE_FILE_MODE
        else:
            return False
        if stat.S_IMODE(info.st_mode) == wanted:
            return False
        os.chmod(path, wanted)
    except FileNotFoundError:
        return False
    return True


def temp_path_for(path: Path) -> Path:
    """A fresh temp path beside ``path``: same folder (so the rename stays on one device),
    hidden, and carrying this process's pid so cleanup can tell if the writer is alive."""
    return Path(atomicfile.temp_name(os.fspath(path)))


def _device_of(path: StrPath) -> int:
    """The device a path lives on; a separate function so tests can fake a second device."""
    return os.stat(path).st_dev


def _check_same_device(src: StrPath, dst: StrPath, attempt: int) -> None:
    """Refuse a rename whose source and destination folder are on different devices.

    Checked before every attempt, not once: a folder can be remounted between two writes.
    """
    folder = os.path.dirname(os.path.abspath(dst))
    src_device = _device_of(src)
    dst_device = _device_of(folder)
    if src_device != dst_device:
        detail = (
            f"the source is on device {src_device} but the destination folder {folder} "
            f"is on device {dst_device}"
        )
        raise FileOperationError(
            dst, "replace", attempt, source=src, detail=detail, advice=_DEVICE_ADVICE
        )


def replace_with_retry(
    src: StrPath,
    dst: StrPath,
    *,
    attempts: int = 10,
    initial_delay: float = 0.05,
    max_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    windows: bool = IS_WINDOWS,
) -> None:
    """Atomically rename ``src`` over ``dst``, retrying errors that are usually transient.

    Sharing violations and access-denied errors (antivirus, indexers) are retried with an
    exponential backoff from ``initial_delay`` doubling up to ``max_delay``, ``attempts``
    tries in total; anything else fails at once. Raises :class:`FileOperationError`.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    delay = initial_delay
    last_error: OSError | None = None
    for attempt in range(1, attempts + 1):
        try:
            _check_same_device(src, dst, attempt)
            os.replace(src, dst)
            return
        except FileOperationError:
            raise
        except OSError as exc:
            last_error = exc
            transient = is_transient_fs_error(exc, windows=windows)
            _log_failed_attempt(dst, attempt, attempts, exc, transient, delay)
            if not transient:
                raise FileOperationError(dst, "replace", attempt, exc, source=src) from exc
        if attempt < attempts:
            sleep(delay)
            delay = min(delay * 2, max_delay)
    assert last_error is not None
    raise FileOperationError(
        dst, "replace", attempts, last_error, source=src, advice=_RETRY_ADVICE
    ) from last_error


def _log_failed_attempt(
    dst: StrPath, attempt: int, attempts: int, exc: OSError, transient: bool, delay: float
) -> None:
    """One warning per failed rename, so slow or stuck writes show up in the log."""
    if not transient:
        outcome = "not retrying"
    elif attempt < attempts:
        outcome = f"retrying in {delay:.2f} s"
    else:
        outcome = "giving up"
    logger.warning(
        "could not replace %s (attempt %d/%d, %s: %s); %s",
        dst,
        attempt,
        attempts,
        os_error_code(exc),
        exc,
        outcome,
    )


def _write_temp(tmp: Path, payload: bytes, target: Path) -> None:
    """Create ``tmp`` (never reusing an existing file) and make its content durable."""
    with (
        _as_file_error(target, "write", source=tmp),
        open(tmp, "xb", opener=private_opener) as stream,
    ):
        stream.write(payload)
        stream.flush()
        with _as_file_error(target, "fsync", source=tmp):
            os.fsync(stream.fileno())


def _remove_quietly(path: Path) -> None:
    """Best-effort removal of a temp file after a failed write; never masks the real error."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno == errno.EROFS and not os.path.lexists(path):
            return  # a read-only folder, where the temp file was never made
        logger.warning("could not remove temp file %s: %s", path, exc)


def atomic_write(path: StrPath, data: bytes | str, *, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``data`` so that readers and crashes see old or new, never half.

    The file is 0600 and missing parent folders are made 0700 (handy for new run
    folders). On any failure the temp file is removed and the target keeps its old content
    (or stays absent).
    """
    target = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    with _as_file_error(target.parent, "mkdir"):
        make_private_dir(target.parent)
    tmp = temp_path_for(target)
    try:
        _write_temp(tmp, payload, target)
        replace_with_retry(tmp, target)
    except BaseException:
        _remove_quietly(tmp)
        raise
    fsync_dir(target.parent)


def write_json(path: StrPath, obj: Any) -> None:
    """Atomically write ``obj`` as human-readable UTF-8 JSON (keys in the caller's order).

    Serialising first means an unserialisable object never touches the disk.
    """
    # Strict JSON: NaN or Infinity would make a file no other JSON reader accepts.
    text = json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write(path, text.encode("utf-8"))


def read_json(path: StrPath) -> Any:
    """Read a JSON state file.

    A missing file raises :class:`FileNotFoundError` unchanged (callers treat it as "not
    written yet"); undecodable content raises :class:`CorruptFileError` and the file is
    left untouched so it can be inspected. A UTF-8 byte-order mark is tolerated.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8: byte {raw[exc.start]:#04x} at offset {exc.start}, {exc.reason}"
        raise CorruptFileError(path, reason) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptFileError(path, f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:
        raise CorruptFileError(path, str(exc) or type(exc).__name__) from exc


def fsync_dir(path: StrPath) -> None:
    """Make a rename in ``path`` durable by fsyncing the folder itself.

    A no-op where the OS cannot open folders for fsync (Windows: NTFS journals the rename);
    filesystems that refuse with EINVAL/EBADF/ENOTSUP are ignored for the same reason.
    """
    if not can_fsync_directory():
        return
    with _as_file_error(path, "fsync"):
        atomicfile.fsync_dir(os.fspath(path))


WriterCheck = Callable[[int], bool | None]
"""Whether the process with a pid is running; None when that cannot be told."""


def cleanup_temp_files(folder: StrPath, *, writer_alive: WriterCheck) -> list[Path]:
    """Remove temp files left in ``folder`` (not recursive) by writers that have died.

    Temp files of live writers (including this process) are kept: they are about to be
    renamed. ``writer_alive`` answers for a writer's pid (the caller owns process checks:
    the supervisor passes psutil's); where it cannot tell, only a temp file older than
    any atomic write takes is removed. Returns the removed paths; a file that cannot be
    removed is logged and skipped. A missing folder has nothing to clean.
    """
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    removed: list[Path] = []
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        if _writer_is_gone(int(match["pid"]), entry, now, writer_alive) and _remove_stale(
            Path(entry.path)
        ):
            removed.append(Path(entry.path))
    return removed


def _remove_stale(path: Path) -> bool:
    """Remove one leftover temp file; False (and a warning) if it could not be removed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False  # another cleaner got there first
    except OSError as exc:
        logger.warning("could not remove leftover temp file %s: %s", path, exc)
        return False
    logger.info("removed leftover temp file %s", path)
    return True


def _writer_is_gone(
    pid: int, entry: os.DirEntry[str], now: float, writer_alive: WriterCheck
) -> bool:
    """Whether the process that wrote a temp file has exited; unsure means old enough."""
    if pid == os.getpid():
        return False
    running = writer_alive(pid)
    if running is not None:
        return not running
    try:
        age = now - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    return age > UNSURE_TEMP_MAX_AGE_SECONDS


def link_or_copy(target: Path, link: Path) -> str:
    """Make ``link`` show ``target``: a symlink, else (Windows without the privilege to
    make symlinks) a junction for a folder or a hard link for a file, else a copy.

    Returns how it was done ("symlink", "junction", "hardlink" or "copy"). Used to show an
    agent its real configuration folder's contents from a folder of Agentry's (e.g. Gemini
    CLI's home with Agentry's hook settings), so what the agent writes there lands in the
    real place. A copy is the last resort: writes to it stay in the run folder.
    """
    make_private_dir(link.parent)
    is_dir = target.is_dir()
    with _as_file_error(link, "link", target):
        try:
            os.symlink(target, link, target_is_directory=is_dir)
            return "symlink"
        except OSError:
            if not IS_WINDOWS:
                raise
        if is_dir:
            import _winapi  # Windows only

            _winapi.CreateJunction(str(target), str(link))  # type: ignore[attr-defined]
            return "junction"
        try:
            os.link(target, link)
            return "hardlink"
        except OSError:
            import shutil

            shutil.copy2(target, link)
            return "copy"


def aside_name(path: Path, label: str, sidecars: tuple[str, ...] = ()) -> Path:
    """Where to keep ``path`` aside: ``<name>.<label>-<time>``, with ``-2``, ``-3``… so an
    earlier kept copy (or one of its ``sidecars``, e.g. SQLite's ``-wal``) is never
    overwritten."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 1
    while any(kept.with_name(kept.name + s).exists() for s in ("", *sidecars)):
        n += 1
        kept = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
    return kept
