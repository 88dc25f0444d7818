"""``agentry doctor`` and the Health view: every check, green, amber or red, with what to do.

:func:`collect` computes the checks once (blocking reads of files, the database and the
agents' ``--version``: run it off the UI thread); :func:`render_text` prints them for
``agentry doctor`` and :func:`to_json` gives ``agentry doctor --json``, whose shape is a
contract (pinned by tests/unit/supervisor/test_doctor_json.py)::

    {
      "version": 1,                    # of this shape; bumped only when a key changes meaning
      "generated_at": "2026-12-05T03:04:05+00:00",   # UTC, ISO 8601
      "agentry_version": "0.1.0",
      "data_folder": "/home/me/.local/share/agentry",
      "status": "ok" | "warn" | "fail",  # the worst of the checks
      "checks": {
        "<key>": {
          "title": "Database",
          "status": "ok" | "warn" | "fail",
          "summary": "one line: what was found",
          "action": "what to do about it (empty when nothing)",
          "detail": ["further lines", ...],
          "data": {...}                # the figures; keys per check, below
        }, ...
      }
    }

The keys of ``checks``, in order, always all present: ``data_folder`` (data, config, logs,
writable), ``disk`` (free_bytes, total_bytes, read_only, min_free_mb, low_disk_bytes),
``supervisor`` (running, pid, mode), ``database`` (path, exists, readable, schema,
size_bytes, wal_bytes, tasks, integrity, integrity_checked_at, lost_run_folders),
``backups`` (folder, every_h, newest, newest_at), ``runners`` (expected, alive, dead_runs),
``heartbeats`` (stale_after_s, stale_runs), ``approvals`` (pending, oldest_age_s),
``deliveries`` (pending, oldest_pending_age_s, failed_recently),
``recovery`` (at, previous_clean, reattached, finished, interrupted, queued),
``settings`` (path, exists, valid), ``agents`` (agents: name → found, path, version,
problem). A check that could not read what it needs has an empty ``data``. Times are epoch
seconds. New checks add keys; none is removed or renamed within a version.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from app import __version__
from app.core.health import HealthCheck, HealthReport
from app.core.locations import Locations
from app.supervisor import health_checks, health_db
from app.supervisor.adapters.base import Detection
from app.supervisor.health_checks import Thresholds

JSON_VERSION = 1
LABELS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def collect(
    locations: Locations,
    *,
    detections: Mapping[str, Detection] | None = None,
    run_integrity: bool = True,
    thresholds: Thresholds | None = None,
) -> HealthReport:
    """Every check, in a fixed order. ``detections``: the agents as already detected (the
    app's cached ones); None runs each CLI's ``--version`` now. ``run_integrity``: run
    SQLite's quick check now, or show the last one recorded."""
    limits = thresholds or Thresholds()
    settings_check, settings = health_checks.settings_file(locations)
    if detections is None:
        from app.supervisor.adapters import detect_all

        detections = detect_all(settings.agent_paths)
    checks = [
        health_checks.data_folder(locations),
        health_checks.disk(locations, settings, limits),
        health_checks.supervisor(locations),
        *health_db.database_checks(locations, settings, limits, run_integrity=run_integrity),
        settings_check,
        health_checks.agents(detections),
    ]
    return HealthReport(tuple(checks), time.time(), __version__, str(locations.data))


def to_json(report: HealthReport) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "generated_at": datetime.fromtimestamp(report.generated_at, UTC).isoformat(),
        "agentry_version": report.agentry_version,
        "data_folder": report.data_folder,
        "status": report.status,
        "checks": {check.key: check.to_json() for check in report.checks},
    }


def render_text(report: HealthReport, out: TextIO) -> None:
    """Each check under its title: the status and summary, its detail, then what to do."""
    for check in report.checks:
        _render_check(check, out)
    problems = len(report.problems)
    out.write("No problems found.\n" if not problems else f"{problems} problem(s) found.\n")


def _render_check(check: HealthCheck, out: TextIO) -> None:
    out.write(f"{check.title}\n  {LABELS[check.status]}  {check.summary}\n")
    for line in check.detail:
        out.write(f"        {line}\n")
    if check.action:
        out.write(f"        → {check.action}\n")
