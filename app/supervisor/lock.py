"""One supervisor per data folder: a filelock plus a note of who holds it."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Literal

import filelock
import psutil

from app.core.errors import AgentryError
from app.core.locations import Locations
from app.runner import procs
from app.store import diskspace, fsops

LOCK_MODE = fsops.PRIVATE_FILE_MODE  # filelock makes its file 0644 unless told otherwise

SupervisorMode = Literal["headless", "cli", "gui"]
"""Who hosts a supervisor: `agentry serve`, a CLI command waiting for its run, the app."""


class AlreadyRunning(AgentryError, RuntimeError):
    """Another Agentry supervisor holds this data folder; the message says which."""

    exit_code = 2  # as for a usage error: nothing was done

    def __init__(self, locations: Locations, holder: dict[str, Any] | None) -> None:
        self.holder = holder
        super().__init__(describe_holder(locations, holder))


def describe_holder(locations: Locations, holder: dict[str, Any] | None) -> str:
    where = locations.data
    if not holder:
        return f"Another Agentry supervisor is already running for {where}."
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started_at", 0)))
    return (
        f"Another Agentry supervisor is already running for {where}: pid {holder.get('pid')} "
        f"({holder.get('mode', '?')}, started {since} on {holder.get('host', '?')}). "
        f"Use that one, or stop it first."
    )


class InstanceLock:
    def __init__(self, locations: Locations, mode: SupervisorMode) -> None:
        self.locations = locations
        self.mode = mode
        self._lock = filelock.FileLock(str(locations.lock), mode=LOCK_MODE, thread_local=False)

    def acquire(self) -> None:
        """Take the data folder. Raises AlreadyRunning, or DataFolderError when the folder
        cannot be written (a full disk, a read-only mount): nothing is held then."""
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            raise AlreadyRunning(self.locations, read_holder(self.locations)) from None
        except OSError as exc:  # the lock file cannot even be created
            raise diskspace.folder_error(exc, self.locations.data) from exc
        me = psutil.Process()
        try:
            fsops.write_json(
                self.locations.holder,
                {
                    "pid": me.pid,
                    "create_time": procs.start_stamp(me),
                    "mode": self.mode,
                    "started_at": time.time(),
                    "host": socket.gethostname(),
                    "argv": sys.argv,
                },
            )
        except OSError as exc:
            self._lock.release()
            raise diskspace.folder_error(exc, self.locations.data) from exc

    def release(self) -> None:
        if not self._lock.is_locked:
            return
        try:
            holder = read_holder(self.locations)
            if holder and holder.get("pid") == os.getpid():
                self.locations.holder.unlink()
        except OSError:
            pass
        self._lock.release()

    @property
    def held(self) -> bool:
        return self._lock.is_locked


def read_holder(locations: Locations) -> dict[str, Any] | None:
    try:
        data = fsops.read_json(locations.holder)
    except (FileNotFoundError, fsops.CorruptFileError):
        return None
    return data if isinstance(data, dict) else None


def running_holder(locations: Locations) -> dict[str, Any] | None:
    """The holder note, only if that process is still alive (the note may be stale)."""
    holder = read_holder(locations)
    if holder and procs.is_alive(holder.get("pid"), holder.get("create_time")):
        return holder
    return None


def is_locked(path: Path) -> bool:
    probe = filelock.FileLock(str(path), mode=LOCK_MODE, thread_local=False)
    try:
        probe.acquire(timeout=0)
    except filelock.Timeout:
        return True
    probe.release()
    return False


__all__ = [
    "AlreadyRunning",
    "InstanceLock",
    "SupervisorMode",
    "is_locked",
    "read_holder",
    "running_holder",
]
