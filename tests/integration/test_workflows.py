"""Workflows end to end with shell steps: real runners and processes, an in-process
Supervisor with its WorkflowEngine, and the CLI handlers called in-process."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import ROOT, Home, run_async, tick
from helpers.wait import async_wait_until, wait_until

from app.cli import workflows as cli
from app.core.models import Run
from app.core.platform import current_user
from app.core.workflow_models import Checkpoint, Step, Workflow
from app.core.workflow_states import Resolution
from app.store import recovery_repo, repo
from app.store import workflow_repo as wrepo
from app.store.settings import load_settings
from app.supervisor import workflow_transitions as transitions
from app.supervisor.approvals import ApprovalWatcher
from app.supervisor.commands import CommandRefused
from app.supervisor.events import CheckpointRequested, Event, Notice, WorkflowChanged
from app.supervisor.supervisor import Supervisor
from app.supervisor.workflow_catalog import load_catalog
from app.supervisor.workflow_guard import TransitionFailed
from app.supervisor.workflows import WorkflowEngine

# plan (checkpoint) -> build (checkpoint) -> report; values reach sh as arguments.
THREE_STEPS = """\
description = "three shell steps, two checkpoints"

[[steps]]
name = "plan"
agent = "shell"
checkpoint = true
command = [
    "sh", "-c", "echo \\"plan for $1\\"; if [ -n \\"$2\\" ]; then echo \\"notes: $2\\"; fi",
    "plan", "{input}", "{notes}",
]

[[steps]]
name = "build"
agent = "shell"
checkpoint = true
command = ["sh", "-c", "echo \\"built from: $1\\"", "build", "{previous}"]

[[steps]]
name = "report"
agent = "shell"
command = ["sh", "-c", "echo \\"report: $1 / $2\\"", "report", "{steps.plan}", "{steps.build}"]
"""

TWO_STEPS = """\
[[steps]]
name = "plan"
agent = "shell"
checkpoint = true
command = ["sh", "-c", "echo \\"plan for $1\\"", "plan", "{input}"]

[[steps]]
name = "build"
agent = "shell"
command = ["sh", "-c", "echo \\"built from: $1\\"", "build", "{previous}"]
"""


def write_flow(home: Home, name: str, text: str) -> None:
    folder = home.path / "workflows"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.toml").write_text(text)


@contextlib.contextmanager
def opened(home: Home) -> Iterator[sqlite3.Connection]:
    with home.db() as conn:
        yield conn


def workflow(home: Home, workflow_id: int) -> Workflow:
    with opened(home) as conn:
        return wrepo.get_workflow(conn, workflow_id)


def pending(home: Home) -> list[Checkpoint]:
    with opened(home) as conn:
        return wrepo.pending_checkpoints(conn)


def steps(home: Home, workflow_id: int) -> list[Step]:
    with opened(home) as conn:
        return wrepo.steps_of(conn, workflow_id)


def ns(**values: Any) -> argparse.Namespace:
    return argparse.Namespace(**values)


class Harness:
    """A started Supervisor, its WorkflowEngine, and every event it published."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.sup = Supervisor(home.locations)
        self.engine = self.sup.workflows
        self.events: list[Event] = []
        self.sup.bus.subscribe(self.events.append)

    async def __aenter__(self) -> Harness:
        await self.sup.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sup.stop()

    async def checkpoint(self, step: str) -> Checkpoint:
        found = await async_wait_until(
            lambda: [c for c in pending(self.home) if c.step_name == step],
            message=f"a pending checkpoint of step {step}",
        )
        return found[0]

    async def state(self, workflow_id: int, *states: str) -> Workflow:
        return await async_wait_until(
            lambda: (w := workflow(self.home, workflow_id)).state.value in states and w
        )


# ---------------------------------------------------------------- checkpoints


