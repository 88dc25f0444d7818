"""The New task dialog and the spec it builds: every field checked, and a refusal that
names the field to fix. The dialog sends no command itself; the window submits the spec.

Whether the working folder is in a git repository (and so may run in a worktree of its
own) is asked of the supervisor off the UI thread, through the ``repository_of`` callable.
"""

from __future__ import annotations

import html
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import demo_agent
from app.core.durations import DurationError, format_duration, parse_duration
from app.core.models import TaskSpec
from app.core.settings import Settings
from app.supervisor.adapters import Detection, all_adapters, get_adapter
from app.ui.dialogs.worktree_choice import RepositoryOf, WorktreeChoice
from app.ui.theme import error_style


def _install_html(hint: str) -> str:
    """An install hint as rich text: commands unbroken in code style, links clickable."""
    parts = []
    for word in html.escape(hint).split(" "):
        if word.startswith(("http://", "https://")):
            parts.append(f"<a href='{word}'>{word}</a>")
        else:
            parts.append(word)
    text = " ".join(parts)
    return text if "<a " in text else f"<nobr><code>{text}</code></nobr>"


class InvalidInput(ValueError):
    """What the person typed cannot be used; the message says which field and why."""


def build_spec(
    *,
    agent: str,
    command: str,
    prompt: str,
    cwd: str,
    timeout: str,
    title: str,
    model: str = "",
    permission_mode: str = "",
    worktree: bool = False,
    base: str = "",
) -> TaskSpec:
    """A TaskSpec from the New task form, or InvalidInput naming the field to fix."""
    folder = Path(cwd.strip()).expanduser() if cwd.strip() else None
    if folder is None or not folder.is_dir():
        raise InvalidInput(
            f"Working folder: {cwd.strip() or '(empty)'} is not a folder. "
            "Choose an existing folder."
        )
    seconds = None
    if timeout.strip():
        try:
            seconds = parse_duration(timeout)
        except DurationError as exc:
            raise InvalidInput(f"Timeout: {exc}") from None
    options: dict[str, str] = {}
    if agent == "demo":
        argv = demo_agent.command()
        title = title.strip() or "Demo task"
    elif agent == "shell":
        argv = _split_command(command)
    else:
        argv = []
        if not prompt.strip():
            raise InvalidInput("Prompt: say what the agent should do")
        title = title.strip() or _first_line(prompt)
        options = {
            k: v for k, v in (("model", model.strip()), ("permission_mode", permission_mode)) if v
        }
    return TaskSpec(
        argv=tuple(argv),
        cwd=str(folder.resolve()),
        title=title.strip(),
        agent=agent,
        prompt=prompt if prompt.strip() else None,
        timeout=seconds,
        options=options,
        worktree=worktree,
        base=(base.strip() or None) if worktree else None,
    )


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0]
    return line if len(line) <= 80 else line[:79] + "…"


def _split_command(command: str) -> list[str]:
    if not command.strip():
        raise InvalidInput("Command: type the command to run, e.g. make test")
    try:
        return shlex.split(command, posix=sys.platform != "win32")
    except ValueError as exc:
        raise InvalidInput(f"Command: {exc} (check the quotes)") from None


