"""Agentry's log handlers: bounded files, no floods, and no tracebacks of their own.

A supervisor in trouble (a full disk, a database that refuses writes) meets the same
error on every tick: logged as is, that is a hundred tracebacks a second, and the log
fills the very disk that is full. :class:`~app.cli.repeats.RepeatFilter` lets the first of a run of
identical records through and says how many followed; :class:`LogFile` rotates by size and,
when it cannot write, says so once on stderr instead of a traceback per record.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.cli.repeats import REPEAT_WINDOW_S, RepeatFilter, collapse_repeats
from app.store import fsops

MAX_LOG_BYTES = 5_000_000
LOG_BACKUPS = 3


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


__all__ = [
    "LOG_BACKUPS",
    "MAX_LOG_BYTES",
    "REPEAT_WINDOW_S",
    "LogFile",
    "RepeatFilter",
    "collapse_repeats",
]
