"""No log flood (issue 12 §2): repeated identical errors are logged once with a count, the
log file rotates by size, and a log file that cannot be written says so once."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.mounts import fill, tmpfs

from app.cli.logfiles import MAX_LOG_BYTES, LogFile, collapse_repeats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("agentry.test-flood")
    log.propagate = False  # this test's lines are not Agentry's errors
    yield log
    log.handlers.clear()
    log.propagate = True


def _handler(log: logging.Logger, clock: Clock) -> io.StringIO:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    repeats = collapse_repeats(handler)
    repeats._clock = clock  # the test's own time: no waiting ten seconds
    log.addHandler(handler)
    return out


def _fail(log: logging.Logger) -> None:
    try:
        raise OSError(28, "No space left on device")
    except OSError:
        log.exception("tick failed")


def test_the_same_error_a_hundred_times_is_one_line_and_a_count(logger: logging.Logger) -> None:
    clock = Clock()
    out = _handler(logger, clock)
    for _ in range(100):
        _fail(logger)
        clock.now += 0.05
    clock.now += 10
    logger.warning("something else")
    lines = [line for line in out.getvalue().splitlines() if not line.startswith(("  ", "Trace"))]
    assert lines == [
        "ERROR tick failed",
        "OSError: [Errno 28] No space left on device",
        "ERROR tick failed (repeated 99 more times in 15 s)",
        "WARNING something else",
    ]
    assert out.getvalue().count("Traceback") == 1


def test_different_errors_are_each_kept(logger: logging.Logger) -> None:
    clock = Clock()
    out = _handler(logger, clock)
    for n in range(3):
        logger.error("run %s failed", n)
    assert out.getvalue().splitlines() == [f"ERROR run {n} failed" for n in range(3)]


def test_repeats_held_back_are_counted_at_shutdown(logger: logging.Logger) -> None:
    clock = Clock()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    repeats = collapse_repeats(handler)
    repeats._clock = clock
    logger.addHandler(handler)
    for _ in range(5):
        logger.error("same")
    repeats.flush()
    assert out.getvalue().splitlines() == ["same", "same (repeated 4 more times in 0 s)"]


def test_the_log_file_rotates_by_size(tmp_path: Path, logger: logging.Logger) -> None:
    handler = LogFile(tmp_path / "agentry.log")
    logger.addHandler(handler)
    for n in range(MAX_LOG_BYTES // 1000 * 2):
        logger.warning("%06d %s", n, "x" * 990)
    handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["agentry.log", "agentry.log.1"]
    assert all(p.stat().st_size <= MAX_LOG_BYTES for p in tmp_path.iterdir())


def test_a_log_file_on_a_full_disk_says_so_once_and_no_traceback(
    tmp_path: Path, logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        handler = LogFile(disk / "agentry.log")
        logger.addHandler(handler)
        logger.warning("before")
        filler = fill(disk)
        for n in range(50):
            logger.warning("line %s %s", n, "x" * 5000)
        err = capsys.readouterr().err
        assert err.count("cannot write the log file") == 1, err
        assert "Traceback" not in err and "Logging error" not in err
        filler.unlink()
        logger.warning("space again")
        handler.close()
        assert "space again" in (disk / "agentry.log").read_text()
