"""Live output for subscribers: one polling loop for every watched run (DESIGN §5).

Polls fast while output flows and slows down when every watched log is idle, so 20 busy
streams arrive within milliseconds while 60 quiet ones cost next to nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from app.supervisor.events import EventBus, OutputLines
from app.supervisor.tail import OutputTail

log = logging.getLogger(__name__)

FAST_S = 0.005
PASS_BYTES = 32 * 1024  # per log per pass: a backlog never holds the loop for long
IDLE_S = 0.05
STAY_FAST_S = 1.0


@dataclass
class _Watch:
    task_id: int
    tail: OutputTail
    watchers: int = 1


class TailHub:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._watches: dict[int, _Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_data = 0.0

    def watch(self, run_id: int, task_id: int, path: Path, *, from_end: bool = False) -> None:
        """Publish this run's new output lines as :class:`OutputLines` until :meth:`unwatch`."""
        existing = self._watches.get(run_id)
        if existing is not None:
            existing.watchers += 1
            return
        tail = OutputTail.from_end(path) if from_end else OutputTail(path)
        self._watches[run_id] = _Watch(task_id, tail)
        self._last_data = time.monotonic()
        self._wake.set()

    def unwatch(self, run_id: int) -> None:
        watch = self._watches.get(run_id)
        if watch is None:
            return
        watch.watchers -= 1
        if watch.watchers <= 0:
            del self._watches[run_id]

    def finish(self, run_id: int) -> None:
        """The run ended: deliver everything left, including an unterminated last line."""
        watch = self._watches.pop(run_id, None)
        if watch is None:
            return
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
        self._task = asyncio.create_task(self._run(), name="output-tails")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                if self.poll():
                    self._last_data = time.monotonic()
            except Exception:
                log.exception("reading output failed")
            if not self._watches:
                self._wake.clear()
                await self._wake.wait()
                continue
            busy = time.monotonic() - self._last_data < STAY_FAST_S
            await asyncio.sleep(FAST_S if busy else IDLE_S)
