"""Following a growing ``output.log`` (DESIGN §5).

Reads what is new from an offset, bounded per call, through an incremental UTF-8 decoder
(a character split across two reads is never mangled), and yields complete lines.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

READ_CHUNK = 256 * 1024
LATE_START_BYTES = 256 * 1024
# A line longer than this is delivered in pieces of this size: a progress bar redrawn with
# carriage returns, or a minified blob, must not grow in memory and be re-split on every
# read (quadratic) while the pane shows nothing.
MAX_LINE_CHARS = 64 * 1024


class OutputTail:
    def __init__(self, path: Path, offset: int = 0) -> None:
        self.path = path
        self.offset = offset
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial: list[str] = []  # pieces of the unterminated line
        self._partial_len = 0

    @classmethod
    def from_end(cls, path: Path, keep_bytes: int = LATE_START_BYTES) -> OutputTail:
        """A tail for a pane opened late: the last ``keep_bytes``, from a line start."""
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return cls(path)
        if size <= keep_bytes:
            return cls(path)
        window = size - keep_bytes
        with open(path, "rb") as f:
            f.seek(window - 1)  # the byte before the window tells if it starts a line
            head = f.read(min(keep_bytes, 64 * 1024) + 1)
        newline = head.find(b"\n")
        start = window - 1 + (newline + 1 if newline >= 0 else 1)
        return cls(path, start)

    def read_lines(self, max_bytes: int = READ_CHUNK) -> list[str]:
        """Complete lines written since the last call (at most about ``max_bytes`` of them)."""
        data = self._read(max_bytes)
        if not data:
            return []
        text = self._decoder.decode(data)
        if "\n" not in text:  # the line goes on: keep the piece (no re-splitting of it)
            self._keep(text)
            return self._overlong()
        pieces = text.split("\n")
        first = "".join([*self._partial, pieces[0]])
        self._partial, self._partial_len = [], 0
        self._keep(pieces[-1])
        lines = [first, *pieces[1:-1]]
        return [line.removesuffix("\r") for line in lines] + self._overlong()

    def flush(self) -> list[str]:
        """The unterminated last line, once the writer is known to be done."""
        rest = "".join(self._partial) + self._decoder.decode(b"", final=True)
        self._partial, self._partial_len = [], 0
        return [rest.removesuffix("\r")] if rest else []

    def _keep(self, piece: str) -> None:
        if piece:
            self._partial.append(piece)
            self._partial_len += len(piece)

    def _overlong(self) -> list[str]:
        """Whole MAX_LINE_CHARS pieces of a line too long to wait for its end."""
        if self._partial_len < MAX_LINE_CHARS:
            return []
        text = "".join(self._partial)
        cut = len(text) - len(text) % MAX_LINE_CHARS
        self._partial = [text[cut:]] if cut < len(text) else []
        self._partial_len = len(text) - cut
        return [text[i : i + MAX_LINE_CHARS] for i in range(0, cut, MAX_LINE_CHARS)]

    def has_more(self) -> bool:
        return self._unread() > 0

    def _unread(self) -> int:
        try:
            return os.stat(self.path).st_size - self.offset
        except FileNotFoundError:
            return 0

    def _read(self, max_bytes: int) -> bytes:
        unread = self._unread()  # one stat instead of open/seek/read/close when idle
        if unread <= 0:
            return b""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                # What is there, not max_bytes: a read of a 256 KiB buffer for one line
                # costs an mmap and a page fault. A file that grew since is read next time.
                data = f.read(min(unread, max_bytes))
        except FileNotFoundError:
            return b""
        self.offset += len(data)
        return data


def last_lines(path: Path, limit: int) -> list[str]:
    """The last ``limit`` bytes of a finished log as lines, from a line start when cut
    (a step's result, the limit an agent stopped on)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - limit))
            data = f.read()
    except FileNotFoundError:
        return []
    if size > limit:
        data = data[data.find(b"\n") + 1 :] if b"\n" in data[:-1] else data
    return codecs.decode(data, "utf-8", errors="replace").splitlines()