def test_three_steps_run_through_an_approved_and_an_edited_checkpoint(
    home: Home, work_dir: Path
) -> None:
    write_flow(home, "three", THREE_STEPS)

    async def scenario() -> tuple[int, list[Event]]:
        async with Harness(home) as h:
            workflow_id = h.engine.start("three", "the bug", work_dir)
            first = await h.checkpoint("plan")
            assert workflow(home, workflow_id).state.value == "awaiting_checkpoint"
            assert first.result_text == "plan for the bug"
            h.engine.resolve(first.id, Resolution.APPROVE, who="ann")
            second = await h.checkpoint("build")
            assert second.result_text == "built from: plan for the bug"
            h.engine.resolve(second.id, Resolution.EDIT, edited_text="EDITED BUILD", who="bob")
            await h.state(workflow_id, "completed", "failed")
            return workflow_id, h.events

    workflow_id, events = run_async(scenario())
    done = workflow(home, workflow_id)
    assert done.state.value == "completed" and done.error is None
    plan, build, report = steps(home, workflow_id)
    assert [s.state.value for s in (plan, build, report)] == ["succeeded"] * 3
    assert (build.result_text, build.final_text) == ("built from: plan for the bug", "EDITED BUILD")
    assert report.argv[-2:] == ("plan for the bug", "EDITED BUILD")
    assert report.result_text == "report: plan for the bug / EDITED BUILD"
    with opened(home) as conn:
        approved, edited = wrepo.checkpoints_of(conn, workflow_id)
    assert (approved.state.value, approved.action, approved.resolved_by) == (
        "approved",
        "approve",
        "ann",
    )
    assert (edited.state.value, edited.resolved_by, edited.edited_text) == (
        "edited",
        "bob",
        "EDITED BUILD",
    )
    assert edited.result_text == "built from: plan for the bug"  # the original is kept
    assert approved.resolved_at and edited.resolved_at
    assert CheckpointRequested(approved.id, workflow_id) in events
    assert WorkflowChanged(workflow_id) in events


def test_a_rejection_reruns_the_step_with_the_notes_then_another_ends_the_workflow(
    home: Home, work_dir: Path
) -> None:
    """Resolved through the CLI handlers (their own connection), as another process would."""
    write_flow(home, "three", THREE_STEPS)

    async def scenario() -> int:
        async with Harness(home) as h:
            workflow_id = h.engine.start("three", "the bug", work_dir)
            first = await h.checkpoint("plan")
            cli.cmd_checkpoint_reject(ns(id=first.id, notes="add tests", rerun=True))
            again = await async_wait_until(
                lambda: [c for c in pending(home) if c.step_name == "plan" and c.id != first.id]
            )
            assert again[0].result_text == "plan for the bug\nnotes: add tests"
            cli.cmd_checkpoint_approve(ns(id=again[0].id))
            build = await h.checkpoint("build")
            assert build.result_text == "built from: plan for the bug\nnotes: add tests"
            cli.cmd_checkpoint_reject(ns(id=build.id, notes="wrong approach", rerun=False))
            await h.state(workflow_id, "rejected")
            return workflow_id

    workflow_id = run_async(scenario())
    ended = workflow(home, workflow_id)
    assert ended.message == f"rejected at step 'build' by {current_user()}: wrong approach"
    attempts = steps(home, workflow_id)
    assert [(s.name, s.attempt, s.state.value) for s in attempts] == [
        ("plan", 1, "succeeded"), ("plan", 2, "succeeded"), ("build", 1, "succeeded"),
    ]  # fmt: skip
    rerun = attempts[1]
    assert rerun.notes == "add tests" and rerun.argv[-1] == "add tests"
    assert "add tests" in (rerun.prompt or "") and "plan for the bug" in (rerun.prompt or "")
    with opened(home) as conn:
        rejected, approved, rejected_build = wrepo.checkpoints_of(conn, workflow_id)
        assert len(repo.list_tasks(conn)) == 3  # the report step never ran
    assert (rejected.action, rejected.notes, rejected.rerun) == ("reject", "add tests", True)
    assert (rejected_build.notes, rejected_build.rerun) == ("wrong approach", False)
    assert approved.state.value == "approved"


def test_a_resolved_checkpoint_cannot_be_resolved_again(home: Home, work_dir: Path) -> None:
    write_flow(home, "two", TWO_STEPS)

    async def scenario() -> None:
        async with Harness(home) as h:
            workflow_id = h.engine.start("two", "x", work_dir)
            checkpoint = await h.checkpoint("plan")
            with pytest.raises(CommandRefused, match="edited text is empty"):
                h.engine.resolve(checkpoint.id, Resolution.EDIT, edited_text="  ")
            h.engine.resolve(checkpoint.id, Resolution.APPROVE)
            with pytest.raises(CommandRefused, match="already approved"):
                cli.cmd_checkpoint_reject(ns(id=checkpoint.id, notes=None, rerun=False))
            await h.state(workflow_id, "completed")

    run_async(scenario())