class NewTaskDialog(QDialog):
    submitted = Signal(object)  # TaskSpec
    worktreeChosen = Signal(str, bool)  # a project's worktree choice to remember

    def __init__(
        self,
        settings: Settings,
        cwd: str,
        detections: Mapping[str, Detection],
        parent: QWidget | None = None,
        *,
        repository_of: RepositoryOf | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New task")
        self.setMinimumWidth(600)
        self.detections = detections  # which agent CLIs are installed (the supervisor's)
        self.approvals = settings.approvals
        self.agent = QComboBox(self)
        for adapter in all_adapters():
            found = self.detections[adapter.name].found
            self.agent.addItem(adapter.label + ("" if found else " — not installed"), adapter.name)
        self.command = QLineEdit(self, placeholderText="e.g. make test")
        self.prompt = QPlainTextEdit(self)
        self.prompt.setFixedHeight(110)
        self.model = QLineEdit(self, placeholderText="the agent's default")
        self.permission = QComboBox(self)
        self.cwd = QLineEdit(cwd, self)
        browse = QPushButton("Browse…", self)
        # without a way to ask (a dialog built on its own), no worktree is offered
        self.worktree = WorktreeChoice(
            repository_of or _no_repository, settings.worktree_by_project, self
        )
        self.timeout = QLineEdit(self)
        self.timeout.setPlaceholderText(
            f"default: {format_duration(settings.default_timeout_s, none='no limit')}"
            " — e.g. 30m, 2h, none"
        )
        self.title_edit = QLineEdit(self, placeholderText="Optional: a name for the task")
        self.hint = QLabel(
            self,
            wordWrap=True,
            openExternalLinks=True,
            textInteractionFlags=Qt.TextInteractionFlag.TextBrowserInteraction,
        )
        # A wrapped label's size hint assumes a narrow column, which left blank bands around
        # a one-line hint; at the field's real width it takes only the lines it needs.
        self.hint.setMinimumWidth(440)
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.start_button = buttons.addButton("Start task", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setDefault(True)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.cwd, 1)
        folder_row.addWidget(browse)
        self.form = QFormLayout()
        self.form.addRow("Agent", self.agent)
        self.form.addRow("", self.hint)
        self.form.addRow("Command", self.command)
        self.form.addRow("Prompt", self.prompt)
        self.form.addRow("Model", self.model)
        self.form.addRow("Permissions", self.permission)
        self.form.addRow("Working folder", folder_row)
        self.form.addRow("", self.worktree)
        self.form.addRow("Timeout", self.timeout)
        self.form.addRow("Title", self.title_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        self.agent.currentIndexChanged.connect(self._agent_changed)
        browse.clicked.connect(self._browse)
        self.cwd.textChanged.connect(self.worktree.set_folder)
        self.worktree.known.connect(self._folder_known)
        self.finished.connect(lambda _result: self.worktree.stop())
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        self.form.setRowVisible(self.worktree, repository_of is not None)
        self._start_when_known = False
        self._agent_changed()
        if repository_of is not None:
            self.worktree.set_folder(cwd, delay=False)

    def _agent_changed(self) -> None:
        name = self.agent.currentData()
        adapter = get_adapter(name)
        is_shell, is_agent = name == "shell", name not in ("shell", "demo")
        for widget, shown in (
            (self.command, is_shell),
            (self.prompt, name != "demo"),
            (self.model, is_agent),
            (self.permission, is_agent),
        ):
            self.form.setRowVisible(widget, shown)
        self.prompt.setPlaceholderText(
            "Optional: text sent to the command's standard input"
            if is_shell
            else "What should the agent do?"
        )
        prompt_label = self.form.labelForField(self.prompt)
        if isinstance(prompt_label, QLabel):
            prompt_label.setText("Standard input" if is_shell else "Prompt")
        asks = is_agent and self.approvals and adapter.hook_kind is not None
        self.permission.clear()
        self.permission.addItem(
            "(you approve each tool call)" if asks else "(the agent's default)", ""
        )
        for mode in adapter.permission_modes:
            self.permission.addItem(mode, mode)
        detection = self.detections[name]
        missing = is_agent and not detection.found
        if missing:
            hint = (
                f"{adapter.label} is not installed. "
                + (
                    f"To install it, {_install_html(adapter.install_hint)}"
                    if adapter.install_hint.startswith("see ")
                    else f"Install it with: {_install_html(adapter.install_hint)}"
                )
                + ", or set its path in Settings."
            )
        elif asks:
            hint = "Each tool call waits for your yes or no in Agentry (Settings → Approvals)."
        elif is_agent and self.approvals and adapter.hook_kind is None:
            hint = (
                f"Agentry cannot ask you about {adapter.label}'s tool calls (it has no hook "
                "for them); it follows its own permission settings."
            )
        else:
            hint = ""
        self.hint.setText(hint)
        self.form.setRowVisible(self.hint, bool(self.hint.text()))
        self.start_button.setEnabled(detection.found)
        self.worktree.set_agent(name)
        if self.isVisible():  # rows came and went: take the height they need, no blank bands
            self.adjustSize()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Working folder", self.cwd.text())
        if folder:
            self.cwd.setText(folder)

    def _folder_known(self) -> None:
        if self._start_when_known:
            self._start_when_known = False
            self.try_accept()

    def select_agent(self, key: str) -> None:
        self.agent.setCurrentIndex(max(0, self.agent.findData(key)))

    def try_accept(self) -> None:
        try:
            spec = build_spec(
                agent=self.agent.currentData(),
                command=self.command.text(),
                prompt=self.prompt.toPlainText(),
                cwd=self.cwd.text(),
                timeout=self.timeout.text(),
                title=self.title_edit.text(),
                model=self.model.text(),
                permission_mode=self.permission.currentData() or "",
                worktree=self.worktree.chosen,
                base=self.worktree.base.text(),
            )
        except InvalidInput as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.error.hide()
        if self.worktree.pending:  # e.g. a path pasted, then Enter: start as it will show
            self._start_when_known = True
            self.worktree.look_up_now()
            return
        remember = self.worktree.remember()
        self.submitted.emit(spec)
        if remember is not None:
            self.worktreeChosen.emit(*remember)
        self.accept()


async def _no_repository(_folder: str) -> str | None:
    return None
