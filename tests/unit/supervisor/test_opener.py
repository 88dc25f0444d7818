"""Which program "Open in editor" and "Open in terminal" start, on every platform, chosen
from the settings, the environment and what is on PATH (nothing is launched but a probe)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.wait import wait_until

from app.supervisor.opener import (
    CannotOpen,
    editor_argv,
    folder_argv,
    launch,
    open_folder,
    terminal_argv,
)


def on_path(*names: str) -> Callable[[str], str | None]:
    return lambda name: f"/usr/bin/{name}" if name in names else None


def test_no_editor_set_picks_code_when_it_is_on_path() -> None:
    assert editor_argv("", "/w/3-fix", which=on_path("code")) == ["/usr/bin/code", "/w/3-fix"]


def test_no_editor_set_and_no_code_leaves_the_folder_to_the_os() -> None:
    assert editor_argv("  ", "/w/3-fix", which=on_path()) is None


def test_the_editor_command_is_a_command_line_and_gets_the_folder_last() -> None:
    argv = editor_argv("subl -n --wait", "/w/3 fix", which=on_path("subl", "code"))
    assert argv == ["/usr/bin/subl", "-n", "--wait", "/w/3 fix"]


def test_a_windows_editor_command_keeps_its_quoted_path_and_backslashes() -> None:
    exe = r"C:\Program Files\Editor\ed.exe"
    argv = editor_argv(f'"{exe}" --new-window', r"C:\w\3", which=lambda name: name, windows=True)
    assert argv == [exe, "--new-window", r"C:\w\3"]


def test_an_editor_that_is_not_installed_is_named_with_what_to_do() -> None:
    with pytest.raises(CannotOpen, match=r"names nvim-qt, which was not found.*Settings"):
        editor_argv("nvim-qt -- ", "/w", which=on_path("code"))


def test_an_unreadable_editor_command_is_refused() -> None:
    with pytest.raises(CannotOpen, match="cannot be read"):
        editor_argv('code "unclosed', "/w", which=on_path("code"))


def test_macos_opens_terminal_app_on_the_folder() -> None:
    assert terminal_argv("/w", platform="darwin", which=on_path()) == [
        "open", "-a", "Terminal", "/w"
    ]  # fmt: skip


def test_windows_prefers_windows_terminal_then_cmd() -> None:
    assert terminal_argv(r"C:\w", platform="win32", which=on_path("wt")) == [
        "/usr/bin/wt", "-d", r"C:\w"
    ]  # fmt: skip
    cmd = terminal_argv(r"C:\w", platform="win32", which=on_path(), env={"COMSPEC": "cmd.exe"})
    assert cmd == ["cmd.exe", "/K"]  # its working directory is the folder


def test_linux_takes_the_terminal_variable_first() -> None:
    env = {"TERMINAL": "alacritty --class work"}
    found = on_path("alacritty", "xterm")
    assert terminal_argv("/w", platform="linux", which=found, env=env) == [
        "/usr/bin/alacritty", "--class", "work"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        (("x-terminal-emulator", "xterm"), ["/usr/bin/x-terminal-emulator"]),
        (("gnome-terminal", "xterm"), ["/usr/bin/gnome-terminal", "--working-directory=/w"]),
        (("konsole",), ["/usr/bin/konsole", "--workdir", "/w"]),
        (("xterm",), ["/usr/bin/xterm"]),
    ],
)
def test_linux_falls_back_to_the_first_known_terminal_found(
    installed: tuple[str, ...], expected: list[str]
) -> None:
    env = {"TERMINAL": "not-installed"}
    assert terminal_argv("/w", platform="linux", which=on_path(*installed), env=env) == expected


def test_linux_without_any_terminal_has_none() -> None:
    assert terminal_argv("/w", platform="linux", which=on_path(), env={}) is None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX sessions")
def test_launch_starts_the_program_in_the_folder_on_its_own(tmp_path: Path) -> None:
    probe = "import os; open('started', 'w').write(str(os.getsid(0) == os.getpid()))"
    launch([sys.executable, "-c", probe], str(tmp_path))
    wait_until(lambda: (tmp_path / "started").exists() and (tmp_path / "started").read_text())
    assert (tmp_path / "started").read_text() == "True"  # a session of its own


def test_a_program_that_cannot_start_is_a_message(tmp_path: Path) -> None:
    with pytest.raises(CannotOpen, match="could not be started in"):
        launch([str(tmp_path / "no-such-editor")], str(tmp_path))


def _script(folder: Path, name: str, body: str) -> str:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_the_file_manager_command_per_platform() -> None:
    assert folder_argv("/w", platform="darwin") == ["open", "/w"]
    assert folder_argv("/w", platform="win32") is None
    assert folder_argv("/w", platform="linux", which=on_path("xdg-open", "gio")) == [
        "/usr/bin/xdg-open", "/w"
    ]  # fmt: skip
    assert folder_argv("/w", platform="linux", which=on_path("gio")) == [
        "/usr/bin/gio", "open", "/w"
    ]  # fmt: skip
    assert folder_argv("/w", platform="linux", which=on_path()) is None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell scripts as the opener")
def test_a_folder_that_cannot_be_opened_says_why(tmp_path: Path) -> None:
    target = tmp_path / "work"
    target.mkdir()
    failing = _script(tmp_path, "xdg-open", 'echo "xdg-open: no method available" >&2; exit 3')
    with pytest.raises(CannotOpen, match=r"xdg-open could not open .*work: no program to open "
                       r"folders is installed \(xdg-open: no method available\)"):  # fmt: skip
        open_folder(str(target), platform="linux", which=lambda _n: failing)
    with pytest.raises(CannotOpen, match=r"No program to open folders was found"):
        open_folder(str(target), platform="linux", which=on_path())
    with pytest.raises(CannotOpen, match=r"gone does not exist any more"):
        open_folder(str(tmp_path / "gone"), platform="linux", which=lambda _n: failing)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell scripts as the opener")
def test_an_opener_that_succeeds_or_is_still_starting_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "work"
    target.mkdir()
    seen = tmp_path / "seen"
    ok = _script(tmp_path, "ok", f'echo "$1" > {seen}')
    open_folder(str(target), platform="linux", which=lambda _n: ok)
    assert seen.read_text().strip() == str(target)
    slow = _script(tmp_path, "slow", "sleep 5")
    open_folder(str(target), platform="linux", which=lambda _n: slow, wait_s=0.2)
