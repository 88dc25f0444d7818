"""Approvals are decided exactly once; rules decide before anyone is asked."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.core.approvals import ApprovalState, Decision, NewRule, Rule, RuleScope, first_match
from app.core.models import TaskSpec
from app.core.settings import Settings
from app.core.states import RunState
from app.store import approval_repo, repo
from app.store.db import open_database, transaction
from app.supervisor import approvals, commands, hook


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_database(tmp_path / "agentry.db")
    yield connection
    connection.close()


def _running_run(conn) -> tuple[int, int]:
    task_id, run_id = commands.submit(
        conn, TaskSpec(argv=(), cwd="/proj", agent="claude", prompt="go"), Settings()
    )
    with transaction(conn):
        repo.transition(conn, run_id, RunState.STARTING)
        repo.transition(conn, run_id, RunState.RUNNING)
    return task_id, run_id


def _pending(conn, run_id: int, task_id: int, expires_in: float = 60.0):
    with transaction(conn):
        return approval_repo.create(
            conn, run_id=run_id, task_id=task_id, agent="claude", tool="Bash",
            tool_input={"command": "rm -rf build"}, cwd="/proj", expires_in=expires_in,
        )  # fmt: skip


def test_a_decision_is_recorded_once_and_a_second_one_is_refused(conn) -> None:
    task_id, run_id = _running_run(conn)
    request = _pending(conn, run_id, task_id)
    decided = approvals.decide(conn, request.id, allow=False, reason="no")
    assert decided.state is ApprovalState.DENIED and decided.reason == "no"
    with pytest.raises(commands.CommandRefused, match="already denied"):
        approvals.decide(conn, request.id, allow=True)
    events = [e for e in repo.events_for_task(conn, task_id) if e["kind"] == "approval"]
    assert [e["new_state"] for e in events] == ["pending", "denied"]


def test_a_decision_after_expiry_is_refused(conn) -> None:
    task_id, run_id = _running_run(conn)
    request = _pending(conn, run_id, task_id, expires_in=-1.0)
    with pytest.raises(commands.CommandRefused, match="expired"):
        approvals.decide(conn, request.id, allow=True)
    assert approval_repo.get(conn, request.id).state is ApprovalState.PENDING


def test_a_decision_for_an_ended_run_is_refused_and_its_requests_are_abandoned(conn) -> None:
    task_id, run_id = _running_run(conn)
    request = _pending(conn, run_id, task_id)
    with transaction(conn):
        run = repo.transition(conn, run_id, RunState.CANCELLED, reason="cancelled")
    with pytest.raises(commands.CommandRefused, match="has ended"):
        approvals.decide(conn, request.id, allow=True)
    assert run is not None and approvals.abandon_for_run(conn, run) == [request.id]
    assert approval_repo.get(conn, request.id).state is ApprovalState.ABANDONED


def test_an_unknown_approval_names_the_command_that_lists_them(conn) -> None:
    with pytest.raises(commands.CommandRefused, match="agentry approvals"):
        approvals.decide(conn, "nope", allow=True)


def test_remembering_adds_a_rule_for_the_task_or_the_project_folder(conn) -> None:
    task_id, run_id = _running_run(conn)
    approvals.decide(
        conn, _pending(conn, run_id, task_id).id, allow=True, remember=RuleScope.PROJECT
    )
    (rule,) = approval_repo.rules(conn)
    assert (rule.scope, rule.folder, rule.tool, rule.decision) == (
        RuleScope.PROJECT, "/proj", "Bash", Decision.ALLOW)  # fmt: skip


def test_a_rule_is_stored_from_its_record_and_read_back_typed(conn) -> None:
    task_id, _ = _running_run(conn)
    new = NewRule(RuleScope.TASK, "Write", Decision.DENY, task_id=task_id, pattern="*.lock")
    rule_id = approval_repo.add_rule(conn, new)
    (rule,) = approval_repo.rules(conn)
    assert rule == Rule(rule_id, RuleScope.TASK, "Write", Decision.DENY, task_id=task_id,
                        pattern="*.lock")  # fmt: skip
    assert rule.scope is RuleScope.TASK


def test_only_task_and_project_rules_are_stored(conn) -> None:
    with pytest.raises(ValueError, match="task or project"):
        approval_repo.add_rule(conn, NewRule(RuleScope.ANY, "Read", Decision.ALLOW))


def test_deny_rules_win_over_allow_and_task_rules_over_folder_rules() -> None:
    rules = [
        Rule(1, RuleScope.PROJECT, "Bash", Decision.ALLOW, folder="/proj"),
        Rule(2, RuleScope.PROJECT, "Bash", Decision.DENY, folder="/proj", pattern="rm *"),
        Rule(3, RuleScope.TASK, "Write", Decision.ALLOW, task_id=9),
        Rule(4, RuleScope.PROJECT, "Write", Decision.DENY, folder="/other"),
    ]
    assert first_match(rules, "Bash", "rm -rf /", task_id=9, cwd="/proj/sub").id == 2  # type: ignore[union-attr]
    assert first_match(rules, "Bash", "git status", task_id=9, cwd="/proj").id == 1  # type: ignore[union-attr]
    assert first_match(rules, "Bash", "ls", task_id=9, cwd="/elsewhere") is None
    assert first_match(rules, "Write", "a.py", task_id=9, cwd="/other").id == 4  # type: ignore[union-attr]
    assert first_match(rules, "Bash", "ls", task_id=9, cwd="/project-x") is None  # not inside


@pytest.mark.parametrize(
    "raw",
    ["not json", "[1, 2]", '{"tool_input": {}}', '{"tool_name": "Bash", "tool_input": "x"}'],
)
def test_malformed_hook_input_is_denied_with_a_message_never_allowed(
    raw: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTRY_HOME", str(tmp_path))
    for kind in ("claude-pretool", "codex-pretool", "gemini-pretool"):
        out, err = io.StringIO(), io.StringIO()
        # A deny never depends on stdout: exit 2 and the reason on stderr, for every agent.
        assert hook.main(kind, 1, io.StringIO(raw), out, err) == 2
        assert out.getvalue() == "" and "could not read this request" in err.getvalue()


def test_a_read_only_tool_is_allowed_by_the_builtin_rule_and_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTRY_HOME", str(tmp_path))
    connection = open_database(tmp_path / "agentry.db")
    _, run_id = _running_run(connection)
    out = io.StringIO()
    request = {"tool_name": "Read", "tool_input": {"file_path": "/proj/a.py"}, "cwd": "/proj"}
    hook.main("claude-pretool", run_id, io.StringIO(json.dumps(request)), out)
    assert json.loads(out.getvalue())["hookSpecificOutput"]["permissionDecision"] == "allow"
    (recorded,) = approval_repo.recent(connection)
    assert recorded.state is ApprovalState.ALLOWED and recorded.decided_by == "auto-allow"
    connection.close()


def test_approval_ids_never_look_like_command_line_options(conn) -> None:
    task_id, run_id = _running_run(conn)
    ids = [_pending(conn, run_id, task_id).id for _ in range(200)]
    assert not any(i.startswith("-") for i in ids) and len(set(ids)) == 200
    assert all(i.isalnum() for i in ids)


def test_gemini_hooks_are_answered_in_geminis_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTRY_HOME", str(tmp_path))
    connection = open_database(tmp_path / "agentry.db")
    _, run_id = _running_run(connection)
    request = {"session_id": "s", "hook_event_name": "BeforeTool", "cwd": "/proj",
               "tool_name": "read_file", "tool_input": {"file_path": "/proj/a.py"}}  # fmt: skip
    out = io.StringIO()
    assert hook.main("gemini-pretool", run_id, io.StringIO(json.dumps(request)), out) == 0
    assert json.loads(out.getvalue()) == {"decision": "allow", "reason": "read-only tool"}
    connection.close()


def test_an_mcp_tool_named_like_a_read_only_tool_is_not_auto_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gemini names MCP tools <server>_<tool>: server "read", tool "file" is "read_file"."""
    monkeypatch.setenv("AGENTRY_HOME", str(tmp_path))
    connection = open_database(tmp_path / "agentry.db")
    request = {"tool_name": "read_file", "tool_input": {"file_path": "/x"}, "cwd": "/proj",
               "mcp_context": {"server_name": "read", "tool_name": "file"}}  # fmt: skip
    parsed = hook.parse_request(json.dumps(request))
    assert parsed.mcp and hook._rules(connection, Settings(), parsed.mcp) == []
    builtin = hook.parse_request(
        json.dumps({k: v for k, v in request.items() if k != "mcp_context"})
    )
    assert [r.tool for r in hook._rules(connection, Settings(), builtin.mcp)][:1] == ["Read"]
    connection.close()


