"""A runner whose disk fills up between starting the agent and recording it (issue 12 §2):
the agent is stopped rather than left running unrecorded, and the run ends saying
"disk full" once exit.json can be written, not as a bare failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
from helpers.mounts import tmpfs
from helpers.run_folder import RunFolder
from helpers.wait import wait_until

from app.core.states import ExitReason
from app.runner import protocol

MARKER = "agentry-full-disk-agent-7f3a"


def _agents() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(MARKER in part for part in proc.info["cmdline"] or []):
            found.append(proc)
    return found


def test_a_runner_that_cannot_record_its_agent_stops_it_and_ends_saying_disk_full(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        folder = RunFolder(disk / "run", disk)
        folder.path.mkdir()
        filler = disk / "filler.bin"
        # Once recorded, the setup fills the disk: the agent starts, and runner.json no
        # longer fits.
        recorded = folder.path / protocol.SETUP
        fill = (
            f"while [ ! -e {recorded} ]; do sleep 0.01; done; "
            f"head -c 10000000 /dev/zero > {filler}; true"
        )
        folder.write_spec(
            [sys.executable, "-c", f"import time; time.sleep(60)  # {MARKER}"],
            setup=["sh", "-c", fill],
            setup_command="fill the disk",
            grace=1.0,
        )
        runner = subprocess.Popen(
            protocol.runner_command(folder.path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert runner.stderr is not None
            said = ""
            while "could not write exit.json" not in said:
                line = runner.stderr.readline()
                assert line, f"the runner ended early: {said}"
                said += line
            assert not _agents(), "the unrecorded agent was stopped"
            assert protocol.read_runner_info(folder.path) is None
            filler.unlink()  # space returns: the runner's next attempt writes exit.json
            assert runner.wait(timeout=60) == 0
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
        ended = wait_until(lambda: protocol.read_exit(folder.path), message="exit.json")
        assert ended.reason is ExitReason.SPAWN_ERROR
        assert "disk full" in ended.message and "the agent was stopped" in ended.message
        assert str(folder.path) in ended.message
