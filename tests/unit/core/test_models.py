"""Tests for app.core.models: JSON round trips and the shapes other layers rely on."""

from __future__ import annotations

import json

import pytest

from app.core.models import (
    RecoveryCause,
    RecoveryReport,
    Run,
    Task,
    TaskOrigin,
    TaskSpec,
    WorktreeRepair,
)
from app.core.states import RunState


def _full_spec() -> TaskSpec:
    return TaskSpec(
        argv=("claude", "-p", "fix the tests", "--verbose"),
        cwd="/home/user/project",
        title="fix tests",
        agent="claude",
        env={"FOO": "bar", "EMPTY": ""},
        prompt="please fix the failing tests ✓",
        timeout=1800.0,
        priority=3,
    )


def _run(**changes: object) -> Run:
    values: dict[str, object] = {
        "id": 7,
        "task_id": 4,
        "attempt": 2,
        "state": RunState.FAILED,
        "dir": "000007-abcdef",
        "priority": 0,
        "timeout": 60.0,
        "created_at": 1000.0,
        "started_at": 1001.0,
        "ended_at": 1010.0,
        "exit_code": 3,
        "reason": "exit",
        "message": "",
    }
    values.update(changes)
    return Run(**values)  # type: ignore[arg-type]


def _task(latest_run: Run | None) -> Task:
    return Task(
        id=4,
        title="fix tests",
        agent="claude",
        spec=_full_spec(),
        priority=0,
        created_at=999.5,
        latest_run=latest_run,
    )


def _report() -> RecoveryReport:
    return RecoveryReport(
        started_at=1234.5,
        previous_clean=False,
        duration_ms=12.34,
        reattached=[1, 2],
        finished=[3],
        interrupted=[4, 5, 6],
        queued=[7],
        notes={3: "finished while away (exit 0)", 4: "runner gone, no exit.json"},
        causes={3: RecoveryCause.FINISHED_AWAY, 4: RecoveryCause.RUNNER_DIED},
        exit_codes={3: 0},
        temp_files_removed=2,
    )


# --- TaskSpec --------------------------------------------------------------------------


def test_task_spec_survives_a_json_round_trip() -> None:
    spec = _full_spec()
    assert TaskSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec


def test_task_spec_to_json_gives_argv_as_a_list() -> None:
    assert _full_spec().to_json()["argv"] == ["claude", "-p", "fix the tests", "--verbose"]


def test_task_spec_from_json_returns_argv_as_a_tuple() -> None:
    spec = TaskSpec.from_json({"argv": ["echo", "hi"], "cwd": "/tmp"})
    assert spec.argv == ("echo", "hi")


def test_task_spec_from_json_fills_defaults_for_missing_keys() -> None:
    spec = TaskSpec.from_json({"argv": ["echo"], "cwd": "/tmp"})
    assert spec == TaskSpec(argv=("echo",), cwd="/tmp")


def test_task_spec_round_trip_keeps_an_explicit_no_timeout_apart_from_default() -> None:
    no_limit = TaskSpec(argv=("x",), cwd="/", timeout=0.0)
    default = TaskSpec(argv=("x",), cwd="/", timeout=None)
    assert TaskSpec.from_json(no_limit.to_json()).timeout == 0.0
    assert TaskSpec.from_json(default.to_json()).timeout is None


def test_a_task_origin_survives_the_spec_json_and_specs_without_one_read_as_before() -> None:
    spec = TaskSpec(argv=("make",), cwd="/src", origin=TaskOrigin("mcp", "claude-code"))
    stored = json.loads(json.dumps(spec.to_json()))
    assert stored["origin"] == {"via": "mcp", "client": "claude-code"}
    assert TaskSpec.from_json(stored) == spec
    assert "origin" not in TaskSpec(argv=("make",), cwd="/src").to_json()
    anonymous = TaskSpec(argv=("make",), cwd="/src", origin=TaskOrigin("mcp"))
    assert anonymous.to_json()["origin"] == {"via": "mcp"}
    assert TaskSpec.from_json(anonymous.to_json()).origin == TaskOrigin("mcp")


@pytest.mark.parametrize("stored", [None, "mcp", {}, {"via": ""}, {"via": 3}, ["mcp"]])
def test_a_spec_whose_origin_is_not_an_object_naming_its_way_in_has_none(stored: object) -> None:
    assert TaskSpec.from_json({"argv": ["x"], "cwd": "/", "origin": stored}).origin is None


def test_an_origin_says_who_started_the_task() -> None:
    assert TaskOrigin("mcp", "claude-code").describe() == "started by MCP: claude-code"
    assert TaskOrigin("mcp", "claude-code").who() == "MCP (claude-code)"
    assert TaskOrigin("mcp").describe() == "started by MCP"
    assert TaskOrigin("carrier-pigeon").who() == "carrier-pigeon"  # a newer version's way in
    assert TaskOrigin.from_json({"via": "mcp", "client": ""}) == TaskOrigin("mcp")


# --- Task.summary ----------------------------------------------------------------------


def test_task_summary_has_the_documented_keys() -> None:
    summary = _task(_run()).summary()
    assert {"id", "title", "agent", "state", "exit_code", "created_at"} <= set(summary)


