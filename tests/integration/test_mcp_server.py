"""`agentry mcp` driven by the MCP SDK's own client over stdio, as an agent would drive it:
the tools and what they say they do, a task started through it that a real `agentry serve`
runs and `agentry list` shows as started by MCP, its output, a follow-up, a cancel, the
approvals waiting, and the errors an agent gets back for what cannot be done."""

from __future__ import annotations

import asyncio
import contextlib
import json
import selectors
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import pytest
from helpers.agentry import ROOT, Home, run_async
from helpers.gitrepo import isolate_git, make_repo
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from app.core.agent_events import RunSummary
from app.core.models import TaskSpec
from app.core.states import RunState
from app.store import approval_repo, repo
from app.store.db import transaction

CLIENT = "agentry-tests"
T = TypeVar("T")


@contextlib.asynccontextmanager
async def connected(home: Home) -> AsyncIterator[Agent]:
    """A client session with `python -m app mcp` on ``home``, initialised."""
    server = StdioServerParameters(command=sys.executable, args=["-m", "app", "mcp"],
                                   env=home.env, cwd=ROOT)  # fmt: skip
    async with stdio_client(server) as (read, write):
        info = types.Implementation(name=CLIENT, version="1.0")
        async with ClientSession(read, write, client_info=info) as session:
            await session.initialize()
            yield Agent(session)


class Agent:
    """Calls a tool and returns what it gave: its structured result, or the error text."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, tool: str, **arguments: Any) -> Any:
        result = await self.session.call_tool(tool, arguments)
        assert not result.is_error, _text(result)
        content = result.structured_content
        assert content is not None
        return content.get("result", content)  # a list comes wrapped as {"result": [...]}

    async def refused(self, tool: str, **arguments: Any) -> str:
        result = await self.session.call_tool(tool, arguments)
        assert result.is_error, f"{tool} {arguments} was not refused: {_text(result)}"
        return _text(result)


def _text(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def drive(home: Home, script: Callable[[Agent], Awaitable[T]]) -> T:
    async def main() -> T:
        async with connected(home) as agent:
            return await script(agent)

    return run_async(main(), timeout=120)


async def until(agent: Agent, task_id: int, *states: str, timeout: float = 60) -> Any:
    """The task's summary once list_tasks says its latest run is in one of ``states``."""
    deadline = time.monotonic() + timeout
    while True:
        tasks = await agent.call("list_tasks", limit=50)
        task = next(t for t in tasks if t["id"] == task_id)
        if task["state"] in states:
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} never reached {states}: {task}")
        await asyncio.sleep(0.1)


# ------------------------------------------------------------------------------ the tools


def test_each_tool_says_whether_it_only_reads_changes_work_or_destroys_it(home: Home) -> None:
    async def script(agent: Agent) -> list[types.Tool]:
        return (await agent.session.list_tools()).tools

    tools = {t.name: t for t in drive(home, script)}
    reads, changes = {"list_tasks", "task_output", "list_approvals"}, {"start_task", "follow_up"}
    assert set(tools) == reads | changes | {"cancel_task"}  # no approving: never by an agent
    hints = {name: t.annotations for name, t in tools.items()}
    for name in reads:
        read = hints[name]
        assert read is not None and read.read_only_hint is True, name
    for name in changes:
        hint = hints[name]
        assert hint is not None and hint.read_only_hint is False, name
        assert hint.destructive_hint is False and hint.open_world_hint is False, name
    cancel = hints["cancel_task"]
    assert cancel is not None and cancel.read_only_hint is False and cancel.destructive_hint
    schema = tools["start_task"].input_schema
    assert schema["required"] == ["folder"]
    assert {"command", "agent", "prompt", "title", "worktree"} <= set(schema["properties"])
    assert "ctx" not in schema["properties"]  # the SDK's context is not the agent's to give


# ------------------------------------------------------------------------ with a supervisor


def test_a_command_started_over_mcp_runs_and_is_listed_as_started_by_mcp(
    home: Home, work_dir: Path
) -> None:
    home.serve()

    async def script(agent: Agent) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        started = await agent.call(
            "start_task", folder=str(work_dir), command="echo first; echo second", title="two lines"
        )
        assert "note" not in started  # a supervisor runs: nothing to tell the agent
        done = await until(agent, started["task_id"], "succeeded", "failed")
        last = await agent.call("task_output", task_id=started["task_id"], lines=1)
        return started, done, last

    started, done, last = drive(home, script)
    task_id = started["task_id"]
    assert done["state"] == "succeeded" and done["exit_code"] == 0
    assert done["origin"] == {"via": "mcp", "client": CLIENT}
    assert last["output"] == "second" and last["earlier_lines"] is True
    assert home.output(task_id) == "first\nsecond\n"

    listed = json.loads(home.cli("list", "--json", check=True).stdout)
    assert [t["origin"] for t in listed] == [{"via": "mcp", "client": CLIENT}]
    assert listed[0]["title"] == "two lines" and listed[0]["cwd"] == str(work_dir)
    assert f"(started by MCP: {CLIENT})" in home.cli("list", check=True).stdout
    assert home.task(task_id).spec.origin is not None  # kept with the task itself


