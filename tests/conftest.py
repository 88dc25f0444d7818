"""Shared fixtures: a temp AGENTRY_HOME per test, the CLI as a real subprocess, and a
check that fails any test in which Agentry logs an error it was not expected to log."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers.agentry import Home  # noqa: E402
from helpers.error_log import ErrorLogCatcher, expected_patterns  # noqa: E402

_CATCHER = pytest.StashKey[ErrorLogCatcher]()


@pytest.fixture(autouse=True)
def fail_on_error_log(request: pytest.FixtureRequest) -> Iterator[ErrorLogCatcher]:
    """Agentry logging ERROR (or an exception) fails the test, unless the test is marked
    ``@pytest.mark.expect_error_log("regex")``. Autouse, so it is set up before and torn
    down after every other function fixture: errors logged while an app or supervisor
    fixture shuts down are caught too."""
    catcher = ErrorLogCatcher(expected_patterns(request.node))
    request.node.stash[_CATCHER] = catcher
    catcher.attach()
    try:
        yield catcher
    finally:
        catcher.detach()
    catcher.fail_on_unexpected()
    catcher.fail_on_unmet_expectations()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Errors logged during set-up or the test itself fail the test (not its teardown)."""
    result = yield
    catcher = item.stash.get(_CATCHER, None)
    if catcher is not None:
        catcher.fail_on_unexpected()
    return result


@pytest.fixture
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_on_error_log: ErrorLogCatcher
) -> Iterator[Home]:
    """An empty data folder in AGENTRY_HOME, with settings that suit a busy 2-core CI box.
    What Agentry processes started on it (serve, the app, `run --wait`) log into its
    logs/agentry.log counts for the error-log check too."""
    path = tmp_path / "agentry-home"
    path.mkdir()
    monkeypatch.setenv("AGENTRY_HOME", str(path))
    home = Home(path)
    home.write_settings(
        gate_max_cpu_percent=100.0,  # tests load the CPU themselves; the gate has its own tests
        gate_max_memory_percent=100.0,
        gate_min_free_disk_mb=0,  # a CI disk may be small; the full-disk tests set their own
        kill_grace_s=1.0,
    )
    yield home
    home.cleanup()
    fail_on_error_log.absorb_log_files(home.locations.logs)


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def rng() -> random.Random:
    """A seeded random generator for tests that pick timings or inputs at random. The seed is
    printed (pytest shows it with a failure); AGENTRY_TEST_SEED=<seed> repeats the run."""
    seed = int(os.environ.get("AGENTRY_TEST_SEED") or random.randrange(2**32))
    print(f"random seed {seed} (repeat with AGENTRY_TEST_SEED={seed})")
    return random.Random(seed)
