"""The Settings dialog and its editor of approval rules.

The dialog returns validated settings (or says which field to fix, on the tab that holds
it); rules are added and removed at once through its signals. Neither sends a command
itself; the window does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.approvals import Decision, NewRule, Rule, RuleScope
from app.core.command_shell import shell_choices
from app.core.durations import DurationError, format_duration, parse_duration
from app.core.settings import Settings
from app.supervisor.adapters import Detection, all_adapters, get_adapter
from app.ui.dialogs.new_task import InvalidInput
from app.ui.dialogs.settings_limits import LimitSettings
from app.ui.dialogs.settings_notify import Notifier, NotifySettings
from app.ui.dialogs.settings_worktrees import WorktreeSettings
from app.ui.theme import error_style


class SettingsDialog(QDialog):
    applied = Signal(object)  # Settings
    ruleAdded = Signal(object)  # NewRule
    ruleRemoved = Signal(int)  # rule id

    def __init__(
        self,
        settings: Settings,
        detections: Mapping[str, Detection],
        parent: QWidget | None = None,
        rules: list[Rule] | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._base = settings
        self.max_concurrency = QSpinBox(self, minimum=1, maximum=256)
        self.max_concurrency.setValue(settings.max_concurrency)
        self.default_timeout = QLineEdit(format_duration(settings.default_timeout_s), self)
        self.default_timeout.setToolTip("e.g. 45m, 4h, 1h30m; 'none' lets tasks run forever")
        self.memory = _percent(self, settings.gate_max_memory_percent)
        self.cpu = _percent(self, settings.gate_max_cpu_percent)
        self.memory.setToolTip(
            "Queued tasks wait while the computer's memory in use is above this; running "
            "agents are never stopped for it"
        )
        self.cpu.setToolTip("Queued tasks wait while CPU use is above this")
        self.min_free_disk = QSpinBox(self, minimum=0, maximum=1_000_000, suffix=" MiB")
        self.min_free_disk.setSpecialValueText("no check")
        self.min_free_disk.setSingleStep(100)
        self.min_free_disk.setValue(settings.gate_min_free_disk_mb)
        self.min_free_disk.setToolTip(
            "Queued tasks wait while the data folder's disk has less free space than this, "
            "and start by themselves when space returns; running agents are never stopped"
        )
        self.grace = QDoubleSpinBox(self, minimum=0, maximum=600, suffix=" s", decimals=1)
        self.grace.setValue(settings.kill_grace_s)
        self.grace.setToolTip(
            "When a task is cancelled or times out, its processes are asked to stop and get "
            "this long to finish before they are killed"
        )
        self.notifications = QCheckBox("Show notifications", self)
        self.notifications.setChecked(settings.notifications)
        self.theme = QComboBox(self)
        for key, label in (("system", "Follow system"), ("light", "Light"), ("dark", "Dark")):
            self.theme.addItem(label, key)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.command_shell = QComboBox(self)
        for choice in shell_choices():
            self.command_shell.addItem(choice.label, choice.key)
            self.command_shell.setItemData(
                self.command_shell.count() - 1, choice.explanation, Qt.ItemDataRole.ToolTipRole
            )
        if self.command_shell.findData(settings.command_shell) < 0:  # the other platform's
            self.command_shell.addItem(settings.command_shell, settings.command_shell)
        self.command_shell.setCurrentIndex(self.command_shell.findData(settings.command_shell))
        self.command_shell.setToolTip(
            "What runs a task's shell command (New task → Shell command, agentry run --shell)"
        )
        self.approvals = QCheckBox(
            "Ask before agents' tool calls (Claude Code, Codex, Gemini CLI)", self
        )
        self.approvals.setChecked(settings.approvals)
        self.approval_timeout = QLineEdit(format_duration(settings.approval_timeout_s), self)
        self.approval_timeout.setToolTip("Unanswered requests are denied after this long")
        self.rules = RulesEditor(rules or [], self)
        self.rules.ruleAdded.connect(self.ruleAdded)
        self.rules.ruleRemoved.connect(self.ruleRemoved)
        self.agent_paths: dict[str, QLineEdit] = {}
        found = detections
        for adapter in all_adapters():
            if not adapter.executables:
                continue
            edit = QLineEdit(settings.agent_paths.get(adapter.name, ""), self)
            detected = found[adapter.name]
            edit.setPlaceholderText(
                f"found: {detected.path}"
                if detected.found
                else f"not found — {adapter.install_hint}"
            )
            self.agent_paths[adapter.name] = edit
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        general = QFormLayout()
        general.addRow("Agents at once", self.max_concurrency)
        general.addRow("Default timeout", self.default_timeout)
        general.addRow("Hold new tasks above memory", self.memory)
        general.addRow("Hold new tasks above CPU", self.cpu)
        general.addRow("Hold new tasks below free disk", self.min_free_disk)
        general.addRow("Grace before kill", self.grace)
        general.addRow("", self.notifications)
        general.addRow("Theme", self.theme)
        general.addRow("Shell for shell commands", self.command_shell)
        approvals = QFormLayout()
        approvals.addRow("", self.approvals)
        approvals.addRow("Deny unanswered after", self.approval_timeout)
        approvals.addRow("Rules", self.rules)
        rules_note = QLabel("Rules take effect as soon as you add or remove them.", self)
        rules_note.setStyleSheet("color: gray")
        approvals.addRow("", rules_note)
        agents = QFormLayout()
        for name, edit in self.agent_paths.items():
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            browse = QPushButton("Browse…", self)
            browse.clicked.connect(lambda _c=False, e=edit, n=name: self._browse_agent(n, e))
            row.addWidget(browse)
            agents.addRow(f"{get_adapter(name).label}", row)
        note = QLabel("Leave a path empty to look on PATH and in the usual install folders.", self)
        note.setStyleSheet("color: gray")
        agents.addRow("", note)
        self.pages = QTabWidget(self)
        for title, form in (("General", general), ("Approvals", approvals), ("Agents", agents)):
            page = QWidget(self.pages)
            page.setLayout(form)
            self.pages.addTab(page, title)
        self.worktrees = WorktreeSettings(settings, self.pages)
        self.pages.addTab(self.worktrees, "Worktrees")
        self.limits = LimitSettings(settings, self.pages)
        self.pages.addTab(self.limits, "Limits")
        self.notify: NotifySettings | None = None
        if notifier is not None:  # targets change at once, through the supervisor
            self.notify = NotifySettings(notifier, self.pages)
            self.pages.addTab(self.notify, "Notifications")
        self.resize(640, 420)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)

    def _browse_agent(self, name: str, edit: QLineEdit) -> None:
        start = edit.text() or str(Path.home())
        path, _filter = QFileDialog.getOpenFileName(
            self, f"Where is {get_adapter(name).label}?", start
        )
        if path:
            edit.setText(path)

    def settings(self) -> Settings:
        """The edited settings, or InvalidInput naming what to fix."""
        try:
            timeout = parse_duration(self.default_timeout.text())
        except DurationError as exc:
            raise InvalidInput(f"Default timeout: {exc}") from None
        try:
            approval_timeout = parse_duration(self.approval_timeout.text())
        except DurationError as exc:
            raise InvalidInput(f"Deny unanswered after: {exc}") from None
        paths = {}
        for name, edit in self.agent_paths.items():
            path = edit.text().strip()
            if path and not Path(path).expanduser().is_file():
                raise InvalidInput(
                    f"{get_adapter(name).label} path: {path} is not a file; leave it empty to "
                    "look on PATH and in the usual install folders"
                )
            if path:
                paths[name] = str(Path(path).expanduser())
        result = self._base.replace(
            max_concurrency=self.max_concurrency.value(),
            default_timeout_s=timeout,
            gate_max_memory_percent=self.memory.value(),
            gate_max_cpu_percent=self.cpu.value(),
            gate_min_free_disk_mb=self.min_free_disk.value(),
            kill_grace_s=self.grace.value(),
            notifications=self.notifications.isChecked(),
            theme=self.theme.currentData(),
            command_shell=self.command_shell.currentData(),
            agent_paths=paths,
            approvals=self.approvals.isChecked(),
            approval_timeout_s=approval_timeout,
            **self.worktrees.values(),
            **self.limits.values(),
        )
        problems = result.problems()
        if problems:
            raise InvalidInput("; ".join(problems))
        return result

    def try_accept(self) -> None:
        try:
            settings = self.settings()
        except InvalidInput as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.pages.setCurrentIndex(_page_of(str(exc)))  # show the field to fix
            return
        self.applied.emit(settings)
        self.accept()


def _page_of(problem: str) -> int:
    """Which Settings tab holds the field a problem names (0 General, 1 Approvals, 2 Agents,
    3 Worktrees, 4 Limits; retry settings of notifications are only in the file)."""
    if problem.startswith("prune_merged_after_days"):
        return 3
    if problem.startswith("limit_"):
        return 4
    if problem.startswith("Deny unanswered after") or problem.startswith("approval_timeout"):
        return 1
    if " path: " in problem.split(";")[0] or problem.startswith("agent_paths"):
        return 2
    return 0


class RulesEditor(QWidget):
    """Approval rules per project folder: tool, optional pattern on its main argument,
    allow or deny. They apply at once; the hook reads them before asking anyone."""

    ruleAdded = Signal(object)  # NewRule
    ruleRemoved = Signal(int)  # rule id

    def __init__(self, rules: list[Rule], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget(self)
        self.list.setMinimumHeight(90)
        for rule in rules:
            self._add_item(rule.id, rule.describe())
        self.folder = QLineEdit(
            self, placeholderText="project folder (the rule covers its subfolders)"
        )
        browse = QPushButton("Browse…", self)
        self.tool = QLineEdit(self, placeholderText="tool, e.g. Bash or *")
        self.pattern = QLineEdit(self, placeholderText="optional pattern: git *")
        self.decision = QComboBox(self)
        self.decision.addItem("allow", "allow")
        self.decision.addItem("deny", "deny")
        add = QPushButton("Add rule", self)
        self.remove = QPushButton("Remove", self)
        self.remove.setEnabled(False)
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        list_row = QHBoxLayout()
        list_row.addStretch(1)
        list_row.addWidget(self.remove)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        rule_row = QHBoxLayout()
        rule_row.addWidget(self.tool, 2)
        rule_row.addWidget(self.pattern, 2)
        rule_row.addWidget(self.decision)
        rule_row.addWidget(add)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(list_row)
        layout.addLayout(folder_row)
        layout.addLayout(rule_row)
        layout.addWidget(self.error)
        browse.clicked.connect(self._browse)
        self.list.currentRowChanged.connect(lambda row: self.remove.setEnabled(row >= 0))
        add.clicked.connect(self.add_rule)
        self.remove.clicked.connect(self.remove_selected)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Project folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _add_item(self, rule_id: int, text: str) -> None:
        item = QListWidgetItem(text, self.list)
        item.setData(Qt.ItemDataRole.UserRole, rule_id)

    def add_rule(self) -> bool:
        folder = Path(self.folder.text().strip()).expanduser()
        tool = self.tool.text().strip()
        if not self.folder.text().strip() or not folder.is_dir():
            return self._refuse("Rule: choose an existing project folder")
        if not tool:
            return self._refuse("Rule: name the tool (or * for any tool)")
        self.error.hide()
        rule = NewRule(
            scope=RuleScope.PROJECT,
            folder=str(folder.resolve()),
            tool=tool,
            pattern=self.pattern.text().strip() or None,
            decision=Decision(self.decision.currentData()),
        )
        self.ruleAdded.emit(rule)
        return True

    def show_rules(self, rules: list[Rule]) -> None:
        self.list.clear()
        for rule in rules:
            self._add_item(rule.id, rule.describe())

    def remove_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.ruleRemoved.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _refuse(self, message: str) -> bool:
        self.error.setText(message)
        self.error.show()
        return False


def _percent(parent: QWidget, value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent, minimum=1, maximum=100, suffix=" %", decimals=0)
    box.setValue(value)
    return box
