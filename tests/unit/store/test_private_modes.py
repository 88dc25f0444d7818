"""Private by default: the modes Agentry gives what it makes, whatever the umask, and the
tightening of a data folder an older Agentry left readable to others (POSIX only)."""

from __future__ import annotations

import errno
import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.locations import Locations
from app.store import fsops
from app.store.db import open_database
from app.store.locations import ensure_folders

pytestmark = pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX file modes; on Windows the per-user profile folders restrict access",
)


@pytest.fixture(params=[0o022, 0o002, 0o000], ids=lambda u: f"umask-{u:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_an_atomic_write_makes_a_private_file_in_private_folders(
    tmp_path: Path, umask: int
) -> None:
    target = tmp_path / "run" / "sub" / "spec.json"
    fsops.write_json(target, {"a": 1})
    assert mode(target) == 0o600
    assert mode(tmp_path / "run") == mode(tmp_path / "run" / "sub") == 0o700


def test_an_atomic_write_over_a_readable_file_leaves_a_private_one(
    tmp_path: Path, umask: int
) -> None:
    target = tmp_path / "settings.json"
    target.write_text("{}")
    target.chmod(0o644)
    fsops.atomic_write(target, "{}")
    assert mode(target) == 0o600


def test_the_private_opener_makes_and_tightens_files(tmp_path: Path, umask: int) -> None:
    new, old = tmp_path / "output.log", tmp_path / "old.log"
    old.write_text("kept\n")
    old.chmod(0o644)
    for path in (new, old):
        with open(path, "a", opener=fsops.private_opener) as f:
            f.write("line\n")
        assert mode(path) == 0o600
    assert old.read_text() == "kept\nline\n"


def test_make_private_dir_leaves_an_existing_folder_as_it_is(tmp_path: Path, umask: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    fsops.make_private_dir(shared / "mine")
    assert mode(shared) == 0o755
    assert mode(shared / "mine") == 0o700


def test_make_private_dir_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        fsops.make_private_dir(tmp_path / "file")


def test_make_private_does_not_follow_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    target.chmod(0o644)
    (tmp_path / "link").symlink_to(target)
    assert not fsops.make_private(tmp_path / "link")
    assert mode(target) == 0o644


def test_a_new_database_and_its_wal_and_shm_are_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "data" / "agentry.db"
    conn = open_database(path)
    try:
        conn.execute("CREATE TABLE t (x)")  # a write: the WAL and SHM exist now
        wal, shm = path.with_name("agentry.db-wal"), path.with_name("agentry.db-shm")
        assert wal.exists() and shm.exists()
        assert [mode(p) for p in (path.parent, path, wal, shm)] == [0o700, 0o600, 0o600, 0o600]
    finally:
        conn.close()


def test_an_older_readable_data_folder_is_tightened_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    locations = Locations.in_one_folder(tmp_path / "home")
    old = os.umask(0o022)
    try:
        for folder in (locations.data, locations.logs, locations.runs):
            folder.mkdir(parents=True)
        readable = [
            locations.database,
            locations.database.with_name("agentry.db-wal"),
            locations.settings,
            locations.logs / "agentry.log",
            locations.logs / "agentry.log.1",
        ]
        for path in readable:
            path.write_text("")
    finally:
        os.umask(old)
    with caplog.at_level(logging.INFO, logger="app.store.locations"):
        ensure_folders(locations)
    for folder in (locations.data, locations.logs, locations.runs):
        assert mode(folder) == 0o700, folder
    for path in readable:
        assert mode(path) == 0o600, path
    assert "readable by their user alone" in caplog.text
    assert str(locations.settings) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.store.locations"):
        ensure_folders(locations)
    assert "readable by their user alone" not in caplog.text  # said once, when it changed


def test_tightening_on_a_read_only_disk_does_not_stop_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locations = Locations.in_one_folder(tmp_path / "home")
    locations.logs.mkdir(parents=True)
    locations.runs.mkdir()

    def read_only(path: object) -> bool:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(fsops, "make_private", read_only)
    ensure_folders(locations)  # what fails there is reported where it fails
