"""Waiting for something to happen, the one way every test does it.

To check that something does *not* happen, do not wait: drive the supervisor's ticks
(``helpers.agentry.tick``) and look, so the test proves the decision was made.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal, TypeVar

T = TypeVar("T")

Message = str | Callable[[], str]  # a callable is asked at the timeout, for the state then
# ``lambda: cond and value`` is the usual predicate: False (or None) means "not yet".
Predicate = Callable[[], T | Literal[False] | None]


def _timed_out(timeout: float, message: Message) -> AssertionError:
    text = message() if callable(message) else message
    return AssertionError(f"timed out after {timeout} s waiting for {text}")


def wait_until(
    predicate: Predicate[T],
    timeout: float = 20.0,
    interval: float = 0.05,
    message: Message = "condition",
) -> T:
    """The first truthy value of ``predicate()``, polled every ``interval`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout, message)
        time.sleep(interval)


async def async_wait_until(
    predicate: Predicate[T],
    timeout: float = 20.0,
    interval: float = 0.02,
    message: Message = "condition",
) -> T:
    """:func:`wait_until` for coroutines: the event loop (and the supervisor on it) runs
    while it waits."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout, message)
        await asyncio.sleep(interval)
