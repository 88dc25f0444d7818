"""Gemini CLI: ``gemini -o stream-json`` (AGENT-CLIS.md; gemini-cli docs/cli/headless.md).

Argv: ``gemini -o stream-json [-m M] [--approval-mode MODE] [--resume ID] -p PROMPT``.

How the prompt travels: headless.md says "When stdin is not a TTY, the CLI reads its
content and prepends it to the prompt. If you also pass ``-p``, the stdin content and the
prompt value are combined" (``packages/cli/src/gemini.tsx``: ``input =
`${stdinData}\\n\\n${input}```), and a non-TTY stdin alone is enough for headless mode
(``echo "Summarize this" | gemini``). So a prompt too long for the command line (or one
that starts with ``-``, which the option parser would take for a flag) goes on stdin with
no ``-p``; every other prompt goes in ``-p`` and nothing is sent on stdin — sending both
would make Gemini see the prompt twice.
"""

from __future__ import annotations

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
from app.supervisor.adapters.base import (
    Adapter,
    AgentOptions,
    HookConfig,
    Invocation,
    JsonLineParser,
    prompt_in_argv,
)


class GeminiAdapter(Adapter):
    name = "gemini"
    label = "Gemini CLI"
    executables = ("gemini",)
    install_hint = "npm install -g @google/gemini-cli"
    structured = True
    supports_resume = True
    permission_modes = ("default", "auto_edit", "yolo", "plan")

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
        argv = [executable, "-o", "stream-json"]
        if options.model:
            argv += ["-m", options.model]
        if options.permission_mode:
            argv += ["--approval-mode", options.permission_mode]
        if session_id:
            argv += ["--resume", session_id]
        argv += list(options.extra_args)
        if prompt_in_argv(prompt) and not prompt.startswith("-"):
            return Invocation(argv=[*argv, "-p", prompt])
        return Invocation(argv=argv, stdin_text=prompt)

    def parser(self) -> GeminiParser:
        return GeminiParser()


class GeminiParser(JsonLineParser):
    """``--output-format stream-json`` lines (``packages/core/src/output/types.ts``).

    Assistant ``message`` events with ``delta: true`` are fragments of one reply; each is
    returned as its own :class:`Text` and the renderer concatenates adjacent assistant
    Text, so nothing is buffered here (a run that dies mid-reply still shows what came).
    The user's own ``message`` (the prompt echoed back) is not shown.
    """

    def event(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        kind = data.get("type")
        if kind == "init":
            model = data.get("model")
            return [Session(str(data["session_id"]), str(model) if model else None)]
        if kind == "message":
            if data.get("role") == "assistant":
                content = data.get("content")
                return [Text(content)] if isinstance(content, str) and content else []
            return [] if data.get("role") == "user" else None
        if kind == "tool_use":
            parameters = data.get("parameters")
            tool_input = dict(parameters) if isinstance(parameters, dict) else {}
            return [ToolCall(str(data.get("tool_name", "?")), tool_input,
                             str(data.get("tool_id", "")))]  # fmt: skip
        if kind == "tool_result":
            ok = data.get("status") == "success"
            output = data.get("output")
            if not isinstance(output, str):
                output = _message(data.get("error"))
            return [ToolResult(str(data.get("tool_id", "")), ok, output)]
        if kind == "error":
            message = str(data["message"])
            if data.get("severity") == "warning":
                message = f"warning: {message}"
            return [Error(message)]
        if kind == "result":
            return self._result(data)
        return None

    def _result(self, data: dict[str, Any]) -> list[AgentEvent]:
        stats = data.get("stats") or {}
        ok = data.get("status") == "success"
        events: list[AgentEvent] = []
        message = _message(data.get("error"))
        if not ok:
            events.append(Error(message or str(data.get("status") or "error")))
        events.append(Result(
            ok=ok, text=message, input_tokens=as_int(stats.get("input_tokens")),
            output_tokens=as_int(stats.get("output_tokens")),
            duration_ms=as_float(stats.get("duration_ms")),
        ))  # fmt: skip
        return events


def _message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return ""
