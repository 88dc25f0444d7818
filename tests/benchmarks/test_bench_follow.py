"""`agentry logs --follow`: latency from an agent's write to the line on the follower's
stdout, and the followers' CPU, with 20 followers of 20 agents writing 20 lines a second.

Target (issue #14): p99 <= 10 ms from write to print, <= 0.2 % of a core per follower.
Each agent waits for a `go` file, then writes LINES lines holding ``time.time()`` at the
moment of writing (flushed), 50 ms apart. One real `agentry logs --follow ID` process per
task reads them; the benchmark reads every follower's stdout pipe from one thread with
``selectors`` and records ``time.time()`` at the read minus the stamp. CPU is the
followers' own time on a CPU (/proc/PID/schedstat, else psutil) over the steady part of
the writing, from WARMUP_S after `go` for WINDOW_S. `agentry serve --headless` supervises
the agents.

Also measured, as the floor of the mechanism on this machine: a bare follower (FLOOR, a
dozen lines of Python: poll on inotify, read its events, read the file, write the pipe)
following the first agent alongside, its CPU taken over the same window.
"""

from __future__ import annotations

import contextlib
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import psutil
import pytest
from benchlib import (
    ROOT,
    Bench,
    Home,
    Processes,
    cpu_seconds,
    kill_run_processes,
    percentile,
)
from helpers.wait import wait_until

FOLLOWERS = 20
LINES = 240  # 12 s at 20 lines a second
INTERVAL_S = 0.05
WARMUP_S = 2.0
WINDOW_S = 8.0
TARGET_P99_MS = 10.0
TARGET_CPU_PERCENT = 0.2
AGENT = [
    sys.executable,
    "-c",
    "import os, sys, time\n"
    "while not os.path.exists('go'):\n"
    "    time.sleep(0.01)\n"
    "start = time.monotonic()\n"
    f"for i in range({LINES}):\n"
    f"    time.sleep(max(0.0, start + i * {INTERVAL_S} - time.monotonic()))\n"
    "    sys.stdout.write(f'{time.time():.6f} line {i}\\n')\n"
    "    sys.stdout.flush()\n",
]
FLOOR = """
import os, select, sys
from watchdog.observers import inotify_c as c
folder, lines = sys.argv[1], int(sys.argv[2])
fd = c.inotify_init()
c.inotify_add_watch(fd, os.fsencode(folder), c.InotifyConstants.IN_MODIFY)
os.set_blocking(fd, False)
poll = select.poll()
poll.register(fd, select.POLLIN)
out = open(os.path.join(folder, "output.log"), "rb", buffering=0)
buf = bytearray(65536)
view, sink, seen = memoryview(buf), sys.stdout.buffer, 0
while seen < lines:
    if poll.poll(1000):
        os.read(fd, 65536)
    while size := out.readinto(buf):
        sink.write(view[:size])
        sink.flush()
        seen += buf.count(b"\\n", 0, size)
"""
FLOOR_ID = 0  # not a task: the bare follower's key among the followers


def _cpu(procs: list[psutil.Process]) -> float:
    """Seconds on a CPU so far, summed (a follower that ended counts nothing more)."""
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += cpu_seconds(proc)
    return total


