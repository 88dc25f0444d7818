"""The one piece of work a dialog has under way: a coroutine of the supervisor's, its
result handed to the dialog, its failure said in the dialog.

Shared by the dialogs that act on tasks and folders (Clean up, Delete tasks, Clear
finished): nothing reaches a dialog that has closed, and a failure that is not an
AgentryError (a message meant for the person) is a bug, logged with its traceback too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from app.core.errors import AgentryError
from app.core.log import get_logger

log = get_logger(__name__)


class DialogJob:
    def __init__(self, what: str, failed: Callable[[BaseException], None]) -> None:
        self._what = what  # "clean-up", for the log
        self._failed = failed
        self._future: asyncio.Future[Any] | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        return self._future is not None

    def start(self, coro: Coroutine[Any, Any, Any], then: Callable[[Any], None]) -> None:
        self._future = asyncio.ensure_future(coro)
        self._future.add_done_callback(lambda future: self._done(future, then))

    def close(self) -> None:
        """The dialog closed: a job still under way finishes, and nobody is told."""
        self._closed = True

    def _done(self, future: asyncio.Future[Any], then: Callable[[Any], None]) -> None:
        self._future = None
        if self._closed or future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            then(future.result())
            return
        if isinstance(exc, AgentryError):
            log.warning("%s failed: %s", self._what, exc)
        else:
            log.error("%s failed", self._what, exc_info=exc)
        self._failed(exc)
