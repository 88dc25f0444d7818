"""Agent adapters, registered in one place (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.core.errors import AgentryError
from app.core.models import Task
from app.supervisor.adapters.aider import AiderAdapter
from app.supervisor.adapters.amazonq import AmazonQAdapter
from app.supervisor.adapters.base import Adapter, AgentOptions, Detection, Invocation, LineParser
from app.supervisor.adapters.claude import ClaudeAdapter
from app.supervisor.adapters.codex import CodexAdapter
from app.supervisor.adapters.gemini import GeminiAdapter
from app.supervisor.adapters.opencode import OpencodeAdapter
from app.supervisor.adapters.simple import DemoAdapter, ShellAdapter

_ADAPTERS: dict[str, Adapter] = {
    adapter.name: adapter
    for adapter in (
        ShellAdapter(),
        DemoAdapter(),
        ClaudeAdapter(),
        CodexAdapter(),
        GeminiAdapter(),
        AiderAdapter(),
        OpencodeAdapter(),
        AmazonQAdapter(),
    )
}


class UnknownAgent(AgentryError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown agent {name!r}; choose one of: {', '.join(_ADAPTERS)}")


def get_adapter(name: str) -> Adapter:
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise UnknownAgent(name) from None


def get_adapter_or_none(name: str) -> Adapter | None:
    return _ADAPTERS.get(name)


@dataclass(frozen=True)
class SessionAbility:
    """Whether a task's agent can continue its own session, and which session that is."""

    supported: bool  # the agent can continue a session at all
    session: str | None  # the session a follow-up or resume would continue, when known

    @property
    def can_continue(self) -> bool:
        return self.supported and self.session is not None


def session_ability(task: Task) -> SessionAbility:
    """The one answer to "can this task resume its session" (commands, panes, recovery)."""
    adapter = _ADAPTERS.get(task.agent)
    if adapter is None or not adapter.supports_resume:
        return SessionAbility(supported=False, session=None)
    return SessionAbility(True, task.session_id or adapter.default_session(task.id))


def detect_all(agent_paths: Mapping[str, str]) -> dict[str, Detection]:
    """Which agent CLIs are installed, by agent name (runs each one's ``--version``)."""
    return {a.name: a.detect(agent_paths.get(a.name)) for a in _ADAPTERS.values()}


def all_adapters() -> list[Adapter]:
    return list(_ADAPTERS.values())


def register(adapter: Adapter) -> None:
    _ADAPTERS[adapter.name] = adapter


__all__ = [
    "Adapter",
    "AgentOptions",
    "Detection",
    "Invocation",
    "LineParser",
    "SessionAbility",
    "UnknownAgent",
    "all_adapters",
    "detect_all",
    "get_adapter",
    "get_adapter_or_none",
    "register",
    "session_ability",
]