@pytest.mark.benchmark
def test_logs_follow_20_followers(
    home: Home, tmp_path: Path, processes: Processes, bench: Bench
) -> None:
    home.write_settings(
        max_concurrency=FOLLOWERS, gate_max_cpu_percent=100.0, gate_max_memory_percent=100.0
    )
    serve_out = open(tmp_path / "serve.out", "wb")  # noqa: SIM115 - closed in finally
    latencies: list[float] = []  # ms, lines written after WARMUP_S
    all_latencies: list[float] = []
    counts: dict[int, int] = {}
    bad: list[str] = []
    try:
        serve = processes.start(
            [sys.executable, "-m", "app", "serve", "--headless"],
            env=home.env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=serve_out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(
            lambda: (
                serve.poll() is not None or b"Supervising" in (tmp_path / "serve.out").read_bytes()
            ),
            30,
            message="serve to start",
        )
        assert serve.poll() is None, (tmp_path / "serve.out").read_text()
        task_ids = [home.submit(AGENT, tmp_path, title=f"writer {i}") for i in range(FOLLOWERS)]
        followers = {
            task_id: processes.start(
                [sys.executable, "-m", "app", "logs", "--follow", str(task_id)],
                env=home.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
            )
            for task_id in task_ids
        }
        wait_until(
            lambda: all(home.run(t).state.value == "running" for t in task_ids),
            120,
            message="every agent running",
            interval=0.2,
        )
        first = home.locations.run_dir(home.run(task_ids[0]).dir)
        floor = followers[FLOOR_ID] = processes.start(
            [sys.executable, "-c", FLOOR, str(first), str(LINES)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(1.0)  # every follower has started and found its run
        procs = [psutil.Process(followers[t].pid) for t in task_ids]
        floor_proc = [psutil.Process(floor.pid)]
        (tmp_path / "go").touch()
        go = time.time()
        window: list[float] = []  # cpu, wall at the start and at the end of the window

        def on_line(task_id: int, line: bytes) -> None:
            if task_id == FLOOR_ID:
                return
            now = time.time()
            try:
                stamp = float(line.split(b" ", 1)[0])
            except ValueError:
                bad.append(line.decode(errors="replace"))
                return
            counts[task_id] = counts.get(task_id, 0) + 1
            all_latencies.append((now - stamp) * 1000)
            if stamp >= go + WARMUP_S:
                latencies.append((now - stamp) * 1000)

        def on_tick() -> None:
            elapsed = time.time() - go
            due = WARMUP_S if not window else WARMUP_S + WINDOW_S if len(window) == 3 else None
            if due is not None and elapsed >= due:  # the window's start, then its end
                window.extend([_cpu(procs), time.perf_counter(), _cpu(floor_proc)])

        _read_all(followers, on_line, on_tick, timeout=LINES * INTERVAL_S + 60)
        codes = [p.wait(timeout=30) for p in followers.values()]
    finally:
        processes.stop_all()
        kill_run_processes(home)
        serve_out.close()

    assert not bad, f"lines without a time stamp: {bad[:5]}"
    assert codes == [0] * (FOLLOWERS + 1), codes
    assert all(counts.get(t) == LINES for t in task_ids), counts
    assert len(window) == 6, "the run was shorter than the CPU window"
    wall = window[4] - window[1]
    cpu_percent = 100.0 * (window[3] - window[0]) / wall / FOLLOWERS
    floor_percent = 100.0 * (window[5] - window[2]) / wall
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    passed = p99 <= TARGET_P99_MS and cpu_percent <= TARGET_CPU_PERCENT
    bench.report(
        "logs_follow_20_followers",
        measured=(
            f"{FOLLOWERS} `agentry logs --follow` processes, one per running agent; each agent "
            f"writes {LINES} lines {INTERVAL_S * 1000:.0f} ms apart stamped with time.time(); "
            "latency = time.time() when the benchmark reads the line from the follower's "
            f"stdout pipe minus the stamp (lines after the first {WARMUP_S:.0f} s); CPU = "
            f"followers' time on a CPU (schedstat) over {WINDOW_S:.0f} s, percent of a core "
            "per follower; a bare inotify follower of one agent alongside, as the floor"
        ),
        target=f"p99 <= {TARGET_P99_MS:.0f} ms, <= {TARGET_CPU_PERCENT} % CPU per follower",
        passed=passed,
        figures={
            "p50_ms": round(p50, 2),
            "p90_ms": round(percentile(latencies, 90), 2),
            "p99_ms": round(p99, 2),
            "max_ms": round(max(latencies), 2),
            "cpu_percent_per_follower": round(cpu_percent, 3),
            "cpu_percent_all_followers": round(cpu_percent * FOLLOWERS, 2),
            "bare_follower_cpu_percent": round(floor_percent, 3),
            "lines": len(latencies),
        },
        extra={"all_lines_p99_ms": round(percentile(all_latencies, 99), 2)},
    )
    assert passed, f"follow p99 {p99:.1f} ms, {cpu_percent:.3f} % CPU per follower"


def _read_all(
    followers: dict[int, subprocess.Popen[Any]],
    on_line: Any,
    on_tick: Any,
    timeout: float,
) -> None:
    """Read every follower's stdout until all have closed it, line by line, in one thread."""
    selector = selectors.DefaultSelector()
    partial: dict[int, bytes] = {}
    for task_id, proc in followers.items():
        pipe: IO[bytes] = proc.stdout  # type: ignore[assignment]
        selector.register(pipe, selectors.EVENT_READ, task_id)
        partial[task_id] = b""
    deadline = time.monotonic() + timeout
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.1):
            task_id = key.data
            data = key.fileobj.read1(65536) if hasattr(key.fileobj, "read1") else b""
            if not data:
                selector.unregister(key.fileobj)
                continue
            *lines, partial[task_id] = (partial[task_id] + data).split(b"\n")
            for line in lines:
                on_line(task_id, line)
        on_tick()
    selector.close()
