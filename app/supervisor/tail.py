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


class OutputTail:
    def __init__(self, path: Path, offset: int = 0) -> None:
        self.path = path
        self.offset = offset
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

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
        text = self._partial + self._decoder.decode(data)
        lines = text.split("\n")
        self._partial = lines.pop()
        return [line.removesuffix("\r") for line in lines]

    def flush(self) -> list[str]:
        """The unterminated last line, once the writer is known to be done."""
        rest = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        return [rest.removesuffix("\r")] if rest else []

    def has_more(self) -> bool:
        try:
            return os.stat(self.path).st_size > self.offset
        except FileNotFoundError:
            return False

    def _read(self, max_bytes: int) -> bytes:
        if not self.has_more():  # one stat instead of open/seek/read/close when idle
            return b""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read(max_bytes)
        except FileNotFoundError:
            return b""
        self.offset += len(data)
        return data
