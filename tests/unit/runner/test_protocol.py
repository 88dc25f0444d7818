"""Tests for app.runner.protocol: the run-folder records and how bad files are reported."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from app.core.states import ExitReason
from app.runner import protocol
from app.runner.protocol import ExitInfo, ProtocolError, RunnerInfo, RunSpec, SetupInfo


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "000001-abcdef"
    path.mkdir()
    return path


def _spec(**changes: Any) -> RunSpec:
    values: dict[str, Any] = {
        "run_id": 1,
        "task_id": 2,
        "argv": ["claude", "-p", "héllo wörld"],
        "cwd": "/home/user/project",
        "env": {"AGENTRY_RUN": "1"},
        "stdin": protocol.PROMPT,
        "timeout": 90.0,
        "grace": 2.0,
        "adapter": "claude",
    }
    values.update(changes)
    return RunSpec(**values)


def _valid_json(name: str) -> dict[str, Any]:
    if name == protocol.SPEC:
        return {"run_id": 1, "task_id": 1, "argv": ["echo"], "cwd": "/tmp"}
    if name == protocol.RUNNER:
        return {
            "runner_pid": 10,
            "runner_create_time": 1.5,
            "agent_pid": 11,
            "agent_create_time": 1.6,
            "started_at": 2.0,
            "deadline": None,
        }
    return {"returncode": 0, "reason": "exit", "ended_at": 3.0, "message": ""}


def _read(name: str, run_dir: Path) -> object:
    reader = {
        protocol.SPEC: protocol.read_spec,
        protocol.RUNNER: protocol.read_runner_info,
        protocol.EXIT: protocol.read_exit,
        protocol.SETUP: protocol.read_setup_info,
    }[name]
    return reader(run_dir)


def _assert_refused_and_kept(run_dir: Path, name: str, content: bytes) -> None:
    path = run_dir / name
    path.write_bytes(content)
    with pytest.raises(ProtocolError) as caught:
        _read(name, run_dir)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content


# --- round trips -----------------------------------------------------------------------


def test_spec_round_trips(run_dir: Path) -> None:
    spec = _spec()
    protocol.write_spec(run_dir, spec)
    assert protocol.read_spec(run_dir) == spec


def test_spec_with_defaults_round_trips(run_dir: Path) -> None:
    spec = RunSpec(run_id=3, task_id=3, argv=["echo"], cwd="/tmp")
    protocol.write_spec(run_dir, spec)
    assert protocol.read_spec(run_dir) == spec


def test_runner_info_round_trips(run_dir: Path) -> None:
    info = RunnerInfo(100, 1700000000.25, 101, 1700000000.5, 1700000001.0, 1700000091.0)
    protocol.write_runner_info(run_dir, info)
    assert protocol.read_runner_info(run_dir) == info


def test_a_spec_with_a_setup_round_trips(run_dir: Path) -> None:
    spec = _spec(setup=["/bin/sh", "-c", "npm ci"], setup_command="npm ci")
    protocol.write_spec(run_dir, spec)
    assert protocol.read_spec(run_dir) == spec


def test_setup_info_round_trips_and_is_none_until_a_setup_started(run_dir: Path) -> None:
    assert protocol.read_setup_info(run_dir) is None
    info = SetupInfo(4242, 1700000000.25, 1700000000.5)
    protocol.write_setup_info(run_dir, info)
    assert protocol.read_setup_info(run_dir) == info


def test_a_setup_json_with_a_bad_pid_is_a_protocol_error_naming_the_file(run_dir: Path) -> None:
    data = {"pid": 0, "create_time": 1.0, "started_at": 2.0}
    _assert_refused_and_kept(run_dir, protocol.SETUP, json.dumps(data).encode())


def test_runner_info_keeps_how_long_the_setup_took(run_dir: Path) -> None:
    info = RunnerInfo(100, 1.0, 101, 2.0, 3.0, None, setup_s=12.5)
    protocol.write_runner_info(run_dir, info)
    assert protocol.read_runner_info(run_dir) == info


def test_runner_info_without_deadline_round_trips(run_dir: Path) -> None:
    info = RunnerInfo(100, 1.0, 101, 2.0, 3.0, None)
    protocol.write_runner_info(run_dir, info)
    assert protocol.read_runner_info(run_dir) == info


@pytest.mark.parametrize(
    "info",
    [
        pytest.param(ExitInfo(0, ExitReason.EXIT, 5.0, ""), id="exit-0"),
        pytest.param(ExitInfo(3, ExitReason.EXIT, 5.0, ""), id="exit-3"),
        pytest.param(ExitInfo(-9, ExitReason.TIMEOUT, 5.0, "timed out"), id="timeout"),
        pytest.param(ExitInfo(None, ExitReason.SPAWN_ERROR, 5.0, "no such file"), id="spawn"),
    ],
)
def test_exit_info_round_trips(run_dir: Path, info: ExitInfo) -> None:
    protocol.write_exit(run_dir, info)
    restored = protocol.read_exit(run_dir)
    assert restored == info
    assert restored is not None
    assert isinstance(restored.reason, ExitReason)


def test_exit_json_stores_the_reason_as_its_plain_value(run_dir: Path) -> None:
    protocol.write_exit(run_dir, ExitInfo(0, ExitReason.CANCELLED, 1.0))
    assert json.loads((run_dir / protocol.EXIT).read_text())["reason"] == "cancelled"


def test_unknown_keys_are_ignored_for_forward_compatibility(run_dir: Path) -> None:
    data = {**_valid_json(protocol.EXIT), "added_in_v2": [1, 2]}
    (run_dir / protocol.EXIT).write_text(json.dumps(data))
    assert protocol.read_exit(run_dir) == ExitInfo(0, ExitReason.EXIT, 3.0, "")


# --- absent files ----------------------------------------------------------------------


def test_read_runner_info_returns_none_before_the_runner_wrote_it(run_dir: Path) -> None:
    assert protocol.read_runner_info(run_dir) is None


def test_read_exit_returns_none_while_the_run_has_not_ended(run_dir: Path) -> None:
    assert protocol.read_exit(run_dir) is None


def test_read_spec_of_a_missing_spec_raises_file_not_found(run_dir: Path) -> None:
    with pytest.raises(FileNotFoundError):
        protocol.read_spec(run_dir)


# --- bad files -------------------------------------------------------------------------


@pytest.mark.parametrize("name", [protocol.SPEC, protocol.RUNNER, protocol.EXIT])
def test_corrupt_json_is_a_protocol_error_naming_the_file(run_dir: Path, name: str) -> None:
    _assert_refused_and_kept(run_dir, name, b'{"half": "writ')


@pytest.mark.parametrize("name", [protocol.SPEC, protocol.RUNNER, protocol.EXIT])
def test_json_that_is_not_an_object_is_a_protocol_error(run_dir: Path, name: str) -> None:
    _assert_refused_and_kept(run_dir, name, b'["a", "list"]')


@pytest.mark.parametrize("name", [protocol.SPEC, protocol.RUNNER, protocol.EXIT])
def test_missing_required_key_is_a_protocol_error(run_dir: Path, name: str) -> None:
    data = _valid_json(name)
    data.pop(next(iter(data)))
    _assert_refused_and_kept(run_dir, name, json.dumps(data).encode())


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(None, id="null"),
        pytest.param([], id="empty-list"),
        pytest.param(["echo", 5], id="list-with-a-number"),
        pytest.param(7, id="a-number"),
    ],
)
def test_spec_with_bad_argv_is_a_protocol_error(run_dir: Path, argv: object) -> None:
    data = {**_valid_json(protocol.SPEC), "argv": argv}
    _assert_refused_and_kept(run_dir, protocol.SPEC, json.dumps(data).encode())


def test_spec_with_argv_as_a_string_is_a_protocol_error(run_dir: Path) -> None:
    data = {**_valid_json(protocol.SPEC), "argv": "echo hi"}
    _assert_refused_and_kept(run_dir, protocol.SPEC, json.dumps(data).encode())


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"cwd": ""}, id="empty-cwd"),
        pytest.param({"cwd": 5}, id="cwd-a-number"),
        pytest.param({"timeout": "90"}, id="timeout-a-string"),
        pytest.param({"setup": "npm ci"}, id="setup-a-string"),
        pytest.param({"setup": []}, id="setup-empty"),
        pytest.param({"setup": ["sh", 1]}, id="setup-not-strings"),
        pytest.param({"setup_command": None}, id="setup-command-null"),
    ],
)
def test_spec_with_bad_values_is_a_protocol_error(
    run_dir: Path, changes: dict[str, object]
) -> None:
    data = {**_valid_json(protocol.SPEC), **changes}
    _assert_refused_and_kept(run_dir, protocol.SPEC, json.dumps(data).encode())


def test_spec_with_a_non_string_env_value_is_a_protocol_error(run_dir: Path) -> None:
    data = {**_valid_json(protocol.SPEC), "env": {"X": 1}}
    _assert_refused_and_kept(run_dir, protocol.SPEC, json.dumps(data).encode())


def test_exit_with_unknown_reason_is_a_protocol_error(run_dir: Path) -> None:
    data = {**_valid_json(protocol.EXIT), "reason": "exploded"}
    _assert_refused_and_kept(run_dir, protocol.EXIT, json.dumps(data).encode())


def test_exit_with_returncode_as_a_string_is_a_protocol_error(run_dir: Path) -> None:
    data = {**_valid_json(protocol.EXIT), "returncode": "0"}
    _assert_refused_and_kept(run_dir, protocol.EXIT, json.dumps(data).encode())


def test_exit_with_returncode_as_a_float_is_a_protocol_error(run_dir: Path) -> None:
    data = {**_valid_json(protocol.EXIT), "returncode": 1.5}
    _assert_refused_and_kept(run_dir, protocol.EXIT, json.dumps(data).encode())


def test_runner_info_with_pid_as_a_string_is_a_protocol_error(run_dir: Path) -> None:
    data = {**_valid_json(protocol.RUNNER), "runner_pid": "10"}
    _assert_refused_and_kept(run_dir, protocol.RUNNER, json.dumps(data).encode())


def test_protocol_error_is_a_value_error() -> None:
    assert issubclass(ProtocolError, ValueError)


def test_spec_refuses_an_empty_argv_when_built_in_code() -> None:
    with pytest.raises(ValueError, match="argv"):
        _spec(argv=[])


# --- cancel ----------------------------------------------------------------------------


def test_no_cancel_is_requested_at_first(run_dir: Path) -> None:
    assert not protocol.cancel_requested(run_dir)


def test_request_cancel_is_seen(run_dir: Path) -> None:
    protocol.request_cancel(run_dir)
    assert protocol.cancel_requested(run_dir)


# --- runner_command --------------------------------------------------------------------


def test_runner_command_runs_the_script_isolated_without_site_and_names_psutil_folder(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psutil

    monkeypatch.delattr(sys, "frozen", raising=False)
    command = protocol.runner_command(run_dir)
    script = Path(protocol.__file__).with_name("__main__.py")
    assert command[:4] == [sys.executable, "-I", "-S", str(script)]
    assert command[4:6] == ["--lib", str(Path(psutil.__file__).parent.parent)]
    assert command[6:] == ["--runner", str(run_dir)], "the run folder last, as cleanup reads it"


def test_frozen_runner_command_runs_the_app_itself(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert protocol.runner_command(run_dir) == [sys.executable, "--runner", str(run_dir)]


@pytest.mark.parametrize(
    "exit_json",
    [
        {"returncode": 0, "reason": "exit", "ended_at": "yesterday"},
        {"returncode": 0, "reason": "exit", "ended_at": 1.0, "message": {"a": 1}},
        {"returncode": True, "reason": "exit", "ended_at": 1.0},
    ],
)
def test_an_exit_json_with_a_field_of_the_wrong_type_is_refused_by_name(
    tmp_path: Path, exit_json: dict[str, object]
) -> None:
    """Taken as it was, such a value broke the database write and with it every start-up."""
    (tmp_path / protocol.EXIT).write_text(json.dumps(exit_json))
    with pytest.raises(protocol.ProtocolError, match=r"is not a valid exit\.json"):
        protocol.read_exit(tmp_path)
    assert (tmp_path / protocol.EXIT).exists(), "kept for inspection"
