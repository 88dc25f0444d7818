"""Runs whose cost and tokens are set through the store, as the supervisor records them
when an agent's run ends (for the usage view's and ``agentry usage``'s tests)."""

from __future__ import annotations

from pathlib import Path

from app.core.agent_events import RunSummary
from app.store import repo
from helpers.agentry import Home


def ended_run(
    home: Home,
    folder: Path,
    ended_at: float,
    *,
    agent: str = "claude",
    cost: float | None = None,
    tokens: tuple[int | None, int | None] = (None, None),
) -> int:
    """A task of ``agent`` in ``folder`` whose run ended at ``ended_at`` having reported
    ``cost`` and (input, output) ``tokens``; its task id."""
    task_id = home.submit(["agent"], folder, agent=agent, prompt="do it")
    run = home.run(task_id)
    with home.db() as conn:
        conn.execute(
            "UPDATE runs SET state = 'succeeded', exit_code = 0, ended_at = ? WHERE id = ?",
            (ended_at, run.id),
        )
        summary = RunSummary(cost_usd=cost, input_tokens=tokens[0], output_tokens=tokens[1])
        repo.update_run_summary(conn, run.id, summary)
        conn.commit()
    return task_id
