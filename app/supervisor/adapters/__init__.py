"""Agent adapters, registered in one place (DESIGN §6)."""

from __future__ import annotations

from app.core.errors import AgentryError
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
    "UnknownAgent",
    "all_adapters",
    "get_adapter",
    "get_adapter_or_none",
    "register",
]
