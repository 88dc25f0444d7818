"""The runner's setup command (a new worktree's ``npm ci``): run before the agent, in its
folder, framed as the transcript's Setup section; only a setup that passes lets the agent
start, and cancel and the deadline apply while it runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.agentry import alive, py
from helpers.run_folder import RunFolder, make_folder
from helpers.wait import wait_until

from app.core import ansi
from app.core.states import ExitReason
from app.runner import protocol

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[RunFolder]:
    run_folder = make_folder(tmp_path)
    yield run_folder
    run_folder.stop_all()


def sh(line: str) -> list[str]:
    return ["/bin/sh", "-c", line]


def agent_writing(marker: Path) -> list[str]:
    """An agent that prints what the setup left in ``made.txt`` and marks that it ran."""
    return py(f"print('agent saw', open('made.txt').read().strip()); open({str(marker)!r}, 'w')")


def plain_output(folder: RunFolder) -> list[str]:
    return [ansi.strip(line) for line in folder.output().splitlines()]


def test_the_setup_runs_in_the_folder_before_the_agent_framed_as_a_section(
    folder: RunFolder,
) -> None:
    marker = folder.cwd / "agent-ran"
    folder.write_spec(
        agent_writing(marker),
        setup=sh("echo installing; echo ready > made.txt"),
        setup_command="echo installing; echo ready > made.txt",
    )
    assert folder.run() == 0
    lines = plain_output(folder)
    assert lines[0] == "[agentry] ── Setup: echo installing; echo ready > made.txt ──"
    assert lines[1] == "installing"
    assert lines[2].startswith("[agentry] ── Setup passed in ") and lines[2].endswith(" s ──")
    assert lines[3:] == ["agent saw ready"], "the agent runs after the setup, and sees it"
    assert folder.exit_info().reason is ExitReason.EXIT and marker.exists()
    setup_s = folder.runner_info().setup_s
    assert setup_s is not None and setup_s >= 0, "runner.json says the setup passed"
    assert protocol.read_setup_info(folder.path) is not None


def test_a_failing_setup_fails_the_run_and_the_agent_never_starts(folder: RunFolder) -> None:
    marker = folder.cwd / "agent-ran"
    folder.write_spec(agent_writing(marker), setup=sh("echo broken >&2; exit 3"),
                      setup_command="npm ci")  # fmt: skip
    assert folder.run() == 0
    info = folder.exit_info()
    assert info.reason is ExitReason.SETUP_FAILED and info.returncode is None
    assert info.message == (
        "the setup command `npm ci` failed with exit code 3 (see the Setup section)"
    )
    lines = plain_output(folder)
    assert lines[:2] == ["[agentry] ── Setup: npm ci ──", "broken"]
    assert lines[2].startswith("[agentry] ── Setup failed: exit code 3 after ")
    assert not marker.exists(), "the agent must not run after a failed setup"
    assert protocol.read_runner_info(folder.path) is None


def test_a_setup_that_cannot_start_fails_the_run_naming_the_command(folder: RunFolder) -> None:
    folder.write_spec(py("print('agent')"), setup=["/no/such/shell", "-c", "x"],
                      setup_command="make deps")  # fmt: skip
    folder.run()
    info = folder.exit_info()
    assert info.reason is ExitReason.SETUP_FAILED
    assert info.message.startswith("could not start the setup command `make deps`")
    assert "agent" not in plain_output(folder)


def test_a_cancel_during_setup_stops_it_and_the_agent_never_starts(folder: RunFolder) -> None:
    marker = folder.cwd / "agent-ran"
    folder.write_spec(agent_writing(marker), setup=sh("echo $$; exec sleep 300"), grace=1.0)
    runner = folder.start()
    setup = wait_until(lambda: protocol.read_setup_info(folder.path), message="setup.json")
    wait_until(lambda: folder.output().count("\n") >= 2, message="the setup's pid in the log")
    protocol.request_cancel(folder.path)
    runner.wait(timeout=30)
    info = folder.exit_info()
    assert info.reason is ExitReason.CANCELLED and info.returncode is None
    assert info.message == "cancelled by the user; stopped the setup command"
    assert not alive(setup.pid), "the setup was stopped"
    assert not marker.exists()
    assert plain_output(folder)[-1].startswith("[agentry] ── Setup stopped after ")


def test_the_deadline_counts_the_setup_too(folder: RunFolder) -> None:
    marker = folder.cwd / "agent-ran"
    folder.write_spec(agent_writing(marker), setup=sh("exec sleep 300"), timeout=0.5, grace=1.0)
    folder.run()
    info = folder.exit_info()
    assert info.reason is ExitReason.TIMEOUT
    assert info.message == "timed out after 0.5 s; stopped the setup command"
    assert not marker.exists()


def test_without_a_setup_nothing_is_framed_and_runner_json_says_none(folder: RunFolder) -> None:
    folder.write_spec(py("print('only the agent')"))
    folder.run()
    assert folder.output() == "only the agent\n"
    assert folder.runner_info().setup_s is None
    assert protocol.read_setup_info(folder.path) is None
