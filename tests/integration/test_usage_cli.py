"""``agentry usage`` as a person runs it: real processes on a real database whose runs
reported their cost and tokens, summed per local day, agent and project."""

from __future__ import annotations

import json
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers.agentry import Home
from helpers.gitrepo import git, isolate_git, make_repo
from helpers.usage_runs import ended_run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="TZ names a zone on POSIX")

ZONE = "America/New_York"  # daylight saving began on 2026-03-08 at 02:00


def usage_json(home: Home, *args: str, tz: str = ZONE) -> dict[str, Any]:
    result = home.cli("usage", "--json", *args, env={**home.env, "TZ": tz}, check=True)
    return json.loads(result.stdout)


def at(day: str, clock: str) -> float:
    """A local time in ZONE as a Unix time."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZoneInfo(ZONE)).timestamp()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    repo = make_repo(tmp_path / "shop", {"app/main.py": "print()\n"})
    return repo


def test_runs_are_summed_per_day_agent_and_project(home: Home, project: Path,
                                                    tmp_path: Path) -> None:  # fmt: skip
    linked = tmp_path / "shop-feature"
    git(project, "worktree", "add", "-q", "-b", "feature", str(linked))
    loose = tmp_path / "notes"
    loose.mkdir()
    now = time.time()
    ended_run(home, project, now, cost=1.25, tokens=(1000, 200))
    ended_run(home, project / "app", now, cost=0.5, tokens=(500, 100))  # same project
    ended_run(home, linked, now, cost=0.25, tokens=(10, 1))  # its worktree: same project
    ended_run(home, loose, now, agent="codex", tokens=(3000, 300))  # tokens, no cost
    ended_run(home, loose, now - 40 * 86400, cost=9.0, tokens=(1, 1))  # before the period
    home.submit(["sh", "-c", "true"], loose)  # a plain command reports nothing: not counted

    report = usage_json(home, "--days", "7", tz="UTC")
    assert report["total"] == {"cost_usd": 2.0, "input_tokens": 4510, "output_tokens": 601,
                               "runs": 4}  # fmt: skip
    assert report["agents"] == [
        {"agent": "claude", "cost_usd": 2.0, "input_tokens": 1510, "output_tokens": 301, "runs": 3},
        {"agent": "codex", "cost_usd": None, "input_tokens": 3000, "output_tokens": 300, "runs": 1},
    ]
    assert [(p["project"], p["runs"]) for p in report["projects"]] == [
        (str(project), 3), (str(loose), 1)
    ]  # fmt: skip
    assert len(report["days"]) == 7 and report["days"][-1]["runs"] == 4
    assert sum(d["runs"] for d in report["days"]) == 4
    assert usage_json(home, "--days", "90", tz="UTC")["total"]["runs"] == 5


def test_days_are_local_days_across_a_daylight_saving_change(home: Home, work_dir: Path) -> None:
    ended_run(home, work_dir, at("2026-03-07", "23:30"), cost=1.0)
    ended_run(home, work_dir, at("2026-03-08", "00:30"), cost=2.0)  # a 23-hour day
    ended_run(home, work_dir, at("2026-03-08", "23:30"), cost=4.0)
    ended_run(home, work_dir, at("2026-03-09", "00:30"), cost=8.0)

    report = usage_json(home, "--since", "2026-03-08")
    days = {d["day"]: d["cost_usd"] for d in report["days"]}
    assert next(iter(days)) == "2026-03-08" and list(days)[-1] == report["until"]
    assert (days["2026-03-08"], days["2026-03-09"]) == (6.0, 8.0)
    assert days["2026-03-10"] is None and report["total"]["cost_usd"] == 14.0
    # Seen from UTC (4 and 5 hours later) the same runs fall on other days.
    utc = {d["day"]: d["cost_usd"] for d in usage_json(home, "--since", "2026-03-08",
                                                       tz="UTC")["days"]}  # fmt: skip
    assert (utc["2026-03-08"], utc["2026-03-09"]) == (3.0, 12.0)


def test_the_table_names_days_agents_projects_and_the_total(home: Home, work_dir: Path) -> None:
    ended_run(home, work_dir, time.time(), cost=0.004, tokens=(1234567, 89))
    out = home.cli("usage", check=True).stdout
    lines = out.splitlines()
    assert lines[0] == f"Usage from {date.today() - timedelta(days=29)} to {date.today()}"
    assert any(line.startswith(date.today().isoformat()) and "<$0.01" in line for line in lines)
    assert any(line.startswith("claude ") and "1,234,567" in line for line in lines)
    assert any(line.startswith(str(work_dir)) for line in lines)
    assert lines[-1] == "Total: <$0.01, 1,234,567 input and 89 output tokens, 1 run"


def test_without_runs_it_says_which_agents_report_costs(home: Home) -> None:
    result = home.cli("usage", "--days", "7")
    assert result.returncode == 0, result.stderr
    assert "nothing recorded" in result.stdout
    assert "Claude Code and opencode report what each run cost" in result.stdout
    assert usage_json(home)["total"] == {"cost_usd": None, "input_tokens": 0,
                                         "output_tokens": 0, "runs": 0}  # fmt: skip


@pytest.mark.parametrize("since", ["yesterday", "2026-02-30", "12/01/2026"])
def test_a_bad_date_is_refused_with_the_form_to_use(home: Home, since: str) -> None:
    result = home.cli("usage", "--since", since)
    assert result.returncode == 2
    assert f"--since {since!r} is not a date; write it as YYYY-MM-DD" in result.stderr


def test_a_date_in_the_future_is_refused(home: Home) -> None:
    result = home.cli("usage", "--since", (date.today() + timedelta(days=2)).isoformat())
    assert result.returncode == 2 and "is in the future" in result.stderr
