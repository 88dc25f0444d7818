"""Tests for app.core.platform: the Windows branches run on any OS via ``windows=True``."""

from __future__ import annotations

import errno

import pytest

from app.core import platform
from app.core.platform import (
    agent_popen_kwargs,
    can_fsync_directory,
    cmd_line_without_quotes,
    detached_popen_kwargs,
    is_breakaway_refused,
    is_transient_fs_error,
    os_error_code,
    powershell_line,
)

# winbase.h values, spelled out so a typo in the module cannot pass unnoticed.
DETACHED_PROCESS = 0x00000008
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_NO_WINDOW = 0x08000000
CREATE_BREAKAWAY_FROM_JOB = 0x01000000


def _winerror(code: int, err: int = errno.EINVAL) -> OSError:
    """An OSError shaped like one raised on Windows; EINVAL keeps errno out of the decision."""
    exc = OSError(err, f"fake WinError {code}")
    exc.winerror = code  # type: ignore[attr-defined]
    return exc


# --- is_transient_fs_error -----------------------------------------------------------


@pytest.mark.parametrize("code", [5, 32, 33])
def test_sharing_and_access_winerrors_are_transient_on_windows(code: int) -> None:
    assert is_transient_fs_error(_winerror(code), windows=True)


def test_winerror_2_file_not_found_is_not_transient_on_windows() -> None:
    assert not is_transient_fs_error(_winerror(2, errno.ENOENT), windows=True)


@pytest.mark.parametrize("code", [5, 32, 33])
def test_winerror_attribute_is_ignored_off_windows(code: int) -> None:
    assert not is_transient_fs_error(_winerror(code), windows=False)


@pytest.mark.parametrize("windows", [False, True], ids=["posix", "windows"])
def test_permission_error_is_transient(windows: bool) -> None:
    assert is_transient_fs_error(PermissionError("denied"), windows=windows)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM, errno.EBUSY], ids=errno.errorcode.get)
@pytest.mark.parametrize("windows", [False, True], ids=["posix", "windows"])
def test_transient_errno_is_transient(code: int, windows: bool) -> None:
    assert is_transient_fs_error(OSError(code, "try again"), windows=windows)


@pytest.mark.parametrize("code", [errno.ENOENT, errno.EXDEV], ids=errno.errorcode.get)
@pytest.mark.parametrize("windows", [False, True], ids=["posix", "windows"])
def test_missing_file_and_cross_device_errors_are_not_transient(code: int, windows: bool) -> None:
    assert not is_transient_fs_error(OSError(code, "permanent"), windows=windows)


def test_oserror_without_errno_is_not_transient() -> None:
    assert not is_transient_fs_error(OSError("no errno at all"), windows=True)


def test_exception_that_is_not_an_oserror_is_not_transient() -> None:
    assert not is_transient_fs_error(ValueError("nope"), windows=True)


# --- os_error_code -------------------------------------------------------------------


def test_os_error_code_names_the_winerror_when_there_is_one() -> None:
    assert os_error_code(_winerror(32)) == "WinError 32"


def test_os_error_code_names_the_errno_symbol() -> None:
    assert os_error_code(OSError(errno.EACCES, "denied")) == "EACCES"


def test_os_error_code_falls_back_to_the_number_for_an_unknown_errno() -> None:
    assert os_error_code(OSError(987654, "odd")) == "987654"


def test_os_error_code_falls_back_to_the_type_name_without_errno() -> None:
    assert os_error_code(FileExistsError("no errno")) == "FileExistsError"


# --- Popen arguments -----------------------------------------------------------------


def test_module_flags_match_winbase_values() -> None:
    assert platform.DETACHED_PROCESS == DETACHED_PROCESS
    assert platform.CREATE_NEW_PROCESS_GROUP == CREATE_NEW_PROCESS_GROUP
    assert platform.CREATE_NO_WINDOW == CREATE_NO_WINDOW
    assert platform.CREATE_BREAKAWAY_FROM_JOB == CREATE_BREAKAWAY_FROM_JOB


def test_detached_posix_runner_starts_a_new_session() -> None:
    kwargs = detached_popen_kwargs(windows=False)
    assert kwargs["start_new_session"] is True
    assert kwargs["close_fds"] is True
    assert "creationflags" not in kwargs


def test_detached_windows_runner_is_detached_in_its_own_group_and_breaks_away() -> None:
    kwargs = detached_popen_kwargs(windows=True, breakaway=True)
    flags = kwargs["creationflags"]
    assert flags & DETACHED_PROCESS
    assert flags & CREATE_NEW_PROCESS_GROUP
    assert flags & CREATE_BREAKAWAY_FROM_JOB
    assert "start_new_session" not in kwargs


