"""All SQL for tasks, runs, events, recovery reports and meta facts.

Functions that change state must be called inside :func:`app.store.db.transaction`, so
the change and its ``events`` row commit together. Reads may be called anywhere.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from app.core import audit
from app.core.errors import AgentryError
from app.core.models import Run, RunKind, Task, TaskSpec
from app.core.states import ACTIVE, ExitReason, RunState, check_transition
from app.store import outbox_repo

if TYPE_CHECKING:
    from app.core.agent_events import RunSummary

_RUN_FIELDS = frozenset(
    {
        "started_at",
        "ended_at",
        "exit_code",
        "reason",
        "message",
        "runner_pid",
        "runner_create_time",
        "agent_pid",
        "agent_create_time",
    }
)


class UnknownTask(AgentryError, LookupError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no task {ref!r}; `agentry list` shows the tasks there are")


# ---------------------------------------------------------------- rows -> records


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        task_id=row["task_id"],
        attempt=row["attempt"],
        state=RunState(row["state"]),
        dir=row["dir"],
        priority=row["priority"],
        timeout=row["timeout"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        exit_code=row["exit_code"],
        reason=_exit_reason(row["reason"]),
        message=row["message"],
        runner_pid=row["runner_pid"],
        runner_create_time=row["runner_create_time"],
        agent_pid=row["agent_pid"],
        agent_create_time=row["agent_create_time"],
        kind=RunKind(row["kind"]),
        prompt=row["prompt"],
        resume_session=row["resume_session"],
        argv=tuple(json.loads(row["argv_json"])) if row["argv_json"] else (),
        session_id=row["session_id"],
        model=row["model"],
        cost_usd=row["cost_usd"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        turns=row["turns"],
        not_before=row["not_before"],
        wait_reason=row["wait_reason"],
    )


# A run "holds" its task's folder while it is active; a queued run of a locking task also
# keeps later ones in line, so they start in submission order (DESIGN §7a). Nothing but run
# states decides it: recovery settles a dead runner's run, and with it the lock.
_LOCK_HELD_BY = (
    "SELECT r2.task_id FROM runs r2 JOIN tasks t2 ON t2.id = r2.task_id "
    "WHERE t2.lock_key = t.lock_key AND r2.task_id != r.task_id "
    "AND (r2.state IN ('starting', 'running') OR (r2.state = 'queued' AND r2.id < r.id)) "
    "ORDER BY (r2.state = 'queued'), r2.id LIMIT 1"
)


# Until when the task's agent's usage limit holds, if it does now (SQLite's clock, so a
# query needs no parameter for it).
LIMIT_UNTIL = (
    "SELECT l.until FROM agent_limits l WHERE l.agent = t.agent "
    "AND l.until > (julianday('now') - 2440587.5) * 86400.0"
)

_TASK_COLUMNS = (
    "t.id AS t_id, t.title, t.agent, t.spec_json, t.priority AS t_priority, "
    "t.created_at AS t_created_at, t.lock_key AS t_lock_key, "
    "t.archived_at AS t_archived_at, t.dismissed_at AS t_dismissed_at, "
    "(SELECT sum(c.cost_usd) FROM runs c WHERE c.task_id = t.id) AS t_cost, "
    "(SELECT s.session_id FROM runs s WHERE s.task_id = t.id AND s.session_id IS NOT NULL "
    "ORDER BY s.id DESC LIMIT 1) AS t_session, "
    f"CASE WHEN r.state = 'queued' AND t.lock_key IS NOT NULL THEN ({_LOCK_HELD_BY}) END "
    f"AS t_waiting, CASE WHEN r.state = 'queued' THEN ({LIMIT_UNTIL}) END AS t_limit, r.*"
)


def _task(row: sqlite3.Row) -> Task:
    return Task(
        id=row["t_id"],
        title=row["title"],
        agent=row["agent"],
        spec=TaskSpec.from_json(json.loads(row["spec_json"])),
        priority=row["t_priority"],
        created_at=row["t_created_at"],
        latest_run=_run(row) if row["id"] is not None else None,
        total_cost_usd=row["t_cost"],
        session_id=row["t_session"],
        lock_key=row["t_lock_key"],
        waiting_for=row["t_waiting"],
        archived_at=row["t_archived_at"],
        dismissed_at=row["t_dismissed_at"],
        limit_until=row["t_limit"],
    )


_STATES = {s.value: s for s in RunState}
_KINDS = {k.value: k for k in RunKind}
_REASONS = {r.value: r for r in ExitReason}


def _tasks(cursor: sqlite3.Cursor) -> list[Task]:
    """Many rows of ``_TASK_COLUMNS`` at once, as :func:`_task` reads one: 10,000 of them
    open the app. Read by position from plain tuples, every spec parsed by one json call,
    enums from dicts — a third of what a Row, a ``json.loads`` and an enum call per task
    cost."""
    at = {column[0]: i for i, column in enumerate(cursor.description)}
    cursor.row_factory = None
    rows = cursor.fetchall()
    specs = json.loads("[" + ",".join(row[at["spec_json"]] for row in rows) + "]")
    (t_id, title, agent, t_priority, t_created, t_lock, t_archived, t_dismissed, t_cost,
     t_session, t_waiting, t_limit) = (at[name] for name in (
        "t_id", "title", "agent", "t_priority", "t_created_at", "t_lock_key", "t_archived_at",
        "t_dismissed_at", "t_cost", "t_session", "t_waiting", "t_limit"))  # fmt: skip
    run_at = tuple(at[name] for name in _RUN_COLUMNS)
    tasks = []
    for row, spec in zip(rows, specs, strict=True):
        run = _run_from(row, run_at) if row[run_at[0]] is not None else None
        tasks.append(Task(
            id=row[t_id], title=row[title], agent=row[agent], spec=TaskSpec.from_json(spec),
            priority=row[t_priority], created_at=row[t_created], latest_run=run,
            total_cost_usd=row[t_cost], session_id=row[t_session], lock_key=row[t_lock],
            waiting_for=row[t_waiting], archived_at=row[t_archived],
            dismissed_at=row[t_dismissed], limit_until=row[t_limit],
        ))  # fmt: skip
    return tasks


_RUN_COLUMNS = (
    "id", "task_id", "attempt", "state", "dir", "priority", "timeout", "created_at",
    "started_at", "ended_at", "exit_code", "reason", "message", "runner_pid",
    "runner_create_time", "agent_pid", "agent_create_time", "kind", "prompt",
    "resume_session", "argv_json", "session_id", "model", "cost_usd", "input_tokens",
    "output_tokens", "turns", "not_before", "wait_reason",
)  # fmt: skip


def _run_from(row: tuple[Any, ...], at: tuple[int, ...]) -> Run:
    """:func:`_run` of a plain row whose ``_RUN_COLUMNS`` stand at ``at``."""
    v = [row[i] for i in at]
    state, kind, argv = v[3], v[17], v[20]
    return Run(
        id=v[0], task_id=v[1], attempt=v[2], state=_STATES.get(state) or RunState(state),
        dir=v[4], priority=v[5], timeout=v[6], created_at=v[7], started_at=v[8],
        ended_at=v[9], exit_code=v[10], reason=_REASONS.get(v[11]), message=v[12],
        runner_pid=v[13], runner_create_time=v[14], agent_pid=v[15],
        agent_create_time=v[16], kind=_KINDS.get(kind) or RunKind(kind), prompt=v[18],
        resume_session=v[19], argv=tuple(json.loads(argv)) if argv else (),
        session_id=v[21], model=v[22], cost_usd=v[23], input_tokens=v[24],
        output_tokens=v[25], turns=v[26], not_before=v[27], wait_reason=v[28],
    )  # fmt: skip


# ---------------------------------------------------------------- events


def add_event(
    conn: sqlite3.Connection,
    kind: str,
    *,
    task_id: int | None = None,
    run_id: int | None = None,
    old_state: str | None = None,
    new_state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Record a change in the audit trail, sealed into its hash chain (app.core.audit) in
    the caller's transaction; returns the new row's id."""
    at, text = time.time(), json.dumps(detail, allow_nan=False) if detail else None
    content = (at, kind, task_id, run_id, old_state, new_state, text)
    cur = conn.execute(
        "INSERT INTO events (at, kind, task_id, run_id, old_state, new_state, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        content,
    )
    event_id = int(cur.lastrowid or 0)
    _seal(conn, (event_id, *content))
    # A notification the event causes goes into the outbox in this same transaction.
    outbox_repo.enqueue_for_event(
        conn, event_id, kind, task_id=task_id, run_id=run_id,
        old_state=old_state, new_state=new_state, detail=detail,
    )  # fmt: skip
    return event_id


