"""What happens while no supervisor runs, and how the next start reconciles it."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from helpers.agentry import Home, alive, kill_group, run_async
from helpers.wait import async_wait_until, wait_until

from app.core.models import RecoveryCause
from app.runner import protocol
from app.store import recovery_repo, repo
from app.supervisor.recovery import RecoveryFailed
from app.supervisor.supervisor import Supervisor


async def _start_then_leave(home: Home, *task_ids: int) -> None:
    """A supervisor that launches the queued tasks and stops cleanly, leaving them running."""
    sup = Supervisor(home.locations)
    await sup.start()
    try:
        for task_id in task_ids:
            await async_wait_until(
                lambda t=task_id: home.run(t).state.value == "running",  # type: ignore[misc]
                message=f"task {task_id} running",
            )
    finally:
        await sup.stop()


async def _recover(home: Home):
    sup = Supervisor(home.locations)
    report = await sup.start()
    await sup.stop()
    return report


def test_tasks_that_end_while_away_are_recovered_with_their_real_exit_codes(
    home: Home, work_dir: Path
) -> None:
    ok = home.submit(["sh", "-c", "sleep 0.5; echo done"], work_dir)
    bad = home.submit(["sh", "-c", "sleep 0.5; exit 7"], work_dir)
    run_async(_start_then_leave(home, ok, bad))
    for task_id in (ok, bad):
        exit_file = home.run_dir(task_id) / protocol.EXIT
        wait_until(exit_file.exists, message="exit.json")
        assert home.run(task_id).state.value == "running"  # nobody has ingested it yet

    report = run_async(_recover(home))

    assert sorted(report.finished) == sorted([ok, bad])
    assert report.previous_clean
    assert (home.run(ok).state.value, home.run(ok).exit_code) == ("succeeded", 0)
    assert (home.run(bad).state.value, home.run(bad).exit_code) == ("failed", 7)
    assert "exit code 7" in report.notes[bad]
    assert report.causes == {ok: RecoveryCause.FINISHED_AWAY, bad: RecoveryCause.FINISHED_AWAY}
    assert report.exit_codes == {ok: 0, bad: 7}


def test_a_killed_runner_and_agent_make_the_run_interrupted_and_retry_runs_it_again(
    home: Home, work_dir: Path
) -> None:
    task_id = home.submit(["sh", "-c", "echo attempt; sleep 60"], work_dir)
    run_async(_start_then_leave(home, task_id))
    info = home.runner_info(task_id)
    os.kill(info.runner_pid, signal.SIGKILL)
    kill_group(info.agent_pid)
    wait_until(lambda: not alive(info.runner_pid) and not alive(info.agent_pid), message="deaths")

    report = run_async(_recover(home))

    assert report.interrupted == [task_id]
    run = home.run(task_id)
    assert run.state.value == "interrupted"
    assert f"runner (pid {info.runner_pid}) is gone" in (run.message or "")
    assert report.cause(task_id) is RecoveryCause.RUNNER_DIED
    retried = home.cli("retry", str(task_id))
    assert retried.returncode == 0, retried.stderr
    home.write_settings(default_timeout_s=2.0)
    sup_result = home.cli("run", "--wait", "--", "true")  # hosts a supervisor that starts both
    assert sup_result.returncode == 0
    runs = home.runs(task_id)
    assert [r.attempt for r in runs] == [1, 2]
    # Launched side by side with `true`, whose end stops that supervisor at once: it may
    # not have seen the new runner's runner.json yet, but the runner writes it.
    assert runs[1].state.value in ("starting", "running", "timed_out", "succeeded")
    wait_until(
        lambda: protocol.read_runner_info(home.locations.run_dir(runs[1].dir)),
        message="the second attempt's runner.json",
    )


def test_an_orphaned_agent_whose_runner_died_is_stopped_and_interrupted(
    home: Home, work_dir: Path
) -> None:
    task_id = home.submit(["sleep", "60"], work_dir)
    run_async(_start_then_leave(home, task_id))
    info = home.runner_info(task_id)
    os.kill(info.runner_pid, signal.SIGKILL)
    wait_until(lambda: not alive(info.runner_pid), message="runner gone")

    report = run_async(_recover(home))

    assert report.interrupted == [task_id]
    assert "left behind" in report.notes[task_id]
    assert report.cause(task_id) is RecoveryCause.AGENT_ORPHANED
    wait_until(lambda: not alive(info.agent_pid), message="orphan stopped")


def test_the_timeout_is_enforced_while_no_supervisor_runs_and_kills_the_agents_children(
    home: Home, work_dir: Path
) -> None:
    task_id = home.submit(
        ["sh", "-c", "sleep 60 & echo $! > child.pid; wait"], work_dir, timeout=1.0
    )
    run_async(_start_then_leave(home, task_id))
    wait_until(lambda: (work_dir / "child.pid").exists(), message="child started")
    child = int((work_dir / "child.pid").read_text())
    exit_file = wait_until(lambda: protocol.read_exit(home.run_dir(task_id)), message="exit.json")

    assert exit_file.reason.value == "timeout"
    wait_until(lambda: not alive(child), timeout=5, message="the agent's child to be gone")
    run_async(_recover(home))
    assert home.run(task_id).state.value == "timed_out"
    assert "timed out after 1 s" in home.output(task_id)


def test_an_agent_past_its_limit_whose_runner_died_is_stopped_by_the_next_command(
    home: Home, work_dir: Path
) -> None:
    """The runner was killed while no supervisor ran: nobody enforced the limit. Any
    `agentry` command that notices now stops the agent, once its deadline has passed."""
    late = home.submit(["sleep", "60"], work_dir, timeout=2.0)
    within = home.submit(["sleep", "60"], work_dir, timeout=600.0)
    run_async(_start_then_leave(home, late, within))
    agents = {}
    for task_id in (late, within):
        info = home.runner_info(task_id)
        os.kill(info.runner_pid, signal.SIGKILL)  # the runner alone: its agent runs on
        agents[task_id] = info.agent_pid
        wait_until(lambda p=info.runner_pid: not alive(p), message="the runner gone")  # type: ignore[misc]
    assert alive(agents[late])
    early = home.cli("list", check=True)  # before the deadline: nothing is stopped
    assert "past its time limit" not in early.stderr and alive(agents[late])

    wait_until(lambda: time.time() > home.runner_info(late).deadline + 0.2,  # type: ignore[operator]
               timeout=10, message="the deadline to pass")  # fmt: skip
    listed = home.cli("list", check=True)

    assert f"task {late} was past its time limit" in listed.stderr
    wait_until(lambda: not alive(agents[late]), timeout=10, message="the late agent stopped")
    assert alive(agents[within]), "an agent within its limit is never touched"
    run = home.run(late)
    assert (run.state.value, run.reason.value if run.reason else None) == ("timed_out", "timeout")
    assert "its runner was gone" in home.output(late)
    os.kill(agents[within], signal.SIGKILL)


def test_a_supervisor_killed_mid_session_is_reported_as_not_clean(home: Home) -> None:
    with home.db() as conn:
        recovery_repo.set_meta(conn, "session", "running")
    report = run_async(_recover(home))
    assert not report.previous_clean
    assert report.needs_attention


@pytest.mark.parametrize("name", [protocol.SPEC, protocol.RUNNER, protocol.EXIT])
def test_a_corrupt_run_file_interrupts_only_that_run_and_is_kept(
    home: Home, work_dir: Path, name: str
) -> None:
    victim = home.submit(["sleep", "2"], work_dir)
    bystander = home.submit(["sleep", "2"], work_dir)
    run_async(_start_then_leave(home, victim, bystander))
    path = home.run_dir(victim) / name
    if name == protocol.EXIT:
        wait_until(lambda: path.exists(), message="exit.json")
        wait_until(lambda: protocol.read_exit(home.run_dir(bystander)), message="bystander exit")
    garbage = b'{"truncated": tr'
    path.write_bytes(garbage)

    report = run_async(_recover(home))

    run = home.run(victim)
    assert run.state.value == "interrupted"
    assert str(path) in (run.message or "")
    assert path.read_bytes() == garbage, "the corrupt file is kept for inspection"
    assert victim in report.interrupted
    assert report.cause(victim) in (
        RecoveryCause.CORRUPT_FILE,
        RecoveryCause.CORRUPT_FILE_STOPPED,
    )
    assert bystander in report.reattached + report.finished
    wait_until(lambda: protocol.read_exit(home.run_dir(bystander)), message="bystander exit")
    run_async(_recover(home))
    assert home.run(bystander).state.value == "succeeded"


def test_recovery_that_fails_stops_start_up_with_a_clear_error_and_releases_the_folder(
    home: Home, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.submit(["true"], work_dir)
    with home.db() as conn:
        conn.execute("UPDATE runs SET state = 'running', runner_pid = 1")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("app.supervisor.recovery.reconcile", broken)
    with pytest.raises(RecoveryFailed, match=r"No space left on device.*Nothing was started"):
        run_async(Supervisor(home.locations).start())
    assert home.run(1).state.value == "running"  # the failed transaction left no trace
    monkeypatch.undo()
    report = run_async(_recover(home))  # the lock was released: a new start works
    assert report.interrupted == [1]


def test_the_recovery_report_is_stored_and_listed_by_the_cli(home: Home) -> None:
    run_async(_recover(home))
    listing = json.loads(home.cli("recovery", "--json", check=True).stdout)
    assert listing[0]["counts"] == {"reattached": 0, "finished": 0, "interrupted": 0, "queued": 0}
    assert listing[0]["duration_ms"] >= 0


def test_a_runner_started_just_before_agentry_died_is_found_not_launched_twice(
    home: Home, work_dir: Path
) -> None:
    """Agentry stopped after starting the runner but before noting its pid, and the runner
    had not written runner.json yet: recovery must find it, not call the run interrupted
    (which invites a second launch of the same run)."""
    import subprocess
    import sys

    from app.core.states import RunState
    from app.store.db import transaction
    from app.supervisor import launcher

    task_id = home.submit(["true"], work_dir)
    with home.db() as conn, transaction(conn):
        repo.transition(conn, home.run(task_id).id, RunState.STARTING)
    run_dir = home.run_dir(task_id)
    launcher.prepare(run_dir, home.task(task_id), home.run(task_id), 1.0)
    # a stand-in runner, still starting: its command line is a runner's for this folder
    stand_in = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "app.runner", str(run_dir)]
    )
    try:
        report = run_async(_recover(home))
        assert home.run(task_id).state is RunState.STARTING, report.notes
        assert home.run(task_id).runner_pid == stand_in.pid
    finally:
        stand_in.kill()
        stand_in.wait()
    # It died before opening output.log, so the agent provably never ran: queued again.
    report = run_async(_recover(home))
    assert report.causes[task_id] is RecoveryCause.REQUEUED
    assert task_id in report.queued and task_id not in report.interrupted
    assert home.run(task_id).state is not RunState.INTERRUPTED


def test_a_run_whose_runner_never_started_is_requeued_and_runs_exactly_once(
    home: Home, work_dir: Path
) -> None:
    """The audit's SIGKILL while launching: spec.json written, the run `starting`, no
    runner ever started. Recovery queues it again (audited) instead of leaving it
    interrupted; one whose runner got as far as output.log is not run again."""
    from app.core.states import RunState
    from app.store.db import transaction
    from app.supervisor import launcher

    marks = work_dir / "marks"
    never = home.submit(["sh", "-c", f"echo ran >> {marks}"], work_dir)
    halfway = home.submit(["sh", "-c", f"echo halfway >> {marks}"], work_dir)
    for task_id in (never, halfway):
        with home.db() as conn, transaction(conn):
            repo.transition(conn, home.run(task_id).id, RunState.STARTING)
        launcher.prepare(home.run_dir(task_id), home.task(task_id), home.run(task_id), 1.0)
    protocol.output_log(home.run_dir(halfway)).write_bytes(b"")  # the runner got this far

    report = run_async(_recover(home))

    assert report.causes[never] is RecoveryCause.REQUEUED
    assert report.causes[halfway] is RecoveryCause.NEVER_STARTED
    assert home.run(halfway).state is RunState.INTERRUPTED
    with home.db() as conn:
        events = [e["new_state"] for e in conn.execute(
            "SELECT new_state FROM events WHERE run_id = ? ORDER BY id", (home.run(never).id,)
        )]  # fmt: skip
    assert events[:3] == ["queued", "starting", "queued"]  # the requeue is in the audit trail
    server = home.serve()  # runs the queue, and stays until the requeued run has ended
    home.wait_state(never, "succeeded", timeout=30)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    assert marks.read_text() == "ran\n"  # once, and the half-started one not at all
    assert len(home.runs(never)) == 1
