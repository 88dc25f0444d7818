"""``agentry mcp``: a Model Context Protocol server on stdio, so that an agent (or the
person's own Claude Code, Codex or Gemini session) can list, start, follow up and cancel
Agentry's tasks and see the approvals waiting.

The MCP SDK (pydantic, anyio and the rest) is imported by app.cli.mcp_server when this
command runs, never by the other commands (tests/unit/test_cli_imports.py).
"""

from __future__ import annotations

import argparse

from app.cli.common import EXIT_OK, Subparsers


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser(
        "mcp",
        help="serve Agentry's tasks to an agent over MCP (stdio); e.g. "
        "`claude mcp add agentry -- agentry mcp`",
        description="Run a Model Context Protocol server on stdin/stdout for an agent to "
        "start: it can list tasks, read their output, start tasks (marked as started by "
        "MCP), follow up, cancel, and see the approvals waiting for you. Tasks go into "
        "the queue like `agentry run`: open Agentry or run `agentry serve` to run them.",
    )
    p.set_defaults(handler=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    from app.cli.mcp_server import serve_stdio
    from app.store.locations import locations_from_env

    serve_stdio(locations_from_env())
    return EXIT_OK
