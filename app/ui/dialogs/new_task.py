"""The New task dialog and the spec it builds: every field checked, and every problem
said at once beside the field to fix. The dialog sends no command itself; the window
submits the spec.

A shell command is a command line for the person's shell (``app.core.command_shell``),
never split into words here. The dialog remembers its last agent, folder, model and
permission mode in the UI state file, and can be filled from an existing task's spec
(Duplicate, Edit & rerun).

Whether the working folder is in a git repository (and so may run in a worktree of its
own) is asked of the supervisor off the UI thread, through the ``repository_of`` callable.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QKeyEvent
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
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.command_shell import command_argv
from app.core.durations import format_duration
from app.core.models import TaskSpec
from app.core.settings import Settings
from app.core.sizes import format_size
from app.supervisor.adapters import Detection, all_adapters, get_adapter
from app.ui.dialogs.new_task_memory import NewTaskMemory
from app.ui.dialogs.new_task_spec import InvalidInput, build_spec, typed_command
from app.ui.dialogs.permission_modes import mode_text
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


SUBMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class _CtrlEnter(QObject):
    """Ctrl+Enter in the prompt or the command starts the task; plain Enter in the prompt
    stays a new line."""

    def __init__(self, dialog: NewTaskDialog) -> None:
        super().__init__(dialog)
        self.dialog = dialog

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in SUBMIT_KEYS
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.dialog.try_accept()
            return True
        return False


FIELDS = ("command", "prompt", "cwd", "timeout", "restart", "memory")
"""The fields a problem may name (InvalidInput.problems), in the order of the form."""


class NewTaskDialog(QDialog):
    submitted = Signal(object)  # TaskSpec
    worktreeChosen = Signal(str, bool)  # a project's worktree choice to remember

    def __init__(
        self,
        settings: Settings,
        cwd: str | None,
        detections: Mapping[str, Detection],
        parent: QWidget | None = None,
        *,
        repository_of: RepositoryOf | None = None,
        state: QSettings | None = None,
    ) -> None:
        """``cwd`` is the folder to propose (the selected task's); None proposes the last
        folder used (``state``), else the home folder."""
        super().__init__(parent)
        self.setWindowTitle("New task")
        self.setMinimumWidth(600)
        self.detections = detections  # which agent CLIs are installed (the supervisor's)
        self.approvals = settings.approvals
        self.shell = settings.command_shell
        self.memory = NewTaskMemory(state)
        self._asks = False  # whether Agentry's approvals apply to the chosen agent
        self.agent = QComboBox(self)
        for adapter in all_adapters():
            found = self.detections[adapter.name].found
            self.agent.addItem(adapter.label + ("" if found else " — not installed"), adapter.name)
        self.command = QLineEdit(self, placeholderText="e.g. make test 2>&1 | tail -n 20")
        self.command.setToolTip(_shell_tip(settings.command_shell))
        self.prompt = QPlainTextEdit(self)
        self.prompt.setFixedHeight(110)
        self.model = QLineEdit(self, placeholderText="the agent's default")
        self.permission = QComboBox(self)
        self.permission_detail = QLabel(self, wordWrap=True)
        self.permission_detail.setMinimumWidth(440)
        folder = cwd or _existing(self.memory.folder) or str(Path.home())
        self.cwd = QLineEdit(folder, self)
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
        self.restart = QComboBox(self)
        for text, mode in (("Never", "never"), ("On failure", "on-failure"), ("Always", "always")):
            self.restart.addItem(text, mode)
        self.restart.setToolTip(
            "Start it again after it fails (or, Always, after any ending but a cancel or a "
            "timeout), resuming the agent's session where it can"
        )
        self.max_restarts = QSpinBox(self, minimum=1, maximum=100, value=3, suffix=" times")
        self.max_restarts.setPrefix("up to ")
        self.backoff = QLineEdit(self, placeholderText="5s..5m")
        self.backoff.setToolTip(
            "Wait MIN before the first restart, twice as long before each next one, at most MAX"
        )
        restart_row = QHBoxLayout()
        restart_row.addWidget(self.restart)
        restart_row.addWidget(self.max_restarts)
        restart_row.addWidget(QLabel("waiting", self))
        restart_row.addWidget(self.backoff, 1)
        default_memory = settings.default_memory_limit_mb
        self.memory_limit = QLineEdit(self)
        self.memory_limit.setPlaceholderText(
            f"default: {format_size(default_memory * 1024**2) if default_memory else 'none'}"
            " — e.g. 4G, 512M, none"
        )
        self.memory_limit.setToolTip("Stop the task's whole process tree above this much memory")
        self.on_limit = QComboBox(self)
        auto = "resume" if settings.limit_auto_resume else "stop"
        for text, key in ((f"As Settings say ({auto})", "settings"),
                          ("Resume its session after the reset", "resume"),
                          ("Stop", "stop")):  # fmt: skip
            self.on_limit.addItem(text, key)
        self.on_limit.setToolTip("When its agent hits a usage or rate limit")
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
        self.start_button.setToolTip("Start the task (Ctrl+Enter)")

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
        self.form.addRow("", self.permission_detail)
        self.form.addRow("Working folder", folder_row)
        self.form.addRow("", self.worktree)
        self.form.addRow("Timeout", self.timeout)
        self.form.addRow("Restart", restart_row)
        self.form.addRow("Memory limit", self.memory_limit)
        self.form.addRow("On a usage limit", self.on_limit)
        self.form.addRow("Title", self.title_edit)
        self.fields: dict[str, QWidget] = {
            "command": self.command, "prompt": self.prompt, "cwd": self.cwd,
            "timeout": self.timeout, "restart": self.backoff, "memory": self.memory_limit,
        }  # fmt: skip
        self._rows: dict[str, QWidget | QHBoxLayout] = {
            **self.fields,
            "cwd": folder_row,
            "restart": restart_row,
        }
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        ctrl_enter = _CtrlEnter(self)
        self.prompt.installEventFilter(ctrl_enter)
        self.command.installEventFilter(ctrl_enter)
        self.agent.currentIndexChanged.connect(self._agent_changed)
        self.restart.currentIndexChanged.connect(self._restart_changed)
        self._restart_changed()
        self.permission.currentIndexChanged.connect(self._permission_changed)
        browse.clicked.connect(self._browse)
        self.worktree.known.connect(self._folder_known)
        self.finished.connect(lambda _result: self.worktree.stop())
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        self.form.setRowVisible(self.worktree, repository_of is not None)
        self._start_when_known = False
        if self.agent.findData(self.memory.agent) >= 0:
            self.agent.setCurrentIndex(self.agent.findData(self.memory.agent))
        self._agent_changed()
        if repository_of is not None:  # else no worktree is offered: nothing to look up
            self.cwd.textChanged.connect(self.worktree.set_folder)
            self.worktree.set_folder(folder, delay=False)

    def _restart_changed(self) -> None:
        restarts = self.restart.currentData() != "never"
        self.max_restarts.setEnabled(restarts)
        self.backoff.setEnabled(restarts)

    def _agent_changed(self) -> None:
        name = self.agent.currentData()
        adapter = get_adapter(name)
        is_shell, is_agent = name == "shell", name not in ("shell", "demo")
        for widget, shown in (
            (self.command, is_shell),
            (self.prompt, name != "demo"),
            (self.model, is_agent),
            (self.permission, is_agent),
            (self.permission_detail, is_agent),
        ):
            self.form.setRowVisible(widget, shown)
        self.prompt.setPlaceholderText(
            "Optional: text sent to the command's standard input"
            if is_shell
            else "What should the agent do? (Ctrl+Enter starts the task)"
        )
        prompt_label = self.form.labelForField(self.prompt)
        if isinstance(prompt_label, QLabel):
            prompt_label.setText("Standard input" if is_shell else "Prompt")
        asks = is_agent and self.approvals and adapter.hook_kind is not None
        self._fill_permissions(name, asks)
        if is_agent:
            self.model.setText(self.memory.model(name))
            self.select_permission(self.memory.permission(name))
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
        elif is_shell:
            hint = _shell_hint(self.shell)
        else:
            hint = ""
        self.hint.setText(hint)
        self.form.setRowVisible(self.hint, bool(self.hint.text()))
        self.start_button.setEnabled(detection.found)
        self.worktree.set_agent(name)
        if self.isVisible():  # rows came and went: take the height they need, no blank bands
            self.adjustSize()

    def _fill_permissions(self, agent: str, asks: bool) -> None:
        """The agent's permission choices, each explained in its tooltip; the one chosen is
        also explained beneath the list."""
        self._asks = asks
        self.permission.blockSignals(True)
        self.permission.clear()
        for mode in ("", *get_adapter(agent).permission_modes):
            text = mode_text(agent, mode, agentry_asks=asks)
            self.permission.addItem(text.label, mode)
            self.permission.setItemData(
                self.permission.count() - 1, text.detail, Qt.ItemDataRole.ToolTipRole
            )
        self.permission.blockSignals(False)
        self._permission_changed()

    def _permission_changed(self) -> None:
        mode = self.permission.currentData() or ""
        text = mode_text(self.agent.currentData(), mode, agentry_asks=self._asks)
        self.permission_detail.setText(text.detail)
        self.permission_detail.setStyleSheet(error_style() if text.bypasses_approvals else "")
        self.permission.setToolTip(text.detail)

    def select_permission(self, mode: str) -> None:
        """Choose ``mode`` in the list; one the list does not offer (from an older task,
        or a newer CLI) is added rather than silently replaced by the default."""
        index = self.permission.findData(mode)
        if index < 0:
            self.permission.addItem(mode, mode)
            index = self.permission.count() - 1
        self.permission.setCurrentIndex(index)

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

    def fill_from(self, spec: TaskSpec) -> None:
        """Show ``spec``'s choices to change and start again (Duplicate, Edit & rerun): a
        shell task's command as typed, not the shell's argv that runs it."""
        self.select_agent(spec.agent)
        if spec.agent == "shell":
            self.command.setText(typed_command(spec))
        self.prompt.setPlainText(spec.prompt or "")
        self.model.setText(spec.model or "")
        self.select_permission(str(spec.options.get("permission_mode") or ""))
        self.cwd.setText(spec.cwd)
        self.title_edit.setText(spec.title)
        self.timeout.setText("" if spec.timeout is None else format_duration(spec.timeout))
        self.worktree.choose(spec.worktree, spec.base or "")
        policy = spec.restart
        self.restart.setCurrentIndex(max(0, self.restart.findData(policy.mode.value)))
        if policy.restarts:
            self.max_restarts.setValue(policy.max_restarts)
            low, high = (format_duration(v, none="0") for v in (policy.backoff_min_s,
                                                                 policy.backoff_max_s))  # fmt: skip
            self.backoff.setText(f"{low}..{high}")
        limit = spec.memory_limit_mb
        self.memory_limit.setText(
            "" if limit is None else format_size(limit * 1024**2) if limit else "none"
        )
        choice = {True: "resume", False: "stop", None: "settings"}[spec.limits.auto_resume]
        self.on_limit.setCurrentIndex(max(0, self.on_limit.findData(choice)))

    def show_problems(self, problems: Mapping[str, str]) -> None:
        """Every problem at once: listed under the form, and each field's label marked."""
        for name, widget in self.fields.items():
            label = self.label_of(name)
            if label is not None:
                label.setStyleSheet(error_style() if name in problems else "")
            widget.setToolTip(problems.get(name, ""))
        self.command.setToolTip(problems.get("command") or _shell_tip(self.shell))
        if not problems:
            self.error.hide()
            return
        ordered = sorted(problems.items(), key=lambda p: _form_order(p[0]))
        lines = [message for _name, message in ordered]
        self.error.setText("\n".join(lines if len(lines) == 1 else [f"• {m}" for m in lines]))
        self.error.show()
        first = next((self.fields[n] for n, _m in ordered if n in self.fields), None)
        if first is not None and first.isVisible():
            first.setFocus()

    def label_of(self, field: str) -> QLabel | None:
        """The form's label of a field a problem may name (see FIELDS)."""
        label = self.form.labelForField(self._rows[field])
        return label if isinstance(label, QLabel) else None

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
                shell=self.shell,
                restart=self.restart.currentData(),
                max_restarts=self.max_restarts.value(),
                backoff=self.backoff.text(),
                memory_limit=self.memory_limit.text(),
                on_limit=self.on_limit.currentData(),
            )
        except InvalidInput as exc:
            self.show_problems(exc.problems)
            return
        self.show_problems({})
        if self.worktree.pending:  # e.g. a path pasted, then Enter: start as it will show
            self._start_when_known = True
            self.worktree.look_up_now()
            return
        remember = self.worktree.remember()
        self.memory.keep(spec)
        self.submitted.emit(spec)
        if remember is not None:
            self.worktreeChosen.emit(*remember)
        self.accept()


def _form_order(field: str) -> int:
    return FIELDS.index(field) if field in FIELDS else len(FIELDS)


def _existing(folder: str) -> str | None:
    return folder if folder and Path(folder).is_dir() else None


def _shell_hint(shell: str) -> str:
    runs = " ".join(command_argv("COMMAND", shell)[:-1])
    return f"Runs as <code>{html.escape(runs)} COMMAND</code>: pipes, &amp;&amp; and globs work."


def _shell_tip(shell: str) -> str:
    return (
        "A command line for your shell: pipes, redirections, && and globs work "
        f"(Settings → General → Shell for shell commands: {shell})"
    )


async def _no_repository(_folder: str) -> str | None:
    return None
