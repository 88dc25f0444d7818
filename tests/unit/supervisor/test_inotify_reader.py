"""The follower's own inotify reader (Linux): what it hears, from real events and from
event bytes written by hand (a lost-events overflow, several events in one read)."""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.supervisor.filewatch import ANYTHING, InotifyReader

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")

NAMES = frozenset({"output.log", "exit.json"})


@pytest.fixture
def reader() -> Iterator[InotifyReader]:
    made = InotifyReader.open(None)
    assert made is not None, "no inotify here"
    yield made
    made.close()


def _heard(reader: InotifyReader, folder: Path) -> list[str]:
    heard: list[str] = []
    assert reader.watch(folder, NAMES, lambda _f, name: heard.append(name), modified=True)
    return heard


def test_a_write_to_a_followed_file_is_heard_once_by_its_name(
    reader: InotifyReader, tmp_path: Path
) -> None:
    (tmp_path / "output.log").write_bytes(b"")
    heard = _heard(reader, tmp_path)
    with open(tmp_path / "output.log", "ab") as f:
        f.write(b"a line\n")
    reader.wait(5)
    assert heard == ["output.log"]


def test_events_read_together_are_each_heard_once_and_others_not_at_all(
    reader: InotifyReader, tmp_path: Path
) -> None:
    (tmp_path / "output.log").write_bytes(b"")
    heard = _heard(reader, tmp_path)
    for line in (b"one\n", b"two\n"):  # two writes, one name: heard once
        with open(tmp_path / "output.log", "ab") as f:
            f.write(line)
    (tmp_path / "heartbeat").write_text("beat")  # not followed
    (tmp_path / "exit.json").write_text("{}")
    reader.wait(5)
    assert sorted(heard) == ["exit.json", "output.log"]


def test_lost_events_make_every_follower_look_at_everything(
    reader: InotifyReader, tmp_path: Path
) -> None:
    heard = _heard(reader, tmp_path)
    overflow = struct.pack("iIII", -1, 0x4000, 0, 0)  # IN_Q_OVERFLOW, on no watch
    _feed(reader, overflow)
    assert heard == [ANYTHING]


def test_a_batch_of_hand_written_events_is_parsed_by_name(
    reader: InotifyReader, tmp_path: Path
) -> None:
    heard = _heard(reader, tmp_path)
    wd = 1  # the first watch of a new inotify descriptor

    def event(name: bytes, mask: int = 0x2) -> bytes:  # IN_MODIFY
        padded = name.ljust(32, b"\0")  # padded otherwise than the fast path expects
        return struct.pack("iIII", wd, mask, 0, len(padded)) + padded

    _feed(reader, event(b"output.log") + event(b"other") + event(b"exit.json", 0x100))
    assert heard == ["output.log", "exit.json"]


def _feed(reader: InotifyReader, data: bytes) -> None:
    """Hand the reader these bytes as if its inotify descriptor had them."""
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    real = reader._fd
    reader._fd = read_end
    try:
        reader._readable()
    finally:
        reader._fd = real
        os.close(read_end)
