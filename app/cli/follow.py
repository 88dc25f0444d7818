"""Following a run's output until it ends (``agentry logs --follow``, ``run --wait``).

Sleeps until the run's ``output.log`` or ``exit.json`` changes (file-change notifications,
:mod:`app.supervisor.filewatch`) rather than waking every few milliseconds, so twenty
followers cost next to nothing and a line is printed as soon as it is written. The run's
end is the database's to say (the supervisor records it from ``exit.json``): the database
is read when ``exit.json`` appears, then briefly until the end is recorded, and otherwise
only once a second, which also catches an end that leaves no ``exit.json`` (a run
cancelled in the queue, one that could not start).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app.core.models import Run, RunKind
from app.runner import protocol
from app.store import repo
from app.store.db import Connection

if TYPE_CHECKING:
    import asyncio
    from io import FileIO

    from app.core.locations import Locations
    from app.supervisor.filewatch import FolderWatcher, Subscription

SAFETY_S = 1.0  # the database and the file are looked at this often when nothing is heard
ENDING_S = 0.02  # exit.json is there: how often to ask the database until it says so too
ENDING_FOR_S = 2.0  # ... for this long; with no supervisor to record it, back to SAFETY_S
COPY_CHUNK = 64 * 1024  # read into one buffer: a fresh 1 MiB bytes per line costs an mmap
ANY_NAME = ""  # a change heard without a name: look at everything


async def follow(
    conn: Connection, locations: Locations, run_id: int, out: TextIO, *, raw: bool = False
) -> Run:
    """Print a run's output as it grows until the run has ended; returns the final run.

    A structured agent's JSON lines are shown as readable text unless ``raw``; anything else
    (a command's output, or ``raw``) is copied byte for byte, so it can be piped on. On the
    event loop, for a command that hosts a supervisor meanwhile (``run --wait``).
    """
    import asyncio

    steps = _Steps(conn, locations, run_id, out, raw)
    changes = _Changes(steps.folder, asyncio.get_running_loop())
    try:
        timeout = next(steps.loop)
        while True:
            timeout = steps.loop.send(await changes.wait(timeout))
    except StopIteration as done:
        return done.value
    finally:
        changes.close()


def follow_blocking(
    conn: Connection, locations: Locations, run_id: int, out: TextIO, *, raw: bool = False
) -> Run:
    """:func:`follow` without an event loop (``logs --follow``): a follower then costs a
    blocking ``poll`` and a few system calls per line, half what a loop's turn costs."""
    steps = _Steps(conn, locations, run_id, out, raw)
    changes = _Changes(steps.folder, None)
    try:
        timeout = next(steps.loop)
        while True:
            timeout = steps.loop.send(changes.wait_blocking(timeout))
    except StopIteration as done:
        return done.value
    finally:
        changes.close()


class _Steps:
    """The follower's decisions, whoever does the waiting: ``loop`` yields how long to
    wait, is sent whether a change was heard, and returns the ended run."""

    def __init__(
        self, conn: Connection, locations: Locations, run_id: int, out: TextIO, raw: bool
    ) -> None:
        self._conn, self._run_id = conn, run_id
        run = repo.get_run(conn, run_id)
        agent = "shell" if run.kind is RunKind.CHECK else repo.get_task(conn, run.task_id).agent
        self.folder = locations.run_dir(run.dir)
        show = _display(agent, out, raw)
        output = protocol.output_log(self.folder)
        self._sink = _Copy(output, out) if show is None else _Lines(output, out, show)
        self._ended_at: float | None = None  # when we saw exit.json (monotonic)
        self.loop = self._steps()

    def _steps(self) -> Generator[float, bool | str, Run]:
        heard: bool | str = False  # True: output.log was written; "exit": something else
        while True:
            if heard is True and self._ended_at is None:  # a line: the common case, kept short
                self._sink.drain()
                heard = yield SAFETY_S
                continue
            ending = self._ending(look=heard is not True)
            if ending or not heard:  # read before the file: its end is all there then
                run = repo.get_run(self._conn, self._run_id)
            self._sink.drain()
            if run.state.is_terminal:
                self._sink.finish()
                return run
            heard = yield ENDING_S if ending else SAFETY_S

    def _ending(self, *, look: bool) -> bool:
        """Whether the runner wrote exit.json a moment ago: its end is about to be recorded."""
        if look and self._ended_at is None and (self.folder / protocol.EXIT).exists():
            self._ended_at = time.monotonic()
        return self._ended_at is not None and time.monotonic() - self._ended_at < ENDING_FOR_S


class _Changes:
    """Wakes the follower when the run folder's output.log or exit.json changes; while the
    folder is not there yet (a queued run), when it appears in ``runs/``. ``wait`` tells
    True for a write to output.log, "exit" for anything else heard, False for a timeout."""

    def __init__(self, folder: Path, loop: asyncio.AbstractEventLoop | None) -> None:
        from app.supervisor.filewatch import InotifyReader

        self._folder = folder
        self._loop = loop
        self._heard: bool | str = False
        self._waiter: asyncio.Future[bool | str] | None = None
        self._flag = threading.Event()  # the fallback's callbacks, from its threads
        self._sub: Subscription | None = None
        self._made = False  # the run folder exists and is watched
        self._native = InotifyReader.open(loop)
        self._watcher: FolderWatcher | None = None
        self._watch_folder()

    def close(self) -> None:
        if self._native is not None:
            self._native.close()
        if self._watcher is not None:
            self._watcher.stop()

    def _watch_folder(self) -> None:
        """Watch the run folder once it exists, and its parent for its appearance until then
        (inotify); or hand it to watchdog's observer, which polls where it must."""
        names = frozenset({protocol.OUTPUT, protocol.EXIT})
        if self._native is not None:
            if self._sub is not None:
                self._native.unwatch(self._sub)
            if self._folder.is_dir():
                self._sub = self._native.watch(self._folder, names, self._heard_of, modified=True)
                self._made = self._sub is not None
                if self._made:
                    return
                self._native.close()  # no watch to be had here (the limit, a network disk)
                self._native = None
            else:
                parent, own = self._folder.parent, frozenset({self._folder.name})
                self._sub = self._native.watch(parent, own, self._heard_of)
                return
        from app.supervisor.filewatch import FolderWatcher, on_loop

        self._watcher = FolderWatcher()
        self._watcher.start()
        if self._loop is not None:
            wake = on_loop(self._loop, lambda: self._changed(ANY_NAME))
        else:
            wake = self._heard_of
        self._sub = self._watcher.watch(self._folder, names, wake, modified=True)
        self._made = True

    def _heard_of(self, folder: Path, name: str) -> None:
        self._changed(name)

    def _changed(self, name: str) -> None:
        said: bool | str = True if name == protocol.OUTPUT else "exit"
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(said)
        elif self._heard is not True or said is not True:
            self._heard = said  # "exit" outranks a write: it makes the follower look
        if self._native is None:  # the fallback's threads: wake wait_blocking
            self._flag.set()

    def _take(self) -> bool | str:
        heard, self._heard = self._heard, False
        if self._flag.is_set():
            self._flag.clear()
        if not self._made:  # the folder may be there now (heard of, or missed)
            self._watch_folder()
            if self._made:
                return "exit"  # look at what it holds already
        return heard

    async def wait(self, timeout: float) -> bool | str:
        """Sleep until something changes or ``timeout`` passes. A future and a timer, not
        ``wait_for``: this runs for every line written."""
        assert self._loop is not None
        if self._heard:
            return self._take()
        waiter = self._waiter = self._loop.create_future()
        timer = self._loop.call_later(timeout, _settle, waiter)
        try:
            self._heard = await waiter
        finally:
            timer.cancel()
            self._waiter = None
        return self._take()

    def wait_blocking(self, timeout: float) -> bool | str:
        if not self._heard:
            if self._native is None:
                self._flag.wait(timeout)
                return self._take()
            deadline = time.monotonic() + timeout
            while not self._heard and (left := deadline - time.monotonic()) > 0:
                self._native.wait(left)  # its callbacks tell what was heard (not a heartbeat)
        return self._take()


def _settle(waiter: asyncio.Future[bool | str]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class _Copy:
    """Copies ``path`` to ``out`` as it grows, unchanged: invalid UTF-8, CR LF and endless
    lines included (a text stream without bytes underneath gets it decoded)."""

    def __init__(self, path: Path, out: TextIO) -> None:
        out.flush()
        self._path = path
        self._out = out
        self._sink = getattr(out, "buffer", None)
        self._file: FileIO | None = None  # kept open: one read per wake-up, not an open
        self._buffer = bytearray(COPY_CHUNK)  # read into, every time: no allocation per line
        self._view = memoryview(self._buffer)

    def drain(self) -> None:
        if self._file is None:
            try:
                # Unbuffered: one read(2) per wake-up, not a second one to find the end.
                self._file = open(self._path, "rb", buffering=0)  # noqa: SIM115 - finish()
            except FileNotFoundError:
                return  # the runner has not made it yet
        while size := self._file.readinto(self._buffer) or 0:
            if self._sink is not None:
                self._sink.write(self._view[:size])
                self._sink.flush()
            else:
                self._out.write(str(self._view[:size], "utf-8", "replace"))
                self._out.flush()
            if size < COPY_CHUNK:
                break

    def finish(self) -> None:
        if self._file is not None:
            self._file.close()
        self._view.release()


class _Lines:
    """Shows a structured agent's lines as readable text, the last unterminated one at the end."""

    def __init__(self, path: Path, out: TextIO, show: Callable[[list[str]], list[str]]) -> None:
        from app.supervisor.tail import OutputTail

        self._tail = OutputTail(path)
        self._out = out
        self._show = show

    def drain(self) -> None:
        while lines := self._tail.read_lines():
            _write(self._out, self._show(lines))

    def finish(self) -> None:
        self.drain()
        _write(self._out, self._show(self._tail.flush()))


def _display(agent: str, out: TextIO, raw: bool) -> Callable[[list[str]], list[str]] | None:
    """How a structured agent's lines are shown; None when its bytes are copied as they are."""
    from app.core import ansi
    from app.core.render import Renderer
    from app.supervisor.adapters import get_adapter_or_none

    adapter = get_adapter_or_none(agent)
    if raw or adapter is None or not adapter.structured:
        return None
    renderer = Renderer(adapter.parser())
    colour = out.isatty() and not os.environ.get("NO_COLOR")

    def show(lines: list[str]) -> list[str]:
        shown = [d for line in lines for d in renderer.feed(line)]
        return shown if colour else [ansi.strip(line) for line in shown]

    return show


def _write(out: TextIO, lines: list[str]) -> None:
    if lines:
        out.write("".join(f"{line}\n" for line in lines))
        out.flush()