def test_a_long_task_is_cancelled_over_mcp_and_a_second_cancel_says_it_has_ended(
    home: Home, work_dir: Path
) -> None:
    home.serve()

    async def script(agent: Agent) -> tuple[dict[str, Any], str, dict[str, Any]]:
        started = await agent.call("start_task", folder=str(work_dir),
                                   command="echo started; sleep 120")  # fmt: skip
        task_id = started["task_id"]
        await until(agent, task_id, "running")
        deadline = time.monotonic() + 60
        while "started" not in (await agent.call("task_output", task_id=task_id))["output"]:
            assert time.monotonic() < deadline, "the command never said it started"
            await asyncio.sleep(0.1)
        cancelled = await agent.call("cancel_task", task_id=task_id)
        await until(agent, task_id, "cancelled")
        again = await agent.refused("cancel_task", task_id=task_id)
        output = await agent.call("task_output", task_id=task_id)
        return cancelled, again, output

    cancelled, again, output = drive(home, script)
    assert cancelled == {"task_id": 1, "cancelled": "asked its runner to stop the agent"}
    assert "task 1 has already ended (cancelled); nothing to cancel" in again
    assert output["state"] == "cancelled" and output["output"].startswith("started")


# ---------------------------------------------------------------------- without a supervisor


def test_without_a_supervisor_a_task_waits_in_the_queue_and_the_agent_is_told(
    home: Home, work_dir: Path
) -> None:
    async def script(agent: Agent) -> tuple[dict[str, Any], dict[str, Any]]:
        started = await agent.call("start_task", folder=str(work_dir), command="true")
        return started, await agent.call("cancel_task", task_id=started["task_id"])

    started, cancelled = drive(home, script)
    assert started["state"] == "queued"
    assert "agentry serve" in started["note"]
    assert cancelled["cancelled"] == "cancelled before it started"
    assert home.run(started["task_id"]).state is RunState.CANCELLED


def test_a_follow_up_over_mcp_queues_the_next_run_in_the_agents_own_session(
    home: Home, work_dir: Path
) -> None:
    ended = (RunState.STARTING, RunState.RUNNING, RunState.SUCCEEDED)
    with home.db() as conn, transaction(conn):
        spec = TaskSpec(argv=(), cwd=str(work_dir), agent="claude", prompt="first")
        task_id, run_id = repo.create_task(conn, spec, None)
        repo.update_run_summary(conn, run_id, RunSummary(session_id="session-7"))
        shell, shell_run = repo.create_task(conn, TaskSpec(argv=("true",), cwd="/"), None)
        for run in (run_id, shell_run):
            for state in ended:
                repo.transition(conn, run, state)

    async def script(agent: Agent) -> tuple[dict[str, Any], str, str]:
        answer = await agent.call("follow_up", task_id=task_id, message="and the tests too")
        busy = await agent.refused("follow_up", task_id=task_id, message="more")
        plain = await agent.refused("follow_up", task_id=shell, message="more")
        return answer, busy, plain

    answer, busy, plain = drive(home, script)  # no supervisor: the run stays queued
    assert answer["task_id"] == task_id and answer["state"] == "queued"
    assert "agentry serve" in answer["note"]
    queued = home.runs(task_id)[-1]
    assert queued.id == answer["run_id"] and queued.prompt == "and the tests too"
    assert queued.resume_session == "session-7"
    assert f"task {task_id} is still queued; wait for it to end, or cancel it" in busy
    assert "Shell command cannot continue a session" in plain


def test_the_approvals_waiting_are_listed_but_cannot_be_answered(
    home: Home, work_dir: Path
) -> None:
    task_id = home.submit(["true"], work_dir)
    with home.db() as conn, transaction(conn):
        approval = approval_repo.create(
            conn, run_id=home.run(task_id).id, task_id=task_id, agent="claude", tool="Bash",
            tool_input={"command": "rm -rf build"}, cwd=str(work_dir), expires_in=600,
        )  # fmt: skip

    async def script(agent: Agent) -> Any:
        return await agent.call("list_approvals")

    waiting = drive(home, script)
    assert [(a["id"], a["tool"], a["argument"], a["state"]) for a in waiting] == [
        (approval.id, "Bash", "rm -rf build", "pending")
    ]
    assert json.loads(home.cli("approvals", "--json", check=True).stdout)[0]["state"] == "pending"


