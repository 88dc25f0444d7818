"""What an agent's output lines mean, independent of which CLI printed them.

Adapters turn lines into these events; panes render them and the supervisor keeps the
session id and totals. A line no parser understands becomes :class:`Raw` — shown as it
is, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# What kind of limit stopped an agent: "usage" — a plan's session/weekly/daily quota, over
# until its reset; "rate" — too many requests (HTTP 429), over in seconds to minutes;
# "overloaded" — the provider's own trouble (HTTP 529/503), over whenever it is.
LimitKind = Literal["usage", "rate", "overloaded"]


@dataclass(frozen=True)
class Raw:
    line: str


@dataclass(frozen=True)
class Text:
    text: str
    role: str = "assistant"  # or "user", "thinking"


@dataclass(frozen=True)
class ToolCall:
    tool: str
    input: dict[str, Any] = field(default_factory=dict)
    call_id: str = ""

    @property
    def summary(self) -> str:
        """The argument a person wants to see first: the command, the file, the pattern."""
        for key in ("command", "file_path", "path", "pattern", "url", "query", "description"):
            value = self.input.get(key)
            if isinstance(value, str) and value:
                return value.splitlines()[0][:200]
        for value in self.input.values():
            if isinstance(value, str) and value:
                return value.splitlines()[0][:200]
        return ""


@dataclass(frozen=True)
class ToolResult:
    call_id: str = ""
    ok: bool = True
    output: str = ""
    # Agentry's approval hook blocked the call: ``output`` is then only the reason the
    # agent was given (never the hook's command line the agent wraps it in).
    denied: bool = False


@dataclass(frozen=True)
class Error:
    message: str


@dataclass(frozen=True)
class Session:
    session_id: str
    model: str | None = None


@dataclass(frozen=True)
class Result:
    ok: bool = True
    text: str = ""
    turns: int | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    duration_ms: float | None = None


@dataclass(frozen=True)
class Limit:
    """The agent stopped on a usage or rate limit, not on a bug of its own.

    ``resets_at`` (epoch seconds) is when the agent says the limit ends; None when it did
    not say. ``message`` is the agent's own words, one line. The agent's :class:`Error`
    for the same line comes too (it is what a person reads); this says what it means.
    """

    kind: LimitKind
    message: str
    resets_at: float | None = None


AgentEvent = Raw | Text | ToolCall | ToolResult | Error | Session | Result | Limit


@dataclass
class RunSummary:
    """What a run's output says about it as a whole (a cache; output.log owns the facts)."""

    session_id: str | None = None
    model: str | None = None
    turns: int | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    ok: bool | None = None
    # The last limit the run hit, while it still stands: a turn that then succeeds (the
    # agent retried on its own) clears it, so a set ``limit`` means "ended on a limit".
    limit: Limit | None = None

    def absorb(self, event: AgentEvent) -> None:
        if isinstance(event, Session):
            self.session_id = event.session_id or self.session_id
            self.model = event.model or self.model
        elif isinstance(event, Limit):
            self.limit = event
        elif isinstance(event, Result):
            self.ok = event.ok
            if event.ok:
                self.limit = None
            for name in ("turns", "cost_usd", "input_tokens", "output_tokens"):
                value = getattr(event, name)
                if value is not None:
                    setattr(self, name, value)


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
