"""The health checks that need no database: the data folder, its disk, the supervisor, the
settings file and the agent CLIs. Each returns one :class:`HealthCheck`; none raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.core.health import HealthCheck, Status
from app.core.locations import Locations
from app.core.settings import Settings
from app.runner.protocol import HEARTBEAT_S
from app.store import diskspace, fsops
from app.store.locations import ensure_folders
from app.store.settings import settings_problem
from app.supervisor.adapters.base import Detection
from app.supervisor.adapters.simple import DemoAdapter, ShellAdapter
from app.supervisor.lock import is_locked, read_holder, running_holder

MIB = 1 << 20
BUILT_IN = frozenset({ShellAdapter.name, DemoAdapter.name})  # need no CLI: not counted
GIB = 1 << 30


@dataclass(frozen=True)
class Thresholds:
    """Where amber and red begin; tests lower or raise them to make a state real."""

    low_disk_bytes: int = 2 * GIB  # amber below: agents' logs may soon fill the disk
    stale_heartbeat_s: float = 3 * HEARTBEAT_S  # a runner touches its heartbeat each minute
    backup_late_factor: float = 2.0  # amber when the newest backup is this many periods old


def data_folder(locations: Locations) -> HealthCheck:
    data = {
        "data": str(locations.data),
        "config": str(locations.config),
        "logs": str(locations.logs),
        "writable": True,
    }
    detail = (f"data {locations.data}", f"config {locations.config}; logs {locations.logs}")
    try:
        ensure_folders(locations)
        probe = locations.data / ".doctor-probe"
        fsops.atomic_write(probe, b"ok")
        probe.unlink()
    except OSError as exc:
        return HealthCheck(
            "data_folder",
            "Data folder",
            "fail",
            diskspace.describe(exc, locations.data),
            diskspace.advice(locations.data, exc),
            detail,
            data | {"writable": False},
        )
    return HealthCheck(
        "data_folder",
        "Data folder",
        "ok",
        f"{locations.data} is writable (atomic write and rename work)",
        detail=detail,
        data=data,
    )


def disk(locations: Locations, settings: Settings, thresholds: Thresholds) -> HealthCheck:
    state = diskspace.disk_state(locations.data)
    minimum = settings.gate_min_free_disk_mb
    data = {
        "free_bytes": state.free,
        "total_bytes": state.total,
        "read_only": state.read_only,
        "min_free_mb": minimum,
        "low_disk_bytes": thresholds.low_disk_bytes,
    }
    gate = (
        f"queued tasks wait while less than {minimum} MiB is free"
        if minimum
        else "queued tasks never wait for disk space (gate_min_free_disk_mb is 0)"
    )

    def result(status: Status, summary: str, action: str = "") -> HealthCheck:
        return HealthCheck("disk", "Disk", status, summary, action, (gate,), data)

    if state.free is None:
        return result(
            "fail",
            f"cannot read the free space of {locations.data}",
            f"Check that {locations.data} exists and its disk is mounted",
        )
    line = f"{state.describe_free()} on the disk holding {locations.data}"
    trouble = diskspace.trouble(locations.data)
    if trouble is not None:
        return result("fail", f"{trouble}", diskspace.advice(locations.data) + ".")
    if minimum and state.free < minimum * MIB:
        return result(
            "fail",
            f"{line}: below the {minimum} MiB minimum (gate_min_free_disk_mb), "
            "so queued tasks wait until space is freed",
            "Free some space on that disk, or lower gate_min_free_disk_mb in Settings",
        )
    if state.free < thresholds.low_disk_bytes:
        return result(
            "warn",
            f"{line}: agents' logs may soon fill the disk",
            "Free some space on that disk (old run folders: Tools → Clean up…)",
        )
    return result("ok", line)


def supervisor(locations: Locations) -> HealthCheck:
    try:
        holder = running_holder(locations)
        locked = holder is not None or is_locked(locations.lock)
        note = holder or (read_holder(locations) if locked else None)
    except OSError as exc:  # a read-only folder: the lock file cannot even be opened
        problem = diskspace.describe(exc, locations.data)
        return HealthCheck(
            "supervisor",
            "Supervisor",
            "fail",
            f"cannot tell whether a supervisor runs: {problem}",
            diskspace.advice(locations.data, exc),
            data={"running": None},
        )
    data = {
        "running": locked,
        "pid": note.get("pid") if note else None,
        "mode": note.get("mode") if note else None,
    }
    if holder:
        summary = f"running: pid {holder['pid']} ({holder.get('mode')})"
    elif locked:
        summary = f"running (lock held{'; pid ' + str(note['pid']) if note else ''})"
    else:
        return HealthCheck(
            "supervisor",
            "Supervisor",
            "ok",
            "not running",
            "Queued tasks wait until `agentry serve --headless` or the app starts",
            data=data,
        )
    return HealthCheck("supervisor", "Supervisor", "ok", summary, data=data)


def settings_file(locations: Locations) -> tuple[HealthCheck, Settings]:
    """The check, and the settings the other checks go by (the defaults if unusable)."""
    settings, problem = settings_problem(locations.settings)
    data = {
        "path": str(locations.settings),
        "exists": locations.settings.exists(),
        "valid": problem is None,
    }
    if problem is not None:
        return HealthCheck(
            "settings",
            "Settings",
            "fail",
            problem,
            "Fix the file, or open Settings and save: Agentry then uses the "
            "defaults and keeps the bad file aside",
            data=data,
        ), settings
    limit = settings.default_timeout_s
    summary = (
        f"max {settings.max_concurrency} agents at once; default timeout "
        f"{'none' if not limit else f'{limit:g} s'}"
    )
    return HealthCheck("settings", "Settings", "ok", summary, data=data), settings


def agents(detections: Mapping[str, Detection]) -> HealthCheck:
    found = [d for d in detections.values() if d.found and d.agent not in BUILT_IN]
    broken = [d for d in detections.values() if d.problem]
    data = {
        "agents": {
            name: {"found": d.found, "path": d.path, "version": d.version, "problem": d.problem}
            for name, d in detections.items()
        }
    }
    detail = tuple(d.describe() for d in detections.values())
    names = ", ".join(f"{d.label} {d.version or ''}".strip() for d in found)
    if broken:
        return HealthCheck(
            "agents",
            "Agents",
            "warn",
            "; ".join(f"{d.label}: {d.problem}" for d in broken),
            "Fix the agent's path in Settings, or clear it to look on PATH",
            detail,
            data,
        )
    if not found:
        return HealthCheck(
            "agents",
            "Agents",
            "warn",
            "no agent CLI found (shell commands and the demo agent work without)",
            "Install one (Claude Code, Codex, Gemini, …) or set its path in Settings",
            detail,
            data,
        )
    return HealthCheck("agents", "Agents", "ok", f"found: {names}", detail=detail, data=data)
