"""Tests for app.store.fsops: atomic writes, retried renames, careful reads, cleanup."""

from __future__ import annotations

import errno
import json
import logging
import os
import pickle
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from app.runner import procs
from app.store import fsops
from app.store.fsops import (
    CorruptFileError,
    FileOperationError,
    atomic_write,
    cleanup_temp_files,
    fsync_dir,
    read_json,
    replace_with_retry,
    temp_path_for,
    write_json,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
LOGGER_NAME = "app.store.fsops"


def _winerror(code: int, err: int = errno.EINVAL) -> OSError:
    """An OSError shaped like one from Windows (``.winerror`` set) on any platform."""
    exc = OSError(err, f"fake WinError {code}")
    exc.winerror = code  # type: ignore[attr-defined]
    return exc


class FlakyReplace:
    """Stands in for os.replace: raises the given errors first, then really renames."""

    def __init__(self, errors: Sequence[OSError], real: Callable[..., None] = os.replace) -> None:
        self.errors = list(errors)
        self.calls = 0
        self._real = real

    def __call__(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self._real(src, dst)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """A source file with new content and a target with old content, in one folder."""
    src, dst = tmp_path / "src.tmp", tmp_path / "state.json"
    src.write_bytes(b"new")
    dst.write_bytes(b"old")
    return src, dst


def _temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- replace_with_retry -------------------------------------------------------------


def test_transient_errors_are_retried_with_doubling_delays_until_success(
    pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    src, dst = pair
    flaky = FlakyReplace([PermissionError(errno.EACCES, "denied")] * 3)
    monkeypatch.setattr(os, "replace", flaky)
    sleeps: list[float] = []
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)

    replace_with_retry(src, dst, sleep=sleeps.append, windows=False)

    assert dst.read_bytes() == b"new"
    assert not src.exists()
    assert flaky.calls == 4
    assert sleeps == pytest.approx([0.05, 0.1, 0.2])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    for n, record in enumerate(warnings, start=1):
        message = record.getMessage()
        assert str(dst) in message
        assert f"attempt {n}/10" in message
        assert "EACCES" in message


@pytest.mark.parametrize(
    ("make_error", "windows"),
    [
        pytest.param(lambda: _winerror(32), True, id="winerror-32-sharing-violation"),
        pytest.param(lambda: _winerror(33), True, id="winerror-33-lock-violation"),
        pytest.param(lambda: _winerror(5), True, id="winerror-5-access-denied"),
        pytest.param(lambda: OSError(errno.EBUSY, "busy"), False, id="ebusy"),
        pytest.param(lambda: PermissionError(errno.EPERM, "eperm"), False, id="eperm"),
    ],
)
def test_transient_error_is_retried(
    pair: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    make_error: Callable[[], OSError],
    windows: bool,
) -> None:
    src, dst = pair
    flaky = FlakyReplace([make_error()])
    monkeypatch.setattr(os, "replace", flaky)

    replace_with_retry(src, dst, sleep=lambda _: None, windows=windows)

    assert flaky.calls == 2
    assert dst.read_bytes() == b"new"


@pytest.mark.parametrize(
    ("make_error", "windows", "code"),
    [
        pytest.param(lambda: _winerror(2, errno.ENOENT), True, "WinError 2", id="winerror-2"),
        pytest.param(lambda: _winerror(32), False, "WinError 32", id="winerror-32-on-posix"),
        pytest.param(lambda: FileNotFoundError(errno.ENOENT, "gone"), False, "ENOENT", id="enoent"),
        pytest.param(lambda: OSError(errno.EXDEV, "cross-device"), False, "EXDEV", id="exdev"),
    ],
)
def test_permanent_error_fails_after_one_attempt(
    pair: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    make_error: Callable[[], OSError],
    windows: bool,
    code: str,
) -> None:
    src, dst = pair
    flaky = FlakyReplace([make_error()] * 5)
    monkeypatch.setattr(os, "replace", flaky)
    sleeps: list[float] = []

    with pytest.raises(FileOperationError) as info:
        replace_with_retry(src, dst, sleep=sleeps.append, windows=windows)

    assert flaky.calls == 1
    assert sleeps == []
    assert info.value.attempts == 1
    assert code in str(info.value)
    assert dst.read_bytes() == b"old"


def test_persistent_transient_error_fails_after_exactly_attempts_tries(
    pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dst = pair
    last = PermissionError(errno.EACCES, "Permission denied")
    flaky = FlakyReplace([PermissionError(errno.EACCES, "Permission denied")] * 5 + [last])
    monkeypatch.setattr(os, "replace", flaky)
    sleeps: list[float] = []

    with pytest.raises(FileOperationError) as info:
        replace_with_retry(src, dst, attempts=6, max_delay=0.2, sleep=sleeps.append)

    error = info.value
    assert flaky.calls == 6
    assert (error.path, error.operation, error.attempts) == (dst, "replace", 6)
    assert error.os_error is last
    assert error.__cause__ is last
    message = str(error)
    assert str(dst) in message
    assert str(src) in message
    assert "replace" in message
    assert "6 attempts" in message
    assert "EACCES" in message
    assert "antivirus" in message  # ends with what to do
    assert sleeps == pytest.approx([0.05, 0.1, 0.2, 0.2, 0.2])
    assert dst.read_bytes() == b"old"


def test_file_operation_error_is_an_oserror_and_survives_pickling(tmp_path: Path) -> None:
    cause = _winerror(32)
    error = FileOperationError(tmp_path / "runner.json", "replace", 10, cause, tmp_path / "t")

    copy = pickle.loads(pickle.dumps(error))

    assert isinstance(error, OSError)
    assert str(copy) == str(error)
    assert "could not replace" in str(error)
    assert "after 10 attempts" in str(error)
    assert "WinError 32" in str(error)


def test_device_mismatch_is_refused_before_any_rename(
    pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dst = pair
    monkeypatch.setattr(fsops, "_device_of", lambda p: 111 if Path(p) == src else 222)
    flaky = FlakyReplace([])
    monkeypatch.setattr(os, "replace", flaky)

    with pytest.raises(FileOperationError) as info:
        replace_with_retry(src, dst, sleep=lambda _: None)

    assert flaky.calls == 0
    assert info.value.operation == "replace"
    message = str(info.value)
    assert "111" in message
    assert "222" in message
    assert "beside its target" in message
    assert dst.read_bytes() == b"old"
    assert src.exists()


def test_device_is_checked_again_before_each_retry(
    pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dst = pair
    flaky = FlakyReplace([_winerror(32)])
    monkeypatch.setattr(os, "replace", flaky)
    checks: list[str] = []

    def device_of(path: str | os.PathLike[str]) -> int:
        checks.append(str(path))
        moved = Path(path) == src and flaky.calls >= 1  # "remounted" after the 1st try
        return 2 if moved else 1

    monkeypatch.setattr(fsops, "_device_of", device_of)

    with pytest.raises(FileOperationError) as info:
        replace_with_retry(src, dst, sleep=lambda _: None, windows=True)

    assert flaky.calls == 1
    assert info.value.attempts == 2
    assert "device" in str(info.value)


def test_real_same_device_replace_succeeds_without_fakes(pair: tuple[Path, Path]) -> None:
    src, dst = pair

    replace_with_retry(src, dst)

    assert dst.read_bytes() == b"new"


# --- atomic_write / write_json ------------------------------------------------------


def test_atomic_write_creates_missing_parent_folders(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "r1" / "runner.json"

    atomic_write(target, "héllo")

    assert target.read_bytes() == "héllo".encode()
    assert _temp_files(target.parent) == []


def test_atomic_write_fsync_failure_keeps_old_content_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)

    with pytest.raises(FileOperationError) as info:
        atomic_write(target, b"new")

    assert info.value.operation == "fsync"
    assert "EIO" in str(info.value)
    assert target.read_bytes() == b"old"
    assert _temp_files(tmp_path) == []


def test_atomic_write_failed_replace_leaves_target_absent_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "exit.json"
    monkeypatch.setattr(os, "replace", FlakyReplace([OSError(errno.EROFS, "read-only")]))

    with pytest.raises(FileOperationError, match="read-only"):
        atomic_write(target, b"new")

    assert not target.exists()
    assert _temp_files(tmp_path) == []


def test_atomic_write_device_mismatch_keeps_old_content_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    monkeypatch.setattr(fsops, "_device_of", lambda p: 1 if str(p).endswith(".tmp") else 2)

    with pytest.raises(FileOperationError, match="device"):
        atomic_write(target, b"new")

    assert target.read_bytes() == b"old"
    assert _temp_files(tmp_path) == []


def test_write_json_is_indented_utf8_in_key_order_with_trailing_newline(tmp_path: Path) -> None:
    target = tmp_path / "runner.json"

    write_json(target, {"zeta": 1, "alpha": ["é", None]})

    text = target.read_bytes().decode("utf-8")
    assert text == '{\n  "zeta": 1,\n  "alpha": [\n    "é",\n    null\n  ]\n}\n'
    assert read_json(target) == {"zeta": 1, "alpha": ["é", None]}


def test_write_json_unserialisable_object_leaves_disk_untouched(tmp_path: Path) -> None:
    target = tmp_path / "runner.json"

    with pytest.raises(TypeError):
        write_json(target, {"x": object()})

    assert list(tmp_path.iterdir()) == []


def test_temp_path_is_hidden_beside_target_and_names_this_pid(tmp_path: Path) -> None:
    target = tmp_path / "runner.json"

    first, second = temp_path_for(target), temp_path_for(target)

    assert first.parent == tmp_path
    assert first.name.startswith(f".runner.json.{os.getpid()}.")
    assert first.name.endswith(".tmp")
    assert first != second


# --- crash safety -------------------------------------------------------------------

PAYLOAD_SIZE = 20 * 1024 * 1024
WRITER_CODE = """
import sys
from app.store.fsops import atomic_write

target, size = sys.argv[1], int(sys.argv[2])
value = int(sys.argv[3])
while True:
    value = (value + 1) % 256
    atomic_write(target, bytes([value]) * size)
"""


def _assert_absent_or_one_full_payload(target: Path) -> None:
    if not target.exists():
        return
    data = target.read_bytes()
    assert len(data) == PAYLOAD_SIZE
    assert data == data[:1] * PAYLOAD_SIZE


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only")
def test_writer_killed_mid_write_leaves_old_or_new_file_and_cleanup_removes_its_temp(
    tmp_path: Path, rng: random.Random
) -> None:
    target = tmp_path / "big.bin"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    killed_pids: set[int] = set()

    for round_ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER_CODE, str(target), str(PAYLOAD_SIZE), str(round_ * 50)],
            cwd=REPO_ROOT,
            env=env,
        )
        time.sleep(rng.uniform(0.15, 0.5))
        proc.kill()
        proc.wait()  # reaped, so its pid no longer answers signal 0
        assert proc.returncode == -9, "the writer died before it was killed"
        killed_pids.add(proc.pid)
        _assert_absent_or_one_full_payload(target)

    leftovers = _temp_files(tmp_path)
    assert {int(p.name.split(".")[-3]) for p in leftovers} <= killed_pids
    ours = temp_path_for(target)
    ours.write_bytes(b"in progress")

    removed = cleanup_temp_files(tmp_path, writer_alive=procs.pid_exists)

    assert sorted(removed) == leftovers
    assert _temp_files(tmp_path) == [ours]
    _assert_absent_or_one_full_payload(target)


# --- cleanup_temp_files -------------------------------------------------------------


def test_cleanup_removes_temp_of_dead_writer_and_keeps_live_and_unrelated_files(
    tmp_path: Path,
) -> None:
    dead = tmp_path / f".runner.json.{_dead_pid()}.ab12cd34.tmp"
    live = tmp_path / f".runner.json.{os.getpid()}.ab12cd34.tmp"
    other = tmp_path / "notes.tmp"
    nested = tmp_path / "sub" / dead.name
    nested.parent.mkdir()
    for path in (dead, live, other, nested):
        path.write_bytes(b"x")

    removed = cleanup_temp_files(tmp_path, writer_alive=procs.pid_exists)

    assert removed == [dead]
    assert not dead.exists()
    assert live.exists() and other.exists() and nested.exists()


def test_cleanup_of_missing_folder_returns_nothing(tmp_path: Path) -> None:
    assert cleanup_temp_files(tmp_path / "absent", writer_alive=procs.pid_exists) == []


def test_cleanup_logs_and_skips_a_file_it_cannot_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pid = _dead_pid()
    stuck = tmp_path / f".a.json.{pid}.0001.tmp"
    loose = tmp_path / f".b.json.{pid}.0002.tmp"
    stuck.write_bytes(b"x")
    loose.write_bytes(b"x")
    real_unlink = os.unlink

    def unlink(path: str | os.PathLike[str]) -> None:
        if Path(path) == stuck:
            raise PermissionError(errno.EACCES, "in use")
        real_unlink(path)

    monkeypatch.setattr(os, "unlink", unlink)
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)

    removed = cleanup_temp_files(tmp_path, writer_alive=procs.pid_exists)

    assert removed == [loose]
    assert stuck.exists()
    assert any(str(stuck) in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("running", "age_seconds", "expect_removed"),
    [
        pytest.param(False, 0, True, id="gone"),
        pytest.param(True, 7200, False, id="alive-even-if-old"),
        pytest.param(None, 60, False, id="unsure-and-young"),
        pytest.param(None, 7200, True, id="unsure-and-older-than-an-hour"),
    ],
)
def test_cleanup_trusts_the_writer_check_and_falls_back_to_age_when_unsure(
    tmp_path: Path,
    running: bool | None,
    age_seconds: float,
    expect_removed: bool,
) -> None:
    leftover = tmp_path / ".runner.json.4242.00ff.tmp"
    leftover.write_bytes(b"x")
    old = time.time() - age_seconds
    os.utime(leftover, (old, old))
    removed = cleanup_temp_files(tmp_path, writer_alive=lambda pid: running)

    assert (removed == [leftover]) is expect_removed
    assert leftover.exists() is not expect_removed


# --- read_json ----------------------------------------------------------------------


def test_read_json_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "exit.json")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b'{"a": }', "line 1 column 7", id="invalid-json"),
        pytest.param(b'{"a": "\xff\xfe"}', "not UTF-8", id="invalid-utf8"),
        pytest.param(b"", "line 1 column 1", id="empty"),
        pytest.param(b'{"a": 1', "line 1 column 8", id="truncated"),
    ],
)
def test_read_json_bad_content_raises_corrupt_file_error_and_keeps_file(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "exit.json"
    path.write_bytes(content)

    with pytest.raises(CorruptFileError) as info:
        read_json(path)

    assert info.value.path == path
    message = str(info.value)
    assert message.startswith(f"{path} is not valid JSON (")
    assert reason in message
    assert message.endswith("the file was kept for inspection")
    assert isinstance(info.value, ValueError)
    assert path.read_bytes() == content


def test_read_json_tolerates_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "edited.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"ok": True}).encode())

    assert read_json(path) == {"ok": True}


# --- fsync_dir ----------------------------------------------------------------------


def test_fsync_dir_on_a_real_folder_does_not_raise(tmp_path: Path) -> None:
    fsync_dir(tmp_path)


@pytest.mark.parametrize("code", [errno.EINVAL, errno.EBADF])
def test_fsync_dir_ignores_filesystems_that_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def refuse(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refuse)

    fsync_dir(tmp_path)


def test_fsync_dir_reports_a_real_io_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail)

    with pytest.raises(FileOperationError, match="fsync"):
        fsync_dir(tmp_path)