def test_a_failing_step_fails_the_workflow_and_says_which_step(home: Home, work_dir: Path) -> None:
    write_flow(
        home, "bad", '[[steps]]\nname = "oops"\nagent = "shell"\ncommand = ["sh", "-c", "exit 3"]\n'
    )

    async def scenario() -> Workflow:
        async with Harness(home) as h:
            workflow_id = h.engine.start("bad", "", work_dir)
            return await h.state(workflow_id, "failed", "completed")

    ended = run_async(scenario())
    assert ended.state.value == "failed"
    assert ended.message == "step 'oops' ended failed (exit code 3)"


def test_a_step_that_failed_runs_again_on_retry_with_the_same_prompt_and_goes_on(
    home: Home, work_dir: Path
) -> None:
    """A failed step used to end its workflow for good, with the approved plan stranded."""
    write_flow(
        home,
        "flaky",
        '[[steps]]\nname = "a"\nagent = "shell"\ncommand = ["echo", "from a"]\n'
        '[[steps]]\nname = "b"\nagent = "shell"\n'
        'command = ["sh", "-c", "test -e ready && echo got {previous}"]\n',
    )

    async def scenario() -> tuple[Workflow, Workflow]:
        async with Harness(home) as h:
            workflow_id = h.engine.start("flaky", "", work_dir)
            failed = await h.state(workflow_id, "failed", "completed")
            (work_dir / "ready").write_text("")  # the person fixes the cause
            h.engine.retry_transition(workflow_id)
            return failed, await h.state(workflow_id, "completed", "failed")

    failed, done = run_async(scenario())
    assert failed.state.value == "failed" and "step 'b'" in (failed.message or "")
    assert done.state.value == "completed"
    attempts = [(st.name, st.attempt, st.state.value) for st in steps(home, done.id)]
    assert attempts == [("a", 1, "succeeded"), ("b", 1, "failed"), ("b", 2, "succeeded")]
    assert steps(home, done.id)[-1].result_text == "got from a"


def test_retry_refuses_a_workflow_with_nothing_to_retry(home: Home, work_dir: Path) -> None:
    from app.supervisor.commands import CommandRefused

    write_flow(home, "ok", '[[steps]]\nname = "a"\nagent = "shell"\ncommand = ["true"]\n')

    async def scenario() -> None:
        async with Harness(home) as h:
            workflow_id = h.engine.start("ok", "", work_dir)
            await h.state(workflow_id, "completed")
            with pytest.raises(CommandRefused, match="nothing to retry"):
                h.engine.retry_transition(workflow_id)

    run_async(scenario())


def test_a_workflow_input_that_is_not_utf8_is_refused(home: Home, work_dir: Path) -> None:
    result = home.cli("workflow", "run", "shell-demo", "--cwd", str(work_dir),
                      "--input", "caf\udce9")  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the workflow input has characters that are not valid UTF-8" in result.stderr


def test_cancelling_a_workflow_stops_its_running_step(home: Home, work_dir: Path) -> None:
    write_flow(
        home, "slow", '[[steps]]\nname = "wait"\nagent = "shell"\ncommand = ["sleep", "30"]\n'
    )

    async def scenario() -> int:
        async with Harness(home) as h:
            workflow_id = h.engine.start("slow", "", work_dir)
            task_id = steps(home, workflow_id)[0].task_id
            await async_wait_until(lambda: home.run(task_id).state.value == "running")
            h.engine.cancel(workflow_id)
            await async_wait_until(lambda: steps(home, workflow_id)[0].state.value == "cancelled")
            return task_id

    task_id = run_async(scenario())
    assert home.run(task_id).state.value == "cancelled"
    assert workflow(home, 1).state.value == "cancelled"


def test_a_supervisor_comes_with_its_extensions_so_no_host_can_forget_them(
    home: Home,
) -> None:
    sup = Supervisor(home.locations)
    assert isinstance(sup.workflows, WorkflowEngine)
    assert isinstance(sup.approvals, ApprovalWatcher)


# ---------------------------------------------------------------- crash survival

