"""The database's part of an exported diagnostics zip: recent tasks and events, and every
private text of them (prompts, follow-ups, environment values, tool inputs, workflow
inputs) so the export can scrub those texts out of everything else it includes."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

LONG_WORD = 16  # an argv word this long is likely a URL, a path or a token
PRIVATE_LIMIT = 2000  # the newest runs whose prompts are scrubbed from the logs


def recent_tasks(conn: sqlite3.Connection, since: float) -> list[dict[str, Any]]:
    """Tasks created since ``since`` (epoch seconds) with their latest run."""
    rows = conn.execute(
        "SELECT t.id, t.title, t.agent, t.spec_json, t.created_at, t.archived_at, r.id AS run_id, "
        "r.state, r.kind, r.exit_code, r.reason, r.message, r.prompt, r.dir, r.started_at, "
        "r.ended_at FROM tasks t LEFT JOIN runs r ON r.id = t.latest_run_id "
        "WHERE t.created_at >= ? ORDER BY t.id",
        (since,),
    )
    return [dict(row) for row in rows]


def recent_run_dirs(conn: sqlite3.Connection, since: float) -> list[tuple[int, int, str]]:
    """(task id, run id, run folder) of the runs created since ``since``."""
    rows = conn.execute(
        "SELECT task_id, id, dir FROM runs WHERE created_at >= ? ORDER BY id", (since,)
    )
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def events_since(conn: sqlite3.Connection, since: float) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, at, kind, task_id, run_id, old_state, new_state, detail FROM events "
        "WHERE at >= ? ORDER BY id",
        (since,),
    )
    return [dict(row) for row in rows]


def private_texts(conn: sqlite3.Connection) -> set[str]:
    """What people and agents wrote, of the newest runs: prompts, follow-up messages,
    titles, shell command lines, environment values, run messages, workflow inputs,
    tool-call inputs, and the reasons and notes people gave for their decisions."""
    found: set[str] = set()
    runs = conn.execute(
        "SELECT r.prompt, r.message, t.title, t.spec_json FROM runs r JOIN tasks t "
        "ON t.id = r.task_id ORDER BY r.id DESC LIMIT ?",
        (PRIVATE_LIMIT,),
    )
    for prompt, message, title, spec_json in runs:
        found.update(t for t in (prompt, message, title) if t)
        found.update(_spec_texts(spec_json))
    for (text,) in conn.execute(
        "SELECT input FROM workflows ORDER BY id DESC LIMIT ?", (PRIVATE_LIMIT,)
    ):
        found.add(text)
    for (input_json,) in conn.execute(
        "SELECT input_json FROM approvals ORDER BY created_at DESC LIMIT ?", (PRIVATE_LIMIT,)
    ):
        found.update(_strings(_loads(input_json)))
    for query in (
        "SELECT reason FROM approvals WHERE reason IS NOT NULL ORDER BY created_at DESC LIMIT ?",
        "SELECT notes FROM checkpoints WHERE notes IS NOT NULL ORDER BY id DESC LIMIT ?",
        "SELECT edited_text FROM checkpoints WHERE edited_text IS NOT NULL "
        "ORDER BY id DESC LIMIT ?",
    ):
        found.update(text for (text,) in conn.execute(query, (PRIVATE_LIMIT,)))
    return {text for text in found if isinstance(text, str) and text.strip()}


def _spec_texts(spec_json: str | None) -> list[str]:
    spec = _loads(spec_json)
    if not isinstance(spec, dict):
        return []
    options = spec.get("options")
    options = options if isinstance(options, dict) else {}
    argv = [a for a in spec.get("argv") or () if isinstance(a, str)]
    texts = [spec.get("prompt"), *(spec.get("env") or {}).values(), options.get("shell_command")]
    # the command line as a whole, and the long words of it (URLs, paths, tokens); not its
    # short words ("make", "true"), which would take the same words out of every log line
    texts += [" ".join(argv), *(a for a in argv if len(a) >= LONG_WORD)]
    return [t for t in texts if isinstance(t, str)]


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
