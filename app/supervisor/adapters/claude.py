"""Claude Code: ``claude -p --output-format stream-json --verbose`` (AGENT-CLIS.md)."""

from __future__ import annotations

import json
import re
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
from app.supervisor.adapters.limits import limit, one_line, status_kind


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
    """Claude Code's stream-json lines.

    A limit (see :func:`claude_limit`) is read from the lines Claude Code itself writes
    when a request fails for good — its synthetic assistant message and the ``result``
    after it — never from the model's words or a tool's output, which may quote one.
    A plan's ``rate_limit_event`` gives the reset to the second; the text after it, only
    to the minute (and its day must be guessed), so the event's time is kept for it.
    """

    _plan_reset: float | None = None  # resetsAt of the last rejected rate_limit_event

    def event(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        kind = data.get("type")
        if kind == "system":
            return self._system(data)
        if kind == "assistant":
            events = self._blocks(data["message"]["content"], role="assistant")
            if events is not None and _synthetic(data):
                found = self._limit(_result_text(data["message"]["content"]), None)
                events += [found] if found is not None else []
            return events
        if kind == "rate_limit_event":
            return self._rate_limit_event(data)
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
        text = str(data.get("result") or "")
        found = self._limit(text, as_int(data.get("api_error_status")))
        if found is not None and (not ok or OLD_USAGE_LIMIT.match(text.strip())):
            events.append(found)
        events.append(Result(
            ok=ok, text=str(data.get("result") or ""), turns=as_int(data.get("num_turns")),
            cost_usd=as_float(data.get("total_cost_usd")), input_tokens=input_tokens or None,
            output_tokens=as_int(usage.get("output_tokens")),
            duration_ms=as_float(data.get("duration_ms")),
        ))  # fmt: skip
        return events

    def _rate_limit_event(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        """``{"type":"rate_limit_event","rate_limit_info":{"status","resetsAt",
        "rateLimitType",…}}``: a plan's limit changed. Shape read from Claude Code 2.1.197's
        own code (it is sent only to subscription plans, which cannot be run offline);
        "rejected" means the limit is reached. Other states stay visible as they are."""
        info = data["rate_limit_info"]
        if info.get("status") != "rejected":
            return None
        window = LIMIT_WINDOWS.get(str(info.get("rateLimitType") or ""), "usage limit")
        self._plan_reset = as_float(info.get("resetsAt"))
        return [Limit("usage", f"You've hit your {window}", self._plan_reset)]

    def _limit(self, text: str, status: int | None) -> Limit | None:
        found = claude_limit(text, status, self.clock(), self.tz)
        if found is not None and found.kind == "usage" and self._plan_reset is not None:
            return Limit("usage", found.message, self._plan_reset)
        return found


# What Claude Code calls its plans' limit windows (``rateLimitType``), as it words them.
LIMIT_WINDOWS = {"five_hour": "session limit", "seven_day": "weekly limit",
                 "seven_day_opus": "Opus limit", "seven_day_sonnet": "Sonnet limit"}  # fmt: skip
# "Claude AI usage limit reached|1751234567": Claude Code before mid-2025 (AGENT-CLIS.md).
OLD_USAGE_LIMIT = re.compile(r"^Claude AI usage limit reached\|(?P<epoch>\d{9,11})\b")
# A plan's limit, as Claude Code words it: "You've hit your session limit · resets 8pm
# (America/New_York)", "You've hit your limit · resets at 4 a.m. (Asia/Tokyo)", "You've
# reached your weekly limit".
PLAN_LIMIT = re.compile(
    r"\bYou['\u2019]ve (?:hit|reached) your (?:[\w-]+ )*?(?:limit|usage allocation)\b"
    r"|\busage limit reached\b|\bout of (?:extra )?usage\b",
    re.IGNORECASE,
)
API_ERROR = re.compile(r"\bAPI Error: (?:Request rejected \()?(?P<status>\d{3})\b")
OVERLOADED = re.compile(r"\b(?:overloaded_error|Overloaded)\b")


def claude_limit(
    text: str, status: int | None, now: float, tz: tzinfo | None = None
) -> Limit | None:
    """The limit Claude Code's error text (and HTTP status, if given) reports, if any."""
    stripped = text.strip()
    old = OLD_USAGE_LIMIT.match(stripped)
    if old is not None:
        return Limit("usage", one_line(stripped), float(old["epoch"]))
    if PLAN_LIMIT.search(stripped):
        return limit("usage", stripped, now, tz)
    if status is None:
        api = API_ERROR.search(stripped)
        status = int(api["status"]) if api is not None else None
    kind = status_kind(status)
    if kind is None and status is not None and status >= 500 and OVERLOADED.search(stripped):
        kind = "overloaded"
    return limit(kind, stripped, now, tz) if kind is not None else None


def _synthetic(data: dict[str, Any]) -> bool:
    """An assistant line Claude Code made up to report an API error (not the model's)."""
    return bool(data.get("error")) or data["message"].get("model") == "<synthetic>"


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
