"""Private by default (issue 12 §3): everything Agentry keeps is its user's alone.

A real `serve` runs a shell task with a prompt, an approval asked through the real hook and
a workflow step, all under the common umask 0o022; then every folder under the data
folder must be 0700 and every file 0600 (the worktrees' contents are git's and the
user's), and another user must not be able to read the prompt.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.agentry import Home, py
from helpers.error_log import ErrorLogCatcher
from helpers.wait import wait_until

from app.core.settings import Settings
from app.runner import protocol
from app.store.settings import save_settings

pytestmark = pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX file modes; on Windows the per-user profile folders restrict access",
)

SECRET = "the secret prompt: deploy key 0123456789"
# Prints its prompt, then waits until the test lets it end.
AGENT = py(
    "import os, sys, time\n"
    "print('got:', sys.stdin.read(), flush=True)\n"
    "while not os.path.exists('release'):\n"
    "    time.sleep(0.05)\n"
)
TOOL_CALL = {"tool_name": "Write", "tool_input": {"file_path": "notes.txt", "content": "x"}}


@pytest.fixture
def common_umask() -> Iterator[None]:
    """The umask most systems give users, inherited by every process the test starts."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def fresh_home(
    common_umask: None, monkeypatch: pytest.MonkeyPatch, fail_on_error_log: ErrorLogCatcher
) -> Iterator[Home]:
    """A data folder Agentry makes itself, in a folder every user may pass through (pytest's
    own temp folders are 0700, which would keep another user out whatever Agentry does)."""
    base = Path(tempfile.mkdtemp(prefix="agentry-private-"))
    base.chmod(0o711)
    home = Home(base / "home")
    monkeypatch.setenv("AGENTRY_HOME", str(home.path))
    settings = Settings(gate_max_cpu_percent=100.0, gate_max_memory_percent=100.0)
    save_settings(home.locations.settings, settings)  # makes the data folder
    try:
        yield home
    finally:
        home.cleanup()
        fail_on_error_log.absorb_log_files(home.locations.logs)
        shutil.rmtree(base, ignore_errors=True)


def not_private(home: Path) -> list[str]:
    """Every folder under ``home`` that is not 0700 and file that is not 0600, with its
    mode; the worktrees' contents are git's and the user's, so only their parent counts."""
    found = []
    for folder, subfolders, files in os.walk(home):
        here = Path(folder)
        if here == home / "worktrees":
            subfolders.clear()
        for name, wanted in [(n, 0o700) for n in subfolders] + [(n, 0o600) for n in files]:
            path = here / name
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode != wanted:
                found.append(f"{path.relative_to(home)} is {mode:04o}, not {wanted:04o}")
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode != 0o700:
        found.append(f"the data folder is {mode:04o}, not 0700")
    return found


def run_task_with_prompt_and_approval(home: Home, work_dir: Path) -> Path:
    """A shell task reads its prompt; while it runs, the hook asks for a tool call of its
    run and a person approves it. Returns the run folder."""
    task_id = home.submit(AGENT, work_dir, prompt=SECRET)
    home.runner_info(task_id)
    hook = subprocess.Popen(
        home.cli_argv("hook", "claude-pretool", "--run", str(home.run(task_id).id)),
        env=home.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert hook.stdin is not None and hook.stdout is not None and hook.stderr is not None
    try:
        hook.stdin.write(json.dumps(TOOL_CALL))
        hook.stdin.close()  # the hook reads the call to its end
        pending = wait_until(home.pending_approvals, message="the hook's approval to be pending")
        home.cli("approve", pending[0]["id"], check=True)
        hook.wait(timeout=30)
    finally:
        if hook.poll() is None:
            hook.kill()
            hook.wait()
    with hook.stdout, hook.stderr:
        out, err = hook.stdout.read(), hook.stderr.read()
    assert hook.returncode == 0, err
    assert '"allow"' in out
    (work_dir / "release").touch()
    home.wait_state(task_id, "succeeded")
    assert SECRET in home.output(task_id)
    return home.run_dir(task_id)


def run_workflow_step(home: Home, work_dir: Path) -> None:
    """The built-in shell workflow's first step runs and waits at its checkpoint."""
    home.cli("workflow", "run", "shell-demo", "--input", SECRET, "--cwd", str(work_dir),
             check=True)  # fmt: skip
    wait_until(
        lambda: json.loads(home.cli("checkpoints", "--json", check=True).stdout),
        timeout=60,
        message="the workflow's first step to reach its checkpoint",
    )


@dataclass
class UsedHome:
    """A fresh home after a task with a prompt, an approval and a workflow step."""

    home: Home
    serve: subprocess.Popen[str]  # still supervising: the database's WAL is open
    prompt: Path


@pytest.fixture
def used_home(fresh_home: Home, work_dir: Path) -> UsedHome:
    serve = fresh_home.serve()
    run_dir = run_task_with_prompt_and_approval(fresh_home, work_dir)
    run_workflow_step(fresh_home, work_dir)
    prompt = run_dir / protocol.PROMPT
    assert prompt.read_text() == SECRET
    return UsedHome(fresh_home, serve, prompt)


def test_everything_agentry_keeps_is_private_whatever_the_umask(used_home: UsedHome) -> None:
    home = used_home.home
    assert (home.path / "agentry.db-wal").exists()
    offenders = not_private(home.path)
    assert not offenders, "not private while serving:\n" + "\n".join(offenders)
    used_home.serve.terminate()
    used_home.serve.communicate(timeout=30)
    offenders = not_private(home.path)
    assert not offenders, "not private after a clean shutdown:\n" + "\n".join(offenders)


def test_another_user_cannot_read_a_prompt(used_home: UsedHome) -> None:
    prompt = used_home.prompt
    if os.geteuid() != 0:
        pytest.skip("switching to another user needs root")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("there is no user 'nobody' to read as")
    as_nobody = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
    control = subprocess.run([*as_nobody, "true"], capture_output=True, text=True)
    assert control.returncode == 0, f"setpriv cannot switch to nobody: {control.stderr}"
    read = subprocess.run([*as_nobody, "cat", str(prompt)], capture_output=True, text=True)
    assert read.returncode != 0, f"user nobody read the prompt: {read.stdout!r}"
    assert "Permission denied" in read.stderr
    assert SECRET not in read.stdout
