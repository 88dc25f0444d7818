"""Tasks that run in place hold their folder (DESIGN §7a): one at a time, in order, across
a crash; with real runners, a real `serve` and a SIGKILL."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.wait import wait_until

from app.core.models import TaskSpec
from app.supervisor.commands import lock_key


def _turn(n: int, log: Path, gate: Path | None = None) -> list[str]:
    """A turn that notes its start and end; with ``gate``, it ends only once that exists."""
    wait = f"while [ ! -e {gate} ]; do sleep 0.05; done" if gate else "sleep 0.3"
    return ["sh", "-c", f"echo start {n} >> {log}; {wait}; echo end {n} >> {log}"]


def test_three_locking_tasks_run_one_at_a_time_in_order_across_a_sigkill(
    home: Home, work_dir: Path
) -> None:
    log, gate = work_dir / "turns.log", work_dir / "gate"
    for n in (1, 2, 3):  # the first holds the folder until the supervisor has been killed
        turn = _turn(n, log, gate if n == 1 else None)
        home.cli("run", "--lock", "--cwd", str(work_dir), "--", *turn, check=True)
    free = int(home.cli("run", "--cwd", str(work_dir), "--", "sleep", "0.2", check=True).stdout)

    server = home.serve()
    home.wait_state(1, "running")
    home.wait_state(free, "succeeded")  # a task that holds nothing is not held up
    listed = {t["id"]: t for t in json.loads(home.cli("list", "--json", check=True).stdout)}
    assert listed[2]["state"] == listed[3]["state"] == "queued"
    assert listed[2]["waiting_for"] == {"task": 1, "folder": str(work_dir.resolve())}
    assert listed[3]["waiting_for"] == listed[2]["waiting_for"]  # the holder, not the line
    assert "(waiting for #1 on" in home.cli("list", check=True).stdout

    server.send_signal(signal.SIGKILL)  # the first task's runner and agent keep going
    server.wait()
    home.wait_state(1, "running")
    assert home.run(2).state.value == "queued" and home.run(3).state.value == "queued"
    gate.touch()  # the first ends while no supervisor runs: nobody ingests its end
    wait_until(lambda: log.read_text().endswith("end 1\n"), message="the first turn to end")
    assert home.run(1).state.value == "running" and home.run(2).state.value == "queued"

    server = home.serve()
    for n in (1, 2, 3):
        home.wait_state(n, "succeeded", timeout=30)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    assert log.read_text().split("\n")[:-1] == [
        "start 1", "end 1", "start 2", "end 2", "start 3", "end 3",
    ]  # fmt: skip


def test_a_queued_holder_is_not_waiting_once_the_folder_is_free(home: Home, work_dir: Path) -> None:
    home.cli("run", "--lock", "--cwd", str(work_dir), "--", "true", check=True)
    listed = json.loads(home.cli("list", "--json", check=True).stdout)
    assert listed[0]["state"] == "queued" and listed[0]["waiting_for"] is None


def test_lock_and_worktree_do_not_go_together(home: Home, work_dir: Path) -> None:
    refused = home.cli("run", "--lock", "--worktree", "--cwd", str(work_dir), "--", "true")
    assert refused.returncode == 2 and "--lock is for tasks in place" in refused.stderr


# ---------------------------------------------------------------- which folder is held


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    (path / "pkg").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_a_coding_agent_in_place_holds_its_whole_repository(repo: Path) -> None:
    spec = TaskSpec(argv=(), cwd=str(repo / "pkg"), agent="claude", prompt="fix it")
    assert lock_key(spec) == str(repo.resolve())


def test_a_command_holds_nothing_unless_asked_and_then_its_folder_outside_a_repository(
    work_dir: Path,
) -> None:
    command = TaskSpec(argv=("make",), cwd=str(work_dir))
    assert lock_key(command) is None
    assert lock_key(TaskSpec(argv=("make",), cwd=str(work_dir), lock=True)) == str(
        work_dir.resolve()
    )


def test_a_task_in_its_own_worktree_or_told_not_to_holds_nothing(repo: Path) -> None:
    agent = {"argv": (), "cwd": str(repo), "agent": "codex", "prompt": "x"}
    assert lock_key(TaskSpec(**agent, worktree=True)) is None  # type: ignore[arg-type]
    assert lock_key(TaskSpec(**agent, lock=False)) is None  # type: ignore[arg-type]
