"""What a transcript adds to the agent's events: model ids explained, exit lines, decisions."""

from __future__ import annotations

import pytest

from app.core.approvals import Approval, ApprovalState
from app.core.models import Run, RunKind, Task, TaskSpec
from app.core.states import RunState
from app.core.transcript import decision_text, describe_model, exit_line, sent_message


@pytest.mark.parametrize(
    ("model", "shown"),
    [
        ("claude-opus-4-8[1m]", "claude-opus-4-8[1m] (1M context)"),
        ("claude-sonnet-4-5[1M]", "claude-sonnet-4-5[1M] (1M context)"),
        ("some-model[200k]", "some-model[200k] (200K context)"),
        ("claude-opus-4-8", "claude-opus-4-8"),
        ("gpt-5-codex", "gpt-5-codex"),
        ("odd[model]", "odd[model]"),
    ],
)
def test_a_model_id_is_shown_as_reported_and_its_context_suffix_explained(
    model: str, shown: str
) -> None:
    assert describe_model(model) == shown


def _run(state: RunState, *, code: int | None = None, took: float = 2.0,
         timeout: float | None = None, kind: RunKind = RunKind.START,
         prompt: str | None = None) -> Run:  # fmt: skip
    return Run(id=1, task_id=1, attempt=1, state=state, dir="d", priority=0, timeout=timeout,
               created_at=0.0, started_at=100.0, ended_at=100.0 + took, exit_code=code,
               kind=kind, prompt=prompt)  # fmt: skip


@pytest.mark.parametrize(
    ("run", "line"),
    [
        (_run(RunState.FAILED, code=3), "exited 3 after 0:02"),
        (_run(RunState.SUCCEEDED, code=0, took=65), "exited 0 after 1:05"),
        (_run(RunState.FAILED, code=-15, took=4), "killed by SIGTERM after 0:04"),
        (_run(RunState.TIMED_OUT, code=-15, took=1801, timeout=1800.0), "timed out after 30:00"),
        (_run(RunState.CANCELLED, code=-15, took=12), "cancelled after 0:12"),
        (_run(RunState.SUCCEEDED, code=0, took=3725), "exited 0 after 1:02:05"),
    ],
)
def test_a_finished_run_ends_with_how_and_after_how_long(run: Run, line: str) -> None:
    assert exit_line(run) == line


def test_a_running_run_has_no_exit_line() -> None:
    assert exit_line(_run(RunState.RUNNING)) is None


def _approval(state: ApprovalState, by: str | None, reason: str | None = None) -> Approval:
    return Approval(id="a", run_id=1, task_id=1, agent="claude", tool="Bash", input={},
                    cwd=None, state=state, created_at=0.0, expires_at=900.0, reason=reason,
                    decided_at=10.0, decided_by=by)  # fmt: skip


def test_who_decided_is_you_a_rule_someone_else_or_the_clock() -> None:
    me = "ann"
    assert decision_text(_approval(ApprovalState.DENIED, "ann", "use the Makefile"), "x",
                         me=me) == "Denied by you: use the Makefile"  # fmt: skip
    assert decision_text(_approval(ApprovalState.ALLOWED, "ann"), "", me=me) == "Allowed by you"
    assert decision_text(_approval(ApprovalState.DENIED, "bob", "no"), "", me=me) == (
        "Denied by bob: no"
    )
    rule = _approval(ApprovalState.DENIED, "rule 3", "Agentry rule: deny Bash in task 1")
    assert decision_text(rule, "", me=me) == "Denied by rule 3 (deny Bash in task 1)"
    expired = _approval(ApprovalState.EXPIRED, "agentry", "No one answered…")
    assert decision_text(expired, "", me=me) == "Denied: no answer in 15 min"
    assert decision_text(None, "not now", me=me) == "Denied: not now"


def test_the_prompt_and_follow_ups_are_messages_but_a_shell_command_is_not() -> None:
    agent = Task(id=1, title="t", agent="claude", priority=0, created_at=0.0, latest_run=None,
                 spec=TaskSpec(argv=(), cwd="/", agent="claude", prompt="Fix it"))  # fmt: skip
    first = _run(RunState.SUCCEEDED, code=0)
    follow = _run(RunState.SUCCEEDED, code=0, kind=RunKind.FOLLOW_UP, prompt="And the docs")
    assert sent_message(agent, first) == "Fix it"
    assert sent_message(agent, follow) == "And the docs"
    shell = Task(id=2, title="s", agent="shell", priority=0, created_at=0.0, latest_run=None,
                 spec=TaskSpec(argv=("ls",), cwd="/", prompt="stdin text"))  # fmt: skip
    assert sent_message(shell, first) is None
