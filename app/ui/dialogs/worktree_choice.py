"""The New task dialog's choice to run in a git worktree of its own, and its base.

Offered only for a folder inside a git repository, which is asked of the supervisor off
the UI thread (the ``repository_of`` callable) a moment after the folder changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.core.log import get_logger
from app.supervisor.git import GitError

log = get_logger(__name__)

RepositoryOf = Callable[[str], Awaitable[str | None]]
"""A folder's repository top folder, or None (``Supervisor.repository_of``)."""

NOT_CODING = ("shell", "demo")  # the agents that run in place unless asked otherwise
BASE_TIP = "The branch or commit the worktree's new branch starts from"
CHECK_DELAY_MS = 300  # typing a path asks git once it pauses, not at every keystroke


class WorktreeChoice(QWidget):
    known = Signal()  # the folder was looked up: the choice shown is the one that counts

    """The choice to run in a git worktree of its own, and its base: offered only for a
    folder in a git repository, looked up off the UI thread a moment after the folder changes.

    Proposed on for coding agents, off for shell commands and the demo; for coding agents
    a project's remembered choice (``Settings.worktree_by_project``) wins."""

    def __init__(
        self, repository_of: RepositoryOf, remembered: Mapping[str, bool], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.repository_of = repository_of
        self.remembered = remembered
        self.check = QCheckBox(
            "Run in its own git worktree (a new branch; your checkout is not touched)", self
        )
        self.base = QLineEdit(self, placeholderText="the checked-out branch")
        self.base.setToolTip(BASE_TIP)
        self.base_label = QLabel("Base", self)
        self.base_label.setBuddy(self.base)
        # The base sits under the checkbox's text, not beside it: side by side they need
        # ~800 px, more than a dialog may take on a 1024 px wide screen (it clipped the text).
        style = self.check.style()
        indent = style.pixelMetric(style.PixelMetric.PM_IndicatorWidth) + style.pixelMetric(
            style.PixelMetric.PM_CheckBoxLabelSpacing
        )
        base_row = QHBoxLayout()
        base_row.setContentsMargins(indent, 0, 0, 0)
        base_row.addWidget(self.base_label)
        base_row.addWidget(self.base)
        base_row.addStretch(1)
        self.base.setMinimumWidth(self.base.fontMetrics().horizontalAdvance("x" * 28))
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.check)
        column.addLayout(base_row)
        self.repository: str | None = None  # top folder of the folder last looked up
        self.agent = ""
        self._folder = ""
        self._choice: bool | None = None  # the person's click: agent or folder changes keep it
        self._lookup: asyncio.Future[str | None] | None = None
        self._timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._timer.timeout.connect(self._look_up)
        self.check.clicked.connect(self._clicked)
        self.check.toggled.connect(lambda _on: self._update_base())
        self.check.setEnabled(False)
        self._update_base()

    @property
    def chosen(self) -> bool:
        return self.check.isEnabled() and self.check.isChecked()

    @property
    def pending(self) -> bool:
        return self._timer.isActive() or self._lookup is not None

    def proposal(self) -> bool:
        """What the dialog offers before the person chooses."""
        if self.repository is None or self.agent in NOT_CODING:
            return False
        return self.remembered.get(self.repository, True)

    def remember(self) -> tuple[str, bool] | None:
        """(project, choice) to keep for next time: a coding agent's choice that differs
        from what was proposed."""
        if self.repository is None or self.agent in NOT_CODING:
            return None
        return (self.repository, self.chosen) if self.chosen != self.proposal() else None

    def set_agent(self, name: str) -> None:
        self.agent = name
        if self._choice is None and self.check.isEnabled():
            self.check.setChecked(self.proposal())

    def choose(self, on: bool, base: str = "") -> None:
        """Take ``on`` as the person's choice (a task's, filled in to run again): it holds
        once the folder is known to be in a repository, as a click would."""
        self._choice = on
        self.base.setText(base)
        if self.check.isEnabled():
            self.check.setChecked(on)

    def set_folder(self, text: str, *, delay: bool = True) -> None:
        """Look the folder up again, after a pause in typing unless ``delay`` is off."""
        self._folder = str(Path(text.strip()).expanduser()) if text.strip() else ""
        self._cancel()
        self.repository = None
        self.check.setEnabled(False)
        self.check.setToolTip(f"Checking whether {self._folder} is in a git repository…")
        self._update_base()
        if delay:
            self._timer.start()
        else:
            self._look_up()

    def look_up_now(self) -> None:
        """Skip the pause in typing (the person wants to start now)."""
        if self._timer.isActive():
            self._timer.stop()
            self._look_up()

    def stop(self) -> None:
        self._timer.stop()
        self._cancel()

    def _look_up(self) -> None:
        if not self._folder:
            self._found(None, "Choose a working folder first")
            return
        self._lookup = asyncio.ensure_future(self.repository_of(self._folder))
        self._lookup.add_done_callback(self._looked_up)

    def _looked_up(self, lookup: asyncio.Future[str | None]) -> None:
        if lookup is not self._lookup:  # a newer folder is being looked up; or we stopped
            return
        self._lookup = None
        if lookup.cancelled():
            return
        exc = lookup.exception()
        if isinstance(exc, GitError):
            log.info("no worktree offered for %s: %s", self._folder, exc)
            self._found(None, f"Worktrees need git: {exc}")
        elif exc is not None:
            log.error("looking up the repository of %s failed", self._folder, exc_info=exc)
            self._found(None, f"Could not tell whether {self._folder} is in a git repository")
        else:
            top = lookup.result()
            self._found(top, f"{self._folder} is not in a git repository")

    def _found(self, top: str | None, why_not: str) -> None:
        self.repository = top
        self.check.setEnabled(top is not None)
        self.check.setToolTip(
            f"A worktree of {top} under Agentry's data folder, on a branch agentry/<id>-<title>"
            if top is not None
            else why_not
        )
        self.base.setToolTip(self.check.toolTip() if top is None else BASE_TIP)
        if top is None:
            self.check.setChecked(False)
        else:
            self.check.setChecked(self.proposal() if self._choice is None else self._choice)
        self._update_base()
        self.known.emit()

    def _cancel(self) -> None:
        lookup, self._lookup = self._lookup, None
        if lookup is not None:
            lookup.cancel()

    def _clicked(self, on: bool) -> None:
        self._choice = on

    def _update_base(self) -> None:
        on = self.chosen
        self.base.setEnabled(on)
        self.base_label.setEnabled(on)
