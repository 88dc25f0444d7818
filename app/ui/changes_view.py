"""A worktree task's Changes tab: its files, commits and diff, and comments to its agent.

Everything git knows is read by :meth:`Supervisor.changes` in the executor; this view only
asks and draws. While the task is active and the tab is in view it asks every
``REFRESH_MS``, and once more when the task ends; a refresh still in flight is never
started twice (one more is run after it instead), and the timer skips its turn while one
is, so a worktree slower to read than the cadence is not read back to back. Redrawing
keeps the selected file and both scroll positions, and the diff is not redrawn at all
when it did not change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import AgentryError
from app.core.log import get_logger
from app.core.models import Task
from app.core.workspaces import WorkspaceState
from app.supervisor.adapters import session_ability
from app.supervisor.changes import ChangedFile, Changes
from app.supervisor.supervisor import Supervisor
from app.ui.approval_text import DIFF_COLORS
from app.ui.diff_view import DiffView
from app.ui.review_comments import Comment, CommentEditor, PendingComments
from app.ui.theme import WARNING_COLORS, error_style, palette_is_dark
from app.ui.worktree_actions import WorktreeActions

log = get_logger(__name__)

REFRESH_MS = 2_000
LETTERS = {"added": "A", "modified": "M", "deleted": "D", "renamed": "R", "untracked": "?",
           "conflicted": "U"}  # fmt: skip
NO_WORKTREE = "The task's worktree is made when its run starts; its changes will show here."
DISCARDED = "The task's worktree was discarded, and its branch with it."
MINUS = "\u2212"  # a true minus sign lines up with the plus in proportional fonts
SendFollowUp = Callable[[int, str], bool]  # task id, message -> sent


class ChangesView(QWidget):
    titleChanged = Signal(str)  # what its tab should say: "Changes 4", "Changes 4 ⚠"

    def __init__(
        self, supervisor: Supervisor, task: Task, send: SendFollowUp, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.supervisor = supervisor
        self.task = task
        self._send = send
        self.changes: Changes | None = None
        self.refreshes = 0  # finished refreshes (tests wait on it)
        self._inflight: asyncio.Future[Changes | None] | None = None
        self._again = False
        self._closed = False
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._build()
        self._connect_signals()
        self.set_task(task)

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        self.worktree = WorktreeActions(self.supervisor, self.task, self._send, self)
        self.summary = QLabel(self)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.hide()
        self.side_button = QPushButton("Side by side", self)
        self.side_button.setCheckable(True)
        self.side_button.setToolTip("Show the file before and after the change side by side")
        self.comment_button = QPushButton("Comment…", self)
        self.comment_button.setEnabled(False)
        self.comment_button.setToolTip("Select lines in the diff, then write what to change")
        self.files = QTreeWidget(self)
        self.files.setRootIsDecorated(False)
        self.files.setUniformRowHeights(True)
        self.files.setHeaderLabels(["", "File", "+", MINUS, ""])
        header = self.files.header()
        header.setStretchLastSection(True)  # the notes give way to the file names
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.commits = QListWidget(self)
        self.commits_label = QLabel(self)
        self.diff = DiffView(self)
        self.editor = CommentEditor(self)
        self.pending = PendingComments(self)

        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.side_button)
        bar.addWidget(self.comment_button)
        commits = QWidget(self)
        commits_layout = QVBoxLayout(commits)
        commits_layout.setContentsMargins(0, 0, 0, 0)
        commits_layout.addWidget(self.commits_label)
        commits_layout.addWidget(self.commits, 1)
        top = QSplitter(Qt.Orientation.Horizontal, self)
        top.addWidget(self.files)
        top.addWidget(commits)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        top.setSizes([600, 200])
        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.diff, 1)
        bottom_layout.addWidget(self.editor)
        bottom_layout.addWidget(self.pending)
        self.split = QSplitter(Qt.Orientation.Vertical, self)
        self.split.addWidget(top)
        self.split.addWidget(bottom)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 4)
        self.split.setSizes([130, 520])  # the diff gets the room; a long file list scrolls
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.worktree)
        layout.addLayout(bar)
        layout.addWidget(self.worktree.place)  # the worktree's size and folder
        layout.addWidget(self.status)
        layout.addWidget(self.split, 1)

    def _connect_signals(self) -> None:
        # refreshing
        self._timer.timeout.connect(self._tick)
        self.worktree.changed.connect(self.refresh)
        self.worktree.statusRead.connect(self._status_read)
        # the file shown, and how
        self.files.currentItemChanged.connect(lambda *_: self._show_selected_file())
        self.side_button.toggled.connect(self.diff.set_side_by_side)
        # comments
        self.diff.selectionChanged.connect(self._update_comment_button)
        self.comment_button.clicked.connect(self._open_editor)
        self.editor.added.connect(self._comment_added)
        self.pending.sendRequested.connect(self._send_comments)

    # ------------------------------------------------------------------ the task

    def set_task(self, task: Task) -> None:
        """The task as the model now knows it: polls while it is active, reads once more
        when it has ended, and may send comments only then."""
        was_active = self._active
        self.task = task
        if was_active and not self._active:
            self.refresh()
        self.worktree.set_task(task)
        self._update_timer()
        ability = session_ability(task)
        if not ability.supported:
            why = f"{task.agent} tasks cannot take follow-ups"
        elif not ability.can_continue:
            why = "no agent session to continue yet"
        else:
            why = "the agent is still working" if self._active else ""
        self.pending.set_can_send(ability.can_continue and not self._active, why)

    @property
    def _active(self) -> bool:
        state = self.task.state
        return state is not None and not state.is_terminal

    def close_view(self) -> None:
        """The pane is closing: no more refreshes, and one in flight is dropped."""
        self._closed = True
        self._timer.stop()
        self.worktree.close_view()
        if self._inflight is not None:
            self._inflight.cancel()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._update_timer()
        self.worktree.shown()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.changes is not None:
            self._fill_files(self.changes)  # status colours for the new theme

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._update_timer()
        self.worktree.hidden()

    def _update_timer(self) -> None:
        if self._active and self.isVisible() and not self._closed:
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    # ------------------------------------------------------------------ refreshing

    @property
    def busy(self) -> bool:
        """A refresh is in flight (or noted to follow the one that is)."""
        return self._inflight is not None or self._again

    def _tick(self) -> None:
        if self._inflight is None:
            self.refresh()

    def refresh(self) -> None:
        """Ask for the task's changes, off the event loop; never two at once."""
        if self._closed or not self.supervisor.running:
            return
        if self._inflight is not None and not self._inflight.done():
            self._again = True
            return
        self._inflight = asyncio.ensure_future(self.supervisor.changes(self.task.id))
        self._inflight.add_done_callback(self._loaded)

    def _loaded(self, future: asyncio.Future[Changes | None]) -> None:
        self._inflight = None
        if self._closed or future.cancelled():
            return
        exc = future.exception()
        if isinstance(exc, AgentryError):  # git failed: say so, try again next time
            self._say(str(exc))
        elif exc is not None:  # a bug: to the log (and the person), never swallowed
            log.error("reading the changes of task %s failed", self.task.id, exc_info=exc)
            self._say(f"Internal error while reading the changes: {exc}")
        else:
            self._say("")
            self.show_changes(future.result())
        self.refreshes += 1
        if self._again:
            self._again = False
            self.refresh()

    def _say(self, message: str) -> None:
        self.status.setStyleSheet(error_style())
        self.status.setText(message)
        self.status.setVisible(bool(message))

    # ------------------------------------------------------------------ drawing

    def show_changes(self, changes: Changes | None) -> None:
        self.changes = changes
        self.titleChanged.emit(_title(changes))
        self.worktree.set_uncommitted(changes is not None and bool(changes.uncommitted))
        if changes is None:
            self.summary.setText(self._no_changes_text())
            self.files.clear()
            self.commits.clear()
            self.commits_label.setText("")
            self.diff.show_diff(None, "")
            return
        self.summary.setText(_summary(changes))
        self._fill_files(changes)
        self._fill_commits(changes)
        self._show_selected_file()

    def _no_changes_text(self) -> str:
        status = self.worktree.status
        gone = status is not None and status.state in (WorkspaceState.REMOVING,
                                                       WorkspaceState.REMOVED)  # fmt: skip
        return DISCARDED if gone else NO_WORKTREE

    def _status_read(self) -> None:
        if self.changes is None and self.refreshes:
            self.summary.setText(self._no_changes_text())

    def _fill_files(self, changes: Changes) -> None:
        current = self.files.currentItem()
        wanted = current.data(1, Qt.ItemDataRole.UserRole) if current is not None else None
        scroll = self.files.verticalScrollBar().value()
        self.files.blockSignals(True)
        self.files.clear()
        dark = palette_is_dark(self.palette())
        for changed in changes.files:
            self.files.addTopLevelItem(self._file_item(changed, changes, dark))
        paths = [f.path for f in changes.files]
        index = paths.index(wanted) if wanted in paths else 0
        item = self.files.topLevelItem(index) if paths else None
        if item is not None:
            self.files.setCurrentItem(item)
        self.files.blockSignals(False)
        self.files.verticalScrollBar().setValue(scroll)

    def _file_item(self, changed: ChangedFile, changes: Changes, dark: bool) -> QTreeWidgetItem:
        change = changed.change
        name = f"{change.old_path} → {change.path}" if change.old_path else change.path
        notes = []
        if changed.path in changes.uncommitted:
            notes.append("uncommitted")
        others = changes.overlaps.get(changed.path, ())
        if others:
            notes.append("⚠ also changed by " + ", ".join(f"#{t}" for t in others))
        added = "bin" if changed.added is None else f"+{changed.added}"
        removed = "" if changed.removed is None else f"{MINUS}{changed.removed}"
        item = QTreeWidgetItem([LETTERS[change.status], name, added, removed, " · ".join(notes)])
        item.setData(1, Qt.ItemDataRole.UserRole, changed.path)
        item.setToolTip(0, change.status)
        item.setToolTip(1, name + ("\nnot committed yet" if "uncommitted" in notes else ""))
        colors = DIFF_COLORS[dark]
        item.setForeground(0, QBrush(QColor(_letter_color(change.status, colors, dark))))
        item.setForeground(2, QBrush(QColor(colors["added"])))
        item.setForeground(3, QBrush(QColor(colors["removed"])))
        if others:
            item.setForeground(4, QBrush(QColor(WARNING_COLORS["dark" if dark else "light"])))
            item.setToolTip(4, "Another active task changed this file too: merging both "
                               "may conflict")  # fmt: skip
        for column in (2, 3):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
        return item

    def _fill_commits(self, changes: Changes) -> None:
        self.commits.clear()
        for sha, subject in reversed(changes.commits):  # newest first
            self.commits.addItem(f"{sha[:8]}  {subject}")
        count = len(changes.commits)
        self.commits_label.setText(f"{count} commit(s) on {changes.branch}" if count else
                                   "No commits yet")  # fmt: skip

    def _show_selected_file(self) -> None:
        item = self.files.currentItem()
        path = item.data(1, Qt.ItemDataRole.UserRole) if item is not None else None
        diff = self.changes.diff_of(path) if self.changes is not None and path else ""
        self.diff.show_diff(path, diff)
        self._update_comment_button()

    def selected_path(self) -> str | None:
        item = self.files.currentItem()
        return item.data(1, Qt.ItemDataRole.UserRole) if item is not None else None

    # ------------------------------------------------------------------ comments

    def _update_comment_button(self) -> None:
        self.comment_button.setEnabled(bool(self.diff.selected_rows()))

    def _open_editor(self) -> None:
        rows = self.diff.selected_rows()
        path = self.diff.path
        if rows and path is not None:
            self.editor.open(path, rows)

    def _comment_added(self, comment: Comment) -> None:
        self.pending.add(comment)

    def _send_comments(self, message: str) -> None:
        if self._send(self.task.id, message):
            self.pending.clear()


def _title(changes: Changes | None) -> str:
    if changes is None or not changes.files:
        return "Changes"
    return f"Changes {len(changes.files)}" + (" \u26a0" if changes.overlaps else "")


def _summary(changes: Changes) -> str:
    added = sum(f.added or 0 for f in changes.files)
    removed = sum(f.removed or 0 for f in changes.files)
    files = len(changes.files)
    if not files:
        return f"No changes yet against {changes.base}"
    overlap = f" · ⚠ {len(changes.overlaps)} also changed elsewhere" if changes.overlaps else ""
    return (f"{files} file(s) changed  +{added} {MINUS}{removed} · {len(changes.uncommitted)} "
            f"uncommitted · against {changes.base}{overlap}")  # fmt: skip


def _letter_color(status: str, colors: dict[str, str], dark: bool) -> str:
    if status in ("added", "untracked"):
        return colors["added"]
    if status in ("deleted", "conflicted"):
        return colors["removed"]
    if status == "renamed":
        return colors["hunk"]
    return WARNING_COLORS["dark" if dark else "light"]
