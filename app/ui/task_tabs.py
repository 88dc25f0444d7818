"""Task output panes among the main window's tabs.

Owns which panes are open, which run each one follows (a Retry or a Follow-up starts a new
run in the same pane, below a separator), the one reused preview tab, and what a pane
asks of its task: follow-up messages and resuming the agent's session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QMessageBox, QTabWidget, QWidget

from app.core.approvals import Approval, ApprovalState
from app.core.models import Run, RunKind, Task
from app.core.render import Renderer
from app.core.states import RunState
from app.core.transcript import exit_line, sent_message
from app.supervisor.adapters import get_adapter_or_none, session_ability
from app.supervisor.commands import CommandRefused
from app.supervisor.events import RunStateChanged
from app.supervisor.supervisor import Supervisor
from app.supervisor.tail import OutputTail
from app.ui.changes_view import ChangesView
from app.ui.icons import NEEDS_YOU, state_icon
from app.ui.output_pane import OutputPane
from app.ui.task_details import TaskDetails

EARLIER_RUN_BYTES = 64 * 1024
RUN_KINDS = {"start": "started", "retry": "retried", "resume": "resumed session",
             "follow_up": "follow-up", "check": "land check", "restart": "restarted",
             "after_limit": "resumed after the limit"}  # fmt: skip
PREVIEW_TIP = "\n\nPreview: the next task you select replaces it. Double-click to keep it."


def run_caption(run: Run) -> str:
    caption = f"run {run.attempt} · {RUN_KINDS.get(run.kind, run.kind)}"
    if run.kind in ("follow_up", "check") and run.prompt:
        first = run.prompt.strip().splitlines()[0]
        caption += f": {first[:100]}"
    return caption


class TaskTabs(QObject):
    followedUp = Signal(int)  # task id: a conversation in progress, its tab is kept

    def __init__(
        self,
        supervisor: Supervisor,
        tabs: QTabWidget,
        *,
        max_blocks: int | None = None,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.supervisor = supervisor
        self.tabs = tabs
        self._parent = parent
        self._max_blocks = max_blocks
        self.panes: dict[int, OutputPane] = {}
        self.changes: dict[int, ChangesView] = {}  # task id -> its worktree's Changes tab
        self.details: dict[int, TaskDetails] = {}  # task id -> its Details tab
        self._watched: dict[int, int] = {}  # task id -> run id whose output its pane shows
        self._preview: int | None = None  # the task whose pane is the reused preview tab
        self._needs_you: frozenset[int] = frozenset()  # tasks waiting for the person

    def show(self, task: Task, *, preview: bool) -> OutputPane:
        """The task's pane in front, opened if needed (see ``MainWindow.open_task``)."""
        pane = self.panes.get(task.id)
        if pane is None:
            previous = self.panes.get(self._preview) if self._preview is not None else None
            pane = self._open_pane(task)
            if previous is not None:
                self.close(previous)
            self._preview = task.id if preview else None
            self._set_tab_look(task)
        elif not preview and self._preview == task.id:
            self._preview = None
            self._set_tab_look(task)
        self.tabs.setCurrentWidget(pane)
        return pane

    def close(self, pane: OutputPane) -> None:
        run_id = self._watched.pop(pane.task_id, None)
        if run_id is not None:
            self.supervisor.unwatch_output(run_id)
        self.panes.pop(pane.task_id, None)
        self.details.pop(pane.task_id, None)
        changes = self.changes.pop(pane.task_id, None)
        if changes is not None:
            changes.close_view()
        if self._preview == pane.task_id:
            self._preview = None
        self.tabs.removeTab(self.tabs.indexOf(pane))
        pane.deleteLater()

    def current_pane(self) -> OutputPane | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, OutputPane) else None

    # ------------------------------------------------------------------ what the task did

    def task_changed(self, task: Task) -> None:
        """The task's header, command and log file as the model now knows them."""
        pane = self.panes.get(task.id)
        if pane is not None:
            pane.set_task(task, self._log_path(task))
            self._show_wait(task)
            self._show_details(task)

    def task_updated(self, task: Task) -> None:
        if task.id in self.panes:
            self._update_follow_up(task)
            self._show_details(task)
        if task.id in self.changes:
            self.changes[task.id].set_task(task)

    def run_state_changed(self, task: Task, event: RunStateChanged) -> None:
        pane = self.panes.get(task.id)
        if pane is None:
            return
        if self._watched.get(task.id) != event.run_id and event.new is RunState.QUEUED:
            self._follow_new_run(task, event.run_id)
        pane.set_task(task, self._log_path(task))
        self._set_tab_look(task)
        self._update_follow_up(task)
        self._show_details(task)
        if task.id in self.changes:
            self.changes[task.id].set_task(task)
        if event.new.is_terminal and self._watched.get(task.id) == event.run_id:
            # The supervisor delivers the run's last output right after this change, in the
            # same turn of the loop: the exit line goes below it, on the next turn.
            QTimer.singleShot(0, lambda: self._show_run_end(task.id, event.run_id))

    def output(self, task_id: int, run_id: int, lines: tuple[str, ...]) -> None:
        pane = self.panes.get(task_id)
        if pane is not None and self._watched.get(task_id) == run_id:
            pane.append_lines(lines)

    # ------------------------------------------------------------------ the pane in front

    def open_log(self) -> None:
        pane = self.current_pane()
        if pane is not None:
            pane.open_log_file()

    def jump_to_end(self) -> None:
        pane = self.current_pane()
        if pane is not None:
            pane.jump_to_end()

    def find(self) -> None:
        pane = self.current_pane()
        if pane is not None:
            pane.show_find()

    # ------------------------------------------------------------------ follow-up and resume

    def send_follow_up(self, task_id: int, message: str) -> bool:
        try:
            self.supervisor.follow_up(task_id, message)
        except CommandRefused as exc:
            QMessageBox.warning(self._parent, "Could not send the follow-up", str(exc))
            return False
        self.followedUp.emit(task_id)
        return True

    def resume_task(self, task_id: int) -> bool:
        return self._command(self.supervisor.resume, task_id, "Could not resume the session")

    def stop_task(self, task_id: int) -> bool:
        """End a wait (a pause for a limit, a restart's backoff): its queued run is cancelled."""
        return self._command(self.supervisor.cancel, task_id, "Could not stop the task")

    def _command(self, command: Callable[[int], object], task_id: int, refused: str) -> bool:
        """Run a supervisor command on a task; a refusal is said in a box titled ``refused``."""
        try:
            command(task_id)
        except CommandRefused as exc:
            QMessageBox.warning(self._parent, refused, str(exc))
            return False
        return True

    # ------------------------------------------------------------------ building a pane

    def _open_pane(self, task: Task) -> OutputPane:
        kwargs = {} if self._max_blocks is None else {"max_blocks": self._max_blocks}
        pane = OutputPane(task.id, self._log_path(task), parent=self.tabs, **kwargs)
        adapter = get_adapter_or_none(task.agent)
        if adapter is not None and adapter.structured:
            decisions = DecisionLookup(self.supervisor, task.id)
            pane.set_renderer(lambda: Renderer(adapter.parser(), decisions=decisions))
        pane.set_task(task, self._log_path(task))
        pane.followUpRequested.connect(self.send_follow_up)
        pane.resumeRequested.connect(self.resume_task)
        pane.stopRequested.connect(self.stop_task)
        details = TaskDetails(parent=pane)
        pane.add_section(details, "Details")
        self.details[task.id] = details
        if task.spec.worktree:
            changes = ChangesView(self.supervisor, task, self.send_follow_up, parent=pane)
            pane.add_section(changes, "Changes")
            changes.titleChanged.connect(lambda title: pane.set_section_title(changes, title))
            self.changes[task.id] = changes
        self.panes[task.id] = pane
        self.tabs.addTab(pane, "")
        self._set_tab_look(task)
        self._update_follow_up(task)
        runs = self.supervisor.runs(task.id)
        self._show_earlier_runs(task, pane, runs)
        self._show_details(task, runs)
        if task.latest_run is not None:
            self._watched[task.id] = task.latest_run.id
            # A finished run's output is all delivered before this returns (see
            # Supervisor.watch_output), so its exit line can follow at once.
            self.supervisor.watch_output(task.latest_run.id, from_end=True)
            self._show_run_end(task.id, task.latest_run.id, runs[-1] if runs else None)
        return pane

    def _show_earlier_runs(self, task: Task, pane: OutputPane, runs: list[Run]) -> None:
        """The task is a conversation: every run in order (what the person said, what the
        agent did, how it ended), then the live one."""
        for run in runs[:-1]:
            pane.add_separator(run_caption(run))
            self._show_message(task, run, pane)
            tail = OutputTail.from_end(self.supervisor.output_log(run),
                                       EARLIER_RUN_BYTES)  # fmt: skip
            while lines := tail.read_lines():
                pane.append_lines(lines)
            pane.append_lines(tail.flush())
            self._show_run_end(task.id, run.id, run)
        if len(runs) >= 2:
            pane.add_separator(run_caption(runs[-1]))
        if runs:
            self._show_message(task, runs[-1], pane)

    def _show_message(self, task: Task, run: Run, pane: OutputPane) -> None:
        message = sent_message(task, run)
        if message is not None:
            pane.add_you_turn(message)

    def _show_run_end(self, task_id: int, run_id: int, run: Run | None = None) -> None:
        """A shell task's run ends with "exited 3 after 0:02" below its output (agents end
        with their own summary line)."""
        pane = self.panes.get(task_id)
        if pane is None or run_id in pane.ended_runs:
            return
        if run is None:
            run = next((r for r in self.supervisor.runs(task_id) if r.id == run_id), None)
        task = self._task_of(task_id)
        if run is None or task is None or task.agent != "shell":
            return
        line = exit_line(run)
        if line is not None:
            pane.ended_runs.add(run_id)
            pane.add_run_end(line)

    def _task_of(self, task_id: int) -> Task | None:
        try:
            return self.supervisor.task(task_id)
        except LookupError:
            return None

    def _show_details(self, task: Task, runs: list[Run] | None = None) -> None:
        details = self.details.get(task.id)
        if details is not None:
            runs = runs if runs is not None else self.supervisor.runs(task.id)
            details.show_task(task, runs, self.supervisor.memory_use(task))

    def _follow_new_run(self, task: Task, run_id: int) -> None:
        old = self._watched.get(task.id)
        if old is not None:
            self.supervisor.unwatch_output(old)
            # A restart is queued in the turn its run's end arrives: that end's line goes
            # above the new run's separator, not below it on the next turn.
            self._show_run_end(task.id, old)
        self._watched[task.id] = run_id
        run = task.latest_run
        if run is not None:
            self.panes[task.id].add_separator(run_caption(run))
            self._show_message(task, run, self.panes[task.id])
        self.supervisor.watch_output(run_id)

    def _show_wait(self, task: Task) -> None:
        pane = self.panes.get(task.id)
        if pane is None:
            return
        restart = None
        if task.wait_reason == "restart":
            runs = self.supervisor.runs(task.id)
            number = 0
            for run in reversed(runs):  # the restarts since a person last started it
                if run.kind not in (RunKind.RESTART, RunKind.AFTER_LIMIT):
                    break
                number += run.kind is RunKind.RESTART
            restart = (number, task.spec.restart.max_restarts)
        pane.wait_bar.show_wait(task, restart)

    def _update_follow_up(self, task: Task) -> None:
        pane = self.panes.get(task.id)
        if pane is None:
            return
        self._show_wait(task)
        ended = task.state is not None and task.state.is_terminal
        ability = session_ability(task)
        pane.set_follow_up(
            available=ability.supported,
            can_send=ended and ability.can_continue,
            can_resume=ended and ability.can_continue and task.state is RunState.INTERRUPTED,
        )

    def set_needs_you(self, task_ids: frozenset[int]) -> None:
        """Tabs of tasks a tool call or checkpoint of which waits show the "needs you" icon."""
        changed, self._needs_you = self._needs_you ^ task_ids, task_ids
        for task_id in changed:
            if task_id in self.panes and self.supervisor.running:
                self._set_tab_look(self.supervisor.task(task_id))

    def _set_tab_look(self, task: Task) -> None:
        index = self.tabs.indexOf(self.panes[task.id])
        title = task.title if len(task.title) <= 28 else task.title[:27] + "…"
        self.tabs.setTabText(index, f"#{task.id} {title}")
        needs_you = task.id in self._needs_you
        if needs_you:
            self.tabs.setTabIcon(index, state_icon(NEEDS_YOU))
        elif task.state is not None:
            self.tabs.setTabIcon(index, state_icon(task.state.value))
        preview = task.id == self._preview
        tip = ("Needs you: a tool call or checkpoint waits for your answer\n" if needs_you
               else "") + task.title + (PREVIEW_TIP if preview else "")  # fmt: skip
        self.tabs.setTabToolTip(index, tip)
        color = (
            self._parent.palette().color(QPalette.ColorRole.PlaceholderText)
            if preview
            else QColor()
        )
        self.tabs.tabBar().setTabTextColor(index, color)

    def _log_path(self, task: Task) -> Path | None:
        if task.latest_run is None:
            return None
        return self.supervisor.output_log(task.latest_run)


class DecisionLookup:
    """The approval recorded for a tool call id, for a task's transcript.

    Rows are read per task and cached; a call not known yet (or still pending) reads them
    again, at most every ``REFRESH_S`` for ids Agentry was never asked about, so a flood of
    tool calls costs a few small queries, not one each. A call the agent was told no
    (``settled``) is always read: who said no must never be missing.
    """

    REFRESH_S = 1.0

    def __init__(self, supervisor: Supervisor, task_id: int) -> None:
        self.supervisor = supervisor
        self.task_id = task_id
        self._known: dict[str, Approval] = {}
        self._read_at = float("-inf")

    def __call__(self, call_id: str, settled: bool = False) -> Approval | None:
        known = self._known.get(call_id)
        stale = known is not None and known.state is ApprovalState.PENDING
        if known is None:
            stale = settled or time.monotonic() - self._read_at >= self.REFRESH_S
        if stale:
            self._read()
            known = self._known.get(call_id)
        return known

    def _read(self) -> None:
        self._read_at = time.monotonic()
        for approval in self.supervisor.approvals.for_task(self.task_id):
            if approval.tool_use_id:
                self._known[approval.tool_use_id] = approval
