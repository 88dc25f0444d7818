"""disk_use: du in its own process on POSIX (no interpreter lock held for a big
worktree), the scandir walk elsewhere; both see the same folder the same way."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.supervisor import disk_use as measure


def make_tree(root: Path) -> int:
    """A few folders of files (and a link, not followed); returns their bytes."""
    total = 0
    for d in range(3):
        folder = root / f"d{d}" / "inner"
        folder.mkdir(parents=True)
        for f in range(5):
            data = b"x" * (5000 * (f + 1))
            (folder / f"f{f}.bin").write_bytes(data)
            total += len(data)
    (root / "link").symlink_to("/usr")  # a link out of the folder is not measured as /usr
    return total


def test_the_walk_counts_every_file_and_not_what_links_point_to(tmp_path: Path) -> None:
    total = make_tree(tmp_path)
    walked = measure._walk(tmp_path)
    assert total <= walked < total + 100  # the link itself is a few bytes


@pytest.mark.skipif(sys.platform == "win32", reason="du is POSIX")
def test_du_measures_the_disk_the_files_take(tmp_path: Path) -> None:
    total = make_tree(tmp_path)
    used = measure.disk_use(tmp_path)
    assert used >= total * 0.9  # blocks on disk: at least about the bytes
    assert used < total * 2 + 64 * 1024


def test_a_missing_folder_takes_nothing(tmp_path: Path) -> None:
    assert measure.disk_use(tmp_path / "gone") == 0


def test_without_du_the_walk_measures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    total = make_tree(tmp_path)
    monkeypatch.setattr(measure.shutil, "which", lambda _name: None)
    assert total <= measure.disk_use(tmp_path) < total + 100
    assert os.path.isdir(tmp_path)
