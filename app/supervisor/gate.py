"""The resource gate: no new agent starts while the machine is short of memory, CPU or
free disk space in the data folder (an agent's output and run folder would not fit)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

from app.core.log import get_logger
from app.core.settings import Settings
from app.store import diskspace
from app.supervisor.events import Notice

log = get_logger(__name__)

CPU_WINDOW_S = 2.0  # CPU load is judged over at least this long, never one noisy instant


MIB = 1 << 20


@dataclass(frozen=True)
class Hold:
    """Queued work waits: for which resource (short, for a status bar), why (a sentence),
    and the figure a queued task shows ("memory 93%")."""

    resource: Literal["memory", "CPU", "disk"]
    reason: str
    brief: str = ""


@dataclass(frozen=True)
class GateReading:
    memory_percent: float
    cpu_percent: float
    disk: diskspace.DiskState | None = None  # of the fullest watched folder

    def blocked_by(self, settings: Settings) -> str | None:
        """Why starting another agent now would hurt, or None when it is fine."""
        hold = self.hold(settings)
        return hold.reason if hold else None

    def hold(self, settings: Settings) -> Hold | None:
        low = self.low_disk(settings)
        if low is not None:
            return Hold("disk", low, "disk full")
        if self.memory_percent > settings.gate_max_memory_percent:
            return Hold(
                "memory",
                f"memory in use {self.memory_percent:.0f}% is above the "
                f"{settings.gate_max_memory_percent:.0f}% limit",
                f"memory {self.memory_percent:.0f}%",
            )
        if self.cpu_percent > settings.gate_max_cpu_percent:
            return Hold(
                "CPU",
                f"CPU in use {self.cpu_percent:.0f}% is above the "
                f"{settings.gate_max_cpu_percent:.0f}% limit",
                f"CPU {self.cpu_percent:.0f}%",
            )
        return None

    def low_disk(self, settings: Settings) -> str | None:
        """The "disk full" reason, naming the folder, its free space and the minimum."""
        minimum = settings.gate_min_free_disk_mb * MIB
        disk = self.disk
        if not minimum or disk is None or disk.free is None or disk.free >= minimum:
            return None
        return (
            f"disk full: {diskspace.format_size(disk.free)} free on the disk holding "
            f"{disk.folder}, below the {settings.gate_min_free_disk_mb} MiB minimum "
            "(free some space and queued tasks start by themselves)"
        )


class ResourceGate:
    """Samples memory and free disk space each time, and CPU as the busy share over the
    last full window.

    The CPU that work already ended spent in the window does not count: the runners this
    process started and reaped (with their agents, whom they waited for) no longer load
    the machine. Otherwise a queue of quick tasks would hold itself back by its own past
    load, and drain at half the pace on a small machine (issue #14)."""

    def __init__(self, folders: Sequence[Path] = ()) -> None:
        self._folders = tuple(folders)  # whose disks must have room: data, runs
        self._holding: Hold | None = None  # why queued work is held back now, if it is
        self._mark_time = time.monotonic()
        self._mark_cpu = psutil.cpu_times()
        self._mark_ended = ended_work_cpu()
        self._cpu_percent = 0.0  # unknown until a window has passed: do not hold work back

    def read(self) -> GateReading:
        now = time.monotonic()
        if now - self._mark_time >= CPU_WINDOW_S:
            current, ended = psutil.cpu_times(), ended_work_cpu()
            self._cpu_percent = _busy_percent(self._mark_cpu, current, ended - self._mark_ended)
            self._mark_time, self._mark_cpu, self._mark_ended = now, current, ended
        return GateReading(psutil.virtual_memory().percent, self._cpu_percent, self._fullest())

    def _fullest(self) -> diskspace.DiskState | None:
        states = [diskspace.disk_state(folder) for folder in self._folders]
        known = [state for state in states if state.free is not None]
        return min(known, key=lambda state: state.free or 0, default=None)

    @property
    def holding(self) -> Hold | None:
        """Why queued work waits now (as last judged), or None when it may start."""
        return self._holding

    def holds(self, settings: Settings, waiting: int, publish: Callable[[Notice], None]) -> bool:
        """Whether queued work must wait now; says so (and when it may go again) once."""
        hold = self.read().hold(settings)
        before, self._holding = self._holding, hold
        # Said when what holds the work changes, not each time the numbers move.
        if _resource(hold) != _resource(before):
            if hold:
                log.warning("holding queued tasks: %s", hold.reason)
                publish(Notice("warning", f"Holding {waiting} queued task(s): {hold.reason}"))
            else:
                publish(Notice("info", "Resources are available again; starting tasks"))
        return hold is not None

    def idle(self) -> None:
        """Nothing waits: no hold to show (the next queued task is judged afresh)."""
        self._holding = None


def _resource(hold: Hold | None) -> str | None:
    return hold.resource if hold else None


def ended_work_cpu() -> float:
    """CPU seconds of this process's children that have ended and been reaped (0 where
    the platform does not count them: Windows)."""
    times = os.times()
    return times.children_user + times.children_system


def _busy_percent(before: object, after: object, ended: float = 0.0) -> float:
    """The busy share of the CPU time between two samples, less ``ended`` CPU seconds
    spent by work that has finished since."""
    total_before, idle_before = _totals(before)
    total_after, idle_after = _totals(after)
    total = total_after - total_before
    if total <= 0:
        return 0.0
    busy = total - (idle_after - idle_before) - max(ended, 0.0)
    return max(0.0, min(100.0, 100.0 * busy / total))


def _totals(times: object) -> tuple[float, float]:
    values = times._asdict()  # type: ignore[attr-defined]
    idle = values.get("idle", 0.0) + values.get("iowait", 0.0)
    total = sum(v for k, v in values.items() if k not in ("guest", "guest_nice"))
    return total, idle
