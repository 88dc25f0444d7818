"""The Changes tab's Land button, and where the task's land is (DESIGN §7a).

Land queues ``agentry land`` for the task: the supervisor rebases its branch onto the
latest base, runs the project's check command as a run of the task (its output is in the
transcript) and moves the base only if the check passes. While a land is under way the
button cancels it, and the tab's note says where it is; when it ends, how it ended.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu, QToolButton

from app.core.errors import AgentryError
from app.core.lands import Land, LandState
from app.ui.labels import capitalized

if TYPE_CHECKING:
    from app.ui.worktree_actions import WorktreeActions


class LandControl(QObject):
    def __init__(self, actions: WorktreeActions, button: QToolButton) -> None:
        super().__init__(actions)
        self._actions = actions
        self.button = button
        self.menu = QMenu(actions)
        self.checked_action = self.menu.addAction("")
        self.unchecked_action = self.menu.addAction("")
        self.button.setMenu(self.menu)
        self.button.clicked.connect(self._clicked)
        self.checked_action.triggered.connect(lambda: self.land(check=True))
        self.unchecked_action.triggered.connect(lambda: self.land(check=False))
        self.shown: int | None = None  # the land whose progress the note shows

    # ------------------------------------------------------------------ the button

    @property
    def check(self) -> str:
        """The project's check command ("" when none is set)."""
        status = self._actions.status
        if status is None or not status.repo:
            return ""
        return self._actions.supervisor.settings.project(status.repo).check

    @property
    def landing(self) -> bool:
        status = self._actions.status
        return status is not None and status.landing

    def update(self, why_not: str) -> None:
        status = self._actions.status
        base = status.base if status is not None and status.base else "the base"
        branch = status.branch if status is not None else "the branch"
        check = self.check
        self.button.setText("Cancel land" if self.landing else "Land")
        self.button.setMenu(None if self.landing else self.menu)  # type: ignore[arg-type]
        self.button.setPopupMode(
            QToolButton.ToolButtonPopupMode.DelayedPopup
            if self.landing
            else QToolButton.ToolButtonPopupMode.MenuButtonPopup
        )
        self.button.setEnabled(not why_not)
        if why_not:
            tip = why_not
        elif self.landing:
            tip = f"Cancel the land of {branch} on {base}; {base} is not changed"
        elif check:
            tip = (f"Rebase {branch} onto the latest {base}, run `{check}` in the worktree, "
                   f"and move {base} only if it passes (one land at a time per "
                   "repository)")  # fmt: skip
        else:
            tip = ("No check command is set for this repository: set one in Tools → Project "
                   "settings…, or land without a check from the arrow")  # fmt: skip
        self.button.setToolTip(tip)
        self.checked_action.setText(f"Land on {base} after `{check}`" if check else
                                    f"Land on {base} after the check (none is set)")  # fmt: skip
        self.checked_action.setEnabled(bool(check))
        self.unchecked_action.setText(f"Land on {base} without a check")

    def _clicked(self) -> None:
        if self.landing:
            self.cancel()
        elif self.check:
            self.land(check=True)
        else:
            base = html.escape(self._actions.status.base if self._actions.status else "the base")
            self._actions.note.say(
                f"No check command is set for this repository, so nothing would be checked "
                f"before <b>{base}</b> moves. Set one in Tools → Project settings…",
                "warning",
                action=("Land without a check", lambda: self.land(check=False)),
            )

    # ------------------------------------------------------------------ landing

    def land(self, *, check: bool) -> None:
        actions = self._actions
        coro = actions.supervisor.lander.land(actions.task.id, check=check)
        actions.start_action("queueing the land", coro, self._queued)

    def _queued(self, land: Land) -> None:
        self.shown = land.id
        self.show(land)

    def cancel(self) -> None:
        actions = self._actions
        try:
            land = actions.supervisor.lander.cancel(actions.task.id)
        except AgentryError as exc:
            actions.note.say(html.escape(capitalized(str(exc))), "error")
            return
        if land.state is LandState.CHECKING:
            actions.note.say("Stopping the check; the land ends with it.", closable=False)
        actions.refresh_status()

    def task_changed(self) -> None:
        """The task changed (a land moves on by changing it): show where its land is."""
        actions = self._actions
        if not actions.supervisor.running:
            return
        lands = actions.supervisor.lander.lands(actions.task.id)
        latest = lands[-1] if lands else None
        if latest is None or (not latest.is_active and latest.id != self.shown):
            return
        self.show(latest)

    def show(self, land: Land) -> None:
        note = self._actions.note
        base = f"<b>{html.escape(land.base)}</b>"
        if land.is_active:
            self.shown = land.id
            progress = html.escape(land.progress)
            if land.state is LandState.CHECKING:
                progress += " (its output is in the transcript)"
            note.say(f"Landing on {base}: {progress}…", closable=False)
            return
        self.shown = None
        message = html.escape(land.message)
        if land.state is LandState.LANDED:
            note.say(f"Landed: {message}.", action=("Discard worktree…",
                                                   self._actions.ask_discard))  # fmt: skip
        elif land.state is LandState.CANCELLED:
            note.say(f"The land was cancelled; {base} was not changed.")
        else:
            note.say(f"The land failed: {message}", "error")
