"""What each tool of `agentry mcp` does, without the protocol (app.cli.mcp_server binds
these to the MCP SDK; tests call them directly too).

An agent connected over MCP works through the same commands as a person at the terminal:
tasks go into the database with :func:`app.supervisor.commands.submit`, exactly as
``agentry run`` puts them there, and the supervisor that is running (``agentry serve`` or
the app) starts them; follow-ups and cancels are ``agentry follow-up`` and ``agentry
cancel``. A task started here carries a :class:`TaskOrigin`, so the person sees which of
their tasks an agent asked for. Approving or denying a tool call is deliberately not here:
an agent that could answer its own approvals would make them pointless.

Every refusal is a :class:`CommandRefused` (an AgentryError) whose message names the thing
and what to do, which the MCP layer hands back to the calling agent as a tool error.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.core import ansi
from app.core.locations import Locations
from app.core.models import Task, TaskOrigin, TaskSpec
from app.core.states import RunState
from app.runner import protocol
from app.store import repo
from app.store.db import Connection, open_database
from app.store.locations import ensure_folders
from app.store.settings import load_settings
from app.supervisor import commands
from app.supervisor.commands import CommandRefused
from app.supervisor.tail import last_lines

DEFAULT_TASKS = 20
MAX_TASKS = 200
DEFAULT_LINES = 50
MAX_LINES = 500
TAIL_BYTES = 512 * 1024
"""How much of the end of an output file is read for its last lines: an agent's JSON
events are long, and a few hundred of them must still fit."""

NO_SUPERVISOR = (
    "No Agentry supervisor is running, so it waits in the queue: ask the user to open "
    "Agentry or run `agentry serve`."
)


class McpTools:
    """The tools over one data folder; each call opens its own connection (the SDK runs
    a tool in a worker thread, and a SQLite connection belongs to the thread that made it)."""

    def __init__(self, locations: Locations) -> None:
        self.locations = locations
        ensure_folders(locations)
        with self._conn():  # made and migrated now: a broken database is said at once
            pass

    @contextlib.contextmanager
    def _conn(self) -> Iterator[Connection]:
        conn = open_database(self.locations.database)
        try:
            yield conn
        finally:
            conn.close()

    # ------------------------------------------------------------------ reading

    def list_tasks(self, state: str | None = None, limit: int = DEFAULT_TASKS) -> list[Any]:
        """The newest tasks (not archived) as ``agentry list --json`` gives them, newest
        first; only those whose latest run is in ``state`` when given."""
        from app.store.summary_repo import task_summaries

        states = {s.value for s in RunState}
        if state is not None and state not in states:
            raise CommandRefused(f"unknown state {state!r}; use one of: {', '.join(states)}")
        if limit < 1:
            raise CommandRefused(f"limit must be 1 or more (at most {MAX_TASKS}), not {limit}")
        limit = min(limit, MAX_TASKS)
        with self._conn() as conn:
            tasks = task_summaries(conn, None if state else limit, archived=False)
        if state is not None:
            tasks = [t for t in tasks if t["state"] == state]
        return tasks[:limit]

    def task_output(self, task_id: int, lines: int = DEFAULT_LINES) -> dict[str, Any]:
        """The last ``lines`` lines of the task's latest run, as `agentry logs` shows them
        (an agent's JSON events rendered as text, without colours)."""
        if lines < 1:
            raise CommandRefused(f"lines must be 1 or more (at most {MAX_LINES}), not {lines}")
        lines = min(lines, MAX_LINES)
        with self._conn() as conn:
            task = self._task(conn, task_id)
        run = task.latest_run
        if run is None:
            return {"task_id": task.id, "state": None, "run_id": None, "output": ""}
        path = protocol.output_log(self.locations.run_dir(run.dir))
        shown = _readable(task.agent, last_lines(path, TAIL_BYTES))
        return {
            "task_id": task.id,
            "state": run.state.value,
            "exit_code": run.exit_code,
            "run_id": run.id,
            "output": "\n".join(shown[-lines:]),
            "lines": min(lines, len(shown)),
            "earlier_lines": len(shown) > lines or _longer_than(path, TAIL_BYTES),
        }

    def list_approvals(self) -> list[Any]:
        """The tool calls waiting for the person's yes or no (`agentry approvals --json`)."""
        from app.store import approval_repo

        with self._conn() as conn:
            return [a.summary() for a in approval_repo.pending(conn)]

    # ------------------------------------------------------------------ changing work

    def start_task(
        self,
        folder: str,
        origin: TaskOrigin,
        *,
        command: str | None = None,
        agent: str | None = None,
        prompt: str | None = None,
        title: str = "",
        worktree: bool = False,
    ) -> dict[str, Any]:
        """Queue a shell command or an agent's prompt in ``folder``, as `agentry run` does."""
        cwd = _folder(folder)
        settings = load_settings(self.locations.settings)
        title = (title or "").strip()
        agent = (agent or "").strip() or None
        if command is not None and command.strip():
            if agent not in (None, "shell"):
                raise CommandRefused(
                    f"give either a command or the agent {agent!r} with a prompt, not both"
                )
            from app.core.command_shell import shell_task

            spec = shell_task(command, str(cwd), shell=settings.command_shell, title=title)
        elif agent is None or agent == "shell":
            raise CommandRefused(
                "nothing to run: give `command` (a shell command line), or `agent` "
                "(claude, codex, gemini, …) and `prompt`"
            )
        else:
            _check_installed(agent, settings.agent_paths)
            text = (prompt or "").strip()
            spec = TaskSpec(argv=(), cwd=str(cwd), title=title or _title_from(text),
                            agent=agent, prompt=prompt or None)  # fmt: skip
        if worktree:
            from app.supervisor.git import Git

            git = Git()
            git.check()
            git.toplevel(cwd)  # NotARepository says which folder, before anything is queued
            spec = dataclasses.replace(spec, worktree=True)
        spec = dataclasses.replace(spec, origin=origin)
        with self._conn() as conn:
            task_id, run_id = commands.submit(conn, spec, settings)
            task = repo.get_task(conn, task_id)
        answer: dict[str, Any] = {"task_id": task_id, "run_id": run_id, "title": task.title,
                                  "state": RunState.QUEUED.value}  # fmt: skip
        if not self._supervised():
            answer["note"] = NO_SUPERVISOR
        return answer

    def follow_up(self, task_id: int, message: str) -> dict[str, Any]:
        """The next message in the task's agent session: a new run, as `agentry follow-up`."""
        settings = load_settings(self.locations.settings)
        with self._conn() as conn:
            self._task(conn, task_id)  # unknown ids are said the MCP way
            task, run_id = commands.follow_up(conn, task_id, message, settings)
        answer: dict[str, Any] = {"task_id": task, "run_id": run_id,
                                  "state": RunState.QUEUED.value}  # fmt: skip
        if not self._supervised():
            answer["note"] = NO_SUPERVISOR
        return answer

    def cancel_task(self, task_id: int) -> dict[str, Any]:
        """Stop the task's run (its whole process tree), or drop it from the queue."""
        with self._conn() as conn:
            self._task(conn, task_id)
            result = commands.cancel(conn, self.locations, task_id)
        if result.requested:
            return {"task_id": result.task_id, "cancelled": "asked its runner to stop the agent"}
        return {"task_id": result.task_id, "cancelled": "cancelled before it started"}

    # ------------------------------------------------------------------ helpers

    def _task(self, conn: Connection, task_id: int) -> Task:
        try:
            return repo.get_task(conn, int(task_id))
        except repo.UnknownTask:
            raise CommandRefused(
                f"no task {task_id}; list_tasks shows the tasks there are"
            ) from None

    def _supervised(self) -> bool:
        from app.supervisor.lock import running_holder

        return running_holder(self.locations) is not None


def _folder(folder: str) -> Path:
    """The working folder: absolute (a server's own folder means nothing to its caller)."""
    text = (folder or "").strip()
    if not text:
        raise CommandRefused("give the working folder (`folder`) as an absolute path")
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise CommandRefused(f"the working folder must be an absolute path, not {text!r}")
    commands.ensure_utf8("the working folder", text)
    if not path.is_dir():
        raise CommandRefused(
            f"working folder {path} does not exist; create it or give another folder"
        )
    return path.resolve()


def _check_installed(agent: str, agent_paths: dict[str, str]) -> None:
    """CommandRefused for an unknown agent or one whose CLI is not found, with how to get it."""
    from app.supervisor.adapters import UnknownAgent, get_adapter

    try:
        adapter = get_adapter(agent)
    except UnknownAgent as exc:
        raise CommandRefused(str(exc)) from None
    found = adapter.detect(agent_paths.get(agent))
    if not found.found:
        why = found.problem or "not found on PATH"
        raise CommandRefused(
            f"{adapter.label} is not installed here ({why}); install it with "
            f"`{found.install_hint}`, or set its path in Agentry's Settings → Agents"
        )


def _readable(agent: str, raw: list[str]) -> list[str]:
    """An agent's output lines as a person reads them: structured events rendered, no colours."""
    from app.core.render import Renderer
    from app.supervisor.adapters import get_adapter_or_none

    adapter = get_adapter_or_none(agent)
    if adapter is None or not adapter.structured:
        return [ansi.strip(line) for line in raw]
    renderer = Renderer(adapter.parser())
    return [ansi.strip(shown) for line in raw for shown in renderer.feed(line)]


def _longer_than(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size > size
    except FileNotFoundError:
        return False


def _title_from(prompt: str) -> str:
    """The prompt's first line, as `agentry run` titles an agent's task."""
    first = prompt.splitlines()[0] if prompt else ""
    return first if len(first) <= 80 else first[:79] + "…"
