"""Tests for app.supervisor.gate: which resource blocks a start, and the CPU arithmetic."""

from __future__ import annotations

import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from app.core.settings import Settings
from app.store.diskspace import DiskState
from app.supervisor.events import Notice
from app.supervisor.gate import GateReading, ResourceGate, _busy_percent, ended_work_cpu

SETTINGS = Settings(gate_max_memory_percent=80.0, gate_max_cpu_percent=90.0)

# Shaped like psutil.cpu_times() on Linux; guest time is already included in user time.
LinuxTimes = namedtuple(
    "LinuxTimes", "user nice system idle iowait irq softirq steal guest guest_nice"
)
MacTimes = namedtuple("MacTimes", "user nice system idle")


def _linux(
    user: float = 0.0,
    system: float = 0.0,
    idle: float = 0.0,
    iowait: float = 0.0,
    guest: float = 0.0,
) -> LinuxTimes:
    return LinuxTimes(user, 0.0, system, idle, iowait, 0.0, 0.0, 0.0, guest, 0.0)


# --- blocked_by ------------------------------------------------------------------------


def test_reading_below_both_limits_blocks_nothing() -> None:
    assert GateReading(memory_percent=50.0, cpu_percent=50.0).blocked_by(SETTINGS) is None


def test_reading_exactly_at_the_limits_blocks_nothing() -> None:
    assert GateReading(memory_percent=80.0, cpu_percent=90.0).blocked_by(SETTINGS) is None


def test_memory_above_its_limit_is_named() -> None:
    why = GateReading(memory_percent=85.0, cpu_percent=10.0).blocked_by(SETTINGS)
    assert why is not None
    assert "memory" in why
    assert "85%" in why
    assert "80%" in why


def test_cpu_above_its_limit_is_named() -> None:
    why = GateReading(memory_percent=10.0, cpu_percent=97.0).blocked_by(SETTINGS)
    assert why is not None
    assert "CPU" in why
    assert "97%" in why
    assert "90%" in why
    assert "memory" not in why


def test_memory_is_named_first_when_both_are_above() -> None:
    why = GateReading(memory_percent=99.0, cpu_percent=99.0).blocked_by(SETTINGS)
    assert why is not None
    assert why.startswith("memory")


def test_a_full_limit_of_100_never_blocks() -> None:
    relaxed = Settings(gate_max_memory_percent=100.0, gate_max_cpu_percent=100.0)
    assert GateReading(memory_percent=100.0, cpu_percent=100.0).blocked_by(relaxed) is None


# --- _busy_percent ---------------------------------------------------------------------


def test_busy_percent_is_the_non_idle_share_of_the_elapsed_time() -> None:
    before = _linux(user=10.0, system=10.0, idle=80.0)
    after = _linux(user=40.0, system=20.0, idle=140.0)  # +100 total, +60 idle
    assert _busy_percent(before, after) == pytest.approx(40.0)


def test_busy_percent_leaves_out_the_cpu_of_work_that_has_ended() -> None:
    before = _linux(user=10.0, system=10.0, idle=80.0)
    after = _linux(user=70.0, system=20.0, idle=110.0)  # +100 total, +30 idle: 70 % busy
    assert _busy_percent(before, after, ended=50.0) == pytest.approx(20.0)
    assert _busy_percent(before, after, ended=90.0) == 0.0  # never below nothing


def test_ended_work_counts_the_cpu_of_children_once_they_are_reaped() -> None:
    """A quick task's runner burnt CPU and ended: the gate must not take that for load."""
    before = ended_work_cpu()
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)  # waited for: reaped
    assert ended_work_cpu() - before >= 0.25


def test_busy_percent_counts_iowait_as_idle() -> None:
    before = _linux(user=0.0, idle=0.0, iowait=0.0)
    after = _linux(user=25.0, idle=50.0, iowait=25.0)
    assert _busy_percent(before, after) == pytest.approx(25.0)


def test_busy_percent_leaves_guest_time_out_of_the_total() -> None:
    """Guest time is already part of user time; counting it twice would inflate the total."""
    before = _linux(user=0.0, idle=0.0)
    after = _linux(user=50.0, idle=50.0, guest=50.0)
    assert _busy_percent(before, after) == pytest.approx(50.0)


def test_busy_percent_works_with_the_fields_of_other_platforms() -> None:
    before = MacTimes(10.0, 0.0, 10.0, 80.0)
    after = MacTimes(100.0, 0.0, 100.0, 100.0)  # +200 total, +20 idle
    assert _busy_percent(before, after) == pytest.approx(90.0)


def test_busy_percent_is_zero_when_no_time_passed() -> None:
    same = _linux(user=5.0, idle=5.0)
    assert _busy_percent(same, same) == 0.0


def test_busy_percent_is_zero_when_counters_went_backwards() -> None:
    assert _busy_percent(_linux(user=50.0, idle=50.0), _linux(user=10.0, idle=10.0)) == 0.0


def test_busy_percent_is_never_above_100() -> None:
    before = _linux(user=0.0, idle=50.0)
    after = _linux(user=100.0, idle=0.0)  # idle went down: a counter glitch
    assert _busy_percent(before, after) == 100.0


def test_busy_percent_is_never_below_0() -> None:
    before = _linux(user=50.0, idle=0.0)
    after = _linux(user=0.0, idle=100.0)  # user went down: a counter glitch
    assert _busy_percent(before, after) == 0.0


# --- free disk space (issue 12 §2) ------------------------------------------------------

MIB = 1 << 20


def _disk(free: int) -> DiskState:
    return DiskState(Path("/data"), free=free, total=100 * MIB, read_only=False)


def test_a_disk_below_the_minimum_holds_queued_work_saying_disk_full() -> None:
    settings = SETTINGS.replace(gate_min_free_disk_mb=500)
    hold = GateReading(10.0, 10.0, _disk(20 * MIB)).hold(settings)
    assert hold is not None and hold.resource == "disk"
    assert "disk full" in hold.reason and "/data" in hold.reason
    assert "20.0 MiB free" in hold.reason and "500 MiB minimum" in hold.reason


def test_a_disk_above_the_minimum_or_a_minimum_of_zero_holds_nothing() -> None:
    assert GateReading(10.0, 10.0, _disk(600 * MIB)).blocked_by(SETTINGS) is None
    off = SETTINGS.replace(gate_min_free_disk_mb=0)
    assert GateReading(10.0, 10.0, _disk(0)).blocked_by(off) is None


def test_the_gate_says_a_hold_once_and_again_only_when_its_cause_changes(
    tmp_path: Path,
) -> None:
    gate = ResourceGate([tmp_path])
    notices: list[Notice] = []
    huge = SETTINGS.replace(gate_min_free_disk_mb=1_000_000)  # more than any test disk has
    assert gate.holds(huge, 2, notices.append) and gate.holds(huge, 2, notices.append)
    assert [n.level for n in notices] == ["warning"] and "disk full" in notices[0].text
    assert gate.holding is not None and gate.holding.resource == "disk"
    assert not gate.holds(SETTINGS.replace(gate_min_free_disk_mb=0), 2, notices.append)
    assert [n.level for n in notices] == ["warning", "info"] and gate.holding is None


def test_the_minimum_free_disk_setting_is_validated() -> None:
    assert Settings().gate_min_free_disk_mb == 500
    assert Settings(gate_min_free_disk_mb=0).problems() == []
    assert any("gate_min_free_disk_mb" in p for p in Settings(gate_min_free_disk_mb=-1).problems())
