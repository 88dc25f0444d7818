"""Helpers of the desktop-app benchmarks: stand-in agents, an event-loop lag probe, and a
child-process driver that measures the app's resident memory with every pane open.

Importing this module sets ``QT_QPA_PLATFORM=offscreen`` (if unset) before Qt is loaded.
Run as a script (``python guilib.py memory AGENTRY_HOME [--immortal]``) it is the memory
child: a fresh interpreter holding nothing but the app, so pytest's memory is not counted.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import ctypes
import json
import sys
import time
from typing import Any

import psutil
from PySide6.QtCore import QObject, Qt, QTimer, Signal

# ---------------------------------------------------------------------- PySide6 6.12 refcounts

SINGLETONS: dict[str, object] = {"None": None, "True": True, "False": False}


class _Probe(QObject):
    fired = Signal()


def singleton_refs_lost() -> dict[str, float]:
    """References to None/True/False that one PySide6 call drops (empty when sound).

    PySide6 6.12.0 on Python 3.11 drops a reference to ``None`` on every void-returning
    call and one to ``True`` on every ``Signal.emit`` (6.11.3 does not; from Python 3.12
    these objects are immortal, so it does no harm there). The app loses thousands a
    second while a pane draws output, and aborts with "none_dealloc: deallocating None"
    (or "bool_dealloc") when one reaches zero.
    """
    probe = _Probe()
    before = {name: sys.getrefcount(obj) for name, obj in SINGLETONS.items()}
    for _ in range(100):
        probe.setObjectName("probe")
        probe.fired.emit()
    lost = {name: (before[name] - sys.getrefcount(obj)) / 100 for name, obj in SINGLETONS.items()}
    return {name: n for name, n in lost.items() if n > 0}


def make_singletons_immortal() -> None:
    """Add 2**40 references to None, True and False, as Python 3.12 makes them immortal:
    a test-only workaround so the benchmarks measure speed and memory, not the abort."""
    if sys.version_info < (3, 12):
        for obj in SINGLETONS.values():
            ctypes.c_ssize_t.from_address(id(obj)).value += 2**40


# ---------------------------------------------------------------------- stand-in agents

# Lines as agents print them: log lines, test results, compiler warnings; one in five
# carries ANSI colours (always reset by the end of the line, as tools do).
_LINES_CODE = r"""
import itertools
def _lines():
    plain = [
        "2025-06-01T12:34:{s:02d}.{ms:03d}Z INFO  worker[{w}] compiled "
        "src/pkg/module_{m:03d}.py in {t:.1f} ms",
        "  File \"/home/dev/project/src/pkg/module_{m:03d}.py\", line {l}, in handle_request_{w}",
        "Downloading https://files.example.org/packages/lib-{m}.{w}.{l}-py3-none-any.whl "
        "({t:.1f} kB)",
        "[{s:02d}:{ms:03d}] agent: reading src/pkg/module_{m:03d}.py (lines {l}-{l2}) "
        "to plan the change",
    ]
    coloured = [
        "\x1b[32mPASSED\x1b[0m tests/unit/test_module_{m:03d}.py::test_case_{l} "
        "\x1b[2m[{w:3d}%]\x1b[0m",
        "\x1b[1;31mERROR\x1b[0m  tests/unit/test_module_{m:03d}.py::test_case_{l} - "
        "AssertionError: {w} != {l}",
        "\x1b[33mwarning\x1b[0m: unused variable `value_{w}` \x1b[34m-->\x1b[0m "
        "src/lib_{m}.rs:{l}:9",
        "\x1b[36m+\x1b[0m \x1b[1mapplied\x1b[0m patch to src/pkg/module_{m:03d}.py: "
        "{l} insertions(+), {w} deletions(-)",
    ]
    out = []
    for i in range(500):
        kind = coloured if i % 5 == 0 else plain
        text = kind[i % 4].format(
            s=i % 60, ms=(i * 37) % 1000, w=i % 97, m=i % 211, l=i * 7 % 900, l2=i * 7 % 900 + 40,
            t=(i * 13 % 997) / 10,
        )
        out.append(text)
    return out
