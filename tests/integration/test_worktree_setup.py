"""A project's worktree setup (DESIGN §7a) with the real git CLI, real runners and the CLI:
files copied into a new worktree, and the setup command run before the agent."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.agentry import Home, alive, run_async
from helpers.gitrepo import isolate_git, make_repo
from helpers.wait import async_wait_until, wait_until

from app.core import ansi
from app.core.models import RecoveryCause, RecoveryReport
from app.runner import protocol
from app.store import workspace_repo
from app.store.settings import load_settings
from app.supervisor.supervisor import Supervisor

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one committed file, an ignored .env and a local config file."""
    isolate_git(tmp_path, monkeypatch)
    top = make_repo(tmp_path / "project", {"a.txt": "line\n", ".gitignore": ".env\n*.local.*\n"})
    (top / ".env").write_text("TOKEN=abc\n")
    (top / "config").mkdir()
    (top / "config" / "db.local.toml").write_text("[db]\n")
    return top.resolve()


def setup_done_at(home: Home, task_id: int) -> float | None:
    with home.db() as conn:
        found = workspace_repo.get(conn, task_id)
    assert found is not None
    return found.setup_done_at


@contextlib.contextmanager
def serving(home: Home) -> Iterator[None]:
    """`agentry serve` for the block: it runs what is queued until the block ends."""
    server = home.serve()
    try:
        yield
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def plain(text: str) -> list[str]:
    return [ansi.strip(line) for line in text.splitlines()]


AGENT = ["sh", "-c", "echo agent ran >> ran.log; cat made.txt .env config/db.local.toml"]


def test_the_setup_runs_before_the_agent_which_sees_what_it_made(home: Home, repo: Path) -> None:
    home.cli("project", str(repo), "--setup", "echo installing; echo made > made.txt",
             "--copy", ".env*", "config/*.local.toml", check=True)  # fmt: skip
    ran = home.cli("run", "--worktree", "--wait", "--cwd", str(repo), "--", *AGENT)
    assert ran.returncode == 0, ran.stderr
    lines = plain(home.output(1))
    assert lines[0] == "[agentry] ── Setup: echo installing; echo made > made.txt ──"
    assert lines[1] == "installing"
    assert lines[2].startswith("[agentry] ── Setup passed in ")
    assert lines[3:] == ["made", "TOKEN=abc", "[db]"], "the agent saw the setup and the copies"
    assert setup_done_at(home, 1) is not None

    # A later run of the same worktree does not set it up again.
    with serving(home):
        home.cli("retry", "1", check=True)
        home.wait_state(1, "succeeded", "failed")
    assert plain(home.output(1)) == ["made", "TOKEN=abc", "[db]"]


def test_a_failing_setup_fails_the_task_and_a_retry_sets_it_up_again(
    home: Home, repo: Path
) -> None:
    home.cli("project", str(repo), "--setup", "echo no network >&2; exit 4",
             "--copy", ".env", "config/*", check=True)  # fmt: skip
    ran = home.cli("run", "--worktree", "--wait", "--cwd", str(repo), "--", *AGENT)
    assert ran.returncode == 1
    reason = "the setup command `echo no network >&2; exit 4` failed with exit code 4"
    assert f"did not start: {reason} (see the Setup section)" in ran.stderr
    run = home.run(1)
    assert (run.state.value, run.reason, run.exit_code) == ("failed", "setup_failed", None)
    assert run.message is not None and run.message.startswith(reason)
    assert "no network" in home.output(1)
    with home.db() as conn:
        worktree = Path(workspace_repo.get(conn, 1).path)  # type: ignore[union-attr]
    assert not (worktree / "ran.log").exists(), "the agent never ran"
    assert setup_done_at(home, 1) is None

    home.cli("project", str(repo), "--setup", "echo fixed > made.txt", check=True)
    with serving(home):
        home.cli("retry", "1", check=True)
        home.wait_state(1, "succeeded", "failed")
    lines = plain(home.output(1))
    assert lines[0] == "[agentry] ── Setup: echo fixed > made.txt ──", "the retry set it up"
    assert lines[2:] == ["fixed", "TOKEN=abc", "[db]"]
    assert (worktree / "ran.log").read_text() == "agent ran\n"
    assert setup_done_at(home, 1) is not None


