"""Live output for subscribers: one loop for every watched run (DESIGN §5).

Woken when a watched ``output.log`` is written to (:mod:`app.supervisor.filewatch`), so a
line reaches its pane within milliseconds and 60 quiet logs cost nothing between writes. A
slow poll stays as the safety net for a notification that never comes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.log import get_logger
from app.supervisor.events import EventBus, OutputLines
from app.supervisor.filewatch import FolderWatcher, Subscription, on_loop
from app.supervisor.tail import OutputTail

log = get_logger(__name__)

PASS_BYTES = 32 * 1024  # per log per pass: a backlog never holds the loop for long
SAFETY_S = 1.0  # the poll behind the notifications


@dataclass
class _Watch:
    task_id: int
    tail: OutputTail
    subscription: Subscription | None
    watchers: int = 1


class TailHub:
    def __init__(self, bus: EventBus, files: FolderWatcher) -> None:
        self._bus = bus
        self._files = files
        self._watches: dict[int, _Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._written: Callable[[Path, str], None] | None = None
        self.safety_s = SAFETY_S

    def watch(self, run_id: int, task_id: int, path: Path, *, from_end: bool = False) -> None:
        """Publish this run's new output lines as :class:`OutputLines` until :meth:`unwatch`."""
        existing = self._watches.get(run_id)
        if existing is not None:
            existing.watchers += 1
            return
        tail = OutputTail.from_end(path) if from_end else OutputTail(path)
        sub = None
        if self._written is not None:
            names = frozenset({path.name})
            sub = self._files.watch(path.parent, names, self._written, modified=True)
        self._watches[run_id] = _Watch(task_id, tail, sub)
        self._wake.set()

    def unwatch(self, run_id: int) -> None:
        watch = self._watches.get(run_id)
        if watch is None:
            return
        watch.watchers -= 1
        if watch.watchers <= 0:
            self._forget(self._watches.pop(run_id))

    def _forget(self, watch: _Watch) -> None:
        if watch.subscription is not None:
            self._files.unwatch(watch.subscription)

    def finish(self, run_id: int) -> None:
        """The run ended: deliver everything left, including an unterminated last line."""
        watch = self._watches.pop(run_id, None)
        if watch is None:
            return
        self._forget(watch)
        lines = []
        while chunk := watch.tail.read_lines():
            lines.extend(chunk)
        lines.extend(watch.tail.flush())
        if lines:
            self._bus.publish(OutputLines(watch.task_id, run_id, tuple(lines)))

    def poll(self) -> bool:
        """Deliver what is new in every watched log; True if anything was."""
        delivered = False
        for run_id, watch in list(self._watches.items()):
            lines = watch.tail.read_lines(PASS_BYTES)
            if lines:
                delivered = True
                self._bus.publish(OutputLines(watch.task_id, run_id, tuple(lines)))
        return delivered

    def start(self) -> None:
        self._written = on_loop(asyncio.get_running_loop(), self._wake.set)
        self._task = asyncio.create_task(self._run(), name="output-tails")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for watch in self._watches.values():
            self._forget(watch)
        self._watches.clear()

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # a write from here on wakes the next pass
            try:
                delivered = self.poll()
            except Exception:
                log.exception("reading output failed")
                delivered = False
            if delivered:  # more may have come meanwhile, or be left past PASS_BYTES
                await asyncio.sleep(0)
            elif not self._watches:
                await self._wake.wait()
            else:
                # Not wait_for: on Python 3.11 it swallows a cancel (stop) that comes as
                # a wake does, and stop() would wait for this loop forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.safety_s):
                        await self._wake.wait()
