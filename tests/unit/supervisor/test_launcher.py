"""Preparing a run folder: the exact argv, the prompt file, per-task sessions, missing CLIs."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers.agent_cli import fake_cli

from app.core.models import Run, RunKind, Task, TaskSpec
from app.core.states import RunState
from app.runner import protocol
from app.supervisor.adapters.base import HookConfig
from app.supervisor.adapters.codex import CodexAdapter
from app.supervisor.launcher import HookProber, LaunchError, hook_for, prepare


def _task(agent: str, cwd: Path, *, prompt: str | None = "fix the tests", argv=(), **options):
    spec = TaskSpec(argv=tuple(argv), cwd=str(cwd), agent=agent, prompt=prompt, options=options)
    return Task(7, "t", agent, spec, 0, 0.0, None)


def _run(kind: str = "start", prompt: str | None = None, session: str | None = None) -> Run:
    return Run(id=3, task_id=7, attempt=1, state=RunState.QUEUED, dir="d", priority=0,
               timeout=60.0, created_at=0.0, kind=RunKind(kind), prompt=prompt,
               resume_session=session)  # fmt: skip


def test_a_shell_task_keeps_its_argv_and_sends_its_input_on_stdin(tmp_path: Path) -> None:
    run_dir = tmp_path / "data" / "runs" / "d"
    argv = prepare(run_dir, _task("shell", tmp_path, argv=("make", "test"), prompt="yes\n"),
                   _run(), 2.0)  # fmt: skip
    assert argv == ["make", "test"]
    spec = protocol.read_spec(run_dir)
    assert spec.argv == ["make", "test"] and spec.timeout == 60.0 and spec.grace == 2.0
    assert (run_dir / spec.stdin).read_text() == "yes\n"  # type: ignore[operator]


def test_a_claude_resume_gets_the_session_and_the_follow_up_through_stdin(
    tmp_path: Path,
) -> None:
    claude = fake_cli(tmp_path / "bin", "claude", "2.1.197 (Claude Code)")
    run_dir = tmp_path / "data" / "runs" / "d"
    argv = prepare(run_dir, _task("claude", tmp_path, model="opus"),
                   _run("follow_up", "and now the docs", "sess-1"), 5.0,
                   {"claude": str(claude)})  # fmt: skip
    assert argv == [str(claude), "-p", "--output-format", "stream-json", "--verbose",
                    "--model", "opus", "--resume", "sess-1"]  # fmt: skip
    assert (run_dir / protocol.PROMPT).read_text() == "and now the docs"
    assert json.loads((run_dir / protocol.SPEC).read_text())["adapter"] == "claude"


def test_a_missing_agent_cli_is_a_launch_error_that_says_how_to_install_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(LaunchError, match="npm install -g @anthropic-ai/claude-code"):
        prepare(tmp_path / "runs" / "d", _task("claude", tmp_path), _run(), 5.0,
                {"claude": str(tmp_path / "nope")})  # fmt: skip


def test_aider_keeps_one_history_file_per_task_and_restores_it_on_follow_ups(
    tmp_path: Path,
) -> None:
    aider = fake_cli(tmp_path / "bin", "aider", "aider 0.86.1")
    paths = {"aider": str(aider)}
    first_dir = tmp_path / "data" / "runs" / "one"
    first = prepare(first_dir, _task("aider", tmp_path), _run(), 5.0, paths)
    history = tmp_path / "data" / "sessions" / "task-7.aider.chat.history.md"
    assert first[first.index("--chat-history-file") + 1] == str(history)
    assert "--restore-chat-history" not in first
    assert first[first.index("--message-file") + 1] == str(first_dir / "prompt.md")
    assert (first_dir / "prompt.md").read_text() == "fix the tests"

    history.write_text("#### fix the tests\nDone.\n")  # what aider wrote during run 1
    second = prepare(tmp_path / "data" / "runs" / "two", _task("aider", tmp_path),
                     _run("follow_up", "now the docs", "task-7"), 5.0, paths)  # fmt: skip
    assert second[second.index("--chat-history-file") + 1] == str(history)
    assert "--restore-chat-history" in second


def test_gemini_with_approvals_gets_a_home_of_its_own_with_the_hook_and_the_users_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    (user / ".gemini" / "tmp" / "proj").mkdir(parents=True)
    (user / ".gemini" / "settings.json").write_text('{"model": {"name": "gemini-2.5-pro"}}')
    (user / ".gemini" / "oauth_creds.json").write_text("{}")
    monkeypatch.setenv("GEMINI_CLI_HOME", str(user))
    gemini = fake_cli(tmp_path / "bin", "gemini", "0.61.0")
    run_dir = tmp_path / "data" / "runs" / "d"
    argv = prepare(run_dir, _task("gemini", tmp_path), _run(), 5.0, {"gemini": str(gemini)},
                   approvals=900.0)  # fmt: skip
    assert argv[argv.index("--approval-mode") + 1] == "yolo"
    spec = protocol.read_spec(run_dir)
    own = run_dir / "gemini-home"
    assert spec.env["GEMINI_CLI_HOME"] == str(own)
    settings = json.loads((own / ".gemini" / "settings.json").read_text())
    assert settings["model"] == {"name": "gemini-2.5-pro"}, "the user's settings are kept"
    (hook,) = settings["hooks"]["BeforeTool"][0]["hooks"]
    assert hook["command"].endswith("hook gemini-pretool --run 3 --timeout 900")
    assert hook["timeout"] == (900 + 300) * 1000
    # Everything else is the user's own, so what Gemini writes there lands in ~/.gemini.
    assert (own / ".gemini" / "tmp").resolve() == (user / ".gemini" / "tmp").resolve()
    assert (own / ".gemini" / "oauth_creds.json").is_symlink()
    (own / ".gemini" / "tmp" / "proj" / "chat.json").write_text("{}")
    assert (user / ".gemini" / "tmp" / "proj" / "chat.json").exists()
    assert (user / ".gemini" / "settings.json").read_text() == (
        '{"model": {"name": "gemini-2.5-pro"}}'
    ), "the user's own settings file is never touched"


def test_gemini_without_approvals_runs_as_the_user_set_it_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "user"))
    gemini = fake_cli(tmp_path / "bin", "gemini", "0.61.0")
    run_dir = tmp_path / "data" / "runs" / "d"
    argv = prepare(run_dir, _task("gemini", tmp_path), _run(), 5.0, {"gemini": str(gemini)})
    assert "--approval-mode" not in argv
    assert "GEMINI_CLI_HOME" not in protocol.read_spec(run_dir).env
    assert not (run_dir / "gemini-home").exists()


def test_agents_without_a_hook_run_the_same_with_approvals_on(tmp_path: Path) -> None:
    opencode = fake_cli(tmp_path / "bin", "opencode", "1.0.0")
    runs = tmp_path / "data" / "runs"
    paths = {"opencode": str(opencode)}
    on = prepare(runs / "on", _task("opencode", tmp_path), _run(), 5.0, paths, approvals=900.0)
    off = prepare(runs / "off", _task("opencode", tmp_path), _run(), 5.0, paths)
    assert on == off
    assert sorted(p.name for p in (runs / "on").iterdir()) == sorted(
        p.name for p in (runs / "off").iterdir()
    )


def test_codex_with_approvals_gets_the_hook_on_its_command_line_only(tmp_path: Path) -> None:
    codex = fake_cli(tmp_path / "bin", "codex", "codex-cli 0.171.0")
    run_dir = tmp_path / "data" / "runs" / "d"
    argv = prepare(run_dir, _task("codex", tmp_path), _run(), 5.0, {"codex": str(codex)},
                   approvals=600.0)  # fmt: skip
    override = argv[argv.index("-c") + 1]
    assert override.startswith('hooks.PreToolUse=[{matcher="*",hooks=[{type="command",command=')
    assert "hook codex-pretool --run 3 --timeout 600" in override and ",timeout=900," in override
    assert "--dangerously-bypass-hook-trust" in argv
    assert argv[argv.index("-s") + 1] == "workspace-write"
    assert sorted(p.name for p in run_dir.iterdir()) == sorted([protocol.SPEC, protocol.PROMPT])


def _shadowing_project(folder: Path) -> Path:
    """A project with a package called app of its own, as many have."""
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text("raise ImportError('the projects own app')\n")
    return folder


def test_the_hook_probe_passes_in_a_project_with_its_own_app_package(tmp_path: Path) -> None:
    project = _shadowing_project(tmp_path / "project")
    hook = hook_for(_run(), 900.0, "codex-pretool")
    prober = HookProber()
    prober.check(CodexAdapter(), hook, str(project), {**os.environ, "SHELL": "/bin/sh"})
    assert prober.passed, "a probe that passed is not run again by the same prober"
    assert not HookProber().passed, "another supervisor's prober probes for itself"


def test_a_hook_that_does_not_start_refuses_the_launch_and_says_why(tmp_path: Path) -> None:
    """Without -P the project's app shadows Agentry's: the agent would read the crash as yes."""
    project = _shadowing_project(tmp_path / "project")
    command = [sys.executable, "-m", "app", "hook", "codex-pretool", "--run", "3"]
    prober = HookProber()
    with pytest.raises(LaunchError) as caught:
        prober.check(CodexAdapter(), HookConfig(command, 1200), str(project),
                   {**os.environ, "SHELL": "/bin/sh"})  # fmt: skip
    message = str(caught.value)
    assert "approval hook does not start for Codex CLI" in message and str(project) in message
    assert "the projects own app" in message and "turn off approvals" in message
    assert not prober.passed, "a failed probe is not remembered as passed"


def test_launches_preparing_side_by_side_probe_a_new_hook_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Launches prepare their folders in threads at once: the first probe is waited for."""
    from app.supervisor import launcher

    probes: list[str] = []
    entered = threading.Event()

    def probe(adapter, shell, line, cwd, env) -> None:  # slow enough for both to arrive
        probes.append(line)
        entered.set()
        time.sleep(0.2)

    monkeypatch.setattr(launcher, "_probe", probe)
    prober = HookProber()
    env = {**os.environ, "SHELL": "/bin/sh"}
    threads = [
        threading.Thread(
            target=prober.check,
            args=(CodexAdapter(), hook_for(_run(), 900.0, "codex-pretool"), str(tmp_path), env),
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
        entered.wait(5)  # the others start while the first probes
    for thread in threads:
        thread.join(10)
    assert len(probes) == 1, probes
    assert prober.passed
