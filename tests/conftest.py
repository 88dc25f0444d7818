"""Shared fixtures: a temp AGENTRY_HOME per test, the CLI as a real subprocess, waiting helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers.agentry import Home  # noqa: E402


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """An empty data folder in AGENTRY_HOME, with settings that suit a busy 2-core CI box."""
    path = tmp_path / "agentry-home"
    path.mkdir()
    monkeypatch.setenv("AGENTRY_HOME", str(path))
    home = Home(path)
    home.write_settings(
        gate_max_cpu_percent=100.0,  # tests load the CPU themselves; the gate has its own tests
        gate_max_memory_percent=100.0,
        kill_grace_s=1.0,
    )
    yield home
    home.cleanup()


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path
