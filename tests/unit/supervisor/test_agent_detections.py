"""The supervisor owns which agent CLIs are installed, and says when that changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.agent_cli import fake_cli, only_path

from app.store.locations import ensure_folders, locations_from_env
from app.supervisor.events import AgentsDetected
from app.supervisor.supervisor import Supervisor


def _supervisor(home: Path) -> tuple[Supervisor, list[Any]]:
    locations = locations_from_env({"AGENTRY_HOME": str(home)})
    ensure_folders(locations)
    supervisor = Supervisor(locations)
    seen: list[Any] = []
    supervisor.bus.subscribe(seen.append)
    return supervisor, seen


def test_detection_runs_once_and_is_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_path(monkeypatch, tmp_path / "bin")
    fake_cli(tmp_path / "bin", "gemini", "1.0.0")
    supervisor, seen = _supervisor(tmp_path / "home")

    first = supervisor.agent_detections()
    fake_cli(tmp_path / "bin", "aider", "1.0.0")  # installed after the first look
    again = supervisor.agent_detections()

    assert first["gemini"].found and not first["aider"].found
    assert again == first, "a second ask uses what was found"
    assert [type(e) for e in seen] == [AgentsDetected]
    assert supervisor.agent_detections(refresh=True)["aider"].found
    assert len(seen) == 2


def test_a_changed_agent_path_is_looked_up_again_and_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_path(monkeypatch, tmp_path / "bin")
    elsewhere = fake_cli(tmp_path / "elsewhere", "aider", "2.0.0")
    supervisor, seen = _supervisor(tmp_path / "home")
    assert not supervisor.agent_detections()["aider"].found

    supervisor.apply_settings(supervisor.settings.replace(agent_paths={"aider": str(elsewhere)}))

    assert isinstance(seen[-1], AgentsDetected) and seen[-1].detections["aider"].found
    assert supervisor.agent_detections()["aider"].path == str(elsewhere)


def test_two_supervisors_in_one_process_do_not_share_what_they_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_path(monkeypatch, tmp_path / "bin")
    one, _ = _supervisor(tmp_path / "one")
    assert not one.agent_detections()["gemini"].found
    fake_cli(tmp_path / "bin", "gemini", "1.0.0")
    two, _ = _supervisor(tmp_path / "two")
    assert two.agent_detections()["gemini"].found
