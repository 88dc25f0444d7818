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

DIM, BOLD, RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"
CYAN, RED, GREEN, MAGENTA = "\x1b[36m", "\x1b[31m", "\x1b[32m", "\x1b[35m"
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
        model = f" · {event.model}" if event.model else ""
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


class Renderer:
    """Raw output lines in, display lines out; keeps the run's running totals."""

    def __init__(self, parser: Parser, *, expanded: bool = False) -> None:
        self.parser = parser
        self.expanded = expanded
        self.summary = RunSummary()

    def feed(self, line: str) -> list[str]:
        out: list[str] = []
        for event in self.parser.feed(line):
            self.summary.absorb(event)
            out.extend(render(event, expanded=self.expanded))
        return out
