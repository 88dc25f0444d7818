"""Tests for the runner process (app.runner.main), run for real on hand-written run folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from helpers.agentry import alive, py
from helpers.run_folder import RUNNER_TIMEOUT_S, RunFolder, make_folder
from helpers.wait import wait_until

from app.core.states import ExitReason
from app.runner import procs, protocol
from app.runner.protocol import ExitInfo

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell agents")


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[RunFolder]:
    run_folder = make_folder(tmp_path)
    yield run_folder
    run_folder.stop_all()


# --- normal exits ----------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 3])
def test_agent_exit_code_lands_in_exit_json_with_reason_exit(folder: RunFolder, code: int) -> None:
    folder.write_spec(py(f"import sys; sys.exit({code})"))
    assert folder.run() == 0
    info = folder.exit_info()
    assert (info.reason, info.returncode) == (ExitReason.EXIT, code)


def test_agent_killed_by_a_signal_has_a_negative_returncode(folder: RunFolder) -> None:
    folder.write_spec(py("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    folder.run()
    info = folder.exit_info()
    assert (info.reason, info.returncode) == (ExitReason.EXIT, -signal.SIGKILL)


def test_stdout_and_stderr_both_land_in_output_log_in_order(folder: RunFolder) -> None:
    folder.write_spec(
        py(
            "import sys\n"
            "print('out 1', flush=True)\n"
            "print('err 1', file=sys.stderr, flush=True)\n"
            "print('out 2', flush=True)\n"
            "print('err 2', file=sys.stderr, flush=True)\n"
        )
    )
    folder.run()
    assert folder.output() == "out 1\nerr 1\nout 2\nerr 2\n"


def test_prompt_file_is_the_agent_stdin(folder: RunFolder) -> None:
    prompt = "fix the tests ✓\nsecond line\n".encode()
    (folder.path / protocol.PROMPT).write_bytes(prompt)
    folder.write_spec(
        py("import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"),
        stdin=protocol.PROMPT,
    )
    folder.run()
    assert (folder.path / protocol.OUTPUT).read_bytes() == prompt


def test_without_a_prompt_the_agent_stdin_is_empty(folder: RunFolder) -> None:
    folder.write_spec(py("import sys; print(repr(sys.stdin.read()))"))
    folder.run()
    assert folder.output() == "''\n"


def test_spec_env_additions_reach_the_agent(folder: RunFolder) -> None:
    folder.write_spec(
        py("import os; print(os.environ['AGENTRY_TEST_VALUE'])"),
        env={"AGENTRY_TEST_VALUE": "forty two"},
    )
    folder.run()
    assert folder.output() == "forty two\n"


def test_agent_runs_in_the_spec_cwd(folder: RunFolder) -> None:
    folder.write_spec(py("import os; print(os.getcwd())"))
    folder.run()
    assert Path(folder.output().strip()).resolve() == folder.cwd.resolve()


def test_runner_appends_to_an_existing_output_log(folder: RunFolder) -> None:
    (folder.path / protocol.OUTPUT).write_text("earlier attempt\n")
    folder.write_spec(py("print('this attempt')"))
    folder.run()
    assert folder.output() == "earlier attempt\nthis attempt\n"


# --- spawn errors ----------------------------------------------------------------------


def test_missing_executable_is_a_spawn_error(folder: RunFolder, tmp_path: Path) -> None:
    folder.write_spec([str(tmp_path / "no-such-agent-xyz"), "--help"])
    assert folder.run() == 0
    info = folder.exit_info()
    assert (info.reason, info.returncode) == (ExitReason.SPAWN_ERROR, None)
    assert "no-such-agent-xyz" in info.message


def test_missing_executable_message_is_also_in_output_log(folder: RunFolder) -> None:
    folder.write_spec(["no-such-agent-xyz"])
    folder.run()
    assert "no-such-agent-xyz" in folder.output()
    assert folder.exit_info().message in folder.output()


def test_missing_cwd_is_a_spawn_error_naming_the_folder(folder: RunFolder, tmp_path: Path) -> None:
    gone = tmp_path / "deleted-project"
    folder.write_spec(py("print('never')"), cwd=str(gone))
    folder.run()
    info = folder.exit_info()
    assert info.reason is ExitReason.SPAWN_ERROR
    assert str(gone) in info.message
    assert "never" not in folder.output()


def test_corrupt_spec_is_a_spawn_error_naming_spec_json(folder: RunFolder) -> None:
    (folder.path / protocol.SPEC).write_text('{"argv": ["echo"')
    assert folder.run() == 0
    info = folder.exit_info()
    assert info.reason is ExitReason.SPAWN_ERROR
    assert protocol.SPEC in info.message


def test_missing_spec_is_a_spawn_error(folder: RunFolder) -> None:
    folder.run()
    info = folder.exit_info()
    assert info.reason is ExitReason.SPAWN_ERROR
    assert protocol.SPEC in info.message


def test_missing_prompt_file_is_a_spawn_error_naming_the_prompt_file(folder: RunFolder) -> None:
    folder.write_spec(py("pass"), stdin=protocol.PROMPT)
    folder.run()
    info = folder.exit_info()
    assert info.reason is ExitReason.SPAWN_ERROR
    assert protocol.PROMPT in info.message


def test_spec_env_with_a_non_string_value_still_ends_with_exit_json(folder: RunFolder) -> None:
    spec = {"run_id": 1, "task_id": 1, "argv": py("pass"), "cwd": str(folder.cwd), "env": {"X": 1}}
    (folder.path / protocol.SPEC).write_text(json.dumps(spec))
    folder.run()
    assert folder.exit_info().reason is ExitReason.SPAWN_ERROR


def test_runner_refuses_a_folder_that_already_has_exit_json(
    folder: RunFolder, tmp_path: Path
) -> None:
    marker = tmp_path / "agent-ran"
    folder.write_spec(py(f"open({str(marker)!r}, 'w').close()"))
    protocol.write_exit(folder.path, ExitInfo(0, ExitReason.EXIT, 1.0, "first run"))
    before = (folder.path / protocol.EXIT).read_bytes()

    assert folder.run() == 2

    assert (folder.path / protocol.EXIT).read_bytes() == before
    assert not marker.exists()


def test_runner_without_a_folder_argument_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.runner"], capture_output=True, timeout=RUNNER_TIMEOUT_S
    )
    assert result.returncode == 2
    assert b"usage" in result.stderr


# --- stopping the agent ----------------------------------------------------------------


def _agent_with_a_child() -> list[str]:
    """An agent that starts a grandchild, says its pid, and waits."""
    return ["sh", "-c", "sleep 60 & echo child=$!; sleep 60"]


def _child_pid(folder: RunFolder) -> int:
    line = wait_until(
        lambda: next((x for x in folder.output().splitlines() if x.startswith("child=")), None),
        message="the agent's child pid",
    )
    return int(line.removeprefix("child="))


@pytest.fixture(scope="module")
def timed_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunFolder]:
    """One run that hits its timeout, shared by the tests that look at its aftermath."""
    run_folder = make_folder(tmp_path_factory.mktemp("timed-out"))
    run_folder.write_spec(_agent_with_a_child(), timeout=1.0, grace=0.5)
    run_folder.run()
    yield run_folder
    run_folder.stop_all()


def test_timeout_is_reason_timeout(timed_out: RunFolder) -> None:
    info = timed_out.exit_info()
    assert info.reason is ExitReason.TIMEOUT
    assert "timed out after 1 s" in info.message


def test_timeout_stops_the_agent(timed_out: RunFolder) -> None:
    assert not alive(timed_out.runner_info().agent_pid)


def test_timeout_stops_the_agent_child_too(timed_out: RunFolder) -> None:
    assert not alive(_child_pid(timed_out))


def test_timeout_is_noted_in_output_log(timed_out: RunFolder) -> None:
    assert timed_out.output().splitlines()[-1].startswith("[agentry] timed out")


def test_timeout_note_starts_on_its_own_line_in_output_log(folder: RunFolder) -> None:
    folder.write_spec(
        py("import sys, time; sys.stdout.write('no newline'); sys.stdout.flush(); time.sleep(60)"),
        timeout=1.0,
        grace=0.5,
    )
    folder.run()
    lines = folder.output().splitlines()
    assert lines[0] == "no newline"
    assert lines[1].startswith("[agentry] timed out")


def test_cancel_file_ends_the_run_as_cancelled(folder: RunFolder) -> None:
    folder.write_spec(_agent_with_a_child())
    runner = folder.start()
    child = _child_pid(folder)
    protocol.request_cancel(folder.path)
    runner.wait(timeout=RUNNER_TIMEOUT_S)
    assert folder.exit_info().reason is ExitReason.CANCELLED
    assert not alive(folder.runner_info().agent_pid)
    assert not alive(child)


def test_sigterm_to_the_runner_ends_the_run_as_interrupted(folder: RunFolder) -> None:
    folder.write_spec(py("import time; time.sleep(60)"), grace=0.5)
    runner = folder.start()
    info = folder.runner_info()
    runner.send_signal(signal.SIGTERM)
    runner.wait(timeout=RUNNER_TIMEOUT_S)
    assert folder.exit_info().reason is ExitReason.INTERRUPTED
    assert not alive(info.agent_pid)


# --- runner.json -----------------------------------------------------------------------


def test_runner_json_holds_the_runner_pid_and_create_time(folder: RunFolder) -> None:
    folder.write_spec(py("import time; time.sleep(60)"))
    runner = folder.start()
    info = folder.runner_info()
    assert info.runner_pid == runner.pid
    assert info.runner_create_time == pytest.approx(procs.start_stamp(psutil.Process(runner.pid)))
    assert procs.is_alive(info.runner_pid, info.runner_create_time)


def test_runner_json_holds_the_agent_pid_and_create_time(folder: RunFolder) -> None:
    folder.write_spec(py("import time; time.sleep(60)"))
    runner = folder.start()
    info = folder.runner_info()
    agent = psutil.Process(info.agent_pid)
    assert agent.ppid() == runner.pid
    assert info.agent_create_time == pytest.approx(procs.start_stamp(agent))
    assert procs.is_alive(info.agent_pid, info.agent_create_time)


def test_agent_runs_in_its_own_process_group(folder: RunFolder) -> None:
    folder.write_spec(py("import time; time.sleep(60)"))
    runner = folder.start()
    info = folder.runner_info()
    assert os.getpgid(info.agent_pid) == info.agent_pid
    assert os.getpgid(info.agent_pid) != os.getpgid(runner.pid)


def test_runner_json_deadline_is_start_plus_timeout(folder: RunFolder) -> None:
    folder.write_spec(py("import time; time.sleep(60)"), timeout=120.0)
    folder.start()
    info = folder.runner_info()
    assert info.deadline == pytest.approx(info.started_at + 120.0)


def test_runner_json_has_no_deadline_without_timeout(folder: RunFolder) -> None:
    folder.write_spec(py("pass"))
    folder.run()
    assert folder.runner_info().deadline is None


def test_exit_json_is_valid_json_after_a_run(folder: RunFolder) -> None:
    folder.write_spec(py("pass"))
    folder.run()
    data = json.loads((folder.path / protocol.EXIT).read_text())
    assert data["reason"] == "exit"
    assert data["returncode"] == 0
    assert isinstance(data["ended_at"], float)


# --- found by review: cancel before start, leftovers, a full disk at the end -------------


def test_a_cancel_before_the_runner_starts_means_the_agent_never_runs(folder: RunFolder) -> None:
    marker = folder.cwd / "ran.txt"
    folder.write_spec(py(f"open({str(marker)!r}, 'w').write('ran')"))
    protocol.request_cancel(folder.path)  # cancelled while the task was still "starting"
    assert folder.run() == 0
    assert folder.exit_info().reason is ExitReason.CANCELLED
    assert not marker.exists(), "a cancelled agent must not get to run"
    assert "before the agent started" in folder.output()


def test_processes_the_agent_leaves_running_are_stopped_when_it_exits(folder: RunFolder) -> None:
    script = "import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', " \
        "'import time; time.sleep(300)']); print(p.pid, flush=True)"  # fmt: skip
    folder.write_spec(py(script), grace=0.5)
    assert folder.run() == 0
    leftover = int(folder.output().split()[0])
    assert folder.exit_info().reason is ExitReason.EXIT and folder.exit_info().returncode == 0
    assert not alive(leftover), "a background process outlived its task"
    assert "stopped 1 process(es) the agent left running" in folder.output()


def test_exit_json_that_cannot_be_written_yet_is_retried_not_lost(
    folder: RunFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk when the agent ends: the runner stays, beating, until it can write."""
    from app.runner import main as runner_main
    from app.runner.posix import PosixWaiter

    real = runner_main.records.write_record
    failures = iter([OSError(28, "No space left on device")] * 3)

    def flaky(run_dir: str, name: str, record: dict[str, object]) -> None:
        error = next(failures, None) if name == protocol.EXIT else None
        if error is not None:
            raise error
        real(run_dir, name, record)

    monkeypatch.setattr(runner_main.records, "write_record", flaky)
    monkeypatch.setattr(runner_main.time, "sleep", lambda _s: None)
    runner = runner_main.Runner(str(folder.path), PosixWaiter())
    assert runner._finish(0, "exit", "") == 0
    assert folder.exit_info().returncode == 0
    assert (folder.path / protocol.HEARTBEAT).exists(), "it kept beating while it waited"
