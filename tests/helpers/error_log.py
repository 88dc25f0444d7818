"""Failing a test in which Agentry logs an error it was not expected to log.

The supervisor, the event bus, the launcher and the app's background tasks turn exceptions
into ``log.exception`` so that one bug does not stop supervision. Without this check such a
bug passes every test. A test that provokes an error log on purpose says so with
``@pytest.mark.expect_error_log("regex", ...)``: every pattern must match at least one
logged error (so the allow-list cannot go stale), and every logged error must match a
pattern.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest

# Agentry's loggers: ``app.*`` (``logging.getLogger(__name__)``) and the CLI's and runner's
# ``agentry`` / ``agentry.runner``; and asyncio's, which reports an exception that escaped
# a callback or a task nobody awaited (Agentry's fire-and-forget work runs as both).
LOGGERS = ("app", "agentry", "asyncio")
MARKER = "expect_error_log"


def counts(record: logging.LogRecord) -> bool:
    """ERROR and above, or any record carrying an exception (``exc_info``, or a traceback
    read back from a log file)."""
    return record.levelno >= logging.ERROR or bool(record.exc_info) or bool(record.exc_text)


def describe(record: logging.LogRecord) -> str:
    text = f"{record.levelname} {record.name}: {record.getMessage()}"
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    elif record.exc_text:
        text += "\n" + record.exc_text
    return text


class ErrorLogCatcher(logging.Handler):
    """Collects what :func:`counts` and sorts it into expected and unexpected."""

    def __init__(self, expected: Iterable[str] = ()) -> None:
        super().__init__(logging.NOTSET)
        self.expected = [re.compile(pattern) for pattern in expected]
        self.matched: set[int] = set()  # indexes into self.expected
        self.unexpected: list[logging.LogRecord] = []
        self._reported = 0
        self._mutex = threading.Lock()  # records arrive from executor threads too

    def emit(self, record: logging.LogRecord) -> None:
        if not counts(record):
            return
        message = record.getMessage()
        hits = [i for i, pattern in enumerate(self.expected) if pattern.search(message)]
        with self._mutex:
            if hits:
                self.matched.update(hits)
            else:
                self.unexpected.append(record)

    def absorb_log_files(self, logs: Path) -> None:
        """Judge what child processes logged into ``logs`` like what this process logs."""
        for record in records_in_log_files(logs):
            if record.name.split(".")[0] in LOGGERS:
                self.emit(record)

    def attach(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self)

    def fail_on_unexpected(self) -> None:
        """Fail with what was logged since the last call (each record is reported once)."""
        with self._mutex:
            new = self.unexpected[self._reported :]
            self._reported = len(self.unexpected)
        if new:
            listed = "\n\n".join(describe(record) for record in new)
            pytest.fail(
                f"Agentry logged {len(new)} unexpected error(s) (a bug, or a test that "
                f"should say @pytest.mark.{MARKER}(...)):\n\n{listed}",
                pytrace=False,
            )

    def fail_on_unmet_expectations(self) -> None:
        missing = [p.pattern for i, p in enumerate(self.expected) if i not in self.matched]
        if missing:
            pytest.fail(
                f"@pytest.mark.{MARKER} expected an error log matching {missing}, but none "
                "came: drop the pattern, or find out why the error no longer happens",
                pytrace=False,
            )


# A line of logs/agentry.log, the file every Agentry process that hosts a supervisor (serve,
# the app, `run --wait`) writes (app/cli.py): "<date> <time> <pid> <LEVEL> <logger>: <text>"
FILE_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\d+) ([A-Z]+) ([\w.]+): (.*)$")


def records_in_log_files(logs: Path) -> list[logging.LogRecord]:
    """What Agentry's child processes logged into ``logs``/agentry.log*, as records (a
    traceback below a line becomes its ``exc_text``)."""
    records: list[logging.LogRecord] = []
    for path in sorted(logs.glob("agentry.log*")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = FILE_LINE.match(line)
            if match:
                pid, level, name, text = match.groups()
                records.append(logging.makeLogRecord({
                    "name": name, "levelname": level, "levelno": logging.getLevelName(level),
                    "msg": f"{text} [process {pid}, {path.name}]",
                }))  # fmt: skip
            elif records:
                last = records[-1]
                last.exc_text = f"{last.exc_text}\n{line}" if last.exc_text else line
    return records


def expected_patterns(item: pytest.Item) -> list[str]:
    return [str(p) for mark in item.iter_markers(MARKER) for p in mark.args]
