"""Real full and read-only file systems for the fault tests: a small tmpfs, a filler file
that takes all (or all but some) of its space, and a read-only remount.

Mounting needs root (CI has it); elsewhere the tests that need it are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CHUNK = 64 * 1024


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "4m") -> Iterator[Path]:
    """``folder`` as a tmpfs of ``size`` for the block; skips the test where that cannot be."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("needs root on Linux to mount a small tmpfs (CI runs as root)")
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a small tmpfs")
    try:
        _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder))
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def fill(folder: Path, leave: int = 0) -> Path:
    """A file in ``folder`` that takes its disk's free space, leaving about ``leave`` bytes."""
    filler = folder / "filler.bin"
    goal = max(0, shutil.disk_usage(folder).free - leave)
    with open(filler, "wb", buffering=0) as stream:
        written = 0
        try:
            while written < goal:
                written += stream.write(b"\0" * min(CHUNK, goal - written))
            if not leave:
                while True:  # the last blocks, a byte at a time if need be
                    stream.write(b"\0" * 4096)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    if not leave:
        assert shutil.disk_usage(folder).free < 64 * 1024, "the filler left too much room"
    return filler


def read_only(folder: Path) -> None:
    """Remount the tmpfs at ``folder`` read-only (chmod does not stop root)."""
    _mount("-o", "remount,ro", str(folder))


def read_write(folder: Path) -> None:
    _mount("-o", "remount,rw", str(folder))
