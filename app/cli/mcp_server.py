"""The MCP side of `agentry mcp`: the official SDK's server on stdio, with one tool for each
of app.supervisor.mcp_tools' operations.

The protocol is the SDK's (framing, the initialize handshake, schemas from the type hints,
tool errors): none of it is written here. While it serves, the SDK points file descriptor 1
at stderr, so a stray print or a child process's output can never corrupt the protocol on
stdout; Agentry's own logging goes to stderr (warnings) and the log file.

Each tool carries the MCP annotations that tell the calling agent what it does: the three
that only read say so (``readOnlyHint``), starting and following up change work but destroy
nothing, and cancelling is destructive, so a client that asks its user before changing
anything asks before these. There is no tool to approve or deny a waiting tool call, on
purpose: an agent must not be able to answer its own approvals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from app import __version__
from app.core.errors import AgentryError
from app.core.locations import Locations
from app.core.log import get_logger
from app.core.models import TaskOrigin
from app.supervisor import mcp_tools
from app.supervisor.mcp_tools import McpTools

log = get_logger(__name__)
T = TypeVar("T")

INSTRUCTIONS = (
    "Agentry runs and supervises the user's coding agents and shell commands as tasks. "
    "Start a task with start_task (a shell command, or an agent such as claude, codex or "
    "gemini with a prompt, in an absolute working folder); watch it with list_tasks and "
    "task_output; continue an agent's session with follow_up; stop it with cancel_task. "
    "Tool calls of agents that wait for the user's approval are in list_approvals: only "
    "the user can answer them, in Agentry."
)

READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
ADDS_WORK = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
STOPS_WORK = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

TaskId = Annotated[int, Field(description="the task's number, as list_tasks gives it")]


def build_server(tools: McpTools) -> MCPServer:
    """The server with Agentry's tools; ``tools`` does the work."""
    server: MCPServer = MCPServer(
        "agentry", title="Agentry", version=__version__, instructions=INSTRUCTIONS,
        log_level="WARNING",
    )  # fmt: skip

    def list_tasks(
        state: Annotated[
            str | None,
            Field(
                description="only tasks whose latest run is in this state: queued, "
                "starting, running, succeeded, failed, timed_out, cancelled, interrupted"
            ),
        ] = None,
        limit: Annotated[
            int, Field(description=f"at most this many, newest first (1-{mcp_tools.MAX_TASKS})")
        ] = mcp_tools.DEFAULT_TASKS,
    ) -> list[dict[str, Any]]:
        """The user's Agentry tasks, newest first: id, title, agent, state, exit code,
        working folder, cost, and where each came from (origin)."""
        return _answer(lambda: tools.list_tasks(state, limit))

    def task_output(
        task_id: TaskId,
        lines: Annotated[
            int, Field(description=f"how many of the last lines (1-{mcp_tools.MAX_LINES})")
        ] = mcp_tools.DEFAULT_LINES,
    ) -> dict[str, Any]:
        """The last lines of a task's output (its latest run), with its state and exit code.
        An agent's output is given as readable text, not its raw JSON events."""
        return _answer(lambda: tools.task_output(task_id, lines))

    def start_task(
        ctx: Context,
        folder: Annotated[
            str, Field(description="the working folder: an absolute path that exists")
        ],
        command: Annotated[
            str | None,
            Field(
                description="a shell command line to run (pipes and globs work); "
                "give this, or agent and prompt"
            ),
        ] = None,
        agent: Annotated[
            str | None,
            Field(
                description="a coding agent to run instead of a command: claude, codex, "
                "gemini, aider, opencode, q or demo"
            ),
        ] = None,
        prompt: Annotated[str | None, Field(description="what the agent should do")] = None,
        title: Annotated[str, Field(description="a short name for the task")] = "",
        worktree: Annotated[
            bool,
            Field(
                description="run in a git worktree of its own, on a new branch, so the "
                "folder's checkout is not touched (the folder must be in a git repository)"
            ),
        ] = False,
    ) -> dict[str, Any]:
        """Queue a new task in Agentry: a shell command or a coding agent's prompt. The
        user's running Agentry starts it; it is listed as started by MCP. Returns its id."""
        origin = _origin(ctx)
        return _answer(lambda: tools.start_task(
            folder, origin, command=command, agent=agent, prompt=prompt, title=title,
            worktree=worktree,
        ))  # fmt: skip

    def follow_up(
        task_id: TaskId,
        message: Annotated[str, Field(description="the next message to the task's agent")],
    ) -> dict[str, Any]:
        """Send the next message in an ended agent task's own session: a new run of it."""
        return _answer(lambda: tools.follow_up(task_id, message))

    def cancel_task(task_id: TaskId) -> dict[str, Any]:
        """Cancel a task: stops its run and the run's whole process tree, or takes it out
        of the queue if it has not started."""
        return _answer(lambda: tools.cancel_task(task_id))

    def list_approvals() -> list[dict[str, Any]]:
        """Agents' tool calls waiting for the user's yes or no (only the user answers them,
        in Agentry or with `agentry approve`/`agentry deny`)."""
        return _answer(tools.list_approvals)

    for fn, title, hints in (
        (list_tasks, "List tasks", READS),
        (task_output, "Read a task's output", READS),
        (start_task, "Start a task", ADDS_WORK),
        (follow_up, "Follow up on a task", ADDS_WORK),
        (cancel_task, "Cancel a task", STOPS_WORK),
        (list_approvals, "List approvals waiting", READS),
    ):
        server.add_tool(fn, title=title, annotations=hints)
    return server


def _answer(call: Callable[[], T]) -> T:
    """The tool's result; Agentry's refusals become tool errors the calling agent reads."""
    try:
        return call()
    except AgentryError as exc:
        raise ToolError(str(exc)) from None


def _origin(ctx: Context) -> TaskOrigin:
    """Via "mcp", with the name the client gave itself in its initialize request."""
    params = ctx.session.client_params
    info = getattr(params, "client_info", None)
    name = str(getattr(info, "name", "") or "").strip()[:80]
    return TaskOrigin("mcp", name or None)


def serve_stdio(locations: Locations) -> None:
    """Serve on stdin/stdout until the client closes them."""
    import logging

    log.info("MCP server on stdio for %s", locations.data)  # sets up Agentry's logging first
    logging.getLogger("mcp").setLevel(logging.WARNING)  # not a line per request in the log
    build_server(McpTools(locations)).run("stdio")
