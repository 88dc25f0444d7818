"""Agents' usage and rate limits in force (issue #15; DESIGN §2: what a queued run waits
for is a row). One row per agent: the latest limit it hit."""

from __future__ import annotations

import sqlite3

from app.core.limits import AgentLimit


def set_agent_limit(conn: sqlite3.Connection, limit: AgentLimit) -> None:
    conn.execute(
        "INSERT INTO agent_limits (agent, until, kind, message, since, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(agent) DO UPDATE SET until = excluded.until, "
        "kind = excluded.kind, message = excluded.message, since = excluded.since, "
        "run_id = excluded.run_id",
        (limit.agent, limit.until, limit.kind, limit.message, limit.since, limit.run_id),
    )


def clear_agent_limit(conn: sqlite3.Connection, agent: str) -> bool:
    """The person says the limit is over (Resume now): its tasks may start."""
    return conn.execute("DELETE FROM agent_limits WHERE agent = ?", (agent,)).rowcount > 0


def agent_limits(conn: sqlite3.Connection, now: float) -> dict[str, AgentLimit]:
    """The limits still in force at ``now``, by agent."""
    rows = conn.execute(
        "SELECT agent, until, kind, message, since, run_id FROM agent_limits WHERE until > ?",
        (now,),
    )
    return {row[0]: AgentLimit(*row) for row in rows}
