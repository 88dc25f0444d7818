"""Fixtures for the performance benchmarks (run only as `pytest tests/benchmarks -q -s`).

Every benchmark reports through :class:`benchlib.Bench`: one ``BENCH <name>: ...`` line on
stdout and, when ``AGENTRY_BENCH_OUT`` names a file, one JSON object appended to it per
benchmark, so the figures in the README can be regenerated. The root ``tests/conftest.py``
still applies (its ``home`` fixture gives each benchmark a temp ``AGENTRY_HOME``).

Benchmarks measure as a user's machine runs: this workplace's machines set
``PYTHONDONTWRITEBYTECODE=1`` and ``PYTHONUNBUFFERED=1``, which make every Agentry process
recompile its modules and write unbuffered. Both are cleared here for every process a
benchmark starts (the supervisor's runners inherit it too), and bytecode is kept under
``.cache/pycache-bench`` (``PYTHONPYCACHEPREFIX``), as an installed app keeps its .pyc files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):  # benchlib, and helpers.agentry
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from benchlib import Bench, Processes  # noqa: E402

for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"):
    os.environ.pop(name, None)
os.environ["PYTHONPYCACHEPREFIX"] = str(HERE.parents[1] / ".cache" / "pycache-bench")
sys.dont_write_bytecode = False


@pytest.fixture
def bench(request: pytest.FixtureRequest) -> Bench:
    return Bench(request.node.name)


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Processes a benchmark starts itself (stand-ins, `serve`); all stopped at teardown."""
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()
