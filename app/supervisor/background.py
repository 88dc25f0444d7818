"""Blocking work the supervisor runs off its event loop, kept until it ends.

Stopping an orphaned agent or reading a long log must not stall the loop, and a job that
raises must reach the log rather than vanish with its future (CONVENTIONS 7).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from app.core.log import get_logger
from app.store.db import Connection, open_database

log = get_logger(__name__)

T = TypeVar("T")


async def on_own_connection(database: Path, job: Callable[[Connection], T]) -> T:
    """Blocking database work (and the file work that goes with it) in the executor, on a
    connection of its own: the loop's connection is never used from another thread."""

    def run() -> T:
        conn = open_database(database)
        try:
            return job(conn)
        finally:
            conn.close()

    return await asyncio.get_running_loop().run_in_executor(None, run)


class BackgroundJobs:
    def __init__(self) -> None:
        self._futures: set[asyncio.Future[Any]] = set()

    def run(
        self,
        what: str,
        func: Callable[..., T],
        *args: object,
        then: Callable[[T], None] | None = None,
    ) -> None:
        """Run ``func(*args)`` in the default executor; ``then`` gets its result back on the
        loop. A failure is logged as "``what`` failed"."""
        fut: asyncio.Future[T] = asyncio.get_running_loop().run_in_executor(None, func, *args)
        self._futures.add(fut)

        def done(f: asyncio.Future[T]) -> None:
            self._futures.discard(f)
            if f.cancelled():
                return
            if f.exception() is not None:
                log.error("%s failed", what, exc_info=f.exception())
            elif then is not None:
                then(f.result())

        fut.add_done_callback(done)

    async def drain(self) -> None:
        """Wait for every job still running (their failures are logged, not raised)."""
        for fut in list(self._futures):
            with contextlib.suppress(Exception):
                await fut
