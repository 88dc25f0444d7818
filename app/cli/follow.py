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
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from app.core.models import Run, RunKind
from app.runner import protocol
from app.store import repo
from app.store.db import Connection

if TYPE_CHECKING:
    import asyncio

    from app.core.locations import Locations
    from app.supervisor.filewatch import FolderWatcher, Subscription

SAFETY_S = 1.0  # the database and the file are looked at this often when nothing is heard
ENDING_S = 0.02  # exit.json is there: how often to ask the database until it says so too
ENDING_FOR_S = 2.0  # ... for this long; with no supervisor to record it, back to SAFETY_S
COPY_CHUNK = 1024 * 1024
ANY_NAME = ""  # a change heard without a name: look at everything


async def follow(
    conn: Connection, locations: Locations, run_id: int, out: TextIO, *, raw: bool = False
) -> Run:
    """Print a run's output as it grows until the run has ended; returns the final run.

    A structured agent's JSON lines are shown as readable text unless ``raw``; anything else
    (a command's output, or ``raw``) is copied byte for byte, so it can be piped on.
    """
    run = repo.get_run(conn, run_id)
    agent = "shell" if run.kind is RunKind.CHECK else repo.get_task(conn, run.task_id).agent
    folder = locations.run_dir(run.dir)
    show = _display(agent, out, raw)
    sink = _Copy(protocol.output_log(folder), out) if show is None else _Lines(folder, out, show)
    async with _Changes(folder) as changes:
        heard = False
        while True:
            ending = changes.ending()
            if ending or not heard:  # read before the file: its end is all there then
                run = repo.get_run(conn, run_id)
            sink.drain()
            if run.state.is_terminal:
                sink.finish()
                return run
            heard = await changes.wait(ENDING_S if ending else SAFETY_S)


class _Changes:
    """Wakes the follower when the run folder's output.log or exit.json changes; while the
    folder is not there yet (a queued run), when it appears in ``runs/``."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._maybe_ended = True  # look once at the start
        self._ended_at: float | None = None  # when we saw exit.json (monotonic)
        self._heard = False
        self._waiter: asyncio.Future[bool] | None = None
        self._sub: Subscription | None = None
        self._made = False  # the run folder exists and is watched

    async def __aenter__(self) -> _Changes:
        import asyncio

        from app.supervisor.filewatch import InotifyOnLoop

        self._loop = asyncio.get_running_loop()
        self._native = InotifyOnLoop.open(self._loop)
        self._watcher: FolderWatcher | None = None
        self._watch_folder()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._native is not None:
            self._native.close()
        if self._watcher is not None:
            self._watcher.stop()

    def _watch_folder(self) -> None:
        """Watch the run folder once it exists, and its parent for its appearance until then
        (inotify on the loop); or hand it to watchdog's observer, which polls where it must."""
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
        wake = on_loop(self._loop, lambda: self._changed(ANY_NAME))
        self._sub = self._watcher.watch(self._folder, names, wake, modified=True)
        self._made = True

    def _heard_of(self, folder: Path, name: str) -> None:
        self._changed(name)

    def _changed(self, name: str) -> None:
        if name != protocol.OUTPUT:  # exit.json, or anything (the folder, an overflow)
            self._maybe_ended = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)
        else:
            self._heard = True

    def ending(self) -> bool:
        """Whether the runner wrote exit.json a moment ago: its end is about to be recorded."""
        if not self._made:
            self._watch_folder()
        if self._maybe_ended and self._ended_at is None:
            self._maybe_ended = False
            if (self._folder / protocol.EXIT).exists():
                self._ended_at = time.monotonic()
        return self._ended_at is not None and time.monotonic() - self._ended_at < ENDING_FOR_S

    async def wait(self, timeout: float) -> bool:
        """Sleep until something changes (True) or ``timeout`` passes (False). A future and
        a timer, not ``wait_for``: this runs for every line written."""
        if self._heard:
            self._heard = False
            return True
        waiter = self._waiter = self._loop.create_future()
        timer = self._loop.call_later(timeout, _settle, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None


def _settle(waiter: asyncio.Future[bool]) -> None:
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
        self._file: BinaryIO | None = None  # kept open: one read per wake-up, not an open

    def drain(self) -> None:
        if self._file is None:
            try:
                self._file = open(self._path, "rb")  # noqa: SIM115 - closed in finish()
            except FileNotFoundError:
                return  # the runner has not made it yet
        while data := self._file.read(COPY_CHUNK):
            if self._sink is not None:
                self._sink.write(data)
                self._sink.flush()
            else:
                self._out.write(data.decode("utf-8", "replace"))
                self._out.flush()
            if len(data) < COPY_CHUNK:
                break

    def finish(self) -> None:
        if self._file is not None:
            self._file.close()


class _Lines:
    """Shows a structured agent's lines as readable text, the last unterminated one at the end."""

    def __init__(self, folder: Path, out: TextIO, show: Callable[[list[str]], list[str]]) -> None:
        from app.supervisor.tail import OutputTail

        self._tail = OutputTail(protocol.output_log(folder))
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
