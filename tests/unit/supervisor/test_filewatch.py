"""filewatch: callbacks for watched folders' files, and the poll when notifications fail."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.wait import wait_until

from app.store.fsops import write_json
from app.supervisor.filewatch import ANYTHING, FolderWatcher

Heard = list[tuple[Path, str]]


def _listener() -> tuple[Heard, Any]:
    heard: Heard = []
    lock = threading.Lock()

    def on_change(folder: Path, name: str) -> None:
        with lock:
            heard.append((folder, name))

    return heard, on_change


@pytest.fixture
def watcher() -> Iterator[FolderWatcher]:
    before = set(threading.enumerate())
    files = FolderWatcher()
    files.start()
    try:
        yield files
    finally:
        files.stop()
        left = {t for t in set(threading.enumerate()) - before if t.is_alive()}
        assert not left, f"threads left running after stop: {left}"


@pytest.fixture
def polling(monkeypatch: pytest.MonkeyPatch) -> Iterator[FolderWatcher]:
    """watchdog's observers made unavailable: importing them fails."""
    monkeypatch.setitem(sys.modules, "watchdog.observers", None)
    files = FolderWatcher(poll_s=0.01)
    files.start()
    try:
        yield files
    finally:
        files.stop()


def _watched(tmp_path: Path, name: str = "run-1") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def test_a_created_file_is_heard(watcher: FolderWatcher, tmp_path: Path) -> None:
    folder = _watched(tmp_path)
    heard, on_change = _listener()
    watcher.watch(folder, frozenset({"exit.json"}), on_change)
    (folder / "exit.json").write_text("{}")
    wait_until(lambda: (folder, "exit.json") in heard, message="the creation")


def test_an_atomic_write_is_heard_by_its_final_name(watcher: FolderWatcher, tmp_path: Path) -> None:
    folder = _watched(tmp_path)
    heard, on_change = _listener()
    watcher.watch(folder, frozenset({"exit.json"}), on_change)
    write_json(folder / "exit.json", {"code": 0})  # a temporary file renamed into place
    wait_until(lambda: (folder, "exit.json") in heard, message="the move into place")


def test_writes_are_heard_only_when_asked_for(watcher: FolderWatcher, tmp_path: Path) -> None:
    folder = _watched(tmp_path)
    log = folder / "output.log"
    log.write_text("")
    appear, on_appear = _listener()
    writes, on_write = _listener()
    watcher.watch(folder, frozenset({"output.log"}), on_appear)
    watcher.watch(folder, frozenset({"output.log"}), on_write, modified=True)
    with open(log, "a") as f:
        f.write("a line\n")
    wait_until(lambda: (folder, "output.log") in writes, message="the write")
    assert (folder, "output.log") not in appear  # told in the same breath, had it wanted


def test_other_files_and_unwatched_folders_are_not_heard(
    watcher: FolderWatcher, tmp_path: Path
) -> None:
    folder, other = _watched(tmp_path), _watched(tmp_path, "run-2")
    heard, on_change = _listener()
    watcher.watch(folder, frozenset({"exit.json"}), on_change, modified=True)
    (folder / "heartbeat").write_text("1")
    (other / "exit.json").write_text("{}")
    (folder / "exit.json").write_text("{}")  # the last: once heard, the others were too
    wait_until(lambda: (folder, "exit.json") in heard, message="the watched file")
    assert {name for _, name in heard} == {"exit.json"}
    assert all(f == folder for f, _ in heard)


def test_nothing_is_heard_after_unwatch(watcher: FolderWatcher, tmp_path: Path) -> None:
    folder = _watched(tmp_path)
    heard, on_change = _listener()
    sub = watcher.watch(folder, frozenset({"a", "b"}), on_change)
    watcher.unwatch(sub)
    (folder / "a").write_text("")
    marker, on_marker = _listener()
    watcher.watch(folder, frozenset({"b"}), on_marker)
    (folder / "b").write_text("")
    wait_until(lambda: marker, message="the later watch")
    assert heard == []


def test_a_folder_made_later_is_watched_once_it_exists(
    watcher: FolderWatcher, tmp_path: Path
) -> None:
    folder = tmp_path / "queued-run"
    heard, on_change = _listener()
    watcher.watch(folder, frozenset({"output.log"}), on_change, modified=True)
    assert folder in watcher.polled
    folder.mkdir()
    wait_until(lambda: folder not in watcher.polled, message="the watch on the new folder")
    (folder / "output.log").write_text("hello\n")
    wait_until(lambda: (folder, "output.log") in heard, message="the write")


def test_without_watchdog_the_poll_hears_changes(
    polling: FolderWatcher, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _watched(tmp_path)
    heard, on_change = _listener()
    polling.watch(folder, frozenset({"exit.json", "output.log"}), on_change)
    polling.watch(_watched(tmp_path, "run-2"), frozenset({"exit.json"}), on_change)
    assert folder in polling.polled
    write_json(folder / "exit.json", {"code": 0})
    wait_until(lambda: (folder, "exit.json") in heard, message="the polled creation")
    (folder / "output.log").write_text("x")
    wait_until(lambda: (folder, "output.log") in heard, message="the polled write")
    logged = caplog.get_records("setup") + caplog.get_records("call")
    warnings = [r for r in logged if "polling every" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"


def test_a_watch_that_cannot_be_added_falls_back_to_the_poll(tmp_path: Path) -> None:
    class Refusing:
        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

        def join(self) -> None:
            pass

        def schedule(self, *args: object, **kwargs: object) -> None:
            raise OSError(28, "inotify watch limit reached")

    files = FolderWatcher(observer=Refusing, poll_s=0.01)
    files.start()
    try:
        folder = _watched(tmp_path)
        heard, on_change = _listener()
        files.watch(folder, frozenset({"exit.json"}), on_change)
        (folder / "exit.json").write_text("{}")
        wait_until(lambda: (folder, "exit.json") in heard, message="the polled creation")
    finally:
        files.stop()


def test_a_missed_event_window_is_reported_as_anything(
    watcher: FolderWatcher, tmp_path: Path
) -> None:
    """Widening a folder's watch replaces it: whoever listened is told to look again."""
    folder = _watched(tmp_path)
    heard, on_change = _listener()
    watcher.watch(folder, frozenset({"exit.json"}), on_change)
    _, other = _listener()
    watcher.watch(folder, frozenset({"output.log"}), other, modified=True)
    assert (folder, ANYTHING) in heard
    assert os.path.isdir(folder)
