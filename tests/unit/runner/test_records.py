"""The runner's own reading and writing of run-folder records (app.runner.records): plain
dicts without the json module, byte for byte what the supervisor's protocol writes and
reads, and the seam that picks the waiter per platform."""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from app.core import atomicfile
from app.core.states import ExitReason
from app.runner import protocol, records
from app.runner.posix import PosixWaiter
from app.runner.protocol import ExitInfo, RunnerInfo, RunSpec, SetupInfo
from app.runner.waiter import Waiter, waiter_class
from app.runner.windows import WindowsWaiter

FLAT_RECORDS = [
    {"returncode": None, "reason": "exit", "ended_at": 1796420569.0457544, "message": ""},
    {"returncode": -15, "reason": "cancelled", "ended_at": 12.0, "message": 'a "quote" \\ ✓'},
    {"message": "tab\there\nnew line \x01 control \u2028 and é", "flag": True, "off": False},
    {"runner_pid": 4194304, "runner_create_time": 123.45, "deadline": None, "setup_s": 1e-07},
    {"big": 10**20, "negative": -0.0, "small": 5e-324, "huge": 1.7976931348623157e308},
]


@pytest.mark.parametrize("record", FLAT_RECORDS)
def test_a_flat_record_is_written_exactly_as_json_dumps_writes_it(
    record: dict[str, object],
) -> None:
    expected = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    assert records.dumps_flat(record) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1], {"a": 1}])
def test_what_json_would_refuse_or_nest_is_refused(value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        records.dumps_flat({"x": value})


@pytest.mark.parametrize(
    "text",
    [
        '{"argv": ["sh", "-c", "echo \\"hi\\" ✓"], "env": {"A": "1"}, "timeout": 1.5}',
        '\ufeff{"a": null, "b": true, "c": [1, 2.5e3, -0]}  \n',
        '  [1, {"nested": {"deep": []}}]',
    ],
)
def test_loads_reads_what_json_loads_reads(text: str) -> None:
    assert records.loads(text.removeprefix("\ufeff")) == json.loads(text.removeprefix("\ufeff"))


@pytest.mark.parametrize("text", ['{"argv": ["echo"', '{"a": 1} trailing', "", "{'a': 1}"])
def test_loads_refuses_what_json_refuses_with_its_message(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(ValueError) as got:
        records.loads(text)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("signum", [None, 10, 30])
def test_the_heartbeat_names_the_cancel_signal_it_takes(signum: int | None) -> None:
    text = records.heartbeat_text(1796420569.0457, signum)
    assert float(text.splitlines()[0]) == pytest.approx(1796420569.046)
    assert records.cancel_signal_in(text) == signum


def test_an_earlier_runner_s_heartbeat_names_no_cancel_signal() -> None:
    assert records.cancel_signal_in("1796420569.046\n") is None
    assert records.cancel_signal_in("") is None
    assert records.cancel_signal_in("1.0\ncancel-signal USR1\n") is None


def test_the_exit_reasons_are_exit_json_s_values() -> None:
    ours = {
        records.EXIT_REASON,
        records.TIMEOUT,
        records.CANCELLED,
        records.SPAWN_ERROR,
        records.INTERRUPTED,
        records.SETUP_FAILED,
        records.MEMORY_LIMIT,
    }
    assert ours == {reason.value for reason in ExitReason}


def test_a_spec_written_by_the_supervisor_is_read_with_every_field(tmp_path: Path) -> None:
    spec = RunSpec(1, 2, ["agent", "--go"], str(tmp_path), {"K": "v"}, "prompt.txt", 30.0)
    protocol.write_spec(tmp_path, spec)
    assert records.read_spec(str(tmp_path)) == asdict(spec)


def test_a_spec_missing_its_defaults_gets_them(tmp_path: Path) -> None:
    (tmp_path / protocol.SPEC).write_text('{"run_id": 1, "task_id": 1, "argv": ["x"], "cwd": "/"}')
    values = records.read_spec(str(tmp_path))
    assert values["grace"] == 5.0 and values["env"] == {} and values["setup"] is None


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"argv": []}, "argv"),
        ({"env": {"X": 1}}, "env"),
        ({"timeout": "soon"}, "timeout"),
        ({"cwd": None}, "cwd"),
        ({"run_id": None, "task_id": None}, None),
    ],
)
def test_an_invalid_spec_is_refused_by_the_same_rules_as_run_spec(
    tmp_path: Path, change: dict[str, object], named: str | None
) -> None:
    data: dict[str, object] = {"run_id": 1, "task_id": 1, "argv": ["x"], "cwd": "/", **change}
    data = {k: v for k, v in data.items() if v is not None or k == "cwd"}
    (tmp_path / protocol.SPEC).write_text(json.dumps(data))
    with pytest.raises(records.RecordError, match=r"spec\.json") as refused:
        records.read_spec(str(tmp_path))
    if named:
        assert named in str(refused.value)
        with pytest.raises((ValueError, TypeError)):
            RunSpec(**data)  # type: ignore[arg-type]


def test_records_the_runner_writes_are_read_back_by_the_protocol(tmp_path: Path) -> None:
    runner = RunnerInfo(10, 12.34, 11, 12.5, 1796420569.25, None, 3.5)
    records.write_record(str(tmp_path), records.RUNNER, asdict(runner))
    assert protocol.read_runner_info(tmp_path) == runner
    setup = SetupInfo(12, 99.01, 1796420569.5)
    records.write_record(str(tmp_path), records.SETUP, asdict(setup))
    assert protocol.read_setup_info(tmp_path) == setup
    ended = {"returncode": -9, "reason": "timeout", "ended_at": 17.5, "message": "timed out ✓"}
    records.write_record(str(tmp_path), records.EXIT, ended)
    assert protocol.read_exit(tmp_path) == ExitInfo(-9, ExitReason.TIMEOUT, 17.5, "timed out ✓")
    protocol.write_exit(tmp_path / "again", ExitInfo(-9, ExitReason.TIMEOUT, 17.5, "timed out ✓"))
    same = (tmp_path / "again" / protocol.EXIT).read_bytes()
    assert (tmp_path / protocol.EXIT).read_bytes() == same, "the very bytes the supervisor writes"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_atomic_core_writes_a_private_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomicfile.replace(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == atomicfile.PRIVATE_FILE_MODE
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_failed_atomic_write_keeps_the_old_content_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        atomicfile.replace(str(target), "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("linux", PosixWaiter), ("darwin", PosixWaiter), ("win32", WindowsWaiter)],
)
def test_each_platform_gets_its_waiter_behind_one_interface(
    platform: str, expected: type[Waiter]
) -> None:
    chosen = waiter_class(platform)
    assert chosen is expected and issubclass(chosen, Waiter)
    assert not getattr(chosen, "__abstractmethods__", None), "every step is implemented"