LINES = _lines()
LINE_BYTES = sum(len(line.encode()) + 10 for line in LINES) / len(LINES)
"""


def stream_agent_code(
    bytes_per_s: int = 1_000_000, tick_s: float = 0.01, max_s: float = 60.0
) -> str:
    """An agent printing ``bytes_per_s`` of ~100-byte lines, one flushed write every
    ``tick_s``; it keeps the average rate (catching up after a stall) and stops after
    ``max_s`` in case nobody kills it."""
    return _LINES_CODE + (
        "import os, time\n"
        f"per_tick = max(1, round({bytes_per_s} * {tick_s} / LINE_BYTES))\n"
        "n = 0\n"
        "start = time.monotonic()\n"
        "for k in itertools.count():\n"
        f"    due = start + k * {tick_s}\n"
        "    now = time.monotonic()\n"
        f"    if now - start > {max_s}:\n"
        "        break\n"
        "    if due > now:\n"
        "        time.sleep(due - now)\n"
        "    elif now - due > 1.0:\n"
        "        start, k = now, 0  # far behind (machine stalled): do not burst\n"
        "    chunk = []\n"
        "    for _ in range(per_tick):\n"
        "        chunk.append(f'{n:>8} {LINES[n % len(LINES)]}\\n')\n"
        "        n += 1\n"
        "    os.write(1, ''.join(chunk).encode())\n"
    )


def big_log_agent_code(megabytes: int) -> str:
    """An agent printing ``megabytes`` MiB of ~100-byte lines as fast as it can."""
    return _LINES_CODE + (
        "import os\n"
        "block = ''.join(f'{i:>8} {LINES[i % len(LINES)]}\\n' for i in range(10_000)).encode()\n"
        f"total = {megabytes} * 2**20\n"
        "done = 0\n"
        "while done < total:\n"
        "    piece = block[: total - done]\n"
        "    os.write(1, piece)\n"
        "    done += len(piece)\n"
    )


# ---------------------------------------------------------------------- event-loop lag


class LagProbe:
    """Measures how late the GUI thread runs work that is due every ``interval_s``.

    Two probes share the thread: a precise single-shot QTimer (what Qt's own timers,
    repaints and input see) and an asyncio task (what the supervisor on qasync sees).
    Each records actual minus expected time of every firing, in ms.
    """

    def __init__(self, interval_s: float = 0.010) -> None:
        self.interval_s = interval_s
        self.qt_ms: list[float] = []
        self.asyncio_ms: list[float] = []
        self._timer = QTimer(singleShot=True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(round(interval_s * 1000))
        self._timer.timeout.connect(self._qt_fired)
        self._armed_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._running = False

    def start(self) -> None:
        self._running = True
        self._armed_at = time.perf_counter()
        self._timer.start()
        self._task = asyncio.ensure_future(self._asyncio_probe())

    def stop(self) -> None:
        self._running = False
        self._timer.stop()
        if self._task is not None:
            self._task.cancel()

    def _qt_fired(self) -> None:
        now = time.perf_counter()
        self.qt_ms.append((now - self._armed_at - self.interval_s) * 1000)
        if self._running:
            self._armed_at = time.perf_counter()
            self._timer.start()

    async def _asyncio_probe(self) -> None:
        loop = asyncio.get_running_loop()
        while self._running:
            due = loop.time() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.asyncio_ms.append((loop.time() - due) * 1000)


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


# ---------------------------------------------------------------------- memory child


def _rss_mib(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


async def _peak_rss(proc: psutil.Process, seconds: float) -> float:
    peak = 0.0
    deadline = time.monotonic() + seconds
    while True:
        peak = max(peak, _rss_mib(proc))
        if time.monotonic() >= deadline:
            return peak
        await asyncio.sleep(0.1)


def memory_main(home: str, immortal: bool) -> int:
    """Start the app on ``home``, open a pane for every task, show each once, and print
    the resident memory at each stage as one JSON line."""
    os.environ["AGENTRY_HOME"] = home
    if immortal:
        make_singletons_immortal()
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.store.locations import locations_from_env
    from app.ui.application import AgentryApp
    from app.ui.dialogs.quit import QuitChoice

    proc = psutil.Process()
    result: dict[str, Any] = {"rss_after_import_mib": _rss_mib(proc)}
    qapp = QApplication(sys.argv[:1])

    def stage(name: str) -> None:  # progress, so a parent sees how far a crashed child got
        result["stage"] = name
        print(json.dumps(result), flush=True)

    async def main() -> int:
        controller = AgentryApp(qapp, locations_from_env(), use_tray=False)
        if not await controller.start():
            print(json.dumps({"error": "the app did not start"}), flush=True)
            return 1
        window = controller.window
        assert window is not None
        result["rss_started_mib"] = await _peak_rss(proc, 1.0)
        stage("started")
        ids = sorted(t.id for t in window.model.tasks())
        result["tasks"] = len(ids)
        started = time.perf_counter()
        for task_id in ids:
            window.open_task(task_id)
        panes = [window.panes[i] for i in ids]

        def loaded() -> bool:
            return all(p.block_count() > 1 or len(p._pending) > 0 for p in panes)

        deadline = time.monotonic() + 30
        while not loaded() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        result["open_all_s"] = time.perf_counter() - started
        result["loaded"] = loaded()
        result["rss_opened_mib"] = await _peak_rss(proc, 1.5)  # one pane drawn, 19 buffered
        stage("panes opened")
        for i, pane in enumerate(panes, 1):  # as a person clicking through every tab would
            window.tabs.setCurrentWidget(pane)
            await asyncio.sleep(0.15)
            stage(f"{i} tabs shown")
        result["rss_all_shown_mib"] = await _peak_rss(proc, 1.5)
        result["blocks_drawn"] = sum(p.block_count() for p in panes)
        result["chars_drawn"] = sum(p.view.document().characterCount() for p in panes)
        try:
            result["uss_all_shown_mib"] = proc.memory_full_info().uss / 2**20
        except psutil.AccessDenied:
            result["uss_all_shown_mib"] = None
        stage("done")
        controller.quit(QuitChoice.KEEP_RUNNING)
        await controller.finished.wait()
        return 0

    return int(qasync.run(main()))


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) in (2, 3) and args[0] == "memory" and args[2:] in ([], ["--immortal"]):
        sys.exit(memory_main(args[1], immortal=args[2:] == ["--immortal"]))
    sys.exit(f"usage: {sys.argv[0]} memory AGENTRY_HOME [--immortal]")


class StallSampler:
    """Where the GUI thread is when it runs late: a thread samples its stack (and what the
    other threads run) while the LagProbe's timer is overdue. Names the code behind a
    lag figure rather than guessing it."""

    def __init__(self, probe: LagProbe, late_s: float = 0.040, every_s: float = 0.005) -> None:
        import threading

        self.probe = probe
        self.late_s = late_s
        self.every_s = every_s
        self.main = threading.main_thread().ident
        self.gui: dict[str, int] = {}
        self.others: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import sys

        while not self._stop.wait(self.every_s):
            if time.perf_counter() - self.probe._armed_at < self.probe.interval_s + self.late_s:
                continue
            for ident, frame in sys._current_frames().items():
                where = _where(frame)
                if where is None:
                    continue
                table = self.gui if ident == self.main else self.others
                table[where] = table.get(where, 0) + 1

    def top(self, n: int = 12) -> dict[str, list[tuple[str, int]]]:
        def best(table: dict[str, int]) -> list[tuple[str, int]]:
            return sorted(table.items(), key=lambda kv: -kv[1])[:n]

        return {"gui_thread": best(self.gui), "other_threads": best(self.others)}


def _where(frame: Any) -> str | None:
    """The innermost frames of our code (app/, tests/) and the call it is in."""
    import traceback

    stack = traceback.extract_stack(frame)
    ours = [f for f in stack if "/app/" in f.filename or "/tests/" in f.filename]
    if not ours:
        return None
    inner = stack[-1]
    names = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in ours[-3:]]
    path = " < ".join(reversed(names))
    return f"{inner.filename.rsplit('/', 1)[-1]}:{inner.name} | {path}"