SERVE_WITH_ENGINE = """
import asyncio
from app.store.locations import locations_from_env
from app.supervisor.supervisor import Supervisor

async def main():
    sup = Supervisor(locations_from_env())  # its workflow engine comes with it
    await sup.start()
    print("Supervising", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def serve_with_engine(home: Home) -> subprocess.Popen[str]:
    """`agentry serve` as it will be once the engine is wired in: a real process to kill."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE_WITH_ENGINE], env=home.env, cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    home._procs.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("Supervising"), line + (proc.stderr.read() if proc.stderr else "")
    return proc


def test_a_killed_supervisor_resumes_at_exactly_the_pending_checkpoint(
    home: Home, work_dir: Path
) -> None:
    write_flow(home, "two", TWO_STEPS)
    first = serve_with_engine(home)
    cli.cmd_workflow_run(ns(name="two", input="the bug", input_file=None, cwd=work_dir))
    checkpoint = wait_until(lambda: pending(home), message="a pending checkpoint")[0]
    with opened(home) as conn:
        runs_before = conn.execute("SELECT id, state FROM runs ORDER BY id").fetchall()

    first.send_signal(signal.SIGKILL)
    first.wait()

    async def restarted() -> None:
        async with Harness(home) as h:  # recovery and the engine's start-up have run
            tick(h.sup)  # rounds in which anything could (wrongly) start again
            with opened(home) as conn:
                assert len(recovery_repo.recovery_reports(conn)) == 2
                runs_now = conn.execute("SELECT id, state FROM runs ORDER BY id").fetchall()
            assert runs_now == runs_before
            assert [c.id for c in pending(home)] == [checkpoint.id]
            assert workflow(home, 1).state.value == "awaiting_checkpoint"

            cli.cmd_checkpoint_approve(ns(id=checkpoint.id))
            await h.state(1, "completed")

    run_async(restarted())
    with opened(home) as conn:
        runs_after = conn.execute("SELECT id, state FROM runs ORDER BY id").fetchall()
    assert runs_after[:1] == runs_before and len(runs_after) == 2  # plan ran once, build once
    assert steps(home, 1)[1].result_text == "built from: plan for the bug"


def test_a_step_that_ended_while_no_engine_ran_is_finished_at_start_up(
    home: Home, work_dir: Path
) -> None:
    write_flow(home, "two", TWO_STEPS)
    workflow_id = _step_ended_without_transition(home, work_dir)
    assert workflow(home, workflow_id).state.value == "running"

    async def scenario() -> Checkpoint:
        async with Harness(home) as h:
            return await h.checkpoint("plan")

    assert run_async(scenario()).result_text == "plan for the bug"


def _step_ended_without_transition(home: Home, work_dir: Path) -> int:
    """Start a workflow and let its first step run under a supervisor with no engine:
    the state a crash between the run's commit and the transition's leaves behind."""
    with opened(home) as conn:
        definition = load_catalog(home.locations).get("two")
        workflow_id, _ = transitions.start_workflow(
            conn, load_settings(home.locations.settings), definition, "the bug", str(work_dir)
        )

    async def run_first_step() -> None:
        sup = Supervisor(home.locations)
        sup.workflows = _EngineThatNeverRuns()  # type: ignore[assignment]
        await sup.start()
        try:
            await async_wait_until(lambda: home.run(1).state.is_terminal)
        finally:
            await sup.stop()

    run_async(run_first_step())
    return workflow_id


class _EngineThatNeverRuns:
    """In place of the supervisor's engine: as if Agentry died before every transition."""

    def on_started(self) -> None:
        pass

    def on_run_ended(self, run: Run) -> None:
        pass

    def on_tick(self) -> None:
        pass


# ---------------------------------------------------------------- fault injection

ERROR_COLUMNS = ("error", "error_at", "retry_json")


