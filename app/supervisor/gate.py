"""The resource gate: no new agent starts while the machine is short of memory or CPU."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from app.core.settings import Settings
from app.supervisor.events import Notice

log = logging.getLogger(__name__)

CPU_WINDOW_S = 2.0  # CPU load is judged over at least this long, never one noisy instant


@dataclass(frozen=True)
class GateReading:
    memory_percent: float
    cpu_percent: float

    def blocked_by(self, settings: Settings) -> str | None:
        """Why starting another agent now would hurt, or None when it is fine."""
        if self.memory_percent > settings.gate_max_memory_percent:
            return (
                f"memory in use {self.memory_percent:.0f}% is above the "
                f"{settings.gate_max_memory_percent:.0f}% limit"
            )
        if self.cpu_percent > settings.gate_max_cpu_percent:
            return (
                f"CPU in use {self.cpu_percent:.0f}% is above the "
                f"{settings.gate_max_cpu_percent:.0f}% limit"
            )
        return None


class ResourceGate:
    """Samples memory each time and CPU as the busy share over the last full window."""

    def __init__(self) -> None:
        self._holding: str | None = None  # why queued work is held back now, if it is
        self._mark_time = time.monotonic()
        self._mark_cpu = psutil.cpu_times()
        self._cpu_percent = 0.0  # unknown until a window has passed: do not hold work back

    def read(self) -> GateReading:
        now = time.monotonic()
        if now - self._mark_time >= CPU_WINDOW_S:
            current = psutil.cpu_times()
            self._cpu_percent = _busy_percent(self._mark_cpu, current)
            self._mark_time, self._mark_cpu = now, current
        return GateReading(psutil.virtual_memory().percent, self._cpu_percent)

    def holds(self, settings: Settings, waiting: int, publish: Callable[[Notice], None]) -> bool:
        """Whether queued work must wait now; says so (and when it may go again) once."""
        reason = self.read().blocked_by(settings)
        if reason != self._holding:
            self._holding = reason
            if reason:
                log.warning("holding queued tasks: %s", reason)
                publish(Notice("warning", f"Holding {waiting} queued task(s): {reason}"))
            else:
                publish(Notice("info", "Resources are available again; starting tasks"))
        return reason is not None


def _busy_percent(before: object, after: object) -> float:
    total_before, idle_before = _totals(before)
    total_after, idle_after = _totals(after)
    total = total_after - total_before
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * (1 - (idle_after - idle_before) / total)))


def _totals(times: object) -> tuple[float, float]:
    values = times._asdict()  # type: ignore[attr-defined]
    idle = values.get("idle", 0.0) + values.get("iowait", 0.0)
    total = sum(v for k, v in values.items() if k not in ("guest", "guest_nice"))
    return total, idle
