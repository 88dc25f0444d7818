"""The `agentry` command as a user runs it: a real subprocess against a temp AGENTRY_HOME."""

from __future__ import annotations

import hashlib
import json
import shlex
import signal
import sqlite3
import subprocess
from pathlib import Path

from helpers.agentry import ROOT, Home, alive, counting_agent, py


def test_run_wait_prints_the_agents_output_and_exits_with_its_code(
    home: Home, work_dir: Path
) -> None:
    result = home.cli(
        "run",
        "--wait",
        "--cwd",
        str(work_dir),
        "--",
        *py("import sys; print('out'); print('err', file=sys.stderr); sys.exit(5)"),
    )
    assert result.returncode == 5
    assert result.stdout.splitlines() == ["out", "err"]
    assert "task 1 queued" in result.stderr


def test_run_without_wait_prints_the_task_id_and_a_running_supervisor_picks_it_up(
    home: Home, work_dir: Path
) -> None:
    home.serve()
    result = home.cli("run", "--title", "hello", "--cwd", str(work_dir), "--", "echo", "hi")
    assert result.returncode == 0 and result.stdout.strip() == "1"
    run = home.wait_state(1, "succeeded")
    assert run.exit_code == 0 and home.output(1) == "hi\n"
    assert home.task(1).title == "hello"


def test_run_wait_reports_a_timeout_as_124_and_a_missing_program_as_127(
    home: Home, work_dir: Path
) -> None:
    assert home.cli("run", "--wait", "--timeout", "1", "--", "sleep", "30").returncode == 124
    missing = home.cli("run", "--wait", "--", "/no/such/agent")
    assert missing.returncode == 127
    assert "could not start '/no/such/agent'" in missing.stdout


def test_run_refuses_a_missing_working_folder_and_an_empty_command(
    home: Home, tmp_path: Path
) -> None:
    missing = home.cli("run", "--cwd", str(tmp_path / "nope"), "--", "true")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    empty = home.cli("run", "--")
    assert empty.returncode == 2 and "give the command" in empty.stderr
    bad_timeout = home.cli("run", "--timeout", "soon", "--", "true")
    assert bad_timeout.returncode == 2 and "not a duration" in bad_timeout.stderr
    assert json.loads(home.cli("list", "--json").stdout) == []


def test_list_json_has_the_documented_fields(home: Home, work_dir: Path) -> None:
    home.cli("run", "--wait", "--title", "first", "--", "true", check=True)
    home.submit(["false"], work_dir, title="second")
    listing = json.loads(home.cli("list", "--json", check=True).stdout)
    assert [t["title"] for t in listing] == ["second", "first"]
    for task in listing:
        assert {"id", "title", "agent", "state", "exit_code", "created_at"} <= set(task)
    assert (listing[1]["state"], listing[1]["exit_code"], listing[1]["agent"]) == (
        "succeeded",
        0,
        "shell",
    )
    assert listing[0]["state"] == "queued"
    # `true` often ends before the supervisor sees it running: its start comes from
    # runner.json then, so Started and Duration are never blank for a finished task.
    assert listing[1]["started_at"] is not None and listing[0]["started_at"] is None
    table = home.cli("list", check=True).stdout
    assert "first" in table and "queued" in table