def test_the_wait_is_capped_at_the_expiry_the_agent_was_launched_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its own hook timeout came from that expiry: a longer one set later would outlast it."""
    monkeypatch.setenv("AGENTRY_HOME", str(tmp_path))
    (tmp_path / "settings.json").write_text(json.dumps({"approval_timeout_s": 7200}))
    connection = open_database(tmp_path / "agentry.db")
    _, run_id = _running_run(connection)
    request = {"tool_name": "Bash", "tool_input": {"command": "make"}, "cwd": "/proj"}
    monkeypatch.setattr(hook, "_wait_for_person", lambda conn, settings, *a: (
        "deny", f"waited {settings.approval_timeout_s:.0f}"))  # fmt: skip
    err = io.StringIO()
    hook.main("codex-pretool", run_id, io.StringIO(json.dumps(request)), io.StringIO(), err,
              timeout=600)  # fmt: skip
    assert err.getvalue() == "waited 600\n"
    connection.close()


def test_a_signal_while_waiting_denies_and_abandons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTRY_HOME", str(tmp_path))

    def stopped(*_args: object) -> tuple[str, str]:
        raise hook.HookStopped("signal 15")

    monkeypatch.setattr(hook, "_decide", stopped)
    out, err = io.StringIO(), io.StringIO()
    assert hook.main("gemini-pretool", 1, io.StringIO("{}"), out, err) == 2
    assert out.getvalue() == "" and "stopped waiting" in err.getvalue()


def test_a_blank_deny_reason_still_blocks_codex() -> None:
    """Codex runs the call when a hook exits 2 with nothing on stderr."""
    err = io.StringIO()
    assert hook.respond("codex", "deny", "   ", io.StringIO(), err) == 2
    assert err.getvalue() == "Denied in Agentry.\n"


def test_the_probe_answers_without_reading_anything() -> None:
    out = io.StringIO()
    assert hook.main("codex-pretool", 1, None, out, io.StringIO(), probe=True) == 0
    assert out.getvalue() == hook.PROBE_ANSWER + "\n"


def test_an_unknown_hook_kind_blocks_the_call() -> None:
    err = io.StringIO()
    assert hook.main("codex-pretool-v9", 1, io.StringIO("{}"), io.StringIO(), err) == 2
    assert "unknown hook kind 'codex-pretool-v9'" in err.getvalue()


def test_codex_hooks_answer_with_exit_codes_not_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codex reads stdout through a login shell: allow is exit 0, deny exit 2 + stderr."""
    monkeypatch.setenv("AGENTRY_HOME", str(tmp_path))
    connection = open_database(tmp_path / "agentry.db")
    _, run_id = _running_run(connection)
    read = {"tool_name": "Read", "tool_input": {"file_path": "/proj/a.py"}, "cwd": "/proj"}
    out, err = io.StringIO(), io.StringIO()
    assert hook.main("codex-pretool", run_id, io.StringIO(json.dumps(read)), out, err) == 0
    assert out.getvalue() == "" and err.getvalue() == ""
    out, err = io.StringIO(), io.StringIO()
    assert hook.main("codex-pretool", run_id, io.StringIO("[]"), out, err) == 2
    assert out.getvalue() == "" and "could not read this request" in err.getvalue()
    connection.close()
