"""How much disk a folder takes (a worktree, a run folder), measured off the event loop.

A worktree of a big repository holds 100,000 files. Walking it in Python holds the
interpreter lock for most of a second, and several walks at once starve the UI thread
(tests/benchmarks/test_bench_worktrees). So on POSIX ``du`` measures it in a process of
its own, and one measurement runs at a time; Windows (no ``du``) walks with scandir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

from app.core.platform import IS_WINDOWS

DU_TIMEOUT_S = 300.0
_ONE_AT_A_TIME = threading.Lock()  # twenty tabs opening at once measure in turn


def disk_use(path: Path) -> int:
    """Bytes the folder takes on disk (0 for one that is not there)."""
    with _ONE_AT_A_TIME:
        measured = None if IS_WINDOWS else _du(path)
        return measured if measured is not None else _walk(path)


def _du(path: Path) -> int | None:
    du = shutil.which("du")
    if du is None:
        return None
    try:  # -k: 1024-byte blocks, the one unit POSIX du promises everywhere
        done = subprocess.run([du, "-sk", str(path)], capture_output=True, text=True,
                              timeout=DU_TIMEOUT_S, stdin=subprocess.DEVNULL)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    first = done.stdout.split("\t", 1)[0].strip()
    if not first.isdigit():  # the folder is gone, or du said something else
        return None if path.exists() else 0
    return int(first) * 1024  # a file du could not read is left out, as the walk does


def _walk(path: Path) -> int:
    total = 0
    stack = [str(path)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        else:
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return total
