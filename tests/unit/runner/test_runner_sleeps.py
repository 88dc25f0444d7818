"""The slim runner (issue 14): it sleeps until something happens rather than polling,
takes a cancel as a signal with the ``cancel`` file kept as the record, holds no big
module while it waits, and leaves its agent no signal state of its own. Real runners,
started as Agentry starts them (protocol.runner_command)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from helpers.agentry import alive, py
from helpers.run_folder import RUNNER_TIMEOUT_S, RunFolder, make_folder
from helpers.wait import wait_until

from app.core.states import ExitReason
from app.runner import main as runner_main
from app.runner import procs, protocol, records
from app.runner.posix import CANCEL_SIGNAL
from app.store import fsops

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the POSIX waiter")

SLEEPER = ["sleep", "300"]


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[RunFolder]:
    run_folder = make_folder(tmp_path)
    yield run_folder
    run_folder.stop_all()


def _wait_for_the_first_beat(folder: RunFolder) -> None:
    """Until then a runner has not said it takes a cancel signal, and is not sent one."""
    wait_until(
        lambda: records.CANCEL_SIGNAL_NOTE in _heartbeat(folder.path),
        message="the runner's first heartbeat",
    )


def _heartbeat(run_dir: Path) -> str:
    try:
        return (run_dir / protocol.HEARTBEAT).read_text()
    except FileNotFoundError:
        return ""


def _write_cancel_file_only(folder: RunFolder) -> None:
    """A cancel whose signal was lost: the file alone, as a writer that died before it
    could signal (or a supervisor that could not find the runner) leaves it."""
    fsops.atomic_write(folder.path / protocol.CANCEL, b"")


def test_an_idle_runner_does_not_wake_up_between_heartbeats(folder: RunFolder) -> None:
    """The old runner polled the cancel file 4 times a second: 8 wake-ups in 2 s."""
    folder.write_spec(SLEEPER)
    runner = folder.start()
    folder.runner_info()
    _wait_for_the_first_beat(folder)
    time.sleep(0.3)  # past writing runner.json and the first beat: it is waiting now
    process = psutil.Process(runner.pid)
    before = process.num_ctx_switches().voluntary
    time.sleep(2.0)
    woke = process.num_ctx_switches().voluntary - before
    assert woke <= 2, f"an idle runner woke {woke} times in 2 s (its heartbeat is a minute)"
    assert runner.poll() is None


def test_a_cancel_signal_ends_the_run_as_cancelled_long_before_the_next_heartbeat(
    folder: RunFolder,
) -> None:
    folder.write_spec(SLEEPER, grace=1.0)
    runner = folder.start()  # heartbeat (and cancel re-check) once a minute
    info = folder.runner_info()
    _wait_for_the_first_beat(folder)  # from now on only the signal can tell it in time
    protocol.request_cancel(folder.path)  # the file, and a signal to the runner
    runner.wait(timeout=RUNNER_TIMEOUT_S)  # well inside the minute: the signal did it
    ended = folder.exit_info()
    assert ended.reason is ExitReason.CANCELLED
    assert ended.message == "cancelled by the user; stopped the agent"
    assert not alive(info.agent_pid)


def test_a_cancel_whose_signal_was_lost_is_honoured_by_the_periodic_check(
    folder: RunFolder,
) -> None:
    folder.write_spec(SLEEPER, grace=1.0)
    runner = folder.start({runner_main.BEAT_ENV: "0.5"})
    folder.runner_info()
    _write_cancel_file_only(folder)
    runner.wait(timeout=RUNNER_TIMEOUT_S)
    assert folder.exit_info().reason is ExitReason.CANCELLED


def test_a_cancel_written_before_the_agent_was_recorded_is_seen_once_it_is(
    folder: RunFolder,
) -> None:
    """A cancel that came while the runner was between its start check and runner.json
    had no runner to signal (none was recorded): the runner looks right after recording.
    Here the setup writes it once the runner has looked and gone to sleep (it lists its
    modules just before), so no signal is ever sent; the heartbeat is a minute."""
    cancel = folder.path / protocol.CANCEL
    asleep = folder.path.parent / "modules.txt"
    wait_then_cancel = f"while [ ! -e {asleep} ]; do sleep 0.01; done; touch {cancel}"
    folder.write_spec(SLEEPER, setup=["sh", "-c", wait_then_cancel], grace=1.0)
    runner = folder.start({runner_main.MODULES_ENV: str(asleep)})
    runner.wait(timeout=RUNNER_TIMEOUT_S)
    ended = folder.exit_info()
    assert ended.reason is ExitReason.CANCELLED
    assert ended.message == "cancelled by the user; stopped the agent"


def test_a_cancel_signal_reaches_a_runner_during_its_setup(folder: RunFolder) -> None:
    marker = folder.cwd / "agent-ran"
    folder.write_spec(py(f"open({str(marker)!r}, 'w')"), setup=["sleep", "300"], grace=1.0)
    runner = folder.start()
    wait_until(lambda: protocol.read_setup_info(folder.path), message="setup.json")
    _wait_for_the_first_beat(folder)
    _write_cancel_file_only(folder)
    assert protocol.signal_runner(folder.path), "found through the setup process's parent"
    runner.wait(timeout=RUNNER_TIMEOUT_S)
    assert folder.exit_info().reason is ExitReason.CANCELLED
    assert not marker.exists()


def test_a_cancel_signal_finds_the_runner_by_the_identity_the_caller_knows(
    folder: RunFolder,
) -> None:
    """runner.json unreadable (recovery found it corrupt): the launcher's record of the
    runner, which the caller has from the run's row, still finds it."""
    folder.write_spec(SLEEPER, grace=1.0)
    runner = folder.start()
    info = folder.runner_info()
    _wait_for_the_first_beat(folder)
    (folder.path / protocol.RUNNER).write_text("{ not json")
    _write_cancel_file_only(folder)
    assert not protocol.signal_runner(folder.path)
    assert protocol.signal_runner(folder.path, (info.runner_pid, info.runner_create_time))
    runner.wait(timeout=RUNNER_TIMEOUT_S)
    assert folder.exit_info().reason is ExitReason.CANCELLED
    protocol.write_runner_info(folder.path, info)  # for the teardown, which reads it


