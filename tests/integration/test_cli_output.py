"""`agentry run --wait` hands on a command's output byte for byte (issue: nothing lost):
invalid UTF-8, CR LF, binary and a 10 MB line come out exactly as the command wrote them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.agentry import ROOT, Home


def run_wait(home: Home, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        home.cli_argv("run", "--wait", *args),
        env=home.env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )


def writer(path: Path) -> list[str]:
    """A command that writes ``path``'s bytes to its standard output, in pieces."""
    script = (
        "import sys, time\n"
        f"data = open({str(path)!r}, 'rb').read()\n"
        "for i in range(0, len(data), 300_001):\n"
        "    sys.stdout.buffer.write(data[i:i + 300_001]); sys.stdout.buffer.flush()\n"
    )
    return ["--", sys.executable, "-c", script]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(bytes(range(256)) * 4096, id="binary"),
        pytest.param("naïve café\r\nline two\r\n".encode("latin-1") * 1000, id="latin-1-crlf"),
        pytest.param(b"x" * (10 * 1024 * 1024) + b"\n", id="ten-megabyte-line"),
        pytest.param(b"no newline at the end \xff\xfe", id="unterminated"),
    ],
)
def test_a_commands_output_comes_out_exactly(home: Home, tmp_path: Path, content: bytes) -> None:
    source = tmp_path / "content.bin"
    source.write_bytes(content)

    done = run_wait(home, *writer(source))

    assert done.returncode == 0, done.stderr
    assert len(done.stdout) == len(content)
    assert hashlib.sha256(done.stdout).digest() == hashlib.sha256(content).digest()


def test_the_runners_own_notes_still_reach_the_pipe(home: Home, tmp_path: Path) -> None:
    done = run_wait(home, "--timeout", "1", "--", "sh", "-c", "printf 'a\\r\\n'; sleep 30")
    assert done.returncode == 124
    assert done.stdout.startswith(b"a\r\n")
    assert b"timed out after 1 s" in done.stdout