def dump(home: Home, *, mask_errors: bool = False) -> dict[str, list[dict[str, Any]]]:
    with opened(home) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        data = {t: [dict(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY rowid")]
                for t in sorted(tables)}  # fmt: skip
    if mask_errors:
        for row in data["workflows"]:
            row.update(dict.fromkeys(ERROR_COLUMNS))
    return data


def explode(*args: Any, **kwargs: Any) -> Any:
    raise OSError(28, "No space left on device (injected)")


# The injected fault (a full disk) is logged with its traceback as the transition rolls back.
@pytest.mark.expect_error_log(r"^transition of workflow \d+ failed")
def test_a_fault_inside_a_step_transition_leaves_the_database_as_it_was(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_flow(home, "two", TWO_STEPS)
    workflow_id = _step_ended_without_transition(home, work_dir)
    settings = load_settings(home.locations.settings)
    before = dump(home)
    # Fails after the step's result and the checkpoint were written in the transaction:
    with opened(home) as conn, monkeypatch.context() as patch:
        patch.setattr(wrepo, "set_workflow_state", explode)
        step_id = transitions.steps_to_finish(conn)[0]
        with pytest.raises(TransitionFailed, match="No space left"):
            transitions.finish_step(conn, home.locations, settings, step_id)
        assert transitions.steps_to_finish(conn) == []  # no retry loop: a person decides
    assert dump(home, mask_errors=True) == before
    failed = workflow(home, workflow_id)
    assert failed.error and "No space left" in failed.error
    assert failed.retry == {"kind": "finish_step", "step_id": step_id}

    assert cli.cmd_workflow_retry(ns(id=workflow_id)) == 0
    retried = workflow(home, workflow_id)
    assert (retried.state.value, retried.error, retried.retry) == (
        "awaiting_checkpoint",
        None,
        None,
    )
    assert [c.result_text for c in pending(home)] == ["plan for the bug"]


# The injected fault (a full disk) is logged with its traceback as the transition rolls back.
@pytest.mark.expect_error_log(r"^transition of workflow \d+ failed")
def test_a_fault_inside_a_checkpoint_resolution_leaves_the_database_as_it_was(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_flow(home, "two", TWO_STEPS)
    workflow_id = _step_ended_without_transition(home, work_dir)
    with opened(home) as conn:
        transitions.finish_step(conn, home.locations, load_settings(home.locations.settings), 1)
    checkpoint = pending(home)[0]
    before = dump(home)
    with monkeypatch.context() as patch, pytest.raises(TransitionFailed) as caught:
        patch.setattr(repo, "create_task", explode)  # the next step's task, last of all
        cli.cmd_checkpoint_edit(ns(id=checkpoint.id, text="better plan", file=None))
    assert f"agentry workflow retry {workflow_id}" in str(caught.value)
    assert dump(home, mask_errors=True) == before
    assert [c.id for c in pending(home)] == [checkpoint.id]

    cli.cmd_workflow_retry(ns(id=workflow_id))
    assert "queued task 2" in capsys.readouterr().out
    resolved = workflow(home, workflow_id)
    assert (resolved.state.value, resolved.error) == ("running", None)
    with opened(home) as conn:
        edited = wrepo.get_checkpoint(conn, checkpoint.id)
    assert (edited.state.value, edited.edited_text, edited.result_text) == (
        "edited", "better plan", "plan for the bug",
    )  # fmt: skip
    assert steps(home, workflow_id)[1].argv[-1] == "better plan"


# The injected fault (a full disk) is logged with its traceback, and supervision goes on.
@pytest.mark.expect_error_log(r"^transition of workflow \d+ failed \(finish_step\)")
def test_a_fault_in_the_engine_is_reported_and_supervision_goes_on(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_flow(home, "two", TWO_STEPS)

    async def scenario() -> tuple[int, list[Event]]:
        async with Harness(home) as h:
            with monkeypatch.context() as patch:
                patch.setattr(wrepo, "create_checkpoint", explode)
                workflow_id = h.engine.start("two", "x", work_dir)
                await async_wait_until(lambda: workflow(home, workflow_id).error)
            h.engine.retry_transition(workflow_id)
            await h.checkpoint("plan")
            return workflow_id, h.events

    workflow_id, events = run_async(scenario())
    notices = [e.text for e in events if isinstance(e, Notice) and e.level == "error"]
    assert any(f"workflow {workflow_id}: the transition failed" in n for n in notices)
    assert workflow(home, workflow_id).state.value == "awaiting_checkpoint"


# ---------------------------------------------------------------- CLI handlers


def test_workflow_list_shows_builtins_runs_and_skips_a_bad_file_with_its_line(
    home: Home, work_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_flow(home, "two", TWO_STEPS)
    write_flow(home, "broken", '[[steps]]\nname = "a"\nagent = "nobody"\nprompt = "x"\n')
    cli.cmd_workflow_run(ns(name="two", input="x", input_file=None, cwd=work_dir))
    capsys.readouterr()
    assert cli.cmd_workflow_list(ns(json=True)) == 0
    import json

    listing = json.loads(capsys.readouterr().out)
    names = {d["name"]: d["builtin"] for d in listing["definitions"]}
    assert names["two"] is False and names["shell-demo"] is True
    assert "plan-implement-review" in names and "broken" not in names
    [problem] = listing["problems"]
    assert problem.endswith(
        "broken.toml:3: unknown agent 'nobody'; choose one of: " + problem.split("of: ")[1]
    )
    assert [w["state"] for w in listing["workflows"]] == ["running"]
    with pytest.raises(CommandRefused, match=r"broken\.toml:3"):
        cli.cmd_workflow_run(ns(name="broken", input="x", input_file=None, cwd=work_dir))
    with pytest.raises(CommandRefused, match="no workflow 'nope'"):
        cli.cmd_workflow_run(ns(name="nope", input="x", input_file=None, cwd=work_dir))


def test_workflow_show_and_checkpoints_print_the_result_waiting_for_a_person(
    home: Home, work_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_flow(home, "two", TWO_STEPS)
    _step_ended_without_transition(home, work_dir)
    with opened(home) as conn:
        transitions.finish_step(conn, home.locations, load_settings(home.locations.settings), 1)
    capsys.readouterr()
    cli.cmd_checkpoints(ns(json=False))
    out = capsys.readouterr().out
    assert "Checkpoint 1: workflow 1 (two), after step 'plan'" in out
    assert "  | plan for the bug" in out
    cli.cmd_workflow_show(ns(id=1, json=False))
    out = capsys.readouterr().out
    assert "awaiting_checkpoint" in out and "checkpoint 1: pending" in out
    assert cli.cmd_workflow_cancel(ns(id=1)) == 0
    with pytest.raises(CommandRefused, match="already ended"):
        cli.cmd_workflow_cancel(ns(id=1))
    assert workflow(home, 1).state.value == "cancelled"
    assert pending(home) == []


def test_the_workflow_commands_parse_as_documented() -> None:
    parser = argparse.ArgumentParser()
    cli.add_commands(parser.add_subparsers())
    args = parser.parse_args(["workflow", "run", "shell-demo", "--input", "hi", "--cwd", "/tmp"])
    assert (args.handler, args.name, args.input, args.cwd) == (
        cli.cmd_workflow_run, "shell-demo", "hi", Path("/tmp"),
    )  # fmt: skip
    args = parser.parse_args(["checkpoint", "reject", "4", "--notes", "no", "--rerun"])
    assert (args.handler, args.id, args.notes, args.rerun) == (
        cli.cmd_checkpoint_reject,
        4,
        "no",
        True,
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["checkpoint", "edit", "4"])  # --text or --file is required
    assert parser.parse_args(["checkpoints", "--json"]).handler is cli.cmd_checkpoints


# ---------------------------------------------------------------- step results


def _claude_line(kind: str, **data: Any) -> str:
    import json

    return json.dumps({"type": kind, **data})


def test_a_structured_step_hands_on_its_final_answer_a_plain_one_its_output_tail(
    tmp_path: Path,
) -> None:
    from app.supervisor.adapters import get_adapter
    from app.supervisor.step_results import step_result

    def say(text: str) -> str:
        return _claude_line("assistant", message={"content": [{"type": "text", "text": text}]})

    tool = _claude_line(
        "assistant", message={"content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                                           "input": {"command": "ls"}}]}
    )  # fmt: skip
    log = tmp_path / "output.log"
    log.write_text("\n".join([say("Let me look."), tool, say("The plan:"), say("1. fix")]) + "\n")
    assert step_result(log, get_adapter("claude")) == "The plan:\n1. fix"
    log.write_text(say("draft") + "\n" + _claude_line("result", result="Final answer") + "\n")
    assert step_result(log, get_adapter("claude")) == "Final answer"

    log.write_text("x" * 10_000 + "\n\x1b[32mgreen\x1b[0m tail\n")
    assert step_result(log, get_adapter("shell")) == "x" * 10_000 + "\ngreen tail"
    # Longer than what is read: the result says that its beginning was left out, and where
    # all of it is, so a reviewer never approves a fragment thinking it is the whole.
    log.write_text("".join(f"line {i}\n" for i in range(20_000)))
    cut = step_result(log, get_adapter("shell"))
    assert cut.startswith("[… the first part of this output was left out; all of it is in ")
    assert str(log) in cut.splitlines()[0] and cut.endswith("line 19999")
    assert step_result(tmp_path / "missing.log", None) == ""
