"""The approval commands of ``agentry``: approvals, approve, deny, rules, and the hook
agents call (``agentry hook KIND --run ID``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.common import EXIT_OK, Subparsers, open_store, print_json, usage_error

if TYPE_CHECKING:
    from app.core.approvals import RuleScope

REMEMBER_SCOPES = ("task", "project")
"""The values of app.core.approvals.RuleScope that --remember offers, spelt out so that
building the parser imports no approval machinery (a unit test keeps them equal)."""


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser("approvals", help="tool calls waiting for a yes or no (and past ones)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--all", action="store_true", help="past decisions too")
    p.set_defaults(handler=cmd_approvals)

    p = sub.add_parser("approve", help="allow a waiting tool call")
    p.add_argument("id", help="approval id")
    _add_remember(p, "allow")
    p.set_defaults(handler=cmd_approve)

    p = sub.add_parser("deny", help="deny a waiting tool call; the agent is told why")
    p.add_argument("id", help="approval id")
    p.add_argument("--reason", default=None, help="what the agent should know")
    _add_remember(p, "deny")
    p.set_defaults(handler=cmd_deny)

    p = sub.add_parser("rules", help="approval rules: list, add or remove")
    p.add_argument("action", nargs="?", choices=("list", "add", "remove"), default="list")
    p.add_argument("decision", nargs="?", choices=("allow", "deny"), help="for add")
    p.add_argument("--tool", help="tool name, or * for any (for add)")
    p.add_argument("--folder", help="project folder the rule applies in (for add)")
    p.add_argument("--task", type=int, help="…or the task it applies to (for add)")
    p.add_argument("--pattern", help="glob on the main argument, e.g. 'git *' (for add)")
    p.add_argument("--id", type=int, help="rule id (for remove)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_rules)

    p = sub.add_parser("hook")  # called by agents, not people: no help= keeps it unlisted
    p.add_argument("kind", help="claude-pretool, codex-pretool or gemini-pretool")
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--timeout", type=float, default=None, help="longest wait, in seconds")
    p.add_argument("--probe", action="store_true", help="only say that the hook starts")
    p.set_defaults(handler=cmd_hook)


def _add_remember(parser: argparse.ArgumentParser, decision: str) -> None:
    parser.add_argument(
        "--remember",
        choices=REMEMBER_SCOPES,
        help=f"also {decision} this tool from now on for the task or its folder",
    )


def _scope(remember: str | None) -> RuleScope | None:
    from app.core.approvals import RuleScope

    return RuleScope(remember) if remember else None


def cmd_approvals(args: argparse.Namespace) -> int:
    from app.store import approval_repo

    _, conn = open_store()
    items = approval_repo.recent(conn) if args.all else approval_repo.pending(conn)
    if args.json:
        print_json([a.summary() for a in items])
        return EXIT_OK
    if not items:
        print("No tool calls are waiting for you." if not args.all else "No approvals yet.")
    for a in items:
        when = time.strftime("%H:%M:%S", time.localtime(a.created_at))
        print(
            f"{a.id}  {a.state.value:<9} task {a.task_id:<4} {when}  {a.tool}: "
            f"{a.main_argument[:90]}"
        )
    return EXIT_OK


def cmd_approve(args: argparse.Namespace) -> int:
    from app.supervisor import approvals

    _, conn = open_store()
    decided = approvals.decide(conn, args.id, allow=True, remember=_scope(args.remember))
    print(f"Allowed {decided.tool} for task {decided.task_id}.")
    return EXIT_OK


def cmd_deny(args: argparse.Namespace) -> int:
    from app.supervisor import approvals

    _, conn = open_store()
    decided = approvals.decide(
        conn, args.id, allow=False, reason=args.reason, remember=_scope(args.remember)
    )
    print(f"Denied {decided.tool} for task {decided.task_id}: {decided.reason}")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from app.core.approvals import Decision, NewRule, RuleScope
    from app.store import approval_repo
    from app.store.db import transaction
    from app.supervisor.commands import CommandRefused

    _, conn = open_store()
    if args.action == "add":
        if not args.decision or not args.tool or not (args.folder or args.task):
            return usage_error("rules add needs allow|deny, --tool and --folder or --task")
        folder = str(Path(args.folder).expanduser().resolve()) if args.folder else None
        with transaction(conn):
            new = NewRule(
                RuleScope.TASK if args.task else RuleScope.PROJECT,
                args.tool,
                Decision(args.decision),
                folder=folder,
                task_id=args.task,
                pattern=args.pattern,
            )
            rule_id = approval_repo.add_rule(conn, new)
        print(f"Rule {rule_id} added.")
        return EXIT_OK
    if args.action == "remove":
        with transaction(conn):
            removed = approval_repo.remove_rule(conn, args.id or 0)
        if not removed:
            raise CommandRefused(f"no rule {args.id}; `agentry rules` lists them")
        print(f"Rule {args.id} removed.")
        return EXIT_OK
    rules = approval_repo.rules(conn)
    if args.json:
        print_json([r.__dict__ | {"decision": r.decision.value} for r in rules])
        return EXIT_OK
    for rule in rules:
        print(f"{rule.id:>4}  {rule.describe()}")
    if not rules:
        print("No rules. Read-only tools are allowed without asking (see Settings).")
    return EXIT_OK


def cmd_hook(args: argparse.Namespace) -> int:
    from app.supervisor.hook import main as hook_main

    return hook_main(args.kind, args.run, timeout=args.timeout, probe=args.probe)
