"""Woken by file changes in run folders (issue #14), with a bounded poll where they fail.

One watchdog observer (inotify, FSEvents/kqueue, ReadDirectoryChangesW) watches a set of
*individual* run folders, never the whole ``runs/`` tree: 100,000 run folders would exhaust
the kernel's watches, and only live or followed runs have news. Each folder gets one watch
whose events are the union of what its subscribers asked for (two watches on one folder
would replace each other's inotify mask). A folder appearing-only watch never hears the
agent's writes, so sixty quiet agents cost no wake-ups.

Callbacks run on the observer's thread (or the poll thread): a consumer on an event loop
hops to it with ``loop.call_soon_threadsafe`` (:func:`on_loop`) and nothing else, which is
also the one way qasync delivers reliably. If the observer cannot start or a folder cannot
be watched (the inotify limit, a network file system, an unsupported platform), that
folder is polled every :data:`POLL_S` instead and the log says so once, as a warning. A
folder that does not exist yet (a queued run's) is polled until it does, then watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import (
    EventsLostEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from app.core.log import get_logger
from app.runner import protocol

log = get_logger(__name__)

POLL_S = 0.1
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name


def _one_event(wd: int, mask: int, name: bytes) -> bytes:
    """The bytes of one inotify event as Linux writes it: the name NUL-padded to a multiple
    of the header's size (a guess elsewhere costs only the fast path)."""
    padded = (len(name) // _EVENT.size + 1) * _EVENT.size
    return _EVENT.pack(wd, mask, 0, padded) + name.ljust(padded, b"\0")


ANYTHING = ""  # the name a callback gets when anything in the folder may have changed

Callback = Callable[[Path, str], None]  # (folder, file name or ANYTHING)
ObserverFactory = Callable[[], Any]  # a started-later watchdog BaseObserver

APPEAR: list[type[FileSystemEvent]] = [FileCreatedEvent, FileMovedEvent]
CHANGE: list[type[FileSystemEvent]] = [*APPEAR, FileModifiedEvent]

_Stamp = tuple[int, int, int] | None


def default_observer() -> Any:
    from watchdog.observers import Observer  # the platform's own, chosen at import

    return Observer()


@dataclass(eq=False)
class Subscription:
    """One consumer's interest in some files of one folder; give it back to ``unwatch``."""

    folder: Path
    names: frozenset[str]
    on_change: Callback
    modified: bool  # False: only files appearing (created, or moved into place)


@dataclass
class _Folder:
    subs: list[Subscription] = field(default_factory=list)
    watch: Any = None  # the observer's ObservedWatch, when notifications work here
    modified: bool = False  # what the watch asks for
    stamps: dict[str, _Stamp] | None = None  # polled: the files' last (ino, size, mtime)
    missing: bool = False  # polled because the folder is not there yet


class FolderWatcher:
    """Calls back when a named file in a watched folder changes or appears."""

    def __init__(self, observer: ObserverFactory = default_observer, poll_s: float = POLL_S):
        self._factory = observer
        self._poll_s = poll_s
        self._observer: Any = None
        self._folders: dict[str, _Folder] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        self._warned = False
        self._started = False

    def start(self) -> None:
        self._started = True
        self._stopping.clear()
        try:
            observer = self._factory()
            observer.start()
        except Exception as exc:  # no watchdog, or its observer cannot run here
            self._fall_back(f"file-change notifications are unavailable ({exc})")
            return
        self._observer = observer

    def stop(self) -> None:
        """Stop the observer and the poll threads; callbacks no longer come. Idempotent."""
        self._stopping.set()
        with self._lock:
            self._folders.clear()
            observer, self._observer = self._observer, None
            poller, self._poller = self._poller, None
        if observer is not None:
            observer.stop()
            observer.join()
        if poller is not None:
            poller.join()
        self._started = False

    @property
    def polled(self) -> frozenset[Path]:
        """Folders watched by polling now (missing ones included)."""
        with self._lock:
            return frozenset(Path(k) for k, f in self._folders.items() if f.stamps is not None)

    def watch(
        self, folder: Path, names: frozenset[str], on_change: Callback, *, modified: bool = False
    ) -> Subscription:
        """Call ``on_change(folder, name)`` when one of ``names`` appears there (or, with
        ``modified``, is written to); from another thread."""
        sub = Subscription(folder, names, on_change, modified)
        key = os.path.normpath(folder)
        with self._lock:
            entry = self._folders.setdefault(key, _Folder())
            entry.subs.append(sub)
            recheck = self._arrange(key, entry)
        self._notify(recheck, ANYTHING)
        return sub

    def unwatch(self, sub: Subscription) -> None:
        key = os.path.normpath(sub.folder)
        recheck: list[Subscription] = []
        with self._lock:
            entry = self._folders.get(key)
            if entry is None or sub not in entry.subs:
                return
            entry.subs.remove(sub)
            if entry.subs:
                recheck = self._arrange(key, entry)
            else:
                del self._folders[key]
                self._drop_watch(entry)
        self._notify(recheck, ANYTHING)

    # ------------------------------------------------------------------ notifications

    def _arrange(self, key: str, entry: _Folder) -> list[Subscription]:
        """Give the folder the watch its subscribers need (under the lock); returns who
        must look again because an event may have slipped between two watches."""
        modified = any(sub.modified for sub in entry.subs)
        if entry.watch is not None and entry.modified == modified:
            return []
        rewatched = entry.watch is not None
        self._drop_watch(entry)
        entry.missing = not os.path.isdir(key)
        if self._observer is not None and not entry.missing:
            try:
                entry.watch = self._observer.schedule(
                    _Handler(self),
                    key,
                    recursive=False,
                    event_filter=CHANGE if modified else APPEAR,
                )
            except OSError as exc:  # the watch limit, a file system without notifications
                self._fall_back(f"cannot watch {key} for changes ({exc})")
        if entry.watch is not None:
            entry.modified, entry.stamps = modified, None
        else:
            old = entry.stamps or {}
            names = {name for sub in entry.subs for name in sub.names}
            entry.stamps = {n: old[n] if n in old else _stamp(key, n) for n in names}
            self._ensure_poller()
        return list(entry.subs) if rewatched else []

    def _drop_watch(self, entry: _Folder) -> None:
        watch, entry.watch = entry.watch, None
        if watch is not None and self._observer is not None:
            with contextlib.suppress(KeyError):  # the folder was deleted: already gone
                self._observer.unschedule(watch)

    def _event(self, event: FileSystemEvent) -> None:
        if isinstance(event, EventsLostEvent):  # an overflow: anything may have changed
            with self._lock:
                subs = [sub for entry in self._folders.values() for sub in entry.subs]
            self._notify(subs, ANYTHING)
            return
        if event.is_directory:
            return
        path = os.fsdecode(event.dest_path if isinstance(event, FileMovedEvent) else event.src_path)
        key, name = os.path.split(path)
        with self._lock:
            entry = self._folders.get(key)
            subs = [s for s in entry.subs if name in s.names] if entry is not None else []
        modify = isinstance(event, FileModifiedEvent)
        self._notify([s for s in subs if s.modified or not modify], name)

    def _notify(self, subs: list[Subscription], name: str) -> None:
        for sub in subs:
            try:
                sub.on_change(sub.folder, name)
            except Exception:  # a consumer's bug must not stop the others' notifications
                log.exception("file-change callback %r failed", sub.on_change)

    # ------------------------------------------------------------------ the fallback poll

    def _fall_back(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s; polling every %.2f s instead", why, self._poll_s)

    def _ensure_poller(self) -> None:
        if self._poller is None and self._started and not self._stopping.is_set():
            self._poller = threading.Thread(target=self._poll_loop, name="filewatch-poll")
            self._poller.start()

    def _poll_loop(self) -> None:
        while not self._stopping.wait(self._poll_s):
            try:
                self._poll_once()
            except Exception:
                log.exception("polling watched folders failed")

    def _poll_once(self) -> None:
        calls: list[tuple[list[Subscription], str]] = []
        with self._lock:
            for key, entry in list(self._folders.items()):
                if entry.stamps is None:
                    continue
                if entry.missing and os.path.isdir(key):  # made at last: watch it, look once
                    self._arrange(key, entry)
                    calls.append((list(entry.subs), ANYTHING))
                    continue
                for name, old in list(entry.stamps.items()):
                    new = _stamp(key, name)
                    if new != old:
                        entry.stamps[name] = new
                        calls.append(([s for s in entry.subs if name in s.names], name))
        for subs, name in calls:
            self._notify(subs, name)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher) -> None:
        self._watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        self._watcher._event(event)


def _stamp(folder: str, name: str) -> _Stamp:
    try:
        found = os.stat(os.path.join(folder, name))
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns


def on_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> Callback:
    """A file-change callback that runs ``callback`` on ``loop``, at most once per turn:
    a burst of writes costs one wake-up of the loop, not one per write."""
    pending = threading.Event()

    def run() -> None:
        pending.clear()
        callback()

    def changed(folder: Path, name: str) -> None:
        if pending.is_set():
            return
        pending.set()
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody listens
            loop.call_soon_threadsafe(run)

    return changed


class RunFolders:
    """The live runs' folders, watched for the runner's records appearing (``runner.json``
    at start, ``exit.json`` at the end), so the supervisor ingests an exit as it happens
    instead of at its next tick. Only appearances are asked for: the agents' writes to
    ``output.log`` and the heartbeats never wake anyone."""

    NAMES = frozenset({protocol.RUNNER, protocol.EXIT})

    def __init__(self, watcher: FolderWatcher, wake: Callable[[], None]) -> None:
        self._watcher = watcher
        self._wake = wake
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: dict[int, Subscription] = {}
        self._stirred: set[int] = set()
        self._lock = threading.Lock()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def stop(self) -> None:
        for sub in self._subs.values():
            self._watcher.unwatch(sub)
        self._subs.clear()

    def track(self, runs: dict[int, Path]) -> frozenset[int]:
        """Watch exactly these runs' folders (run id -> folder). Returns the runs whose
        folders may have news since the last call, the newly watched included, and forgets
        that news: the caller looks at those now."""
        for run_id in self._subs.keys() - runs.keys():
            self._watcher.unwatch(self._subs.pop(run_id))
        new = runs.keys() - self._subs.keys()
        for run_id in new:
            self._subs[run_id] = self._watcher.watch(runs[run_id], self.NAMES, self._stir(run_id))
        with self._lock:
            stirred, self._stirred = self._stirred, set()
        return frozenset(new | (stirred & runs.keys()))

    def keep(self, run_ids: set[int] | frozenset[int]) -> None:
        """The news of these runs was not taken in (the transaction failed: a full disk):
        the next :meth:`track` returns them again, so they are looked at on every tick
        until it is, not only at the next full one."""
        with self._lock:
            self._stirred |= run_ids

    def _stir(self, run_id: int) -> Callback:
        wake = on_loop(self._loop, self._wake) if self._loop is not None else None

        def changed(folder: Path, name: str) -> None:
            with self._lock:
                self._stirred.add(run_id)
            if wake is not None:
                wake(folder, name)

        return changed


class InotifyReader:
    """Linux only: one inotify descriptor read by the event loop itself (``add_reader``)
    or by a blocking :meth:`wait`, through watchdog's own bindings, for a process that
    follows one run (``logs -f``, ``run --wait``).

    watchdog's observer hands each event through four threads before a consumer's loop
    hears of it: measured at 20 writes a second that alone is 0.5-0.75 % of a core, where
    the follower's whole budget is 0.2 %. Here the loop wakes once per batch of events, and
    callbacks run on the loop. :meth:`open` returns None where this is not available; the
    caller uses a :class:`FolderWatcher` then. Not for qasync's loop: the supervisor in the
    app keeps watchdog's thread and ``call_soon_threadsafe``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None, fd: int, bindings: Any) -> None:
        self._loop = loop
        self._fd = fd
        self._c = bindings
        self._watches: dict[int, Subscription] = {}  # watch descriptor -> its one subscriber
        self._names: dict[int, dict[bytes, str]] = {}  # ... and its names, as events say them
        self._overflow = bindings.InotifyConstants.IN_Q_OVERFLOW
        self._modify = bindings.InotifyConstants.IN_MODIFY
        self._one: dict[bytes, tuple[Subscription, str]] = {}  # see _readable
        self._poller = select.poll()  # for wait(), without a loop
        self._poller.register(fd, select.POLLIN)
        if loop is not None:
            loop.add_reader(fd, self._readable)

    @classmethod
    def open(cls, loop: asyncio.AbstractEventLoop | None) -> InotifyReader | None:
        if not sys.platform.startswith("linux"):
            return None
        try:
            from watchdog.observers import inotify_c

            fd = inotify_c.inotify_init()
        except Exception:  # an unsupported libc, or no inotify in this kernel
            return None
        if fd < 0:  # the per-user limit of inotify instances
            return None
        os.set_blocking(fd, False)
        os.set_inheritable(fd, False)
        return cls(loop, fd, inotify_c)

    def watch(
        self, folder: Path, names: frozenset[str], on_change: Callback, *, modified: bool = False
    ) -> Subscription | None:
        """Like :meth:`FolderWatcher.watch`, one subscriber per folder, on the loop; None
        when the folder cannot be watched (missing, the watch limit): poll it instead."""
        flags = self._c.InotifyConstants
        mask = flags.IN_CREATE | flags.IN_MOVED_TO | (flags.IN_MODIFY if modified else 0)
        wd = self._c.inotify_add_watch(self._fd, os.fsencode(folder), mask)
        if wd < 0:
            return None
        sub = Subscription(folder, names, on_change, modified)
        self._watches[wd] = sub
        self._names[wd] = {os.fsencode(name): name for name in names}
        if modified:
            for raw, name in self._names[wd].items():
                self._one[_one_event(wd, self._modify, raw)] = (sub, name)
        return sub

    def unwatch(self, sub: Subscription) -> None:
        for wd, known in list(self._watches.items()):
            if known is sub:
                del self._watches[wd], self._names[wd]
                self._one = {event: said for event, said in self._one.items() if said[0] is not sub}
                self._c.inotify_rm_watch(self._fd, wd)

    def close(self) -> None:
        if self._fd < 0:
            return
        if self._loop is not None:
            self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1
        self._watches.clear()
        self._names.clear()
        self._one.clear()

    def wait(self, timeout: float) -> None:
        """Without a loop: block until events come (their callbacks run) or ``timeout``."""
        if self._poller.poll(timeout * 1000):
            self._readable()

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 64 * 1024)
        except BlockingIOError:
            return
        # This runs for every line a follower prints, just after it woke with cold caches,
        # where each step costs microseconds: the usual batch, one write to a followed file,
        # is known by its bytes; anything else is parsed here (not by watchdog's generator).
        one = self._one.get(data)
        heard: list[tuple[Subscription, str]] = [one] if one is not None else []
        at, end = (len(data), len(data)) if one is not None else (0, len(data))
        while at < end:
            wd, mask, _cookie, length = _EVENT.unpack_from(data, at)
            raw = data[at + _EVENT.size : at + _EVENT.size + length].rstrip(b"\0")
            at += _EVENT.size + length
            if mask & self._overflow:  # events were lost: everything may have changed
                heard.extend((sub, ANYTHING) for sub in self._watches.values())
                continue
            name = self._names.get(wd, {}).get(raw)
            if name is not None and (said := (self._watches[wd], name)) not in heard:
                heard.append(said)
        for sub, name in heard:
            try:
                sub.on_change(sub.folder, name)
            except Exception:
                log.exception("file-change callback %r failed", sub.on_change)
