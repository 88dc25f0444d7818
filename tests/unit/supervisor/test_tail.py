"""Tests for app.supervisor.tail.OutputTail: lines from a growing file, decoded safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.supervisor.tail import OutputTail


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "output.log"
    path.write_bytes(b"")
    return path


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def _drain(tail: OutputTail, max_bytes: int = 1 << 20) -> list[str]:
    lines: list[str] = []
    while tail.has_more():
        lines += tail.read_lines(max_bytes)
    return lines


# --- lines -----------------------------------------------------------------------------


def test_lines_written_in_one_go_are_returned(log: Path) -> None:
    _append(log, b"one\ntwo\nthree\n")
    assert OutputTail(log).read_lines() == ["one", "two", "three"]


def test_lines_across_multiple_appends_are_returned_once_each(log: Path) -> None:
    tail = OutputTail(log)
    _append(log, b"one\n")
    first = tail.read_lines()
    _append(log, b"two\nthree\n")
    second = tail.read_lines()
    assert (first, second) == (["one"], ["two", "three"])


def test_nothing_new_gives_no_lines(log: Path) -> None:
    _append(log, b"one\n")
    tail = OutputTail(log)
    tail.read_lines()
    assert tail.read_lines() == []


def test_partial_last_line_is_held_until_its_newline(log: Path) -> None:
    tail = OutputTail(log)
    _append(log, b"done\nhalf a li")
    assert tail.read_lines() == ["done"]
    _append(log, b"ne\n")
    assert tail.read_lines() == ["half a line"]


def test_flush_returns_the_unterminated_last_line(log: Path) -> None:
    tail = OutputTail(log)
    _append(log, b"done\nno newline at the end")
    tail.read_lines()
    assert tail.flush() == ["no newline at the end"]


def test_flush_returns_nothing_when_the_last_line_was_complete(log: Path) -> None:
    tail = OutputTail(log)
    _append(log, b"done\n")
    tail.read_lines()
    assert tail.flush() == []


def test_flush_hands_the_partial_line_out_only_once(log: Path) -> None:
    tail = OutputTail(log)
    _append(log, b"tail end")
    tail.read_lines()
    tail.flush()
    assert tail.flush() == []


def test_empty_lines_are_kept(log: Path) -> None:
    _append(log, b"a\n\nb\n")
    assert OutputTail(log).read_lines() == ["a", "", "b"]


def test_crlf_line_endings_are_stripped(log: Path) -> None:
    _append(log, b"windows\r\nline\r\n")
    assert OutputTail(log).read_lines() == ["windows", "line"]


def test_crlf_split_between_two_reads_is_stripped(log: Path) -> None:
    _append(log, b"abc\r\n")
    assert _drain(OutputTail(log), max_bytes=4) == ["abc"]


def test_read_lines_reads_at_most_max_bytes_per_call(log: Path) -> None:
    _append(log, b"0123456789\n" * 10)
    tail = OutputTail(log)
    tail.read_lines(max_bytes=25)
    assert tail.offset == 25


def test_small_reads_eventually_return_every_line(log: Path) -> None:
    lines = [f"line {i}" for i in range(50)]
    _append(log, "".join(f"{x}\n" for x in lines).encode())
    assert _drain(OutputTail(log), max_bytes=7) == lines


def test_offset_starts_reading_from_the_middle(log: Path) -> None:
    _append(log, b"skip\nkeep\n")
    assert OutputTail(log, offset=5).read_lines() == ["keep"]


# --- decoding --------------------------------------------------------------------------


def test_multibyte_character_split_across_two_appends_is_decoded_intact(log: Path) -> None:
    tail = OutputTail(log)
    _append(log, "café ".encode()[:-2])  # ends inside the two bytes of "é"
    assert tail.read_lines() == []
    _append(log, "café ".encode()[-2:] + b"\n")
    assert tail.read_lines() == ["café "]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_multibyte_characters_split_by_max_bytes_are_decoded_intact(log: Path, chunk: int) -> None:
    text = "naïve 日本語 🙂 ok"
    _append(log, f"{text}\n".encode())
    assert _drain(OutputTail(log), max_bytes=chunk) == [text]


def test_invalid_bytes_become_replacement_characters(log: Path) -> None:
    _append(log, b"bad \xff\xfe bytes\nnext\n")
    assert OutputTail(log).read_lines() == ["bad \ufffd\ufffd bytes", "next"]


def test_truncated_character_at_the_end_becomes_a_replacement_on_flush(log: Path) -> None:
    _append(log, "é".encode()[:1])
    tail = OutputTail(log)
    tail.read_lines()
    assert tail.flush() == ["\ufffd"]


# --- missing file and late start ------------------------------------------------------


def test_missing_file_yields_nothing(tmp_path: Path) -> None:
    tail = OutputTail(tmp_path / "not-yet.log")
    assert tail.read_lines() == []
    assert tail.flush() == []
    assert not tail.has_more()


def test_file_created_later_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "later.log"
    tail = OutputTail(path)
    tail.read_lines()
    path.write_bytes(b"first\n")
    assert tail.read_lines() == ["first"]


def test_from_end_of_a_missing_file_starts_at_zero(tmp_path: Path) -> None:
    assert OutputTail.from_end(tmp_path / "missing.log").offset == 0


def test_from_end_of_a_small_file_reads_it_all(log: Path) -> None:
    _append(log, b"one\ntwo\n")
    assert OutputTail.from_end(log, keep_bytes=100).read_lines() == ["one", "two"]


def test_from_end_starts_at_a_line_start_within_the_last_bytes(log: Path) -> None:
    lines = [f"line {i:03d}" for i in range(100)]  # 9 bytes each with the newline
    _append(log, "".join(f"{x}\n" for x in lines).encode())
    size = log.stat().st_size
    tail = OutputTail.from_end(log, keep_bytes=55)
    assert size - 55 <= tail.offset
    got = tail.read_lines()
    assert got == lines[-len(got) :]
    assert got[0] in lines
    assert len(got) >= 4


def test_from_end_keeps_following_new_output(log: Path) -> None:
    _append(log, b"x" * 1000 + b"\nold\n")
    tail = OutputTail.from_end(log, keep_bytes=10)
    assert tail.read_lines() == ["old"]
    _append(log, b"new\n")
    assert tail.read_lines() == ["new"]


def test_from_end_keeps_a_line_that_starts_exactly_at_the_window_start(log: Path) -> None:
    _append(log, b"aaaa\nbbbb\ncccc\n")
    assert OutputTail.from_end(log, keep_bytes=10).read_lines() == ["bbbb", "cccc"]


def test_a_line_too_long_to_wait_for_is_delivered_in_pieces_and_never_held_whole(
    tmp_path: Path,
) -> None:
    """A progress bar redrawn with \\r, or a minified blob: bounded memory, shown as it comes."""
    from app.supervisor.tail import MAX_LINE_CHARS

    log = tmp_path / "output.log"
    text = "".join(chr(ord("a") + i % 26) for i in range(3 * MAX_LINE_CHARS + 1000))
    log.write_text(text)
    tail = OutputTail(log)
    got: list[str] = []
    while chunk := tail.read_lines(max_bytes=32 * 1024):
        got.extend(chunk)
        assert tail._partial_len < MAX_LINE_CHARS
    while tail.has_more():
        got.extend(tail.read_lines(max_bytes=32 * 1024))
        assert tail._partial_len < MAX_LINE_CHARS
    assert [len(piece) for piece in got] == [MAX_LINE_CHARS] * 3
    with log.open("a") as f:
        f.write("!\nnext\n")
    got.extend(tail.read_lines())
    assert "".join(got[:4]) == text + "!" and got[4:] == ["next"]
