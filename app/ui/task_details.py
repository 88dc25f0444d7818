"""A task's Details tab: what was asked (the spec) and every run with how it went.

Text a person copies (the command line, a session id) is selectable, and Copy takes all of
it as plain text. It only shows what the supervisor's records say.
"""

from __future__ import annotations

import html
import shlex
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QHBoxLayout, QTextBrowser, QVBoxLayout, QWidget

from app.core.durations import format_duration
from app.core.models import Run, Task
from app.core.sizes import format_size
from app.core.transcript import describe_model, elapsed
from app.ui.labels import state_label
from app.ui.output_tools import tool_button
from app.ui.task_model import exit_label

NONE = "—"


class TaskDetails(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.copy_button = tool_button(self, "Copy")
        self.copy_button.setToolTip("Copy these details as plain text")
        self.copy_button.clicked.connect(self.copy)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)

    def show_task(self, task: Task, runs: list[Run], memory: int | None = None) -> None:
        scroll = self.text.verticalScrollBar().value()
        self.text.setHtml(details_html(task, runs, memory))
        self.text.verticalScrollBar().setValue(scroll)

    def copy(self) -> None:
        QApplication.clipboard().setText(self.plain_text())

    def plain_text(self) -> str:
        return self.text.toPlainText()


def details_html(task: Task, runs: list[Run], memory: int | None = None) -> str:
    """``memory``: what the running agent's process tree uses now, in bytes, if known."""
    spec = task.spec
    options = spec.options
    rows = [
        ("Title", task.title),
        ("Agent", task.agent),
        ("Folder", spec.cwd),
        ("Worktree", "its own git worktree" if spec.worktree else "no (runs in the folder)"),
        ("Command", shlex.join(spec.argv) if spec.argv else NONE),
        ("Model", describe_model(str(options["model"])) if options.get("model") else NONE),
        ("Permission mode", str(options.get("permission_mode") or NONE)),
        ("Timeout", format_duration(spec.timeout, none="the default from Settings")),
        ("Restart", spec.restart.describe()),
        ("Memory limit", _memory_limit(spec.memory_limit_mb, memory)),
        ("On a usage limit", _on_limit(task)),
        ("Prompt", spec.prompt or NONE),
    ]
    if spec.origin is not None:  # another agent asked for it (through `agentry mcp`)
        rows.insert(2, ("Started by", spec.origin.who()))
    parts = [f"<h3>Task #{task.id}</h3>", _table(rows), "<h3>Runs</h3>"]
    parts += [_run_html(run) for run in reversed(runs)] or ["<p>No runs yet.</p>"]
    return "".join(parts)


def _memory_limit(limit_mb: float | None, memory: int | None) -> str:
    now = f" (using {format_size(memory)} now)" if memory is not None else ""
    if limit_mb is None:
        return f"the default from Settings{now}"
    if not limit_mb:
        return f"none{now}"
    return f"{format_size(limit_mb * 1024 * 1024)}: its processes are stopped above it{now}"


def _on_limit(task: Task) -> str:
    own = task.spec.limits
    if own.auto_resume is False:
        return "stop (no auto-resume)"
    if own.is_default:
        return "as Settings say"
    most = f"at most {own.max_resumes} times" if own.max_resumes is not None else ""
    return f"resume after the reset {most}".strip()


def _run_html(run: Run) -> str:
    took = (
        elapsed(run.ended_at - run.started_at)
        if run.started_at is not None and run.ended_at is not None
        else NONE
    )
    tokens = (
        f"{run.input_tokens or 0:,} in / {run.output_tokens or 0:,} out"
        if run.input_tokens is not None or run.output_tokens is not None
        else NONE
    )
    rows = [
        ("State", state_label(run.state) + (f" — {run.message}" if run.message else "")),
        ("Exit code", exit_label(run.exit_code) if run.exit_code is not None else NONE),
        ("Started", _when(run.started_at)),
        ("Ended", _when(run.ended_at)),
        ("Duration", took),
        ("Cost", f"${run.cost_usd:.4f}" if run.cost_usd is not None else NONE),
        ("Tokens", tokens),
        ("Session id", run.session_id or NONE),
        ("Model", describe_model(run.model) if run.model else NONE),
        ("Command", shlex.join(run.argv) if run.argv else NONE),
    ]
    kind = run.kind.value.replace("_", "-")
    return f"<h4>Run {run.attempt} · {html.escape(kind)}</h4>" + _table(rows)


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td width='120' style='color:gray' valign='top'>{html.escape(name)}</td>"
        f"<td style='white-space:pre-wrap'>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return f"<table cellspacing='2'>{cells}</table>"


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else NONE
