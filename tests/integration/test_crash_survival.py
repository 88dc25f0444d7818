"""The supervisor really SIGKILLed: agents keep running and the next start reattaches them."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from helpers.agentry import Home, alive, counting_agent
from helpers.wait import wait_until


def _states(home: Home) -> dict[int, str]:
    listing = json.loads(home.cli("list", "--json", check=True).stdout)
    return {task["id"]: task["state"] for task in listing}


def test_sigkilled_supervisor_leaves_agents_running_and_the_next_one_reattaches_them(
    home: Home, work_dir: Path
) -> None:
    ids = [
        int(
            home.cli(
                "run", "--cwd", str(work_dir), "--", *counting_agent(100, 0.03), check=True
            ).stdout
        )
        for _ in range(3)
    ]
    first = home.serve()
    wait_until(lambda: all(s == "running" for s in _states(home).values()), message="3 running")
    agents = [home.runner_info(task_id).agent_pid for task_id in ids]

    first.send_signal(signal.SIGKILL)
    first.wait()
    assert all(alive(pid) for pid in agents), "agents must outlive a killed supervisor"

    second = home.serve()
    assert "3 reattached" in second.startup_output  # type: ignore[attr-defined]
    assert "did not end cleanly" in second.startup_output  # type: ignore[attr-defined]
    for task_id in ids:
        run = home.wait_state(task_id, "succeeded", "failed", "interrupted")
        assert (run.state.value, run.exit_code) == ("succeeded", 0)
        lines = home.output(task_id).splitlines()
        assert lines == [str(i) for i in range(1, 101)]
        assert len(home.runs(task_id)) == 1
    with home.db() as conn:
        report = conn.execute(
            "SELECT report_json FROM recovery_reports ORDER BY id DESC"
        ).fetchone()
    assert sorted(json.loads(report[0])["reattached"]) == sorted(ids)


def test_fifty_queued_tasks_survive_a_sigkill_in_order_none_lost_none_run_twice(
    home: Home, work_dir: Path
) -> None:
    home.write_settings(max_concurrency=2)
    ids = [home.submit(["sh", "-c", f"echo task {n}; sleep 0.2"], work_dir) for n in range(50)]
    first = home.serve()
    wait_until(
        lambda: sum(s == "succeeded" for s in _states(home).values()) >= 4,
        message="a few tasks done",
    )
    first.send_signal(signal.SIGKILL)
    first.wait()
    with home.db() as conn:
        queued_before = [
            row[0]
            for row in conn.execute(
                "SELECT task_id FROM runs WHERE state = 'queued' ORDER BY priority DESC, id"
            )
        ]
    assert queued_before == sorted(queued_before) and len(queued_before) >= 30

    second = home.serve()
    assert f"{len(queued_before)} queued" in second.startup_output  # type: ignore[attr-defined]
    wait_until(
        lambda: all(s in ("succeeded", "failed", "interrupted") for s in _states(home).values()),
        timeout=60,
        message="all 50 ended",
    )
    states = _states(home)
    assert sorted(states) == sorted(ids)
    assert set(states.values()) == {"succeeded"}
    for task_id in ids:
        runs = home.runs(task_id)
        assert len(runs) == 1, f"task {task_id} ran {len(runs)} times"
        assert home.output(task_id) == f"task {ids.index(task_id)}\n"
    with home.db() as conn:
        launch_order = [
            row[0]
            for row in conn.execute(
                "SELECT task_id FROM events WHERE new_state = 'starting' ORDER BY id"
            )
        ]
    assert launch_order == ids, "launched first come, first served, across the crash"
