"""Codex CLI: ``codex exec --json`` (AGENT-CLIS.md; openai/codex docs/exec.md).

Argv, as the Codex source has it (``codex-rs/exec/src/cli.rs``):

* fresh: ``codex exec --json [-m M] [-s MODE] --skip-git-repo-check [extra] -``
* resume: ``codex exec --json [-m M] [-s MODE] --skip-git-repo-check [extra] resume ID -``

The prompt always travels on stdin: ``-`` makes Codex read it ("Forced" stdin, both for
``exec`` and for ``exec resume``; ``resolve_prompt`` in ``codex-rs/exec/src/lib.rs``).
Every option goes *before* ``resume``: ``-s/--sandbox`` is not a global clap argument,
so after the subcommand it would be rejected; docs/exec.md also puts flags first
(``codex exec --model gpt-5 --json resume --last "…"``).

Approvals: a ``PreToolUse`` hook given with ``-c hooks.PreToolUse=[…]`` (a config layer of
this invocation only; nothing is written into ~/.codex or the project) calls Agentry
before each tool call. Codex skips hooks it has not been told to trust, silently (the
call then runs), so the run also gets ``--dangerously-bypass-hook-trust``: if a Codex
version drops that flag, the run fails at once instead of running unguarded. Its notice
is not shown in the pane. ``features.codex_hooks=true`` overrides a config that turned
hooks off. Checked with Codex CLI 0.171.0: shell commands arrive as tool
``Bash`` with ``{"command": …}``, patches as ``apply_patch``; input written later into an
interactive session (``write_stdin``) does not go through the hook.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from app.core.agent_events import (
    AgentEvent,
    Error,
    Limit,
    Result,
    Session,
    Text,
    ToolCall,
    ToolResult,
    as_int,
)
from app.core.platform import IS_WINDOWS, cmd_line_without_quotes
from app.supervisor.adapters.base import (
    Adapter,
    AgentOptions,
    HookConfig,
    Invocation,
    JsonLineParser,
    LaunchError,
)
from app.supervisor.adapters.limits import limit, one_line

# Codex calls the shell tool's item "command_execution"; panes know it as a shell call.
SHELL_TOOL = "shell"
EDIT_TOOL = "edit"
WEB_SEARCH_TOOL = "web_search"


class CodexAdapter(Adapter):
    name = "codex"
    label = "Codex CLI"
    reports_tokens = True
    executables = ("codex",)
    install_hint = "npm install -g @openai/codex"
    structured = True
    supports_resume = True
    permission_modes = ("read-only", "workspace-write", "danger-full-access")
    hook_kind = "codex-pretool"

    def build(
        self,
        prompt: str,
        options: AgentOptions,
        *,
        executable: str,
        session_id: str | None = None,
        run_dir: Path | None = None,
        hook: HookConfig | None = None,
    ) -> Invocation:
        argv = [executable, "exec", "--json"]
        if options.model:
            argv += ["-m", options.model]
        sandbox = options.permission_mode
        if hook is not None:
            # A person's yes must be able to take effect: the default read-only sandbox would
            # refuse every approved edit. Writes stay inside the working folder.
            sandbox = sandbox or "workspace-write"
            override = hook_override(self.hook_line(hook), hook.timeout_s)
            argv += ["-c", override, "-c", HOOKS_ON, "--dangerously-bypass-hook-trust"]
        if sandbox:
            argv += ["-s", sandbox]
        argv.append("--skip-git-repo-check")
        argv += list(options.extra_args)
        if session_id:
            argv += ["resume", session_id]
        argv.append("-")
        return Invocation(argv=argv, stdin_text=prompt)

    def parser(self) -> CodexParser:
        return CodexParser()

    def hook_line(self, hook: HookConfig) -> str:
        if not IS_WINDOWS:
            return hook.shell_command()
        # cmd.exe /C receives the line with every quote escaped as \" and cannot read it
        # (openai/codex#46454): no quotes at all, short names for paths with spaces.
        line = cmd_line_without_quotes(hook.command)
        if line is None:
            raise LaunchError(
                f"Codex cannot run Agentry's approval hook from {hook.command[0]} (the path "
                "needs quotes and has no short name). Install Agentry in a folder without "
                "spaces, or turn off approvals in Settings."
            )
        return line

    def hook_shell(self, env: dict[str, str]) -> list[str] | None:
        if IS_WINDOWS:
            return [env.get("COMSPEC") or env.get("ComSpec") or "cmd.exe", "/C"]
        return [env.get("SHELL") or "/bin/sh", "-lc"]


HOOK_STATUS = "Waiting for approval in Agentry"
HOOKS_ON = "features.codex_hooks=true"  # a user or project config may have turned hooks off
TRUST_NOTICE = "--dangerously-bypass-hook-trust"


def hook_override(line: str, timeout_s: int) -> str:
    """``-c`` value that installs Agentry's PreToolUse hook for every tool (TOML)."""
    # JSON strings are valid TOML basic strings (same escapes, \uXXXX for the rest).
    command, status = json.dumps(line), json.dumps(HOOK_STATUS)
    return (
        'hooks.PreToolUse=[{matcher="*",hooks=[{type="command",'
        f"command={command},timeout={timeout_s},statusMessage={status}}}]}}]"
    )


