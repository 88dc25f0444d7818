"""Agent events as readable lines (with ANSI styling), for panes and the terminal alike."""

from __future__ import annotations

from typing import Protocol

from app.core.agent_events import (
    AgentEvent,
    Error,
    Raw,
    Result,
    RunSummary,
    Session,
    Text,
    ToolCall,
    ToolResult,
)
from app.core.approvals import Approval, ApprovalState
from app.core.platform import current_user
from app.core.transcript import AUTO_ALLOW, clock, decision_text, describe_model

DIM, BOLD, RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"
CYAN, RED, GREEN, MAGENTA = "\x1b[36m", "\x1b[31m", "\x1b[32m", "\x1b[35m"
YOU_BAR = "\x1b[1;35m▌\x1b[0m"
MAX_RESULT_LINES = 3


MAX_EXPANDED_LINES = 200


def render(event: AgentEvent, *, expanded: bool = False) -> list[str]:
    """The lines a person reads for one event; ``expanded`` shows tool output in full."""
    if isinstance(event, Raw):
        return [event.line]
    if isinstance(event, Text):
        return _text(event)
    if isinstance(event, ToolCall):
        summary = f" {event.summary}" if event.summary else ""
        return [f"{CYAN}▸ {event.tool}{RESET}{summary}"]
    if isinstance(event, ToolResult):
        return _tool_result_expanded(event) if expanded else _tool_result_compact(event)
    if isinstance(event, Error):
        return [f"{BOLD}{RED}✗ {line}{RESET}" for line in event.message.splitlines() or [""]]
    if isinstance(event, Session):
        model = f" · {describe_model(event.model)}" if event.model else ""
        return [f"{DIM}session {event.session_id}{model}{RESET}"]
    if isinstance(event, Result):
        return [f"{DIM}── {footer_text(event)} ──{RESET}"]
    return []


def _text(event: Text) -> list[str]:
    lines = event.text.splitlines() or [""]
    if event.role == "thinking":
        return [f"{DIM}✻ {line}{RESET}" for line in lines]
    if event.role == "user":
        return [f"{MAGENTA}» {line}{RESET}" for line in lines]
    return lines


def you_turn(text: str) -> list[str]:
    """A message the person sent (the prompt, a follow-up, an edited checkpoint text)."""
    lines = text.strip("\n").splitlines() or [""]
    return [f"{YOU_BAR} {BOLD}{MAGENTA}You{RESET}"] + [f"{YOU_BAR} {line}" for line in lines]


def run_end(text: str) -> str:
    """The line below a finished run's output: "exited 3 after 0:02"."""
    return f"{BOLD}■ {text}{RESET}"


def decision(approval: Approval | None, reason: str = "", *, me: str | None = None) -> list[str]:
    """Who allowed or denied a tool call, and when, as the transcript shows it."""
    text = decision_text(approval, reason, me=me or current_user())
    at = approval.decided_at if approval is not None else None
    when = f" {DIM}· {clock(at)}{RESET}" if at else ""
    if approval is not None and approval.state is ApprovalState.ALLOWED:
        return [f"  {GREEN}✓ {text}{RESET}{when}"]
    return [f"  {BOLD}{RED}✗ {text}{RESET}{when}"]


def _tool_result_compact(event: ToolResult) -> list[str]:
    lines = [line for line in event.output.splitlines() if line.strip()]
    if not event.ok:
        shown = lines[:MAX_RESULT_LINES] or ["failed"]
        return [f"  {RED}✗ {line}{RESET}" for line in shown]
    if not lines:
        return [f"  {DIM}✓ done{RESET}"]
    more = f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else ""
    return [f"  {DIM}✓ {lines[0][:160]}{more}{RESET}"]