def test_detached_windows_runner_breaks_away_by_default() -> None:
    assert detached_popen_kwargs(windows=True)["creationflags"] & CREATE_BREAKAWAY_FROM_JOB


def test_detached_windows_runner_without_breakaway_keeps_the_other_flags() -> None:
    flags = detached_popen_kwargs(windows=True, breakaway=False)["creationflags"]
    assert flags == DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP


def test_posix_agent_gets_its_own_session() -> None:
    kwargs = agent_popen_kwargs(windows=False)
    assert kwargs["start_new_session"] is True
    assert "creationflags" not in kwargs


def test_windows_agent_gets_its_own_group_and_no_console_window() -> None:
    kwargs = agent_popen_kwargs(windows=True)
    flags = kwargs["creationflags"]
    assert flags & CREATE_NEW_PROCESS_GROUP
    assert flags & CREATE_NO_WINDOW
    assert not flags & DETACHED_PROCESS
    assert "start_new_session" not in kwargs


# --- breakaway refusal and directory fsync ---------------------------------------------


def test_access_denied_on_windows_means_breakaway_was_refused() -> None:
    assert is_breakaway_refused(_winerror(5), windows=True)


def test_other_winerror_is_not_a_breakaway_refusal() -> None:
    assert not is_breakaway_refused(_winerror(2, errno.ENOENT), windows=True)


def test_breakaway_is_never_refused_off_windows() -> None:
    assert not is_breakaway_refused(_winerror(5), windows=False)


def test_plain_permission_error_without_winerror_is_not_a_breakaway_refusal() -> None:
    assert not is_breakaway_refused(PermissionError(errno.EACCES, "denied"), windows=True)


def test_non_oserror_is_not_a_breakaway_refusal() -> None:
    assert not is_breakaway_refused(RuntimeError("boom"), windows=True)


def test_directories_can_be_fsynced_on_posix() -> None:
    assert can_fsync_directory(windows=False)


def test_directories_cannot_be_fsynced_on_windows() -> None:
    assert not can_fsync_directory(windows=True)


def test_the_frozen_windows_app_runs_runners_and_hooks_through_its_console_twin() -> None:
    from app.core.platform import frozen_cli_executable

    exe = "C:/Programs/Agentry/app-1.0/agentry.exe"
    assert frozen_cli_executable(exe, windows=True, exists=lambda p: True).endswith(
        "agentry-cli.exe"
    )
    assert frozen_cli_executable(exe, windows=True, exists=lambda p: False) == exe
    assert frozen_cli_executable("/opt/agentry/agentry", windows=False) == "/opt/agentry/agentry"


# --- hook command lines -------------------------------------------------------------------


def test_powershell_line_quotes_only_what_needs_it() -> None:
    argv = ["C:\\Program Files\\Agentry\\agentry-cli.exe", "hook", "gemini-pretool", "--run", "5"]
    assert powershell_line(argv) == (
        "& 'C:\\Program Files\\Agentry\\agentry-cli.exe' hook gemini-pretool --run 5"
    )
    assert powershell_line(["C:\\Users\\O'Brien\\a.exe", "x"]) == "& 'C:\\Users\\O''Brien\\a.exe' x"


def test_cmd_line_uses_short_names_for_paths_with_spaces_and_never_quotes() -> None:
    shorts = {"C:\\Program Files\\Agentry\\agentry-cli.exe": "C:\\PROGRA~1\\Agentry\\AGENTR~1.EXE"}
    argv = ["C:\\Program Files\\Agentry\\agentry-cli.exe", "hook", "codex-pretool", "--run", "5"]
    assert cmd_line_without_quotes(argv, shorts.get) == (
        "C:\\PROGRA~1\\Agentry\\AGENTR~1.EXE hook codex-pretool --run 5"
    )
    plain = ["C:\\Users\\me\\AppData\\Local\\Programs\\Agentry\\agentry-cli.exe", "hook"]
    assert cmd_line_without_quotes(plain, shorts.get) == " ".join(plain)
    # 8.3 names switched off on that volume: no line at all, rather than a broken one
    assert cmd_line_without_quotes(["C:\\No Short\\a.exe", "hook"], lambda _p: None) is None
    assert cmd_line_without_quotes(["C:\\a.exe", "a&b"], shorts.get) is None


def test_a_persons_command_line_runs_through_the_platforms_shell() -> None:
    assert platform.shell_argv("make test", windows=False) == ["/bin/sh", "-c", "make test"]
    argv = platform.shell_argv("npm ci && npm test", windows=True)
    assert argv[1:] == ["/d", "/s", "/c", "npm ci && npm test"]
