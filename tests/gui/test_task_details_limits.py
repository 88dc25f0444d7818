"""The Details tab names a task's restart policy, memory limit (and use), its choice on
a usage limit, and who started it when that was not the person (an agent over MCP)."""

from __future__ import annotations

import re

from app.core.models import Task, TaskOrigin, TaskSpec
from app.core.policies import LimitPolicy, RestartMode, RestartPolicy
from app.ui.task_details import details_html


def _task(spec: TaskSpec) -> Task:
    return Task(id=3, title="t", agent="claude", spec=spec, priority=0, created_at=0.0,
                latest_run=None)  # fmt: skip


def test_details_say_what_follows_a_runs_end_and_the_memory_it_may_use() -> None:
    spec = TaskSpec(argv=(), cwd="/src", agent="claude", memory_limit_mb=4096.0,
                    restart=RestartPolicy(RestartMode.ON_FAILURE, 2, 5, 60),
                    limits=LimitPolicy(max_resumes=3))  # fmt: skip
    shown = details_html(_task(spec), [], memory=int(1.2 * 2**30))
    assert "restarted on-failure, up to 2 times, after 5 s to 1 min" in shown
    assert "4 GB: its processes are stopped above it (using 1.2 GB now)" in shown
    assert "resume after the reset at most 3 times" in shown
    plain = details_html(_task(TaskSpec(argv=("make",), cwd="/src")), [])
    assert "never restarted" in plain and "the default from Settings" in plain
    assert "as Settings say" in plain
    off = TaskSpec(argv=(), cwd="/src", memory_limit_mb=0.0, limits=LimitPolicy(False))
    assert "stop (no auto-resume)" in details_html(_task(off), [])


def test_details_say_a_task_was_started_over_mcp_and_by_which_client() -> None:
    spec = TaskSpec(argv=("make",), cwd="/src", origin=TaskOrigin("mcp", "claude-code"))
    shown = details_html(_task(spec), [])
    assert re.search(r">Started by</td><td[^>]*>MCP \(claude-code\)</td>", shown)
    assert "Started by" not in details_html(_task(TaskSpec(argv=("make",), cwd="/src")), [])
