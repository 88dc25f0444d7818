"""Full and read-only data folders (issue 12 §2), on a real small tmpfs: `serve` and
`doctor` say which folder, how much is free and what to do, never a traceback; the
scheduler holds queued tasks while the disk is below its minimum and starts them when
space returns; a launch that meets a full disk fails its run saying "disk full"."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.agentry import Home, py, run_async
from helpers.mounts import fill, read_only, read_write, tmpfs
from helpers.wait import async_wait_until, wait_until

from app.core.models import TaskSpec
from app.store.db import open_database
from app.supervisor.events import Notice
from app.supervisor.supervisor import Supervisor

pytestmark = pytest.mark.slow


@pytest.fixture
def disk_home(home: Home) -> Iterator[Home]:
    """The test's data folder on a 4 MiB tmpfs of its own, with a database in it."""
    with tmpfs(home.path, "4m"):
        home.write_settings(gate_max_cpu_percent=100.0, gate_max_memory_percent=100.0)
        open_database(home.locations.database).close()
        yield home
        home.cleanup()  # runners and agents whose folders are on the tmpfs


def _says_clearly(result: subprocess.CompletedProcess[str], *words: str) -> str:
    said = result.stdout + result.stderr
    assert result.returncode != 0, said
    assert "Traceback" not in said, said
    for word in words:
        assert word in said, said
    return said


def test_serve_on_a_full_data_folder_says_which_folder_and_how_much_is_free(
    disk_home: Home,
) -> None:
    fill(disk_home.path)
    result = disk_home.cli("serve", "--headless", timeout=60)
    said = _says_clearly(result, str(disk_home.path), "disk full", "free of", "Free some space")
    assert said.count("agentry:") == 1, said  # one message, not one per thing that failed


def test_serve_on_a_read_only_data_folder_says_it_is_read_only(disk_home: Home) -> None:
    read_only(disk_home.path)
    try:
        result = disk_home.cli("serve", "--headless", timeout=60)
    finally:
        read_write(disk_home.path)
    _says_clearly(result, str(disk_home.path), "read-only", "free of", "writable")


def test_doctor_on_a_full_data_folder_fails_with_the_free_space_and_no_traceback(
    disk_home: Home,
) -> None:
    fill(disk_home.path)
    result = disk_home.cli("doctor", timeout=60)
    said = _says_clearly(result, str(disk_home.path), "disk full", "free of")
    assert "not an Agentry database" not in said  # a full disk is not a foreign file
    assert "Move it aside" not in said


def test_doctor_on_a_read_only_data_folder_fails_with_the_reason_and_no_traceback(
    disk_home: Home,
) -> None:
    read_only(disk_home.path)
    try:
        result = disk_home.cli("doctor", timeout=60)
    finally:
        read_write(disk_home.path)
    said = _says_clearly(result, str(disk_home.path), "read-only")
    assert "Supervisor" in said and "Agents" in said  # every check ran to the end


def test_queued_tasks_wait_while_the_disk_is_below_the_minimum_and_start_when_freed(
    home: Home, work_dir: Path
) -> None:
    with tmpfs(home.path, "8m"):
        home.write_settings(
            gate_max_cpu_percent=100.0, gate_max_memory_percent=100.0, gate_min_free_disk_mb=4
        )
        filler = fill(home.path, leave=2 << 20)
        serve = home.serve()
        task_id = home.submit(["echo", "made it"], work_dir)
        log = home.locations.logs / "agentry.log"
        wait_until(
            lambda: "holding queued tasks: disk full" in log.read_text(),
            message="the gate to hold the task for the disk",
        )
        assert home.run(task_id).state.value == "queued"
        doctor = home.cli("doctor").stdout
        assert "below the 4 MiB minimum" in doctor, doctor
        filler.unlink()
        home.wait_state(task_id, "succeeded")
        assert home.output(task_id).strip() == "made it"
        serve.terminate()
        serve.wait(timeout=30)
        home.cleanup()


@pytest.mark.expect_error_log("Task 1: could not prepare its run folder .* disk full")
def test_a_launch_that_meets_a_full_disk_fails_its_run_saying_disk_full(
    home: Home, work_dir: Path
) -> None:
    home.write_settings(gate_min_free_disk_mb=0)  # the gate would hold it: let it try
    open_database(home.locations.database).close()
    with tmpfs(home.locations.runs, "1m"):
        fill(home.locations.runs)
        task_id = home.submit(["echo", "never"], work_dir)
        home.serve()
        run = home.wait_state(task_id, "failed")
        assert run.message is not None and "disk full" in run.message, run.message
        assert str(home.locations.runs) in run.message
        home.cleanup()


def test_a_database_that_cannot_be_written_is_said_once_not_every_tick(
    home: Home, work_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The audit saw 144 tracebacks in 6 s: every tick failed again on the full disk."""
    go = work_dir / "go"
    agent = py(f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.02)")
    notices: list[Notice] = []

    async def scenario(filler_at: Path) -> str:
        sup = Supervisor(home.locations)
        sup.bus.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=tuple(agent), cwd=str(work_dir)))
            await async_wait_until(lambda: home.run(task_id).state.value == "running")
            filler = fill(filler_at)  # the database's disk; the run folder has room
            go.touch()  # the agent ends: recording that needs a database write
            await async_wait_until(lambda: _tick_failures(caplog) >= 3)
            filler.unlink()
            await async_wait_until(lambda: home.run(task_id).state.value == "succeeded")
        finally:
            await sup.stop()
        return home.run(task_id).state.value

    with tmpfs(home.path, "4m"):
        home.write_settings(
            gate_max_cpu_percent=100.0, gate_max_memory_percent=100.0, gate_min_free_disk_mb=0
        )
        with tmpfs(home.locations.runs, "4m"):
            assert run_async(scenario(home.path)) == "succeeded"
            home.cleanup()
    said = [n.text for n in notices if n.level == "error"]
    assert len(said) == 1, said
    assert "is full" in said[0] and str(home.path) in said[0]
    assert not any(r.exc_info for r in caplog.records if "tick failed" in r.getMessage())


def _tick_failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum("supervisor tick failed" in r.getMessage() for r in caplog.records)