def test_task_summary_reports_the_latest_run() -> None:
    summary = _task(_run()).summary()
    assert summary["id"] == 4
    assert summary["title"] == "fix tests"
    assert summary["agent"] == "claude"
    assert summary["state"] == "failed"
    assert summary["exit_code"] == 3
    assert summary["created_at"] == 999.5
    assert summary["attempt"] == 2
    assert summary["run_id"] == 7


def test_task_summary_is_json_serialisable() -> None:
    summary = _task(_run()).summary()
    assert json.loads(json.dumps(summary)) == summary


def test_task_summary_says_where_the_task_came_from() -> None:
    assert _task(_run()).summary()["origin"] is None
    spec = TaskSpec(argv=("make",), cwd="/src", origin=TaskOrigin("mcp", "codex"))
    task = Task(id=1, title="t", agent="shell", spec=spec, priority=0, created_at=0.0,
                latest_run=None)  # fmt: skip
    assert task.summary()["origin"] == {"via": "mcp", "client": "codex"}


def test_task_summary_without_a_run_has_no_state_and_no_exit_code() -> None:
    summary = _task(None).summary()
    assert summary["state"] is None
    assert summary["exit_code"] is None
    assert summary["attempt"] == 0


def test_task_state_is_the_latest_run_state() -> None:
    assert _task(_run(state=RunState.RUNNING)).state is RunState.RUNNING
    assert _task(None).state is None


# --- RecoveryReport --------------------------------------------------------------------


def test_recovery_report_survives_a_json_round_trip() -> None:
    report = _report()
    assert RecoveryReport.from_json(json.loads(json.dumps(report.to_json()))) == report


def test_recovery_report_notes_keep_integer_task_ids_after_round_trip() -> None:
    restored = RecoveryReport.from_json(json.loads(json.dumps(_report().to_json())))
    assert set(restored.notes) == {3, 4}


def test_recovery_report_from_minimal_json_uses_defaults() -> None:
    report = RecoveryReport.from_json({"started_at": 5})
    assert report == RecoveryReport(started_at=5.0)


def test_a_report_stored_before_causes_existed_still_says_what_happened() -> None:
    stored = {
        "started_at": 1.0,
        "reattached": [1],
        "finished": [2, 3],
        "interrupted": [4],
        "queued": [5],
        "notes": {"2": "ended while Agentry was away — exit code 7", "4": "runner gone"},
    }
    report = RecoveryReport.from_json(stored)
    assert [report.cause(t) for t in (1, 2, 4, 5)] == [
        RecoveryCause.REATTACHED,
        RecoveryCause.FINISHED_AWAY,
        RecoveryCause.INTERRUPTED,
        RecoveryCause.QUEUED,
    ]
    assert report.exit_codes == {2: 7, 3: None}


def test_a_cause_from_a_newer_version_falls_back_to_its_group() -> None:
    report = RecoveryReport.from_json(
        {"started_at": 1.0, "interrupted": [4], "causes": {"4": "eaten_by_a_grue"}}
    )
    assert report.cause(4) is RecoveryCause.INTERRUPTED


def test_recovery_report_counts_each_list() -> None:
    assert _report().counts() == {"reattached": 2, "finished": 1, "interrupted": 3, "queued": 1}


def test_recovery_report_json_includes_the_counts() -> None:
    assert _report().to_json()["counts"] == _report().counts()


def test_recovery_report_describe_names_every_count_and_the_previous_session() -> None:
    text = _report().describe()
    assert "12.3 ms" in text
    assert "did not end cleanly" in text
    assert "2 reattached" in text
    assert "1 finished while away" in text
    assert "3 interrupted" in text
    assert "1 queued" in text


def test_recovery_report_describe_says_a_clean_previous_session_was_clean() -> None:
    text = RecoveryReport(started_at=0.0).describe()
    assert "ended cleanly" in text
    assert "not" not in text


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        pytest.param(RecoveryReport(started_at=0.0), False, id="clean-and-nothing-found"),
        pytest.param(
            RecoveryReport(started_at=0.0, reattached=[1], queued=[2]),
            False,
            id="only-reattached-and-queued",
        ),
        pytest.param(RecoveryReport(started_at=0.0, previous_clean=False), True, id="unclean"),
        pytest.param(RecoveryReport(started_at=0.0, finished=[1]), True, id="finished-away"),
        pytest.param(RecoveryReport(started_at=0.0, interrupted=[1]), True, id="interrupted"),
        pytest.param(
            RecoveryReport(started_at=0.0, worktrees={1: WorktreeRepair.REMOVED}),
            True,
            id="worktree-repaired",
        ),
    ],
)
def test_recovery_report_needs_attention_when_something_happened_while_away(
    report: RecoveryReport, expected: bool
) -> None:
    assert report.needs_attention is expected


def test_worktree_repairs_survive_a_json_round_trip_and_an_unknown_one_is_dropped() -> None:
    report = RecoveryReport(started_at=0.0, worktrees={3: WorktreeRepair.CREATED})
    data = json.loads(json.dumps(report.to_json()))
    assert data["worktrees"] == {"3": "created"}
    assert RecoveryReport.from_json(data).worktrees == {3: WorktreeRepair.CREATED}
    newer = data | {"worktrees": {"3": "created", "4": "moved"}}  # a newer Agentry's word
    assert RecoveryReport.from_json(newer).worktrees == {3: WorktreeRepair.CREATED}
