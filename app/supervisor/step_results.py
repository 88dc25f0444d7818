"""What a finished workflow step hands to the next one: its result text.

A structured agent says what its answer was (the ``result`` of its last line, or the
assistant text of its last turn); for any other agent the end of its output is the best
summary there is. Only the tail of ``output.log`` is read, however large it grew.
"""

from __future__ import annotations

from pathlib import Path

from app.core import ansi
from app.core.agent_events import Result, Text, ToolCall, ToolResult
from app.supervisor.adapters import Adapter
from app.supervisor.tail import last_lines

STRUCTURED_TAIL_BYTES = 256 * 1024
PLAIN_TAIL_BYTES = 64 * 1024


def step_result(path: Path, adapter: Adapter | None) -> str:
    """The result text of the run whose output is at ``path`` (empty if it printed nothing)."""
    if adapter is not None and adapter.structured:
        answer = _structured_result(last_lines(path, STRUCTURED_TAIL_BYTES), adapter)
        if answer:
            return answer
    text = _plain_result(last_lines(path, PLAIN_TAIL_BYTES))
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return text
    if size > PLAIN_TAIL_BYTES:
        # Say so: a reviewer approving, or a later step reading, must know it is the end.
        return f"[… the first part of this output was left out; all of it is in {path}]\n{text}"
    return text


def _structured_result(lines: list[str], adapter: Adapter) -> str:
    parser = adapter.parser()
    final = ""
    turn: list[str] = []
    for line in lines:
        for event in parser.feed(line):
            if isinstance(event, Result) and event.text.strip():
                final = event.text
            elif isinstance(event, ToolCall | ToolResult):
                turn = []  # the answer is what it said after its last tool use
            elif isinstance(event, Text) and event.role == "assistant":
                turn.append(event.text)
    return (final or "\n".join(turn)).strip()


def _plain_result(lines: list[str]) -> str:
    return "\n".join(ansi.strip(line) for line in lines).strip()