def test_list_into_a_pipe_closed_early_ends_quietly(home: Home, work_dir: Path) -> None:
    """`agentry list --json | head -1`: far more than a pipe holds, and the reader goes."""
    for i in range(300):
        home.submit(["true"], work_dir, title=f"task {i} " + "x" * 100)
    done = subprocess.run(
        f"{shlex.join(home.cli_argv('list', '--json'))} | head -1",
        shell=True, env=home.env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.stdout == "[\n"
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


def test_logs_prints_the_output_and_follow_waits_for_the_end(home: Home, work_dir: Path) -> None:
    home.cli("run", "--wait", "--", *counting_agent(3, 0), check=True)
    assert home.cli("logs", "1", check=True).stdout == "1\n2\n3\n"
    home.serve()
    home.cli("run", "--cwd", str(work_dir), "--", *counting_agent(5, 0.1), check=True)
    followed = home.cli("logs", "--follow", "2", timeout=30)
    assert followed.returncode == 0 and followed.stdout == "1\n2\n3\n4\n5\n"
    unknown = home.cli("logs", "99")
    assert unknown.returncode == 1 and "no task '99'" in unknown.stderr


def test_a_second_serve_names_the_one_holding_the_folder_and_exits_2(home: Home) -> None:
    first = home.serve()
    second = home.cli("serve", "--headless", timeout=30)
    assert second.returncode == 2
    assert f"pid {first.pid}" in second.stderr and "headless" in second.stderr


def test_serve_stops_gracefully_on_sigterm_and_leaves_agents_running(
    home: Home, work_dir: Path
) -> None:
    server = home.serve()
    home.cli("run", "--cwd", str(work_dir), "--", "sleep", "30", check=True)
    home.wait_state(1, "running")
    agent = home.runner_info(1).agent_pid
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=15) == 0

    assert alive(agent)
    report = json.loads(home.cli("recovery", "--json", check=True).stdout)
    assert report[0]["previous_clean"] is True
    restarted = home.serve()
    assert "1 reattached" in restarted.startup_output  # type: ignore[attr-defined]
    assert "ended cleanly" in restarted.startup_output  # type: ignore[attr-defined]


def test_cancel_and_retry_from_the_command_line(home: Home, work_dir: Path) -> None:
    home.serve()
    home.cli("run", "--cwd", str(work_dir), "--", "sleep", "30", check=True)
    home.wait_state(1, "running")
    refused = home.cli("retry", "1")
    assert refused.returncode == 1 and "still running" in refused.stderr
    assert "asked its runner to stop" in home.cli("cancel", "1", check=True).stdout
    assert home.wait_state(1, "cancelled").reason == "cancelled"
    assert "queued again" in home.cli("retry", "1", check=True).stdout
    assert home.wait_state(1, "running").attempt == 2


def test_a_file_that_is_not_an_agentry_database_is_refused_and_left_untouched(home: Home) -> None:
    db = home.locations.database
    with sqlite3.connect(db) as other:
        other.execute("CREATE TABLE photos (id INTEGER)")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = home.cli("list")
    assert result.returncode == 1
    assert "not an Agentry database" in result.stderr and str(db) in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    served = home.cli("serve", "--headless", timeout=30)
    assert served.returncode == 1 and "not an Agentry database" in served.stderr


def test_doctor_reports_folder_database_runners_and_disk(home: Home, work_dir: Path) -> None:
    home.serve()
    home.cli("run", "--cwd", str(work_dir), "--", "sleep", "30", check=True)
    home.wait_state(1, "running")
    report = home.cli("doctor")
    assert report.returncode == 0, report.stdout
    for expected in (
        "Data folder",
        "integrity ok",
        "GiB free",
        "runner pid",
        "alive",
        "running: pid",
        "No problems found",
    ):
        assert expected in report.stdout


def test_the_runner_entry_point_of_the_frozen_app_is_reachable_through_the_cli(
    home: Home, tmp_path: Path
) -> None:
    result = home.cli("--runner", str(tmp_path / "missing-run"))
    assert result.returncode == 0
    exit_file = json.loads((tmp_path / "missing-run" / "exit.json").read_text())
    assert exit_file["reason"] == "spawn_error" and "spec" in exit_file["message"]


def test_quit_stops_a_headless_supervisor_and_leaves_its_agents_running(
    home: Home, work_dir: Path
) -> None:
    server = home.serve()
    home.cli("run", "--cwd", str(work_dir), "--", "sleep", "30", check=True)
    home.wait_state(1, "running")
    agent = home.runner_info(1).agent_pid
    done = home.cli("quit", "--timeout", "20")
    assert done.returncode == 0, done.stderr
    assert server.wait(timeout=10) == 0
    assert alive(agent)
    assert home.cli("quit").stdout.strip() == "Agentry is not running."
