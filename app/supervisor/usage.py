"""The usage view's and ``agentry usage``'s read: the store's sums per working folder, put
under the projects the task list groups tasks by, and which agents report what.

Finding a folder's project reads ``.git`` entries (:func:`workspaces.project_of`), so the
app asks through :func:`read_usage`, off the event loop on a connection of its own.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

from app.core.usage import UsageReport
from app.store.db import Connection
from app.store.usage_repo import usage_report
from app.supervisor.adapters import all_adapters
from app.supervisor.background import on_own_connection
from app.supervisor.workspaces import project_of


def period(days: int, today: date | None = None) -> tuple[date, date]:
    """The last ``days`` local days, today included."""
    until = today or date.today()
    return until - timedelta(days=days - 1), until


def usage(conn: Connection, since: date, until: date) -> UsageReport:
    """The usage of the local days ``since`` … ``until`` per day, agent and project."""
    return usage_report(conn, since, until).regrouped(cache(project_of))


async def read_usage(database: Path, since: date, until: date) -> UsageReport:
    """:func:`usage` off the event loop (the UI's way to ask)."""
    return await on_own_connection(database, lambda conn: usage(conn, since, until))


def reporting_agents() -> tuple[list[str], list[str]]:
    """The agents whose output says what a run cost, and those that give tokens only."""
    adapters = all_adapters()
    costs = [a.label for a in adapters if a.reports_cost]
    tokens = [a.label for a in adapters if a.reports_tokens and not a.reports_cost]
    return costs, tokens


def who_reports() -> str:
    """Which agents' runs have a cost, and which only tokens: where the figures come from."""
    costs, tokens = reporting_agents()
    line = f"{' and '.join(costs)} report what each run cost"
    if tokens:
        line += f"; {' and '.join(tokens)} report tokens only"
    return line + "."


def nothing_recorded() -> str:
    """The empty state: that nothing is wrong, and where figures come from."""
    return f"No costs recorded yet. {who_reports()}"
