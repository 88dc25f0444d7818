"""Tools → Project settings…: how Agentry treats one repository's worktrees — the files a
new worktree gets from the checkout, the setup command run before its first agent, and
the check a land must pass (:class:`app.core.settings.ProjectSettings`).

:class:`ProjectSettingsOpener` finds the repository (of the selected task's folder, or a
folder the person picks) off the UI thread, then opens :class:`ProjectSettingsDialog` on
it; the dialog only edits and validates, the window saves.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.log import get_logger
from app.core.settings import ProjectSettings, Settings
from app.supervisor.git import GitError
from app.supervisor.supervisor import Supervisor
from app.ui.theme import error_style

log = get_logger(__name__)

CHECK_LABEL = "Check command (must pass before Land)"


class ProjectSettingsDialog(QDialog):
    applied = Signal(str, object)  # repository top, ProjectSettings

    def __init__(self, top: str, project: ProjectSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.top = top
        self.setWindowTitle(f"Project settings — {Path(top).name}")
        where = QLabel(f"Worktrees of tasks on <b>{html.escape(top)}</b>", self, wordWrap=True)
        where.setTextFormat(Qt.TextFormat.RichText)
        self.copy_files = QPlainTextEdit("\n".join(project.copy_files), self)
        self.copy_files.setPlaceholderText("none — e.g. .env*")
        self.copy_files.setTabChangesFocus(True)
        lines = self.copy_files.fontMetrics().lineSpacing()
        self.copy_files.setFixedHeight(lines * 5 + 12)
        self.setup = QLineEdit(project.setup, self, placeholderText="none — e.g. npm ci")
        self.check = QLineEdit(project.check, self, placeholderText="none — e.g. make test")
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        layout = QVBoxLayout(self)
        layout.addWidget(where)
        _field(layout, "&Files to copy", self.copy_files,
               "One pattern a line, from the repository's top (e.g. config/*.local.toml): "
               "copied from your checkout into each new worktree, since git leaves ignored "
               "files out.")  # fmt: skip
        _field(layout, "&Setup command", self.setup,
               "Runs in a new worktree before the agent starts; its output is the Setup "
               "section of the transcript. If it fails, the task fails and the agent does "
               "not run.")  # fmt: skip
        _field(layout, CHECK_LABEL.replace("Check", "&Check"), self.check,
               "Runs in the worktree after the rebase; the base branch moves only if it "
               "passes.")  # fmt: skip
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 72)
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        for edit in (self.setup, self.check):
            edit.textChanged.connect(self._validate)
        self.copy_files.textChanged.connect(self._validate)

    def value(self) -> ProjectSettings:
        patterns = (line.strip() for line in self.copy_files.toPlainText().splitlines())
        return ProjectSettings(
            copy_files=tuple(dict.fromkeys(p for p in patterns if p)),
            setup=self.setup.text().strip(),
            check=self.check.text().strip(),
        )

    def problems(self) -> list[str]:
        return [_sentence(problem) for problem in self.value().problems()]

    def try_accept(self) -> None:
        if self._validate():
            self.applied.emit(self.top, self.value())
            self.accept()

    def _validate(self) -> bool:
        problems = self.problems()
        self.error.setText("\n".join(problems))
        self.error.setVisible(bool(problems))
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(not problems)
        return not problems


class ProjectSettingsOpener:
    """Finds the repository to edit and opens its dialog; saving goes through ``apply``
    (the window's ``apply_settings``), with the settings as they are at that moment."""

    def __init__(
        self, parent: QWidget, supervisor: Supervisor, apply: Callable[[Settings], None]
    ) -> None:
        self._parent = parent
        self._supervisor = supervisor
        self._apply = apply
        self._lookup: asyncio.Future[str | None] | None = None
        self.dialog: ProjectSettingsDialog | None = None  # the one open now, if any
        self.message: QMessageBox | None = None  # why none could be opened, if shown

    def open(self, folder: str | None) -> QFileDialog | None:
        """The settings of ``folder``'s repository; without a folder, ask for one first
        (the file dialog is returned, already open)."""
        if folder:
            self.look_up(folder)
            return None
        chooser = QFileDialog(self._parent, "Which repository's settings?", str(Path.home()))
        chooser.setFileMode(QFileDialog.FileMode.Directory)
        chooser.setOption(QFileDialog.Option.ShowDirsOnly)
        chooser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        chooser.fileSelected.connect(self.look_up)
        chooser.open()
        return chooser

    @property
    def pending(self) -> bool:
        return self._lookup is not None

    def look_up(self, folder: str) -> None:
        if self._lookup is not None:
            self._lookup.cancel()
        lookup = asyncio.ensure_future(self._supervisor.repository_of(folder))
        self._lookup = lookup
        lookup.add_done_callback(lambda done: self._looked_up(done, folder))

    def _looked_up(self, lookup: asyncio.Future[str | None], folder: str) -> None:
        if lookup is not self._lookup:
            return
        self._lookup = None
        if lookup.cancelled():
            return
        exc = lookup.exception()
        if isinstance(exc, GitError):
            self._say(f"Project settings need git: {exc}")
        elif exc is not None:
            log.error("looking up the repository of %s failed", folder, exc_info=exc)
            self._say(f"Could not tell whether {folder} is in a git repository: {exc}")
        elif (top := lookup.result()) is None:
            self._say(
                f"{folder} is not in a git repository. Project settings are for the "
                "worktrees of a repository's tasks: choose a folder inside one."
            )
        else:
            self._show(top)

    def _show(self, top: str) -> None:
        dialog = ProjectSettingsDialog(top, self._supervisor.settings.project(top), self._parent)
        dialog.applied.connect(self._save)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: self._forget(dialog))
        self.dialog = dialog
        dialog.open()

    def _forget(self, dialog: ProjectSettingsDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _save(self, top: str, project: ProjectSettings) -> None:
        self._apply(self._supervisor.settings.with_project(top, project))

    def _say(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Project settings", text,
                          QMessageBox.StandardButton.Ok, self._parent)  # fmt: skip
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda: setattr(self, "message", None))
        self.message = box
        box.open()


def _field(layout: QVBoxLayout, title: str, field: QWidget, note: str) -> None:
    """A label over its field, and a grey note under it that says what it is for."""
    label = QLabel(title, field.parentWidget())
    label.setBuddy(field)
    hint = QLabel(note, field.parentWidget(), wordWrap=True)
    hint.setStyleSheet("color: gray")
    layout.addSpacing(6)
    layout.addWidget(label)
    layout.addWidget(field)
    layout.addWidget(hint)


def _sentence(problem: str) -> str:
    return problem[:1].upper() + problem[1:] + "."
