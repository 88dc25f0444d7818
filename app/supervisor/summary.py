"""What a structured agent's output says about its run: session id, model, turns, cost,
and the usage or rate limit it ended on.

The head of the log carries the session (Claude's first line), the tail the totals and
any limit (its last lines), so only those are read, however large the log has grown.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from app.core.agent_events import Limit, RunSummary
from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import RecoveryReport
from app.runner import protocol
from app.store import repo
from app.store.db import Connection, transaction
from app.supervisor.adapters import Adapter, LineParser, get_adapter_or_none
from app.supervisor.tail import last_lines

log = get_logger(__name__)

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 256 * 1024
LIMIT_TAIL_BYTES = 64 * 1024  # where an agent's last words are: its limit, when it hit one


def summarize(path: Path, adapter: Adapter) -> RunSummary:
    summary = RunSummary()
    parser = _parser_of(path, adapter)
    for line in _head_and_tail_lines(path):
        for event in parser.feed(line):
            summary.absorb(event)
    return summary


def limit_of(path: Path, adapter: Adapter) -> Limit | None:
    """The usage or rate limit a structured agent's log ends on, if it does: only the tail
    is read (the agent says so as it gives up), with "now" as when the log was written."""
    summary = RunSummary()
    parser = _parser_of(path, adapter)
    for line in last_lines(path, LIMIT_TAIL_BYTES):
        for event in parser.feed(line):
            summary.absorb(event)
    return summary.limit


def summarize_recovered(conn: Connection, locations: Locations, report: RecoveryReport) -> None:
    """Runs that ended while we were away: know their sessions before anyone asks to
    resume one (the recovery screen offers Resume session right away)."""
    for task_id in (*report.finished, *report.interrupted):
        task = repo.get_task(conn, task_id)
        adapter = get_adapter_or_none(task.agent)
        if task.latest_run is None or adapter is None or not adapter.structured:
            continue
        path = protocol.output_log(locations.run_dir(task.latest_run.dir))
        try:
            summary = summarize(path, adapter)
        except OSError as exc:
            log.warning("could not read %s: %s", path, exc)
            continue
        with transaction(conn):
            repo.update_run_summary(conn, task.latest_run.id, summary)


def _parser_of(path: Path, adapter: Adapter) -> LineParser:
    """The adapter's parser for a finished log. "Now", for a limit's reset written as a wall
    time ("resets 8pm"), is when the log was last written, not when it is read (maybe
    hours later, after a restart)."""
    parser = adapter.parser()
    written = _mtime(path)
    if written is not None:
        parser.clock = lambda: written
    return parser


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _head_and_tail_lines(path: Path) -> list[str]:
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(0)
            if size <= HEAD_BYTES + TAIL_BYTES:
                return _lines(f.read())
            head = f.read(HEAD_BYTES)
            f.seek(size - TAIL_BYTES)
            tail = f.read()
    except FileNotFoundError:
        return []
    head_lines = _lines(head[: head.rfind(b"\n") + 1])
    tail_lines = _lines(tail[tail.find(b"\n") + 1 :])
    return head_lines + tail_lines


def _lines(data: bytes) -> list[str]:
    text = codecs.decode(data, "utf-8", errors="replace")
    return text.splitlines()
