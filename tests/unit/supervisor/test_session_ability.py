"""One answer to "can this task continue its agent's session" for commands and the UI."""

from __future__ import annotations

import pytest

from app.core.models import Task, TaskSpec
from app.supervisor.adapters import SessionAbility, session_ability


def _task(agent: str, session_id: str | None = None) -> Task:
    spec = TaskSpec(argv=(agent,), cwd="/tmp", agent=agent)
    return Task(7, "t", agent, spec, 0, 0.0, None, session_id=session_id)


@pytest.mark.parametrize(
    ("agent", "session_id", "expected"),
    [
        ("claude", "s-1", SessionAbility(True, "s-1")),
        ("claude", None, SessionAbility(True, None)),  # supported, nothing to continue yet
        ("aider", None, SessionAbility(True, "task-7")),  # its session is a history file
        ("shell", "s-1", SessionAbility(False, None)),
        ("no-such-agent", "s-1", SessionAbility(False, None)),
    ],
)
def test_session_ability_by_agent_and_known_session(
    agent: str, session_id: str | None, expected: SessionAbility
) -> None:
    assert session_ability(_task(agent, session_id)) == expected


def test_only_a_supported_agent_with_a_known_session_can_continue() -> None:
    assert session_ability(_task("claude", "s-1")).can_continue
    assert not session_ability(_task("claude")).can_continue
    assert not session_ability(_task("shell", "s-1")).can_continue