def test_fsync_dir_is_a_no_op_where_the_os_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fsops, "can_fsync_directory", lambda **_: False)
    monkeypatch.setattr(os, "open", _fail_if_opened)

    fsync_dir(tmp_path / "does-not-even-exist")


def _fail_if_opened(*args: object) -> int:
    raise AssertionError("fsync_dir must not open the folder where the OS cannot fsync it")


def test_link_or_copy_links_folders_and_files_so_writes_land_in_the_real_place(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real"
    (real / "tmp").mkdir(parents=True)
    (real / "creds.json").write_text("{}")
    assert fsops.link_or_copy(real / "tmp", tmp_path / "home" / ".g" / "tmp") == "symlink"
    assert fsops.link_or_copy(real / "creds.json", tmp_path / "home" / ".g" / "c.json") == (
        "symlink"
    )
    (tmp_path / "home" / ".g" / "tmp" / "chat.json").write_text("[]")
    assert (real / "tmp" / "chat.json").read_text() == "[]"


def test_link_or_copy_falls_back_to_a_hard_link_where_symlinks_are_not_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows without Developer Mode refuses symlinks (WinError 1314)."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EPERM, "A required privilege is not held by the client")

    monkeypatch.setattr(fsops, "IS_WINDOWS", True)
    monkeypatch.setattr(fsops.os, "symlink", refuse)
    (tmp_path / "creds.json").write_text("{}")
    assert fsops.link_or_copy(tmp_path / "creds.json", tmp_path / "l" / "creds.json") == (
        "hardlink"
    )
    assert os.path.samefile(tmp_path / "creds.json", tmp_path / "l" / "creds.json")


def test_link_or_copy_failing_names_the_link_and_the_target(tmp_path: Path) -> None:
    (tmp_path / "exists").write_text("")
    with pytest.raises(fsops.FileOperationError) as caught:
        fsops.link_or_copy(tmp_path / "creds.json", tmp_path / "exists")
    assert str(tmp_path / "exists") in str(caught.value) and "link" in str(caught.value)
