"""What an approval dialog shows of a tool call: the command, a diff for an edit, or the
input as JSON; what a yes also lets through; and diff colours for the theme."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from PySide6.QtGui import (
    QColor,
    QFont,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import QApplication

from app.core.approvals import Approval
from app.supervisor.adapters import get_adapter_or_none

# Claude Code's, Codex's and Gemini CLI's names of tools whose input reads best as a command
# or a diff
SHELL_TOOLS = ("Bash", "run_shell_command")
EDIT_TOOLS = ("Edit", "MultiEdit", "replace")
WRITE_TOOLS = ("Write", "write_file")
PATCH_TOOLS = ("apply_patch",)  # Codex: the patch itself is the clearest view


def caveat(approval: Approval) -> str:
    """What a yes to this call lets through beyond what the dialog shows, if anything."""
    if approval.agent == "codex" and approval.tool in SHELL_TOOLS:
        return (
            "If this command keeps running and reads input, Codex can type more into it "
            "later without asking (Codex does not pass that input through any hook)."
        )
    return ""


def describe_input(approval: Approval) -> str:
    """The call's input as a person reads it: the command, a diff, or pretty JSON."""
    data = approval.input
    if approval.tool in SHELL_TOOLS and isinstance(data.get("command"), str):
        note = f"\n\n# {data['description']}" if data.get("description") else ""
        return f"$ {data['command']}{note}"
    if approval.tool in PATCH_TOOLS and isinstance(data.get("command"), str):
        return str(data["command"])
    if approval.tool in EDIT_TOOLS and "file_path" in data:
        return _edit_diff(data)
    if approval.tool in WRITE_TOOLS and isinstance(data.get("content"), str):
        lines = data["content"].splitlines(keepends=True)
        diff = difflib.unified_diff([], lines, "/dev/null", str(data.get("file_path", "")))
        return "".join(diff)
    return json.dumps(data, indent=2, ensure_ascii=False)


def _diff_names(path: str) -> tuple[str, str]:
    """Header names of a diff of ``path``: git's a/ and b/ for a relative path; an absolute
    one is shown as it is (``a//tmp/x`` reads as a typo)."""
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", path):
        return path, path
    return f"a/{path}", f"b/{path}"


def _edit_diff(data: dict[str, Any]) -> str:
    old_name, new_name = _diff_names(str(data.get("file_path")))
    edits = data.get("edits") or [data]
    chunks = []
    for edit in edits:
        old = str(edit.get("old_string", "")).splitlines(keepends=True)
        new = str(edit.get("new_string", "")).splitlines(keepends=True)
        chunks.append("".join(difflib.unified_diff(old, new, old_name, new_name)))
    return "\n".join(chunks)


def looks_like_diff(text: str) -> bool:
    """A unified diff or a Codex patch: shown with added and removed lines in colour."""
    return text.startswith(("--- ", "@@", "*** Begin Patch"))


def agent_label(name: str) -> str:
    """How an agent is called in the app ("Claude Code"), or its raw name if unknown."""
    adapter = get_adapter_or_none(name)
    return adapter.label if adapter is not None else name


def dark_palette() -> bool:
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
DIFF_COLORS = {  # GitHub's diff colours, readable on each background
    False: {"added": "#1a7f37", "removed": "#cf222e", "hunk": "#8250df"},
    True: {"added": "#3fb950", "removed": "#f85149", "hunk": "#d2a8ff"},
}


class DiffHighlighter(QSyntaxHighlighter):
    """Added lines green, removed lines red, hunk headers purple, file headers bold.

    Inside a hunk the line counts from its ``@@`` header decide, so a removed line that
    itself starts with ``--`` is still a removed line, not a file header."""

    def __init__(self, document: QTextDocument, dark: bool) -> None:
        super().__init__(document)
        self.formats: dict[str, QTextCharFormat] = {}
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self.formats = {}
        for kind, color in DIFF_COLORS[dark].items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            self.formats[kind] = fmt
        header = QTextCharFormat()
        header.setFontWeight(QFont.Weight.Bold)
        self.formats["header"] = header

    def highlightBlock(self, text: str) -> None:
        old, new = divmod(max(self.previousBlockState(), 0), 1 << 16)
        kind = line_kind(text, inside_hunk=bool(old or new))
        if old or new:  # count the lines of the hunk down
            if kind == "removed":
                old -= 1
            elif kind == "added":
                new -= 1
            elif not text.startswith("\\"):  # "\ No newline at end of file" counts for none
                old, new = old - 1, new - 1
        elif kind == "hunk" and (match := _HUNK.match(text)):
            old = int(match[1]) if match[1] is not None else 1
            new = int(match[2]) if match[2] is not None else 1
        old, new = min(max(old, 0), 0x7FFF), min(max(new, 0), 0xFFFF)
        self.setCurrentBlockState((old << 16) | new)
        if kind is not None:
            self.setFormat(0, len(text), self.formats[kind])


def line_kind(text: str, inside_hunk: bool) -> str | None:
    if inside_hunk:
        return {"-": "removed", "+": "added"}.get(text[:1])
    if text.startswith("@@"):
        return "hunk"
    if text.startswith(("--- ", "+++ ", "*** ")):
        return "header"
    return {"-": "removed", "+": "added"}.get(text[:1])  # a Codex patch has no line counts
