"""Agentry's log handlers: bounded files, no floods, and no tracebacks of their own.

A supervisor in trouble (a full disk, a database that refuses writes) meets the same
error on every tick: logged as is, that is a hundred tracebacks a second, and the log
fills the very disk that is full. :class:`RepeatFilter` lets the first of a run of
identical records through and says how many followed; :class:`LogFile` rotates by size and,
when it cannot write, says so once on stderr instead of a traceback per record.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.store import fsops

REPEAT_WINDOW_S = 10.0
MAX_LOG_BYTES = 5_000_000
LOG_BACKUPS = 3

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


class LogFile(RotatingFileHandler):
    """agentry.log: rotated by size, each file 0600 whatever the umask (a log names
    prompts, folders and commands). When writes start failing (the disk filled up), that
    is said once on stderr and lines are dropped quietly until a write succeeds again;
    a file never written is quiet (a supervisor that cannot start there says why)."""

    def __init__(
        self, path: Path, max_bytes: int = MAX_LOG_BYTES, backups: int = LOG_BACKUPS
    ) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._failing = False  # said on stderr; quiet until a write succeeds
        self._failed = False  # the record being emitted now could not be written
        self._wrote = False  # a write succeeded: a failure now is news

    def _open(self) -> io.TextIOWrapper:
        return open(  # always appends, as RotatingFileHandler does
            self.baseFilename,
            "a",
            encoding=self.encoding,
            errors=self.errors,
            opener=fsops.private_opener,
        )

    def emit(self, record: logging.LogRecord) -> None:
        self._failed = False
        super().emit(record)  # calls handleError when the write fails
        if not self._failed:
            self._failing = False
            self._wrote = True

    def handleError(self, record: logging.LogRecord) -> None:
        self._failed = True
        if self._failing or not self._wrote:  # at start-up, the start itself says why
            return
        self._failing = True
        error = sys.exc_info()[1]
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(
                f"agentry: cannot write the log file {self.baseFilename} ({error}); "
                "log lines are dropped until it can be written again\n"
            )


def collapse_repeats(handler: logging.Handler, window_s: float = REPEAT_WINDOW_S) -> RepeatFilter:
    """Attach a RepeatFilter to ``handler`` (its summaries go through the handler too)."""
    repeats = RepeatFilter(handler.handle, window_s)
    handler.addFilter(repeats)
    return repeats
