"""Secrets added by several processes at once are all kept (notify_secrets' file lock)."""

from __future__ import annotations

import multiprocessing
import stat
import sys
from pathlib import Path

from app.store import notify_secrets


def _add_many(path: str, n: int) -> None:
    for i in range(15):
        notify_secrets.put(Path(path), f"k{n}-{i}", f"secret-{n}-{i}")


def test_processes_adding_secrets_at_once_lose_none(tmp_path: Path) -> None:
    path = tmp_path / "config" / "notify-secrets.json"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(str(path), n)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    kept = notify_secrets.load(path)
    assert len(kept) == 60 and kept["k3-14"] == "secret-3-14"
    if sys.platform != "win32":
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        lock = path.with_name(path.name + ".lock")
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
