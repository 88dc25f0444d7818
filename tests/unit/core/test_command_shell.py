"""Tests for app.core.command_shell: the argv that runs a typed command line, per platform
(the Windows branches run anywhere through ``windows=True``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.core.command_shell import (
    SHELL_KEYS,
    command_argv,
    shell_choices,
    shell_task,
)
from app.core.models import TaskSpec
from app.core.platform import popen_command
from app.core.settings import Settings

LINE = 'echo "a b" | tr a-z A-Z && ls *.sh'


def always(_path: str) -> bool:
    return True


def test_posix_runs_the_line_in_the_login_shell_named_by_shell() -> None:
    argv = command_argv(LINE, windows=False, env={"SHELL": "/usr/bin/zsh"}, usable=always)
    assert argv == ["/usr/bin/zsh", "-lc", LINE]


@pytest.mark.parametrize("env", [{}, {"SHELL": ""}])
def test_posix_without_shell_falls_back_to_bin_sh(env: dict[str, str]) -> None:
    assert command_argv(LINE, windows=False, env=env) == ["/bin/sh", "-c", LINE]


@pytest.mark.parametrize("shell", ["bash", "/no/such/shell"])
def test_posix_passes_over_a_shell_it_cannot_use(shell: str) -> None:
    assert command_argv(LINE, windows=False, env={"SHELL": shell}) == ["/bin/sh", "-c", LINE]


def test_posix_passes_over_a_shell_that_is_a_folder(tmp_path: Path) -> None:
    env = {"SHELL": str(tmp_path)}
    assert command_argv(LINE, windows=False, env=env) == ["/bin/sh", "-c", LINE]


def _executable(path: Path) -> str:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_posix_uses_a_real_executable_shell(tmp_path: Path) -> None:
    shell = _executable(tmp_path / "myshell")
    assert command_argv("x", windows=False, env={"SHELL": shell}) == [shell, "-lc", "x"]


@pytest.mark.parametrize("name", ["tcsh", "csh"])
def test_posix_passes_over_a_c_shell_which_refuses_l_with_c(tmp_path: Path, name: str) -> None:
    env = {"SHELL": _executable(tmp_path / name)}
    assert command_argv("x", windows=False, env=env) == ["/bin/sh", "-c", "x"]


def test_the_sh_choice_skips_the_login_shell() -> None:
    env = {"SHELL": "/bin/bash"}
    assert command_argv(LINE, "sh", windows=False, env=env, usable=always) == [
        "/bin/sh", "-c", LINE,
    ]  # fmt: skip


def test_windows_system_is_cmd_with_its_switches() -> None:
    env = {"COMSPEC": r"C:\Windows\system32\cmd.exe", "SHELL": "/bin/bash"}
    assert command_argv(LINE, windows=True, env=env) == [
        r"C:\Windows\system32\cmd.exe", "/d", "/s", "/c", LINE,
    ]  # fmt: skip
    assert command_argv(LINE, "system", windows=True, env={}) == [
        "cmd.exe", "/d", "/s", "/c", LINE,
    ]  # fmt: skip


def test_windows_powershell_without_logo_or_profile() -> None:
    assert command_argv(LINE, "powershell", windows=True, env={}) == [
        "powershell.exe", "-NoLogo", "-NoProfile", "-Command", LINE,
    ]  # fmt: skip


def test_a_choice_of_the_other_platform_means_system() -> None:
    assert command_argv("x", "powershell", windows=False, env={}) == ["/bin/sh", "-c", "x"]
    assert command_argv("x", "sh", windows=True, env={})[1:] == ["/d", "/s", "/c", "x"]


def test_each_platform_offers_its_own_choices_system_first() -> None:
    assert [c.key for c in shell_choices(windows=False)] == ["system", "sh"]
    assert [c.key for c in shell_choices(windows=True)] == ["system", "powershell"]
    assert {"system", "sh", "powershell"} == SHELL_KEYS


def test_a_shell_task_keeps_the_typed_line_its_argv_and_a_title() -> None:
    spec = shell_task(LINE, "/work", shell="sh", windows=False, env={}, timeout=30.0)
    assert spec.argv == ("/bin/sh", "-c", LINE)
    assert spec.shell_command == LINE and spec.agent == "shell" and spec.timeout == 30.0
    assert spec.title == LINE
    named = shell_task("make  test\n", "/work", title=" Tests ", windows=False, env={})
    assert named.title == "Tests"
    assert TaskSpec.from_json(spec.to_json()).shell_command == LINE


def test_an_argv_given_as_words_has_no_typed_line() -> None:
    assert TaskSpec(argv=("echo", "hi"), cwd="/").shell_command is None


def test_the_setting_refuses_an_unknown_shell() -> None:
    assert Settings().command_shell == "system"
    assert Settings(command_shell="powershell").problems() == []
    (problem,) = Settings(command_shell="fish").problems()
    assert problem.startswith("command_shell must be one of")


@pytest.mark.skipif(os.name == "nt", reason="runs /bin/sh")
def test_the_posix_argv_really_runs_pipes_and_exit_codes(tmp_path: Path) -> None:
    argv = command_argv("echo hi | tr a-z A-Z && exit 3", windows=False, env={})
    done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout == "HI\n" and done.returncode == 3


def test_windows_cmd_gets_the_line_verbatim_not_c_runtime_quoted() -> None:
    line = 'echo "a b" | findstr a && dir *.txt'
    argv = command_argv(line, windows=True, env={"COMSPEC": r"C:\Windows\System32\cmd.exe"})
    assert popen_command(argv, windows=True) == (
        r'C:\Windows\System32\cmd.exe /d /s /c "echo "a b" | findstr a && dir *.txt"'
    )
    spaced = command_argv("ver", windows=True, env={"COMSPEC": r"C:\Program Files\cmd.exe"})
    assert popen_command(spaced, windows=True) == r'"C:\Program Files\cmd.exe" /d /s /c "ver"'


def test_other_argvs_go_to_popen_as_they_are() -> None:
    powershell = command_argv('echo "a b"', "powershell", windows=True, env={})
    assert popen_command(powershell, windows=True) == powershell
    words = ["cmd.exe", "/d", "/s", "/c", "x"]
    assert popen_command(words, windows=False) == words
    assert popen_command(["python", "/d", "/s", "/c", "x"], windows=True)[0] == "python"
