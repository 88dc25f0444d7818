"""Shared pieces of the agent-adapter tests: recorded output fixtures and fake executables."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from app.supervisor.adapters import base

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "agents"


def fixture_lines(agent: str, name: str) -> list[str]:
    """A fixture file's lines as the supervisor sees them (UTF-8 with errors replaced)."""
    text = (FIXTURES / agent / name).read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def fixture_names(agent: str) -> list[str]:
    return sorted(p.name for p in (FIXTURES / agent).iterdir() if p.name != "SOURCES.md")


def sources_name_every_fixture(agent: str) -> list[str]:
    """Fixture files of ``agent`` that its SOURCES.md does not mention (should be none)."""
    sources = (FIXTURES / agent / "SOURCES.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([^`]+\.(?:jsonl|txt))`", sources))
    return [name for name in fixture_names(agent) if name not in named]


def fake_cli(folder: Path, name: str, version: str) -> Path:
    """An executable called ``name`` in ``folder`` that prints ``version`` for --version."""
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        path = folder / f"{name}.cmd"
        path.write_text(f"@echo off\r\necho {version}\r\n", encoding="utf-8")
    else:
        path = folder / name
        path.write_text(f"#!/bin/sh\necho '{version}'\n", encoding="utf-8")
        path.chmod(0o755)
    return path


def only_path(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` the only place executables are looked for (PATH and usual folders)."""
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setattr(base, "usual_install_folders", lambda: [])
