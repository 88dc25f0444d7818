"""``agentry usage``: what the agents' runs cost, per day, per agent and per project, over
the last 7/30/90 days or since a date (local days, as the app's Usage view shows them)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.cli.common import EXIT_OK, Subparsers, print_json, usage_error

if TYPE_CHECKING:
    from app.core.usage import Usage, UsageReport


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser("usage", help="cost and tokens per day, agent and project")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--days", type=int, choices=(7, 30, 90), default=30,
                      help="the last N days, today included (default 30)")  # fmt: skip
    when.add_argument("--since", metavar="DATE",
                      help="from this local date (YYYY-MM-DD) to today")  # fmt: skip
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_usage)


def cmd_usage(args: argparse.Namespace) -> int:
    from datetime import date

    from app.cli.common import open_store
    from app.core.usage import UsageReport
    from app.store.db import NoDatabase
    from app.supervisor.usage import period, usage

    since, until = period(args.days)
    if args.since is not None:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            return usage_error(f"--since {args.since!r} is not a date; write it as YYYY-MM-DD, "
                               f"for example {until.isoformat()}")  # fmt: skip
        if since > until:
            return usage_error(f"--since {args.since} is in the future; today is {until}")
    try:
        _, conn = open_store(read_only=True)
    except NoDatabase:
        report = UsageReport(since, until)
    else:
        try:
            report = usage(conn, since, until)
        finally:
            conn.close()
    if args.json:
        print_json(report.to_json())
    else:
        sys.stdout.write(describe(report))
    return EXIT_OK


def describe(report: UsageReport) -> str:
    """The tables of ``agentry usage``: days with runs, then agents, projects and total."""
    from app.core.costs import format_cost
    from app.supervisor.usage import nothing_recorded

    head = f"Usage from {report.since} to {report.until}"
    if report.empty:
        return f"{head}: nothing recorded.\n{nothing_recorded()}\n"
    days = [(d.isoformat(), u) for d, u in report.days() if u.runs]
    lines = [f"{head}\n"]
    lines += _table("DAY", days)
    lines += _table("AGENT", report.by_agent())
    lines += _table("PROJECT", report.by_project())
    total = report.total()
    lines.append(f"Total: {format_cost(total.cost_usd) or 'no cost reported'}, "
                 f"{total.input_tokens:,} input and {total.output_tokens:,} output tokens, "
                 f"{total.runs} run{'' if total.runs == 1 else 's'}")  # fmt: skip
    return "\n".join(lines) + "\n"


def _table(title: str, rows: list[tuple[str, Usage]]) -> list[str]:
    from app.core.costs import format_cost

    width = max(len(title), *(len(name) for name, _ in rows))
    lines = [f"{title:<{width}}  {'COST':>10}  {'INPUT':>12}  {'OUTPUT':>12}  {'RUNS':>5}"]
    for name, u in rows:
        cost = format_cost(u.cost_usd) or "-"
        lines.append(f"{name:<{width}}  {cost:>10}  {u.input_tokens:>12,}  "
                     f"{u.output_tokens:>12,}  {u.runs:>5}")  # fmt: skip
    return [*lines, ""]
