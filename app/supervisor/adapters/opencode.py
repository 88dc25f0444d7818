"""opencode: ``opencode run --format json`` (AGENT-CLIS.md; opencode's ``cli/cmd/run.ts``).

Argv: ``opencode run --format json [-m provider/model] [--session ID] [--auto] [extra]``
with the prompt on stdin, always.

Why stdin and not a positional message: ``run.ts`` joins the positional words and wraps
every word that contains a space in double quotes (``"${arg.replace(/"/g, '\\"')}"``),
so a prompt passed as one argument reaches the model quoted and with its own quotes
escaped. Piped stdin is taken as it is (``resolveRunInput(message, piped)`` returns the
piped text when there is no positional message) and has no command-line limit.

``--auto`` ("auto-approve permissions that are not explicitly denied") is added for the
``auto`` permission mode; without it ``run`` rejects every permission request that would
ask, and reports the rejected permissions in its final ``done`` event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.agent_events import (
    AgentEvent,
    Error,
    Raw,
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
)


class OpencodeAdapter(Adapter):
    name = "opencode"
    label = "opencode"
    reports_cost = True
    reports_tokens = True
    executables = ("opencode",)
    install_hint = "npm install -g opencode-ai"
    structured = True
    supports_resume = True
    permission_modes = ("default", "auto")

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
        argv = [executable, "run", "--format", "json"]
        if options.model:
            argv += ["-m", options.model]
        if session_id:
            argv += ["--session", session_id]
        if options.permission_mode == "auto":
            argv.append("--auto")
        argv += list(options.extra_args)
        return Invocation(argv=argv, stdin_text=prompt)

    def parser(self) -> OpencodeParser:
        return OpencodeParser()


class OpencodeParser(JsonLineParser):
    """``{"type", "timestamp", "sessionID", …}`` lines emitted by ``run.ts``.

    Types: ``step_start``, ``text``, ``reasoning`` (only with ``--thinking``), ``tool_use``
    (one line per *finished* tool call, carrying its state: input, output or error),
    ``step_finish`` (per model step: ``tokens``, ``cost``), ``error`` and, in recent
    versions, a closing ``done``. Steps report their own usage, so each Result carries the
    running totals of the run so far (what a run summary wants), not the step's numbers;
    ``turns`` counts the model steps.
    """

    def __init__(self) -> None:
        super().__init__()
        self._session: str | None = None
        self._line = ""
        self._cost: float | None = None  # None until a step reports a cost
        self._input = 0
        self._output = 0
        self._steps = 0

    def feed(self, line: str) -> list[AgentEvent]:
        self._line = line
        return super().feed(line)

    def event(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        session = data.get("sessionID")
        new_session = session if isinstance(session, str) and self._session is None else ""
        kind = data.get("type")
        body = self._step_finish(data["part"]) if kind == "step_finish" else self._body(kind, data)
        if body is None:
            if not new_session:
                return None
            body = [Raw(self._line)]  # an unknown type still names the session
        if new_session:
            self._session = new_session
            return [Session(new_session), *body]
        return body

    def _body(self, kind: Any, data: dict[str, Any]) -> list[AgentEvent] | None:
        if kind == "step_start":
            return []
        if kind == "text":
            return [Text(str(data["part"].get("text", "")))]
        if kind == "reasoning":
            return [Text(str(data["part"].get("text", "")), role="thinking")]
        if kind == "tool_use":
            return _tool_use(data["part"])
        if kind == "error":
            message = _error_message(data.get("error"))
            return [Error(message), self._result(ok=False, text=message)]
        if kind == "done":
            rejected = [str(name) for name in data.get("rejected") or ()]
            if rejected:
                return [Error("opencode rejected permission requests: " + ", ".join(rejected))]
            return []
        return None

    def _step_finish(self, part: dict[str, Any]) -> list[AgentEvent]:
        tokens = part.get("tokens") or {}
        cache = tokens.get("cache") or {}
        cost = as_float(part.get("cost"))
        # tokens.input excludes cached input (opencode's getUsage subtracts it); add it back
        # so the count means what Claude's adapter reports: all input tokens.
        step_input = sum(as_int(value) or 0 for value in
                         (tokens.get("input"), cache.get("read"), cache.get("write")))  # fmt: skip
        step_output = as_int(tokens.get("output")) or 0
        if cost is not None:
            self._cost = (self._cost or 0.0) + cost
        self._input += step_input
        self._output += step_output
        self._steps += 1
        return [self._result(ok=True)]

    def _result(self, *, ok: bool, text: str = "") -> Result:
        return Result(
            ok=ok,
            text=text,
            turns=self._steps or None,
            cost_usd=self._cost,
            input_tokens=self._input or None,
            output_tokens=self._output or None,
        )


def _tool_use(part: dict[str, Any]) -> list[AgentEvent]:
    state = part.get("state") or {}
    call_id = str(part.get("callID") or part.get("id") or "")
    tool_input = state.get("input")
    tool_input = dict(tool_input) if isinstance(tool_input, dict) else {}
    events: list[AgentEvent] = [ToolCall(str(part.get("tool", "?")), tool_input, call_id)]
    status = state.get("status")
    if status == "completed":
        events.append(ToolResult(call_id, True, str(state.get("output") or "")))
    elif status == "error":
        events.append(ToolResult(call_id, False, str(state.get("error") or "")))
    return events


def _error_message(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error or "error")
    data = error.get("data")
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return str(error.get("name") or "error")
