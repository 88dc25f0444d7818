"""Collapsing a flood of identical log records into one line and a count (see
app.cli.logfiles on why). Its own module so that every command can filter its console
without importing the log file's handler (logging.handlers) it only needs when serving."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

REPEAT_WINDOW_S = 10.0

_Key = tuple[str, int, str, str]


@dataclass
class _Seen:
    since: float
    record: logging.LogRecord
    repeats: int = 0


class RepeatFilter(logging.Filter):
    """Collapse identical records (same logger, level, message and exception) that come
    within ``window_s`` of the first: only the first is kept, and once the window is over
    a line says how many more there were."""

    def __init__(
        self,
        emit: Callable[[logging.LogRecord], object],
        window_s: float = REPEAT_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._emit = emit  # how the "repeated" lines reach the handler
        self._window = window_s
        self._clock = clock
        self._seen: dict[_Key, _Seen] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "agentry_repeats", False):
            return True  # our own summary line
        now = self._clock()
        self._flush(now)
        key = _key(record)
        seen = self._seen.get(key)
        if seen is not None:
            seen.repeats += 1
            return False
        self._seen[key] = _Seen(now, record)
        return True

    def flush(self) -> None:
        """Say what was held back, now (at shutdown)."""
        self._flush(float("inf"))

    def _flush(self, now: float) -> None:
        for key, seen in list(self._seen.items()):
            if now - seen.since < self._window:
                continue
            del self._seen[key]
            if seen.repeats:
                self._emit(_summary(seen, now if now != float("inf") else self._clock()))


def _key(record: logging.LogRecord) -> _Key:
    error = ""
    if record.exc_info and record.exc_info[1] is not None:
        error = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    return record.name, record.levelno, record.getMessage(), error


def _summary(seen: _Seen, now: float) -> logging.LogRecord:
    first = seen.record
    took = max(0.0, now - seen.since)
    record = logging.LogRecord(
        first.name,
        first.levelno,
        first.pathname,
        first.lineno,
        "%s (repeated %d more times in %.0f s)",
        (first.getMessage(), seen.repeats, took),
        None,
    )
    record.agentry_repeats = True
    return record


def collapse_repeats(handler: logging.Handler, window_s: float = REPEAT_WINDOW_S) -> RepeatFilter:
    """Attach a RepeatFilter to ``handler`` (its summaries go through the handler too)."""
    repeats = RepeatFilter(handler.handle, window_s)
    handler.addFilter(repeats)
    return repeats
