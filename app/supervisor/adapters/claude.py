"""Claude Code: ``claude -p --output-format stream-json --verbose`` (AGENT-CLIS.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from app.core.agent_events import (
    AgentEvent,
    Error,
    Result,
    Session,
    Text,
    ToolCall,
    ToolResult,
    as_float,
    as_int,
)
from app.core.platform import IS_WINDOWS
from app.supervisor.adapters.base import (
    Adapter,
    AgentOptions,
    HookConfig,
    Invocation,
    JsonLineParser,
)


class ClaudeAdapter(Adapter):
    name = "claude"
    label = "Claude Code"
    reports_cost = True
    reports_tokens = True
    executables = ("claude",)
    install_hint = "npm install -g @anthropic-ai/claude-code"
    structured = True
    supports_resume = True
    permission_modes = ("default", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions")
    hook_kind = "claude-pretool"

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
        argv = [executable, "-p", "--output-format", "stream-json", "--verbose"]
        if options.model:
            argv += ["--model", options.model]
        if options.permission_mode:
            argv += ["--permission-mode", options.permission_mode]
        if session_id:
            argv += ["--resume", session_id]
        files = {}
        if hook is not None and run_dir is not None:
            settings = hook_settings(self.hook_line(hook), hook.timeout_s)
            files[SETTINGS_FILE] = json.dumps(settings, indent=2)
            argv += ["--settings", str(Path(run_dir) / SETTINGS_FILE)]
        argv += list(options.extra_args)
        # The prompt always goes through stdin: no command-line limit, not visible in `ps`.
        return Invocation(argv=argv, stdin_text=prompt, files=files)

    def parser(self) -> ClaudeParser:
        return ClaudeParser()

    def hook_shell(self, env: dict[str, str]) -> list[str] | None:
        # POSIX: a shell line run by /bin/sh. Windows: Claude Code's hook shell there could
        # not be checked here, so no probe is made rather than a wrong one.
        return None if IS_WINDOWS else ["/bin/sh", "-c"]


SETTINGS_FILE = "claude-settings.json"


def hook_settings(command: str, timeout_s: int) -> dict[str, Any]:
    """Claude Code settings whose PreToolUse hook asks Agentry about every tool call."""
    entry = {"type": "command", "command": command, "timeout": timeout_s}
    return {"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [entry]}]}}


class ClaudeParser(JsonLineParser):
    def event(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        kind = data.get("type")
        if kind == "system":
            return self._system(data)
        if kind == "assistant":
            return self._blocks(data["message"]["content"], role="assistant")
        if kind == "user":
            return self._blocks(data["message"]["content"], role="user")
        if kind == "result":
            return self._result(data)
        return None

    def _system(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        if data.get("subtype") == "init" and data.get("session_id"):
            return [Session(str(data["session_id"]), data.get("model"))]
        return None  # retries, hook notices: shown raw, they are rare and informative

    def _blocks(self, content: Any, *, role: str) -> list[AgentEvent] | None:
        if isinstance(content, str):
            return [Text(content, role=role)] if role == "assistant" else []
        events: list[AgentEvent] = []
        for block in content:
            kind = block.get("type")
            if kind == "text" and role == "assistant":
                events.append(Text(block.get("text", "")))
            elif kind == "thinking":
                events.append(Text(block.get("thinking", ""), role="thinking"))
            elif kind == "tool_use":
                events.append(ToolCall(str(block.get("name", "?")), dict(block.get("input") or {}),
                                       str(block.get("id", ""))))  # fmt: skip
            elif kind == "tool_result":
                events.append(_tool_result(block))
        return events

    def _result(self, data: dict[str, Any]) -> list[AgentEvent]:
        usage = data.get("usage") or {}
        ok = not data.get("is_error", False) and data.get("subtype", "success") == "success"
        input_tokens = sum(
            as_int(usage.get(key)) or 0
            for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        events: list[AgentEvent] = []
        if data.get("session_id"):
            events.append(Session(str(data["session_id"])))
        if not ok:
            events.append(Error(str(data.get("result") or data.get("subtype") or "error")))
        events.append(Result(
            ok=ok, text=str(data.get("result") or ""), turns=as_int(data.get("num_turns")),
            cost_usd=as_float(data.get("total_cost_usd")), input_tokens=input_tokens or None,
            output_tokens=as_int(usage.get("output_tokens")),
            duration_ms=as_float(data.get("duration_ms")),
        ))  # fmt: skip
        return events


# Claude Code's tool_result for a call its PreToolUse hook blocked (exit 2), as seen with
# 2.1.197: "PreToolUse:Bash hook error: [<the hook's command line>]: <the hook's stderr>".
HOOK_BLOCK = re.compile(
    r"^(?:Error: )?PreToolUse:(?P<tool>\S+) hook error: \[(?P<command>.*?)\]: (?P<reason>.*)\Z",
    re.DOTALL,
)


def _tool_result(block: dict[str, Any]) -> ToolResult:
    call_id = str(block.get("tool_use_id", ""))
    output = _result_text(block.get("content"))
    if block.get("is_error", False):
        blocked = HOOK_BLOCK.match(output.strip())
        if blocked is not None:  # the command line is ours, not something to show anyone
            return ToolResult(call_id, False, blocked["reason"].strip(), denied=True)
        return ToolResult(call_id, False, output)
    return ToolResult(call_id, True, output)


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""
