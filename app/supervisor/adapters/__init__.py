"""Agent adapters, registered in one place (DESIGN §6)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass

from app.core.errors import AgentryError
from app.core.models import Task
from app.supervisor.adapters.base import Adapter, AgentOptions, Detection, Invocation, LineParser

# Where each built-in adapter lives, in the order they are listed. A module is imported the
# first time its adapter is asked for: `agentry run -- CMD` needs only the shell adapter, and
# every process that submits a task should not pay for the parsers of every coding agent.
_BUILT_IN: dict[str, tuple[str, str]] = {
    "shell": ("simple", "ShellAdapter"),
    "demo": ("simple", "DemoAdapter"),
    "claude": ("claude", "ClaudeAdapter"),
    "codex": ("codex", "CodexAdapter"),
    "gemini": ("gemini", "GeminiAdapter"),
    "aider": ("aider", "AiderAdapter"),
    "opencode": ("opencode", "OpencodeAdapter"),
    "q": ("amazonq", "AmazonQAdapter"),
}
_ADAPTERS: dict[str, Adapter | None] = dict.fromkeys(_BUILT_IN)
"""Every adapter by name, in listing order; None for a built-in one not made yet."""


def _adapter(name: str) -> Adapter | None:
    adapter = _ADAPTERS.get(name)
    if adapter is None and name in _BUILT_IN:
        module, cls = _BUILT_IN[name]
        made: Adapter = getattr(importlib.import_module(f"{__name__}.{module}"), cls)()
        adapter = _ADAPTERS[name] = made
    return adapter


class UnknownAgent(AgentryError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown agent {name!r}; choose one of: {', '.join(_ADAPTERS)}")


def get_adapter(name: str) -> Adapter:
    adapter = _adapter(name)
    if adapter is None:
        raise UnknownAgent(name)
    return adapter


def get_adapter_or_none(name: str) -> Adapter | None:
    return _adapter(name)


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
    adapter = _adapter(task.agent)
    if adapter is None or not adapter.supports_resume:
        return SessionAbility(supported=False, session=None)
    return SessionAbility(True, task.session_id or adapter.default_session(task.id))


def detect_all(agent_paths: Mapping[str, str]) -> dict[str, Detection]:
    """Which agent CLIs are installed, by agent name (runs each one's ``--version``)."""
    return {a.name: a.detect(agent_paths.get(a.name)) for a in all_adapters()}


def all_adapters() -> list[Adapter]:
    return [get_adapter(name) for name in _ADAPTERS]


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