# ------------------------------------------------------------------------------ refusals


def test_what_cannot_be_done_comes_back_as_a_tool_error_that_says_why(
    home: Home, work_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(tmp_path, monkeypatch)
    repo_dir = make_repo(tmp_path / "repo", {"README": "hi\n"})
    home.write_settings(agent_paths={"codex": str(tmp_path / "no-such-codex")})
    missing = tmp_path / "missing"

    async def script(agent: Agent) -> tuple[dict[str, str], dict[str, Any]]:
        said = {
            "unknown task": await agent.refused("task_output", task_id=99),
            "unknown cancel": await agent.refused("cancel_task", task_id=99),
            "unknown follow-up": await agent.refused("follow_up", task_id=99, message="x"),
            "missing folder": await agent.refused(
                "start_task", folder=str(missing), command="true"
            ),
            "relative folder": await agent.refused("start_task", folder="work", command="true"),
            "nothing": await agent.refused("start_task", folder=str(work_dir)),
            "both": await agent.refused(
                "start_task", folder=str(work_dir), command="true", agent="codex", prompt="x"
            ),
            "unknown agent": await agent.refused(
                "start_task", folder=str(work_dir), agent="hal", prompt="x"
            ),
            "not installed": await agent.refused(
                "start_task", folder=str(work_dir), agent="codex", prompt="x"
            ),
            "no repository": await agent.refused(
                "start_task", folder=str(work_dir), command="true", worktree=True
            ),
            "bad state": await agent.refused("list_tasks", state="sleeping"),
            "bad lines": await agent.refused("task_output", task_id=1, lines=0),
        }
        in_worktree = await agent.call("start_task", folder=str(repo_dir), command="true",
                                       worktree=True)  # fmt: skip
        return said, in_worktree

    said, in_worktree = drive(home, script)
    assert "no task 99; list_tasks shows the tasks there are" in said["unknown task"]
    assert "no task 99" in said["unknown cancel"] and "no task 99" in said["unknown follow-up"]
    assert f"working folder {missing} does not exist" in said["missing folder"]
    assert "must be an absolute path, not 'work'" in said["relative folder"]
    assert "nothing to run: give `command`" in said["nothing"]
    assert "not both" in said["both"]
    assert "unknown agent 'hal'" in said["unknown agent"]
    assert "Codex" in said["not installed"] and "is not installed here" in said["not installed"]
    assert "no-such-codex does not exist" in said["not installed"]
    assert "git" in said["no repository"].lower() and str(work_dir) in said["no repository"]
    assert "unknown state 'sleeping'" in said["bad state"]
    assert "lines must be 1 or more" in said["bad lines"]
    # Only the worktree task got in: nothing refused was queued.
    assert [t.id for t in _tasks(home)] == [in_worktree["task_id"]]
    assert home.task(in_worktree["task_id"]).spec.worktree is True


def _tasks(home: Home) -> list[Any]:
    with home.db() as conn:
        return repo.list_tasks(conn)


# ------------------------------------------------------------------------------ the wire


@pytest.mark.skipif(sys.platform == "win32", reason="waits on the pipe with select()")
def test_stdout_carries_only_the_protocol_and_the_server_ends_when_its_client_does(
    home: Home, work_dir: Path
) -> None:
    requests: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "raw-client", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "start_task", "arguments": {"folder": str(work_dir),
                                                         "command": "true"}}},
    ]  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "mcp"], env=home.env, cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None
    replies = []
    try:
        for request in requests:
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
            if "id" in request:  # every line on stdout is a JSON-RPC message
                replies.append(json.loads(_line(server.stdout)))
        server.stdin.close()  # the client goes: the server ends, and well
        assert server.wait(timeout=30) == 0
        assert server.stdout.read() == ""  # nothing more was written
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
        assert server.stderr is not None
        server.stderr.close()
    assert [r["id"] for r in replies] == [1, 2]
    assert replies[0]["result"]["serverInfo"]["name"] == "agentry"
    assert replies[1]["result"]["isError"] is False, replies[1]
    origin = home.task(1).spec.origin
    assert origin is not None and origin.client == "raw-client"


def _line(stream: IO[str], timeout: float = 30) -> str:
    """The next line the server writes, or a failure if it writes none in ``timeout`` s."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        assert selector.select(timeout), "the MCP server did not answer"
    return stream.readline()
