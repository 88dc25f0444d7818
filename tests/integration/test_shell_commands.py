"""Shell commands end to end: `agentry run --shell` runs a command line through the
person's shell (pipes, &&, globs, exit codes), `agentry run -- ARGV` keeps running words."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.agentry import Home

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX shells")

PIPE = "echo hi | tr a-z A-Z && echo done"


def shell_env(home: Home, shell: str | None) -> dict[str, str]:
    env = {k: v for k, v in home.env.items() if k != "SHELL"}
    return env if shell is None else {**env, "SHELL": shell}


def test_run_shell_pipes_and_chains_through_the_login_shell(home: Home, work_dir: Path) -> None:
    result = home.cli("run", "--wait", "--cwd", str(work_dir), "--shell", PIPE,
                      env=shell_env(home, "/bin/bash"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["HI", "done"]
    task = home.task(1)
    assert task.spec.argv == ("/bin/bash", "-lc", PIPE) and task.spec.shell_command == PIPE
    assert task.title == PIPE
    assert home.run(1).argv == ("/bin/bash", "-lc", PIPE)  # what ran is what is recorded


def test_run_shell_without_shell_set_uses_bin_sh(home: Home, work_dir: Path) -> None:
    result = home.cli("run", "--wait", "--cwd", str(work_dir), "--shell", "echo $((6*7))",
                      env=shell_env(home, None))  # fmt: skip
    assert result.returncode == 0 and result.stdout == "42\n"
    assert home.task(1).spec.argv == ("/bin/sh", "-c", "echo $((6*7))")


def test_run_shell_fails_with_the_commands_exit_code(home: Home, work_dir: Path) -> None:
    result = home.cli("run", "--wait", "--cwd", str(work_dir), "--shell", "echo before; exit 3",
                      env=shell_env(home, "/bin/bash"))  # fmt: skip
    assert result.returncode == 3 and result.stdout == "before\n"
    run = home.run(1)
    assert run.state.value == "failed" and run.exit_code == 3


def test_run_shell_expands_globs_in_the_working_folder(home: Home, work_dir: Path) -> None:
    for name in ("b.sh", "a.sh", "c.txt"):
        (work_dir / name).write_text("")
    result = home.cli("run", "--wait", "--cwd", str(work_dir), "--shell", "ls *.sh",
                      env=shell_env(home, "/bin/bash"))  # fmt: skip
    assert result.returncode == 0 and result.stdout.split() == ["a.sh", "b.sh"]


def test_the_sh_setting_runs_bin_sh_even_with_a_login_shell(home: Home, work_dir: Path) -> None:
    home.write_settings(command_shell="sh")
    result = home.cli("run", "--cwd", str(work_dir), "--shell", "true",
                      env=shell_env(home, "/bin/bash"))  # fmt: skip
    assert result.returncode == 0
    assert home.task(1).spec.argv == ("/bin/sh", "-c", "true")


def test_run_with_argv_after_dashes_passes_words_as_given(home: Home, work_dir: Path) -> None:
    result = home.cli("run", "--wait", "--cwd", str(work_dir), "--", "echo", "$HOME", "a|b")
    assert result.returncode == 0 and result.stdout == "$HOME a|b\n"
    spec = home.task(1).spec
    assert spec.argv == ("echo", "$HOME", "a|b") and spec.shell_command is None


def test_run_refuses_both_forms_and_neither_clearly(home: Home, work_dir: Path) -> None:
    both = home.cli("run", "--cwd", str(work_dir), "--shell", "make", "--", "make")
    assert both.returncode == 2 and "not both" in both.stderr
    neither = home.cli("run", "--cwd", str(work_dir))
    assert neither.returncode == 2
    assert "after --" in neither.stderr and "--shell" in neither.stderr
    empty = home.cli("run", "--cwd", str(work_dir), "--shell", "  ")
    assert empty.returncode == 2 and "--shell needs a command line" in empty.stderr
    agent = home.cli("run", "--agent", "claude", "--shell", "make", "fix it")
    assert agent.returncode == 2 and "not claude" in agent.stderr
    assert home.cli("list", "--json").stdout.strip() == "[]"  # nothing was queued