class CodexParser(JsonLineParser):
    """``codex exec --json`` lines (``codex-rs/exec/src/exec_events.rs``).

    A tool item usually arrives twice, ``item.started`` then ``item.completed``; the call
    is shown once, from whichever comes first, and the completion adds the result.
    ``turn.completed.usage`` is reported as given (Codex prints no cost). A limit (see
    :func:`codex_limit`) is read from ``turn.failed`` only: the top-level ``error`` before
    it says the same, and also carries transient "Reconnecting…" notices. ``clock`` gives
    "now" for a reset given as a span ("try again in 5 days 22 hours").
    """

    def __init__(self, clock: Callable[[], float] = time.time, tz: tzinfo | None = None) -> None:
        super().__init__(clock, tz)
        self._started: set[str] = set()  # ids of tool items already shown as a call
        self._todo_shown: dict[str, str] = {}

    def event(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        kind = data.get("type")
        if kind == "thread.started":
            return [Session(str(data["thread_id"]))]
        if kind == "turn.started":
            return []
        if kind == "turn.completed":
            usage = data.get("usage") or {}
            return [Result(ok=True, input_tokens=as_int(usage.get("input_tokens")),
                           output_tokens=as_int(usage.get("output_tokens")))]  # fmt: skip
        if kind == "turn.failed":
            message = _message(data.get("error")) or "turn failed"
            found = codex_limit(message, self.clock(), self.tz)
            return [Error(message), *([found] if found else []), Result(ok=False, text=message)]
        if kind == "error":
            # Also used for transient "Reconnecting... 2/5" notices: shown, not fatal.
            return [Error(str(data["message"]))]
        if kind in ("item.started", "item.updated", "item.completed"):
            return self._item(kind, data["item"])
        return None

    def _item(self, kind: str, item: dict[str, Any]) -> list[AgentEvent] | None:
        # Codex 0.4x named the field "item_type" and the message "assistant_message".
        item_type = item.get("type") or item.get("item_type")
        item_id = str(item.get("id", ""))
        done = kind == "item.completed"
        if item_type in ("agent_message", "assistant_message"):
            return [Text(str(item.get("text", "")))] if done else []
        if item_type == "reasoning":
            return [Text(str(item.get("text", "")), role="thinking")] if done else []
        if item_type == "plan":
            return [Text(str(item.get("text", "")))] if done else []
        if item_type == "error":
            message = str(item.get("message", ""))
            if message.startswith(f"`{TRUST_NOTICE}`"):
                return []  # Agentry asked for it, to make its own hook run (see above)
            return [Error(message)] if done else []
        if item_type == "todo_list":
            return self._todo(item_id, item)
        if item_type in ("command_execution", "file_change", "mcp_tool_call", "web_search"):
            return self._tool(item_id, item, item_type, done=done)
        return None

    def _tool(self, item_id: str, item: dict[str, Any], item_type: str, *,
              done: bool) -> list[AgentEvent]:  # fmt: skip
        events: list[AgentEvent] = []
        if item_id not in self._started or not item_id:
            events.append(_tool_call(item_id, item, item_type))
        if done:
            events.append(_tool_result(item_id, item, item_type))
        if item_id:
            if done:
                self._started.discard(item_id)
            else:
                self._started.add(item_id)
        return events

    def _todo(self, item_id: str, item: dict[str, Any]) -> list[AgentEvent]:
        lines = [f"[{'x' if entry.get('completed') else ' '}] {entry.get('text', '')}"
                 for entry in item.get("items") or ()]  # fmt: skip
        text = "\n".join(lines)
        if not text or self._todo_shown.get(item_id) == text:
            return []
        self._todo_shown[item_id] = text
        return [Text(text, role="thinking")]


def _tool_call(item_id: str, item: dict[str, Any], item_type: str) -> ToolCall:
    if item_type == "command_execution":
        return ToolCall(SHELL_TOOL, {"command": str(item.get("command", ""))}, item_id)
    if item_type == "file_change":
        changes = [dict(change) for change in item.get("changes") or ()]
        path = str(changes[0].get("path", "")) if changes else ""
        return ToolCall(EDIT_TOOL, {"path": path, "changes": changes}, item_id)
    if item_type == "mcp_tool_call":
        arguments = item.get("arguments")
        tool_input = dict(arguments) if isinstance(arguments, dict) else {"arguments": arguments}
        name = f"mcp__{item.get('server', '?')}__{item.get('tool', '?')}"
        return ToolCall(name, tool_input, item_id)
    return ToolCall(WEB_SEARCH_TOOL, {"query": str(item.get("query", ""))}, item_id)


def _tool_result(item_id: str, item: dict[str, Any], item_type: str) -> ToolResult:
    status = item.get("status")
    if item_type == "command_execution":
        ok = item.get("exit_code") == 0
        return ToolResult(item_id, ok, str(item.get("aggregated_output") or ""))
    if item_type == "file_change":
        summary = "\n".join(f"{change.get('kind', '?')} {change.get('path', '')}"
                            for change in item.get("changes") or ())  # fmt: skip
        return ToolResult(item_id, status == "completed", summary)
    if item_type == "mcp_tool_call":
        error = _message(item.get("error"))
        if error:
            return ToolResult(item_id, False, error)
        result = item.get("result") or {}
        texts = [str(part.get("text", "")) for part in result.get("content") or ()
                 if isinstance(part, dict) and part.get("type") == "text"]  # fmt: skip
        return ToolResult(item_id, status == "completed", "\n".join(texts))
    return ToolResult(item_id, True, "")


# "You've hit your usage limit. Upgrade to Pro (…) or try again at Dec 12th, 2026 12:32 AM."
# (seen, 0.171.0, with a typographic apostrophe); older builds: "… try again in 5 days 22
# hours 11 minutes." Its "at" time is in this computer's zone, as Codex prints it.
USAGE_LIMIT = re.compile(r"\bYou['\u2019]ve hit your usage limit\b|\busage_limit_reached\b",
                         re.IGNORECASE)  # fmt: skip
# The backend's 429 body, when Codex quotes it: {"error":{"type":"usage_limit_reached",…,
# "resets_at":1775317531,"resets_in_seconds":602705}}.
RESETS_AT = re.compile(r'"resets_at"\s*:\s*(?P<epoch>\d{9,11})')
RESETS_IN = re.compile(r'"resets_in_seconds"\s*:\s*(?P<seconds>\d+)')
# "exceeded retry limit, last status: 429 Too Many Requests" (seen, 0.171.0), "unexpected
# status 429 …", "Rate limit reached for requests" (the API's own words); 5xx alike.
STATUS = re.compile(r"\b(?P<status>429|503|529)\b")
RATE_WORDS = re.compile(r"\brate[ _]limit(?:ed|_exceeded| reached| exceeded)\b", re.IGNORECASE)
OVERLOAD_WORDS = re.compile(r"\b(?:overloaded|server_is_overloaded|slow_down)\b", re.IGNORECASE)


def codex_limit(message: str, now: float, tz: tzinfo | None = None) -> Limit | None:
    """The limit a failed turn's message reports, if any."""
    if USAGE_LIMIT.search(message):
        epoch, seconds = RESETS_AT.search(message), RESETS_IN.search(message)
        if epoch is not None:
            return Limit("usage", one_line(message), float(epoch["epoch"]))
        if seconds is not None:
            return Limit("usage", one_line(message), now + int(seconds["seconds"]))
        return limit("usage", message, now, tz)
    status = STATUS.search(message)
    if (status is not None and status["status"] == "429") or RATE_WORDS.search(message):
        return limit("rate", message, now, tz)
    if status is not None or OVERLOAD_WORDS.search(message):
        return limit("overloaded", message, now, tz)
    return None


def _message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(error) if error else ""
