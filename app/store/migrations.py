"""Schema migrations, in order. Entry *n* takes the database from version n to n+1.

Never edit a released entry; append a new one. An entry is SQL (statements split on ``;``)
or, where SQL cannot do it, a function given the connection inside the migration's
transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def _chain_events(conn: sqlite3.Connection) -> None:
    """14: the audit trail's hash chain (issue #16, app.core.audit): each event stores the
    hash of the one before and its own. The rows written before this are sealed now, in
    id order; from here on every change is evident."""
    from app.store import audit_repo  # imported here: the store's modules import this one

    conn.execute("ALTER TABLE events ADD COLUMN prev_hash TEXT")
    conn.execute("ALTER TABLE events ADD COLUMN hash TEXT")
    audit_repo.seal_unsealed(conn)


MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    # 1: tasks, runs, the audit log, recovery reports, small key/value facts
    """
    CREATE TABLE tasks (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        title         TEXT    NOT NULL,
        agent         TEXT    NOT NULL,
        spec_json     TEXT    NOT NULL,
        priority      INTEGER NOT NULL DEFAULT 0,
        created_at    REAL    NOT NULL,
        latest_run_id INTEGER REFERENCES runs(id)
    );
    CREATE TABLE runs (
        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id            INTEGER NOT NULL REFERENCES tasks(id),
        attempt            INTEGER NOT NULL,
        state              TEXT    NOT NULL,
        dir                TEXT    NOT NULL UNIQUE,
        priority           INTEGER NOT NULL DEFAULT 0,
        timeout            REAL,
        created_at         REAL    NOT NULL,
        started_at         REAL,
        ended_at           REAL,
        exit_code          INTEGER,
        reason             TEXT,
        message            TEXT,
        runner_pid         INTEGER,
        runner_create_time REAL,
        agent_pid          INTEGER,
        agent_create_time  REAL
    );
    CREATE INDEX runs_by_state ON runs(state, priority DESC, id);
    CREATE INDEX runs_by_task ON runs(task_id, id);
    CREATE TABLE events (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        at        REAL    NOT NULL,
        kind      TEXT    NOT NULL,
        task_id   INTEGER,
        run_id    INTEGER,
        old_state TEXT,
        new_state TEXT,
        detail    TEXT
    );
    CREATE INDEX events_by_task ON events(task_id, id);
    CREATE TABLE recovery_reports (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          REAL NOT NULL,
        duration_ms REAL NOT NULL,
        report_json TEXT NOT NULL
    );
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    # 2: agents — what each run says to the agent, and what the agent's output says back
    """
    ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'start';
    ALTER TABLE runs ADD COLUMN prompt TEXT;
    ALTER TABLE runs ADD COLUMN resume_session TEXT;
    ALTER TABLE runs ADD COLUMN argv_json TEXT;
    ALTER TABLE runs ADD COLUMN session_id TEXT;
    ALTER TABLE runs ADD COLUMN model TEXT;
    ALTER TABLE runs ADD COLUMN cost_usd REAL;
    ALTER TABLE runs ADD COLUMN input_tokens INTEGER;
    ALTER TABLE runs ADD COLUMN output_tokens INTEGER;
    ALTER TABLE runs ADD COLUMN turns INTEGER
    """,
    # 3: approvals of agents' tool calls, and the rules that answer them without asking
    """
    CREATE TABLE approvals (
        id               TEXT    PRIMARY KEY,
        run_id           INTEGER NOT NULL REFERENCES runs(id),
        task_id          INTEGER NOT NULL REFERENCES tasks(id),
        agent            TEXT    NOT NULL,
        tool             TEXT    NOT NULL,
        input_json       TEXT    NOT NULL,
        cwd              TEXT,
        tool_use_id      TEXT,
        state            TEXT    NOT NULL,
        reason           TEXT,
        created_at       REAL    NOT NULL,
        expires_at       REAL    NOT NULL,
        decided_at       REAL,
        decided_by       TEXT,
        hook_pid         INTEGER,
        hook_create_time REAL
    );
    CREATE INDEX approvals_by_state ON approvals(state, created_at);
    CREATE INDEX approvals_by_run ON approvals(run_id);
    CREATE TABLE approval_rules (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        scope      TEXT    NOT NULL,
        folder     TEXT,
        task_id    INTEGER REFERENCES tasks(id),
        tool       TEXT    NOT NULL,
        pattern    TEXT,
        decision   TEXT    NOT NULL,
        created_at REAL    NOT NULL
    )
    """,
    # 4: workflows, the attempts of their steps, and checkpoints with every resolution
    """
    CREATE TABLE workflows (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT    NOT NULL,
        definition_json TEXT    NOT NULL,
        input           TEXT    NOT NULL,
        cwd             TEXT    NOT NULL,
        state           TEXT    NOT NULL,
        current_step    INTEGER NOT NULL DEFAULT 0,
        message         TEXT,
        error           TEXT,
        error_at        REAL,
        retry_json      TEXT,
        created_at      REAL    NOT NULL,
        updated_at      REAL    NOT NULL,
        ended_at        REAL
    );
    CREATE INDEX workflows_by_state ON workflows(state, id);
    CREATE TABLE workflow_steps (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        workflow_id INTEGER NOT NULL REFERENCES workflows(id),
        step_index  INTEGER NOT NULL,
        name        TEXT    NOT NULL,
        attempt     INTEGER NOT NULL,
        task_id     INTEGER NOT NULL REFERENCES tasks(id),
        run_id      INTEGER NOT NULL UNIQUE REFERENCES runs(id),
        state       TEXT    NOT NULL,
        prompt      TEXT,
        argv_json   TEXT    NOT NULL,
        notes       TEXT,
        result_text TEXT,
        final_text  TEXT,
        created_at  REAL    NOT NULL,
        ended_at    REAL,
        UNIQUE (workflow_id, step_index, attempt)
    );
    CREATE INDEX workflow_steps_by_state ON workflow_steps(state, id);
    CREATE TABLE checkpoints (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        workflow_id INTEGER NOT NULL REFERENCES workflows(id),
        step_id     INTEGER NOT NULL UNIQUE REFERENCES workflow_steps(id),
        state       TEXT    NOT NULL,
        result_text TEXT    NOT NULL,
        created_at  REAL    NOT NULL,
        action      TEXT,
        resolved_by TEXT,
        resolved_at REAL,
        edited_text TEXT,
        notes       TEXT,
        rerun       INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX checkpoints_by_state ON checkpoints(state, id);
    CREATE INDEX checkpoints_by_workflow ON checkpoints(workflow_id, id)
    """,
    # 5: a task's own git worktree (DESIGN §7a): the row is the intent, written before git acts
    """
    CREATE TABLE workspaces (
        task_id    INTEGER PRIMARY KEY REFERENCES tasks(id),
        repo       TEXT    NOT NULL,
        path       TEXT    NOT NULL UNIQUE,
        branch     TEXT    NOT NULL,
        base       TEXT    NOT NULL,
        base_sha   TEXT    NOT NULL,
        subdir     TEXT    NOT NULL DEFAULT '',
        state      TEXT    NOT NULL,
        created_at REAL    NOT NULL,
        updated_at REAL    NOT NULL
    );
    CREATE INDEX workspaces_by_state ON workspaces(state)
    """,
    # 6: the folder a task locks while it runs in place (DESIGN §7a): a repository's top, or
    # the folder itself; NULL for tasks that do not lock (worktrees, plain commands)
    """
    ALTER TABLE tasks ADD COLUMN lock_key TEXT;
    CREATE INDEX tasks_by_lock ON tasks(lock_key) WHERE lock_key IS NOT NULL
    """,
    # 7: lands (DESIGN §7a): a local merge queue, one repository's lands one at a time
    """
    CREATE TABLE lands (
        id          INTEGER PRIMARY KEY,
        task_id     INTEGER NOT NULL REFERENCES tasks(id),
        repo        TEXT    NOT NULL,
        base        TEXT    NOT NULL,
        check_cmd   TEXT    NOT NULL DEFAULT '',
        state       TEXT    NOT NULL,
        head_before TEXT,
        base_sha    TEXT,
        head_sha    TEXT,
        run_id      INTEGER REFERENCES runs(id),
        message     TEXT    NOT NULL DEFAULT '',
        created_at  REAL    NOT NULL,
        updated_at  REAL    NOT NULL
    );
    CREATE INDEX lands_by_state ON lands(state, id);
    CREATE INDEX lands_by_run ON lands(run_id) WHERE run_id IS NOT NULL
    """,
    # 8: when a worktree's setup command passed (DESIGN §7a); NULL: not yet, set it up first
    """
    ALTER TABLE workspaces ADD COLUMN setup_done_at REAL
    """,
    # 9: organising tasks: archived ones leave the default view; a dismissed one (the person
    # saw how its latest run ended and chose to leave it) no longer counts as needing them
    """
    ALTER TABLE tasks ADD COLUMN archived_at REAL;
    ALTER TABLE tasks ADD COLUMN dismissed_at REAL
    """,
    # 10: at scale (issue #14), no scan of every task or run: a run's task row by index (a
    # deleted run's foreign key is checked; the tasks whose latest run ended lately are
    # joined from it), and runs by when they ended (what ended since the app last showed it)
    """
    CREATE INDEX tasks_by_latest_run ON tasks(latest_run_id);
    CREATE INDEX runs_by_end ON runs(coalesce(ended_at, created_at))
    """,
    # 11: when a queued run may start (DESIGN §2, §4): a restart's backoff waits as a row,
    # so it survives a crash; the reason says what it waits for
    """
    ALTER TABLE runs ADD COLUMN not_before REAL;
    ALTER TABLE runs ADD COLUMN wait_reason TEXT
    """,
    # 12: an agent's usage or rate limit (issue #15): its queued tasks wait until it resets
    """
    CREATE TABLE agent_limits (
        agent    TEXT PRIMARY KEY,
        until    REAL NOT NULL,
        kind     TEXT NOT NULL,
        message  TEXT NOT NULL,
        since    REAL NOT NULL,
        run_id   INTEGER
    )
    """,
    # 13: schedules (issue #15): a task to start by cron, every so often, or once; the task's
    # spec as TaskSpec.to_json, and when it runs next (NULL: nothing more to run)
    """
    CREATE TABLE schedules (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        spec_json    TEXT    NOT NULL,
        kind         TEXT    NOT NULL,
        expr         TEXT    NOT NULL,
        catch_up     TEXT    NOT NULL DEFAULT 'once',
        overlap      TEXT    NOT NULL DEFAULT 'skip',
        paused       INTEGER NOT NULL DEFAULT 0,
        next_run_at  REAL,
        last_run_at  REAL,
        last_task_id INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
        created_at   REAL    NOT NULL
    );
    CREATE INDEX schedules_by_next ON schedules(next_run_at) WHERE next_run_at IS NOT NULL
    """,
    _chain_events,
    # 15: durable notifications (issue #16): where to send them, and the outbox. A delivery
    # is written in the transaction of the change it tells of; attempts keep each try.
    # A target's secret is not here but in notify-secrets.json (see app.store.notify_secrets).
    """
    CREATE TABLE notify_targets (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT    NOT NULL,
        url         TEXT    NOT NULL,
        events_json TEXT    NOT NULL,
        secret_key  TEXT,
        paused      INTEGER NOT NULL DEFAULT 0,
        created_at  REAL    NOT NULL
    );
    CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        target_id       INTEGER NOT NULL REFERENCES notify_targets(id) ON DELETE CASCADE,
        event_id        INTEGER,
        event_kind      TEXT    NOT NULL,
        payload_json    TEXT    NOT NULL,
        idempotency_key TEXT    NOT NULL UNIQUE,
        state           TEXT    NOT NULL DEFAULT 'pending',
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_at         REAL,
        last_status     INTEGER,
        last_error      TEXT,
        created_at      REAL    NOT NULL,
        delivered_at    REAL
    );
    CREATE INDEX deliveries_due ON deliveries(next_at) WHERE state = 'pending';
    CREATE INDEX deliveries_by_target ON deliveries(target_id, id);
    CREATE TABLE delivery_attempts (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        at          REAL    NOT NULL,
        status      INTEGER,
        error       TEXT,
        duration_ms INTEGER NOT NULL
    );
    CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts(delivery_id, id)
    """,
]