def _tool_result_expanded(event: ToolResult) -> list[str]:
    lines = event.output.splitlines()
    mark = f"  {GREEN}✓{RESET}" if event.ok else f"  {RED}✗{RESET}"
    shown = [f"{mark} {DIM}output:{RESET}"] + [
        f"  {DIM}│{RESET} {line}" for line in lines[:MAX_EXPANDED_LINES]
    ]
    if len(lines) > MAX_EXPANDED_LINES:
        shown.append(f"  {DIM}│ … {len(lines) - MAX_EXPANDED_LINES} more lines{RESET}")
    return shown


def footer_text(result: Result | RunSummary) -> str:
    """turns · tokens · cost, as far as the agent reported them."""
    parts = []
    ok = getattr(result, "ok", None)
    if ok is not None:
        parts.append("done" if ok else "ended with an error")
    if result.turns is not None:
        parts.append(f"{result.turns} turn{'s' if result.turns != 1 else ''}")
    if result.input_tokens is not None or result.output_tokens is not None:
        parts.append(f"{_k(result.input_tokens)} in / {_k(result.output_tokens)} out tokens")
    if result.cost_usd is not None:
        parts.append(f"${result.cost_usd:.4f}")
    return " · ".join(parts)


def _k(count: int | None) -> str:
    if count is None:
        return "?"
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


class Parser(Protocol):
    def feed(self, line: str) -> list[AgentEvent]: ...


class Decisions(Protocol):
    """The approval Agentry recorded for a tool call id, if any (the SQLite row owns it);
    ``settled``: the agent was told no, so a decision must be on record by now."""

    def __call__(self, call_id: str, settled: bool = False) -> Approval | None: ...


class Renderer:
    """Raw output lines in, display lines out; keeps the run's running totals.

    With ``decisions``, each tool call Agentry was asked about shows who allowed or denied
    it, and when, at the point in the output where it happened: below the call when it was
    already decided as the call is read (a transcript rebuilt from the log), else just
    before its result. Both come from the durable approval row, so a pane reopened after a
    restart shows the same lines in the same place.
    """

    def __init__(
        self, parser: Parser, *, expanded: bool = False, decisions: Decisions | None = None
    ) -> None:
        self.parser = parser
        self.expanded = expanded
        self.decisions = decisions
        self.summary = RunSummary()
        self._told: set[str] = set()  # call ids whose decision is shown
        self._session: tuple[str, str | None] | None = None

    def feed(self, line: str) -> list[str]:
        out: list[str] = []
        for event in self.parser.feed(line):
            self.summary.absorb(event)
            out.extend(self._lines(event))
        return out

    def _lines(self, event: AgentEvent) -> list[str]:
        if isinstance(event, Session):
            return self._session_line(event)
        if isinstance(event, ToolCall):
            return render(event) + self._decided(event.call_id, final=False)
        if isinstance(event, ToolResult):
            return self._tool_result(event)
        return render(event, expanded=self.expanded)

    def _session_line(self, event: Session) -> list[str]:
        """Once per session: agents repeat the id (Claude: at start and in its result)."""
        model = event.model or (self._session[1] if self._session else None)
        if self._session is not None and self._session == (event.session_id, model):
            return []
        if self._session is not None and self._session[0] == event.session_id and not event.model:
            return []
        self._session = (event.session_id, model)
        return render(event)

    def _tool_result(self, event: ToolResult) -> list[str]:
        told = self._decided(event.call_id, final=True, denied=event.denied, reason=event.output)
        if event.denied:
            return told or decision(None, event.output)
        return told + render(event, expanded=self.expanded)

    def _decided(
        self, call_id: str, *, final: bool, denied: bool = False, reason: str = ""
    ) -> list[str]:
        if not call_id or call_id in self._told or self.decisions is None:
            return []
        approval = self.decisions(call_id, denied)
        if approval is None or approval.state is ApprovalState.PENDING:
            return []
        if approval.state is ApprovalState.ALLOWED and approval.decided_by == AUTO_ALLOW:
            return []  # Settings' read-only tools: one line each would drown the transcript
        if not final and approval.state is not ApprovalState.ALLOWED:
            return []  # a deny is shown in place of the result the agent prints next
        self._told.add(call_id)
        return decision(approval, reason)