def test_a_running_supervisor_uses_a_setup_the_cli_just_saved(home: Home, repo: Path) -> None:
    with serving(home):
        home.cli("project", str(repo), "--setup", "echo set up by the new settings", check=True)
        task = int(home.cli("run", "--worktree", "--cwd", str(repo), "--", "true",
                            check=True).stdout)  # fmt: skip
        home.wait_state(task, "succeeded", "failed")
    assert "set up by the new settings" in plain(home.output(task))


def test_project_shows_and_changes_a_repositorys_settings(home: Home, repo: Path) -> None:
    shown = home.cli("project", str(repo / "config"), "--json", check=True)
    assert json.loads(shown.stdout) == {
        "project": str(repo), "copy_files": [".env*"], "setup": "", "check": "",
    }  # fmt: skip
    changed = home.cli("project", str(repo), "--setup", "npm ci", "--check", "make test",
                       "--no-copy", check=True)  # fmt: skip
    assert "Setup command:  npm ci" in changed.stdout and "Saved." in changed.stdout
    assert "Files to copy:  none" in changed.stdout
    again = json.loads(home.cli("project", str(repo), "--json", check=True).stdout)
    assert (again["setup"], again["check"], again["copy_files"]) == ("npm ci", "make test", [])

    refused = home.cli("project", str(repo), "--copy", "../outside/*")
    assert refused.returncode == 1 and "must stay inside the repository" in refused.stderr
    refused = home.cli("project", str(repo), "--setup", "a\nb")
    assert refused.returncode == 1 and "single command line" in refused.stderr


def test_project_outside_a_repository_says_so(home: Home, work_dir: Path) -> None:
    refused = home.cli("project", str(work_dir), "--setup", "npm ci")
    assert refused.returncode == 1
    assert f"{work_dir.resolve()} is not inside a git repository" in refused.stderr
    assert load_settings(home.locations.settings).project_setup == {}, "nothing was saved"


async def _launch_then_leave(home: Home, task_id: int) -> protocol.SetupInfo:
    """A supervisor that starts the task and stops while its setup runs (agents keep on)."""
    sup = Supervisor(home.locations)
    await sup.start()
    try:
        return await async_wait_until(
            lambda: protocol.read_setup_info(home.run_dir(task_id)), message="setup.json"
        )
    finally:
        await sup.stop()


async def _recover(home: Home) -> RecoveryReport:
    sup = Supervisor(home.locations)
    report = await sup.start()
    await sup.stop()
    return report


def test_a_runner_killed_during_setup_is_interrupted_and_its_setup_stopped(
    home: Home, repo: Path
) -> None:
    home.cli("project", str(repo), "--setup", "exec sleep 300", check=True)
    task_id = int(home.cli("run", "--worktree", "--cwd", str(repo), "--", "true",
                           check=True).stdout)  # fmt: skip
    setup = run_async(_launch_then_leave(home, task_id))
    runner_pid = home.run(task_id).runner_pid
    assert runner_pid is not None and alive(setup.pid)
    os.kill(runner_pid, signal.SIGKILL)
    wait_until(lambda: not alive(runner_pid), message="the runner's death")

    report = run_async(_recover(home))

    assert report.interrupted == [task_id]
    assert report.cause(task_id) is RecoveryCause.AGENT_ORPHANED
    assert "died during the worktree's setup" in (home.run(task_id).message or "")
    wait_until(lambda: not alive(setup.pid), message="the orphaned setup to be stopped")
    assert setup_done_at(home, task_id) is None, "a retry sets it up again"