def test_a_stray_cancel_signal_without_the_file_changes_nothing(folder: RunFolder) -> None:
    folder.write_spec(py("import time; time.sleep(1); print('done')"))
    runner = folder.start()
    info = folder.runner_info()
    os.kill(info.runner_pid, CANCEL_SIGNAL)
    runner.wait(timeout=RUNNER_TIMEOUT_S)
    ended = folder.exit_info()
    assert (ended.reason, ended.returncode) == (ExitReason.EXIT, 0)
    assert folder.output() == "done\n"


def test_a_cancel_is_signalled_only_to_the_process_runner_json_names(tmp_path: Path) -> None:
    """A pid in runner.json that now belongs to another process (a different start stamp)
    is never signalled: SIGUSR1 would kill most programs."""
    bystander = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        info = protocol.RunnerInfo(bystander.pid, 12.5, bystander.pid, 12.5, 1.0, None)
        protocol.write_runner_info(tmp_path, info)
        (tmp_path / protocol.HEARTBEAT).write_text(records.heartbeat_text(1.0, CANCEL_SIGNAL))
        protocol.request_cancel(tmp_path)
        assert not protocol.signal_runner(tmp_path)
        assert bystander.poll() is None, "the bystander was left alone"
    finally:
        bystander.kill()
        bystander.wait()


def test_a_runner_whose_heartbeat_names_no_cancel_signal_is_not_sent_one(tmp_path: Path) -> None:
    """A runner of an earlier Agentry (no handler: SIGUSR1 would kill it, not cancel) beats
    the time alone; it polls the cancel file. Stood in for by a `sleep`, which SIGUSR1 kills."""
    earlier = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        pid, stamp = procs.identity(psutil.Process(earlier.pid))
        protocol.write_runner_info(tmp_path, protocol.RunnerInfo(pid, stamp, pid, stamp, 1.0, None))
        (tmp_path / protocol.HEARTBEAT).write_text("1796420569.046\n")  # as it beats
        protocol.request_cancel(tmp_path)
        assert earlier.poll() is None, "left to find the cancel file itself"
        (tmp_path / protocol.HEARTBEAT).write_text(records.heartbeat_text(1.0, CANCEL_SIGNAL))
        assert protocol.signal_runner(tmp_path), "the same process, naming the signal, gets it"
        assert earlier.wait(timeout=RUNNER_TIMEOUT_S) == -CANCEL_SIGNAL
    finally:
        earlier.kill()
        earlier.wait()


def test_a_waiting_runner_holds_no_big_module(folder: RunFolder, tmp_path: Path) -> None:
    listing = tmp_path / "modules.txt"
    folder.write_spec(SLEEPER)
    runner = folder.start({runner_main.MODULES_ENV: str(listing)})
    wait_until(listing.exists, message="the waiting runner's module list")
    held = set(listing.read_text().split())
    big = {"psutil", "subprocess", "threading", "logging", "json", "re", "enum", "typing"}
    big |= {"dataclasses", "pathlib", "contextlib", "collections", "signal"}
    assert "app.runner.posix" in held, "the list is the waiting runner's"
    assert held & big == set()
    if sys.platform.startswith("linux"):
        maps = Path(f"/proc/{runner.pid}/maps").read_text()
        assert "_psutil" not in maps, "psutil's extension is not even loaded"


def test_the_agent_inherits_no_ignored_or_blocked_signal_of_the_runner(
    folder: RunFolder,
) -> None:
    """An ignored signal survives exec (a handler does not): the runner ignores SIGHUP,
    Python ignores SIGPIPE and SIGXFSZ; the agent must get what any child of ours gets."""
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/self/status")
    show = ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]
    folder.write_spec(show)
    folder.run()
    plain = subprocess.run(show, capture_output=True, text=True, check=True).stdout
    assert folder.output() == plain


def test_an_agent_that_cannot_be_executed_is_named_with_the_reason(folder: RunFolder) -> None:
    script = folder.cwd / "agent.sh"
    script.write_text("#!/bin/sh\necho never\n")  # not executable
    folder.write_spec([str(script)])
    folder.run()
    info = folder.exit_info()
    assert info.reason is ExitReason.SPAWN_ERROR
    assert info.message == f"could not start {str(script)!r} in {folder.cwd}: Permission denied"


def test_a_missing_agent_says_no_such_file(folder: RunFolder) -> None:
    folder.write_spec(["no-such-agent-xyz"])
    folder.run()
    info = folder.exit_info()
    assert info.message == (
        f"could not start 'no-such-agent-xyz' in {folder.cwd}: No such file or directory"
    )
