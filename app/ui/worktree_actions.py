"""The Changes tab's actions on its task's worktree: Merge, Push, Discard…, Open in editor and
Open in terminal, a banner when a merge conflicts, and the worktree's size and place.

Each action is a coroutine of ``supervisor.worktrees`` (git and the disk are read off the
event loop); this widget asks, keeps a reference to what it asked, and shows the answer in
the tab: a refusal or a git failure is a message here, never a crash. While the task's run
is active (or an action is under way) the buttons that change the worktree are disabled,
and their tooltips say why. The status line (size on disk, whether the base has it all)
is read rarely: when shown, once a minute, when the run ends and after each action.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import AgentryError
from app.core.log import get_logger
from app.core.models import Task
from app.core.workspaces import WorkspaceState
from app.supervisor.adapters import session_ability
from app.supervisor.git import MergeHow
from app.supervisor.supervisor import Supervisor
from app.supervisor.workspaces import AtRisk, MergeConflict, Merged
from app.supervisor.worktree_ops import Pushed, WorktreeStatus, rebase_request
from app.ui.dialogs.discard_worktree import DiscardWorktreeBox
from app.ui.folder_open import open_folder_from
from app.ui.labels import capitalized, short_path
from app.ui.land_control import LandControl
from app.ui.widgets import ElidedLabel
from app.ui.worktree_state import availability, land_availability, size_text
from app.ui.worktree_strips import ConflictBanner, ResultNote, tool_button

log = get_logger(__name__)

STATUS_MS = 60_000  # the size on disk is a walk of the whole worktree: read it rarely
SendFollowUp = Callable[[int, str], bool]  # task id, message -> sent
HOW_LABELS: dict[MergeHow, str] = {"merge": "Merge into {base}",
                                   "squash": "Squash and merge into {base}",
                                   "rebase": "Rebase and merge into {base}"}  # fmt: skip


# ---------------------------------------------------------------- the actions


class WorktreeActions(QWidget):
    changed = Signal()  # the worktree changed (merged, discarded): read its changes again
    statusRead = Signal()  # :attr:`status` is new

    def __init__(
        self, supervisor: Supervisor, task: Task, send: SendFollowUp, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.supervisor = supervisor
        self.task = task
        self._send = send
        self.status: WorktreeStatus | None = None
        self.operations = 0  # finished actions and status reads (tests wait on it)
        self.discard_box: DiscardWorktreeBox | None = None
        self._uncommitted = False
        self._busy = ""  # what is under way ("merging"), "" when nothing is
        self._pending: set[asyncio.Future[Any]] = set()  # kept, so none is collected early
        self._status_at = 0.0
        self._reading: asyncio.Future[Any] | None = None
        self._read_again = False
        self._closed = False
        self._timer = QTimer(self, interval=STATUS_MS)
        self._build()
        self._connect_signals()
        self._update()

    def _build(self) -> None:
        self.merge_button = _menu_button(self, "Merge")
        self.merge_menu = QMenu(self)
        self.merge_actions = {how: self.merge_menu.addAction("") for how in HOW_LABELS}
        self.merge_button.setMenu(self.merge_menu)
        self.land_button = _menu_button(self, "Land")
        self.land = LandControl(self, self.land_button)
        self.push_button = _menu_button(self, "Push")
        self.push_menu = QMenu(self)
        self.push_action = self.push_menu.addAction("Push")
        self.request_action = self.push_menu.addAction("Push and open pull request")
        self.push_button.setMenu(self.push_menu)
        self.discard_button = tool_button(self, "Discard…")
        self.editor_button = tool_button(self, "Open in editor")
        self.terminal_button = tool_button(self, "Open in terminal")
        self.place = ElidedLabel(self)
        self.place.setStyleSheet("color: gray")
        self.place.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.place.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.conflict = ConflictBanner(self)
        self.note = ResultNote(self)

        self.bar = QHBoxLayout()
        for button in (self.merge_button, self.land_button, self.push_button, self.discard_button):
            self.bar.addWidget(button)
        self.bar.addSpacing(12)
        self.bar.addWidget(self.editor_button)
        self.bar.addWidget(self.terminal_button)
        self.bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.bar)
        layout.addWidget(self.conflict)
        layout.addWidget(self.note)

    def _connect_signals(self) -> None:
        self._timer.timeout.connect(self.refresh_status)
        # changing the worktree
        self.merge_button.clicked.connect(lambda: self.merge("merge"))
        for how, action in self.merge_actions.items():
            action.triggered.connect(lambda _=False, how=how: self.merge(how))
        self.push_button.clicked.connect(lambda: self.push(request=False))
        self.push_action.triggered.connect(lambda: self.push(request=False))
        self.request_action.triggered.connect(lambda: self.push(request=True))
        self.discard_button.clicked.connect(self.ask_discard)
        # opening it
        self.editor_button.clicked.connect(self.open_in_editor)
        self.terminal_button.clicked.connect(self.open_in_terminal)
        self.conflict.terminal_button.clicked.connect(self.open_in_terminal)
        self.conflict.ask_button.clicked.connect(self.ask_agent_to_resolve)

    # ------------------------------------------------------------------ the task

    def set_task(self, task: Task) -> None:
        ended = _active(self.task) and not _active(task)
        self.task = task
        status = self.status
        ready = status is not None and status.state is WorkspaceState.READY
        if ended or not ready or (status is not None and status.landing):
            self.refresh_status()  # it ended, its worktree may be made now, or a land moved on
        self._update()
        self.land.task_changed()

    def set_uncommitted(self, uncommitted: bool) -> None:
        """What the last read of the changes found (uncommitted work is worth merging)."""
        if uncommitted != self._uncommitted:
            self._uncommitted = uncommitted
            self._update()

    def shown(self) -> None:
        if time.monotonic() - self._status_at >= STATUS_MS / 1000 or self.status is None:
            self.refresh_status()
        if not self._closed:
            self._timer.start()

    def hidden(self) -> None:
        self._timer.stop()

    def close_view(self) -> None:
        """The pane is closing: a status read is dropped; an action under way is not (a
        discard cut short would leave its worktree half removed until the next start), its
        answer is only no longer shown."""
        self._closed = True
        self._timer.stop()
        if self._reading is not None:
            self._reading.cancel()

    # ------------------------------------------------------------------ status

    def refresh_status(self) -> None:
        """Read the worktree's status off the loop; never two reads at once."""
        if self._closed or not self.supervisor.running:
            return
        if self._reading is not None:
            self._read_again = True
            return
        self._status_at = time.monotonic()
        coro = self.supervisor.worktrees.status(self.task.id)
        self._reading = self._ask(coro, self._show_status, after=self._status_done)

    def _status_done(self) -> None:
        self._reading = None
        if self._read_again:
            self._read_again = False
            self.refresh_status()

    @property
    def busy(self) -> str:
        """What is under way ("merging into main"); "" when nothing is."""
        return self._busy

    @property
    def reading(self) -> bool:
        return self._reading is not None

    def _show_status(self, status: WorktreeStatus) -> None:
        self.status = status
        self._update()
        self.statusRead.emit()

    def _update(self) -> None:
        can = availability(self.task, self.status, uncommitted=self._uncommitted,
                           busy=self._busy)  # fmt: skip
        status = self.status
        base = status.base if status is not None and status.base else "the base"
        branch = status.branch if status is not None else ""
        for how, action in self.merge_actions.items():
            action.setText(HOW_LABELS[how].format(base=base))
        remote = status.remote if status is not None and status.remote else "its remote"
        self.push_action.setText(f"Push {branch} to {remote}")
        _enable(self.merge_button, can.merge, f"Merge {branch} into {base}: a fast-forward "
                f"when {base} has not moved, else a merge commit (the arrow offers squash "
                "and rebase). Uncommitted changes are committed first.")  # fmt: skip
        self.land.update(land_availability(self.task, status, uncommitted=self._uncommitted,
                                           busy=self._busy))  # fmt: skip
        _enable(self.push_button, can.push, f"Push {branch} to {remote} (the arrow also "
                "opens a pull request)")  # fmt: skip
        _enable(self.discard_button, can.discard, "Remove the worktree and its branch; asks "
                "first, naming what would be lost")  # fmt: skip
        _enable(self.editor_button, can.open, "Open the worktree in your editor (Settings)")
        _enable(self.terminal_button, can.open, "Open a terminal in the task's folder of the "
                "worktree")  # fmt: skip
        self.conflict.terminal_button.setEnabled(not can.open)
        self.conflict.terminal_button.setToolTip(can.open)
        self.conflict.set_can_ask(self._why_not_ask())
        self._show_place()

    def _show_place(self) -> None:
        status = self.status
        if status is None or not status.path:
            self.place.set_full_text("")
            self.place.setToolTip("")
            self.place.hide()
            return
        self.place.show()
        gone = status.state in (WorkspaceState.REMOVING, WorkspaceState.REMOVED)
        size = "discarded" if gone else size_text(status.size)
        self.place.set_full_text(f"worktree {size} · {short_path(status.path)}")
        self.place.setToolTip(f"{status.path}\nbranch {status.branch}, made from {status.base}")

    def _why_not_ask(self) -> str:
        ability = session_ability(self.task)
        base = self.status.base if self.status is not None else "the base"
        if not ability.supported:
            return (f"{self.task.agent} tasks cannot take follow-ups: open a terminal and "
                    f"rebase onto {base} yourself")  # fmt: skip
        if not ability.can_continue:
            return "There is no agent session to continue yet"
        if _active(self.task):
            return "The agent is still working"
        return ""

    # ------------------------------------------------------------------ changing the worktree

    def merge(self, how: MergeHow) -> None:
        self._start(f"merging into {self._base}", self.supervisor.worktrees.merge(
            self.task.id, how), self._merged)  # fmt: skip

    def _merged(self, merged: Merged) -> None:
        self.conflict.hide()
        way = "fast-forward" if merged.fast_forward else f"commit {merged.commit[:8]}"
        first = " The uncommitted changes were committed first." if merged.committed_changes else ""
        self.note.say(
            f"Merged into <b>{html.escape(merged.base)}</b> ({way}).{first}",
            action=("Discard worktree…", self.ask_discard),
        )  # done with it?

    def push(self, *, request: bool) -> None:
        self._start(f"pushing to {self._remote}", self.supervisor.worktrees.push(
            self.task.id, request=request), self._pushed)  # fmt: skip

    def _pushed(self, pushed: Pushed) -> None:
        text = f"Pushed <b>{html.escape(pushed.branch)}</b> to {html.escape(pushed.remote)}."
        url = pushed.compare_url
        if pushed.request is not None:
            said = html.escape(pushed.request)
            link = f"<a href='{said}'>{said}</a>" if said.startswith("https://") else said
            self.note.say(f"{text} Opened the pull request: {link}")
        elif url is None:
            self.note.say(text)
        elif pushed.request_failed is not None:
            failed = html.escape(pushed.request_failed)
            self.note.say(f"{text} Could not open a pull request here ({failed}).", "warning",
                          action=("Open in browser", lambda: _open_url(url)))  # fmt: skip
        else:
            self.note.say(text, action=("Open pull request page", lambda: _open_url(url)))

    def ask_discard(self) -> None:
        """Asks git what would be lost, then asks the person (Cancel is the default)."""
        self._start("looking at what would be lost", self.supervisor.worktrees.at_risk(
            self.task.id), self._confirm_discard, changes=False)  # fmt: skip

    def _confirm_discard(self, risk: AtRisk) -> None:
        if self.status is None:
            return
        box = DiscardWorktreeBox(self.task, self.status, risk, self)
        box.confirmed.connect(self.discard)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _: setattr(self, "discard_box", None))
        self.discard_box = box
        box.open()

    def discard(self) -> None:
        self._start("discarding the worktree", self.supervisor.worktrees.discard(self.task.id),
                    self._discarded)  # fmt: skip

    def _discarded(self, _: object) -> None:
        self.conflict.hide()
        branch = self.status.branch if self.status is not None else "its branch"
        self.note.say(f"Discarded the worktree and the branch <b>{html.escape(branch)}</b>.")

    def ask_agent_to_resolve(self) -> None:
        status = self.status
        if status is None or not self.conflict.files:
            return
        message = rebase_request(status.branch, status.base, self.conflict.files)
        if self._send(self.task.id, message):
            self.conflict.hide()
            self.note.say(f"Asked the agent to rebase onto <b>{html.escape(status.base)}</b> "
                          "and resolve the conflicts; merge again when it is done.")  # fmt: skip

    # ------------------------------------------------------------------ opening it

    def open_in_editor(self) -> None:
        self._ask(self.supervisor.worktrees.open_in_editor(self.task.id), self._editor_opened)

    def _editor_opened(self, started: bool) -> None:
        if not started and self.status is not None:  # no editor set, no `code`: the OS's choice
            open_folder_from(self, self.status.path, "worktree")

    def open_in_terminal(self) -> None:
        self._ask(self.supervisor.worktrees.open_in_terminal(self.task.id), lambda _: None)

    # ------------------------------------------------------------------ asking the supervisor

    @property
    def _base(self) -> str:
        return self.status.base if self.status is not None else "the base"

    @property
    def _remote(self) -> str:
        remote = self.status.remote if self.status is not None else None
        return remote or "the remote"

    def start_action(
        self, doing: str, coro: Coroutine[Any, Any, Any], done: Callable[[Any], None]
    ) -> None:
        """An action that may change the worktree (see :meth:`_start`): the Land button's."""
        self._start(doing, coro, done)

    def _start(self, doing: str, coro: Coroutine[Any, Any, Any], done: Callable[[Any], None],
               *, changes: bool = True) -> None:  # fmt: skip
        """An action on the worktree, one at a time; ``changes``: it may change the worktree
        (the note says what is under way, and the tab reads it again afterwards)."""
        if self._busy:
            coro.close()
            return
        self._busy = doing
        if changes:
            self.note.say(f"{capitalized(doing)}…", closable=False)
        self._update()
        self._ask(coro, done, after=self._after_change if changes else self._after_read)

    def _after_read(self) -> None:
        self._busy = ""
        self._update()

    def _after_change(self) -> None:
        self._after_read()
        self.refresh_status()
        self.changed.emit()

    def _ask(self, coro: Coroutine[Any, Any, Any], done: Callable[[Any], None],
             after: Callable[[], None] | None = None) -> asyncio.Future[Any]:  # fmt: skip
        future = asyncio.ensure_future(coro)
        self._pending.add(future)
        future.add_done_callback(lambda f: self._answered(f, done, after))
        return future

    def _answered(self, future: asyncio.Future[Any], done: Callable[[Any], None],
                  after: Callable[[], None] | None) -> None:  # fmt: skip
        self._pending.discard(future)
        if self._closed or future.cancelled():
            return
        if not self.supervisor.running:  # the app is quitting: nobody is left to tell
            what = "done" if future.exception() is None else f"failed: {future.exception()}"
            log.info("a worktree action of task %s %s while stopping", self.task.id, what)
            return
        exc = future.exception()
        if exc is None:
            done(future.result())
        elif isinstance(exc, MergeConflict) and self.status is not None:
            self.note.hide()
            self.conflict.show_conflict(self.status, exc.files)
        elif isinstance(exc, AgentryError):
            self.note.say(_sentence(str(exc)), "error")
        else:  # a bug: to the log (and the person), never swallowed
            log.error("a worktree action of task %s failed", self.task.id, exc_info=exc)
            self.note.say(f"Internal error: {html.escape(str(exc))}", "error")
        if after is not None:
            after()
        else:
            self._update()
        self.operations += 1


def _menu_button(parent: QWidget, text: str) -> QToolButton:
    button = tool_button(parent, text)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
    return button


def _enable(button: QToolButton, why_not: str, tip: str) -> None:
    button.setEnabled(not why_not)
    button.setToolTip(why_not or tip)


def _active(task: Task) -> bool:
    return task.state is not None and not task.state.is_terminal


def _open_url(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))


def _sentence(message: str) -> str:
    """An error's message as the note shows it: escaped, starting with a capital."""
    return html.escape(capitalized(message))
