"""The log files of `serve`, the app and the hook: private (0600) whatever the umask,
rotated ones included (POSIX only)."""

from __future__ import annotations

import logging
import os
import stat
import sys
from pathlib import Path

import pytest

from app.cli.logfiles import LogFile

pytestmark = pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX file modes; on Windows the per-user profile folders restrict access",
)


def test_every_log_file_is_private_when_it_rotates(tmp_path: Path) -> None:
    old = os.umask(0o022)
    handler = LogFile(tmp_path / "agentry.log", max_bytes=200, backups=2)
    try:
        for i in range(20):
            record = logging.makeLogRecord({"msg": f"line {i} " + "x" * 40})
            handler.emit(record)
    finally:
        handler.close()
        os.umask(old)
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == ["agentry.log", "agentry.log.1", "agentry.log.2"]
    assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {
        f.name: "0o600" for f in files
    }