def _seal(conn: sqlite3.Connection, content: tuple[Any, ...]) -> None:
    """Chain the row just inserted, whose :data:`audit.ROW_COLUMNS` values are ``content``,
    to the one before it. In the writer's ``BEGIN IMMEDIATE`` transaction: no other process
    can add a row in between."""
    event_id = content[0]
    previous = conn.execute(
        "SELECT hash FROM events WHERE id < ? ORDER BY id DESC LIMIT 1", (event_id,)
    ).fetchone()
    prev_hash = previous[0] if previous is not None and previous[0] else audit.GENESIS
    conn.execute(
        "UPDATE events SET prev_hash = ?, hash = ? WHERE id = ?",
        (prev_hash, audit.row_hash(content, prev_hash), event_id),
    )


def last_event_id(conn: sqlite3.Connection) -> int:
    """The newest event's id (0 with none): a mark for :func:`tasks_named_since`."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])


def tasks_named_since(conn: sqlite3.Connection, event_id: int) -> tuple[int, list[int]]:
    """(the newest event's id, the tasks that the events after ``event_id`` name): what
    another process changed since, read from the events every change commits with."""
    rows = conn.execute(
        "SELECT id, task_id FROM events WHERE id > ? ORDER BY id", (event_id,)
    ).fetchall()
    named = dict.fromkeys(row[1] for row in rows if row[1] is not None)
    return (rows[-1][0] if rows else event_id), list(named)


def events_for_task(conn: sqlite3.Connection, task_id: int) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM events WHERE task_id = ? ORDER BY id", (task_id,)).fetchall()
    return [dict(row) for row in rows]


# ---------------------------------------------------------------- tasks and runs


def _exit_reason(value: str | None) -> ExitReason | None:
    """How a run ended; a reason this version does not know (a newer one wrote it) is None,
    as for a run that has not ended: its state and message still say what happened."""
    try:
        return None if value is None else ExitReason(value)
    except ValueError:
        return None


def _new_run_dir(run_id: int) -> str:
    # The random part keeps a folder unique even if the database is ever replaced and ids restart.
    return f"{run_id:06d}-{_random_hex(3)}"


def _random_hex(nbytes: int) -> str:
    """``secrets.token_hex``, without importing secrets (hmac, hashlib, random): every
    `agentry run` creates a task, and that import alone was a tenth of its start-up."""
    return os.urandom(nbytes).hex()


def create_task(
    conn: sqlite3.Connection,
    spec: TaskSpec,
    timeout: float | None,
    *,
    lock_key: str | None = None,
) -> tuple[int, int]:
    """Insert a task and its first, queued run. ``timeout`` is resolved (None = no limit);
    ``lock_key`` is the folder its runs hold while active (None: they hold none)."""
    title = spec.title or " ".join(spec.argv)[:120] or spec.agent
    spec_json = json.dumps(spec.to_json(), allow_nan=False)
    cur = conn.execute(
        "INSERT INTO tasks (title, agent, spec_json, priority, created_at, lock_key) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (title, spec.agent, spec_json, spec.priority, time.time(), lock_key),
    )
    task_id = int(cur.lastrowid or 0)
    add_event(conn, "task_created", task_id=task_id, detail={"title": title})
    run_id = _insert_run(conn, task_id, 1, spec.priority, timeout, prompt=spec.prompt)
    return task_id, run_id


def add_run(
    conn: sqlite3.Connection,
    task_id: int,
    timeout: float | None,
    *,
    kind: RunKind = RunKind.RETRY,
    prompt: str | None = None,
    resume_session: str | None = None,
    not_before: float | None = None,
    wait_reason: str | None = None,
) -> int:
    """A new queued run for an existing task (retry, resume, follow-up, restart); with
    ``not_before``, it starts no earlier."""
    row = conn.execute(
        "SELECT t.priority, coalesce(max(r.attempt), 0) AS attempts FROM tasks t "
        "LEFT JOIN runs r ON r.task_id = t.id WHERE t.id = ? GROUP BY t.id",
        (task_id,),
    ).fetchone()
    if row is None:
        raise UnknownTask(str(task_id))
    return _insert_run(
        conn, task_id, row["attempts"] + 1, row["priority"], timeout,
        kind=kind, prompt=prompt, resume_session=resume_session, not_before=not_before,
        wait_reason=wait_reason,
    )  # fmt: skip


def _insert_run(
    conn: sqlite3.Connection,
    task_id: int,
    attempt: int,
    priority: int,
    timeout: float | None,
    *,
    kind: RunKind = RunKind.START,
    prompt: str | None = None,
    resume_session: str | None = None,
    not_before: float | None = None,
    wait_reason: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO runs (task_id, attempt, state, dir, priority, timeout, created_at, kind, "
        "prompt, resume_session, not_before, wait_reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            task_id,
            attempt,
            RunState.QUEUED.value,
            _random_hex(8),
            priority,
            timeout,
            time.time(),
            kind.value,
            prompt,
            resume_session,
            not_before,
            wait_reason,
        ),
    )
    run_id = int(cur.lastrowid or 0)
    conn.execute("UPDATE runs SET dir = ? WHERE id = ?", (_new_run_dir(run_id), run_id))
    conn.execute("UPDATE tasks SET latest_run_id = ? WHERE id = ?", (run_id, task_id))
    add_event(
        conn,
        "run_state",
        task_id=task_id,
        run_id=run_id,
        new_state=RunState.QUEUED.value,
        detail={"attempt": attempt, "kind": kind.value},
    )
    return run_id


def transition(
    conn: sqlite3.Connection,
    run_id: int,
    new: RunState,
    *,
    only_from: Iterable[RunState] | None = None,
    **fields: Any,
) -> Run | None:
    """The single entry point for a run state change, with its event row.

    Must run inside a write transaction, so the read and the update cannot interleave
    with another process. Returns the updated run, or None when the run is no longer in
    one of ``only_from`` (another process got there first). A change the state table
    does not allow raises :class:`IllegalTransition`.
    """
    unknown = set(fields) - _RUN_FIELDS
    if unknown:
        raise ValueError(f"not run fields: {sorted(unknown)}")
    run = get_run(conn, run_id)
    if only_from is not None and run.state not in set(only_from):
        return None
    check_transition(run.state, new)
    assignments = ", ".join(["state = ?", *(f"{name} = ?" for name in fields)])
    conn.execute(
        f"UPDATE runs SET {assignments} WHERE id = ?",
        (new.value, *fields.values(), run_id),
    )
    detail = {k: v for k, v in fields.items() if k in ("exit_code", "reason", "message")}
    add_event(
        conn,
        "run_state",
        task_id=run.task_id,
        run_id=run_id,
        old_state=run.state.value,
        new_state=new.value,
        detail=detail or None,
    )
    return get_run(conn, run_id)


def update_run_processes(
    conn: sqlite3.Connection,
    run_id: int,
    *,
    runner_pid: int | None = None,
    runner_create_time: float | None = None,
    agent_pid: int | None = None,
    agent_create_time: float | None = None,
) -> None:
    """Cache which processes a run has (runner.json owns the fact; this is not a state change)."""
    conn.execute(
        "UPDATE runs SET runner_pid = coalesce(?, runner_pid), "
        "runner_create_time = coalesce(?, runner_create_time), "
        "agent_pid = coalesce(?, agent_pid), agent_create_time = coalesce(?, agent_create_time) "
        "WHERE id = ?",
        (runner_pid, runner_create_time, agent_pid, agent_create_time, run_id),
    )


def record_argv(conn: sqlite3.Connection, run_id: int, argv: list[str]) -> None:
    """Cache the exact argv of a run (spec.json owns it) for the task's details."""
    conn.execute("UPDATE runs SET argv_json = ? WHERE id = ?", (json.dumps(argv), run_id))


def add_to_run_message(conn: sqlite3.Connection, run: Run, words: str) -> None:
    """Say more about how an ended run ended (its restarts gave up, it paused for a limit),
    after what its message already says."""
    message = f"{run.message}; {words}" if run.message else words
    conn.execute("UPDATE runs SET message = ? WHERE id = ?", (message, run.id))


def update_run_summary(conn: sqlite3.Connection, run_id: int, summary: RunSummary) -> None:
    """Cache what the agent's output says (session, model, cost); output.log owns it."""
    conn.execute(
        "UPDATE runs SET session_id = coalesce(?, session_id), model = coalesce(?, model), "
        "cost_usd = coalesce(?, cost_usd), input_tokens = coalesce(?, input_tokens), "
        "output_tokens = coalesce(?, output_tokens), turns = coalesce(?, turns) WHERE id = ?",
        (summary.session_id, summary.model, summary.cost_usd, summary.input_tokens,
         summary.output_tokens, summary.turns, run_id),
    )  # fmt: skip


def get_run(conn: sqlite3.Connection, run_id: int) -> Run:
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise LookupError(f"no run {run_id}")
    return _run(row)


def runs_for_task(conn: sqlite3.Connection, task_id: int) -> list[Run]:
    rows = conn.execute("SELECT * FROM runs WHERE task_id = ? ORDER BY id", (task_id,))
    return [_run(row) for row in rows]


def runs_in_states(conn: sqlite3.Connection, states: Iterable[RunState]) -> list[Run]:
    wanted = [s.value for s in states]
    marks = ", ".join("?" for _ in wanted)
    rows = conn.execute(
        f"SELECT * FROM runs WHERE state IN ({marks}) ORDER BY priority DESC, id", wanted
    )
    return [_run(row) for row in rows]


def active_runs(conn: sqlite3.Connection) -> list[Run]:
    return runs_in_states(conn, ACTIVE)


def queued_runs(conn: sqlite3.Connection, limit: int | None = None) -> list[Run]:
    """Queued runs in the order they start: higher priority first, then first come first served."""
    sql = "SELECT * FROM runs WHERE state = 'queued' ORDER BY priority DESC, id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_run(row) for row in conn.execute(sql)]


def startable_runs(conn: sqlite3.Connection, limit: int, now: float | None = None) -> list[Run]:
    """:func:`queued_runs` without those waiting for another task's hold on their folder,
    for their ``not_before`` or for their agent's limit to reset (at ``now``, the wall
    clock by default)."""
    sql = (
        "SELECT r.* FROM runs r JOIN tasks t ON t.id = r.task_id WHERE r.state = 'queued' "
        "AND (r.not_before IS NULL OR r.not_before <= ?) "
        "AND NOT EXISTS (SELECT 1 FROM agent_limits l WHERE l.agent = t.agent AND l.until > ?) "
        f"AND (t.lock_key IS NULL OR NOT EXISTS ({_LOCK_HELD_BY})) "
        "ORDER BY r.priority DESC, r.id LIMIT ?"
    )
    at = time.time() if now is None else now
    return [_run(row) for row in conn.execute(sql, (at, at, int(limit)))]


def start_now(conn: sqlite3.Connection, run_id: int) -> bool:
    """A queued run waiting for its ``not_before`` may start at once (Resume now); False if
    it is not queued and waiting."""
    cur = conn.execute(
        "UPDATE runs SET not_before = NULL WHERE id = ? AND state = 'queued' "
        "AND not_before IS NOT NULL",
        (run_id,),
    )
    return cur.rowcount == 1


def run_folders(conn: sqlite3.Connection) -> list[str]:
    """The folder name of every run the database knows."""
    return [row[0] for row in conn.execute("SELECT dir FROM runs")]


def queued_task_ids(conn: sqlite3.Connection) -> list[int]:
    rows = conn.execute(
        "SELECT task_id FROM runs WHERE state = 'queued' ORDER BY priority DESC, id"
    )
    return [row[0] for row in rows]


def count_by_state(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT r.state, count(*) FROM tasks t JOIN runs r ON r.id = t.latest_run_id "
        "GROUP BY r.state"
    )
    return {row[0]: row[1] for row in rows}


def get_task(conn: sqlite3.Connection, task_id: int) -> Task:
    row = conn.execute(
        f"SELECT {_TASK_COLUMNS} FROM tasks t LEFT JOIN runs r ON r.id = t.latest_run_id "
        "WHERE t.id = ?",
        (task_id,),
    ).fetchone()
    if row is None:
        raise UnknownTask(str(task_id))
    return _task(row)


def list_tasks(
    conn: sqlite3.Connection, limit: int | None = None, *, archived: bool | None = None
) -> list[Task]:
    """Newest first; ``archived`` True or False: only archived tasks, or only the others."""
    where = {
        None: "",
        True: "WHERE t.archived_at IS NOT NULL ",
        False: "WHERE t.archived_at IS NULL ",
    }
    sql = (
        f"SELECT {_TASK_COLUMNS} FROM tasks t LEFT JOIN runs r ON r.id = t.latest_run_id "
        f"{where[archived]}ORDER BY t.id DESC"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return _tasks(conn.execute(sql))


def resolve_task(conn: sqlite3.Connection, ref: str) -> Task:
    """A task from what a user typed: its number (``12`` or ``#12``)."""
    text = ref.strip().lstrip("#")
    if not text.isascii() or not text.isdigit():
        raise UnknownTask(ref)
    return get_task(conn, int(text))
