"""Approving tool calls: the approval dialog and the Approvals inbox (DESIGN §7).

The dialog shows everything a person needs to decide (for Bash the command, for Edit and
Write a diff), and will not take Enter until it has been on screen for a moment, so a
key press meant for another window never approves anything.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QMetaMethod, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFontDatabase,
    QKeyEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.approvals import Approval, ApprovalState, RuleScope
from app.core.workflow_models import Checkpoint
from app.ui.approval_text import (
    DiffHighlighter,
    agent_label,
    caveat,
    dark_palette,
    describe_input,
    looks_like_diff,
)
from app.ui.icons import app_icon
from app.ui.labels import APPROVAL_LABELS
from app.ui.theme import warning_style

ARM_DELAY_MS = 800  # Enter and the Allow button wake up only after this long on screen
DIALOG_WIDTH = 720
DETAILS_MIN_LINES = 3  # the details box is as tall as its text, within these bounds
DETAILS_MAX_LINES = 24


class _Details(QPlainTextEdit):
    """The read-only text of the call, preferring the height its text needs."""

    def __init__(self, text: str, parent: QWidget) -> None:
        super().__init__(text, parent, readOnly=True)
        self.fit_height = 0

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), self.fit_height) if self.fit_height else hint

    def minimumSizeHint(self) -> QSize:  # the scroll bar's would make a short text taller
        hint = super().minimumSizeHint()
        return QSize(hint.width(), self.minimumHeight()) if self.fit_height else hint


class ApprovalDialog(QDialog):
    # approval id, allow, reason (str | None), remember (RuleScope | None)
    decided = Signal(str, bool, object, object)
    stepRequested = Signal(int)  # -1 / +1: show the previous / next waiting call instead

    def __init__(self, approval: Approval, task_title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.approval = approval
        self.setWindowTitle(f"Allow {approval.tool}? — Agentry")
        self.setWindowIcon(app_icon())
        tool = html.escape(approval.tool)
        head = QLabel(
            f"<b>{html.escape(agent_label(approval.agent))}</b> working on task "
            f"#{approval.task_id} “{html.escape(task_title)}” wants to use <b>{tool}</b>",
            self,
            wordWrap=True,
            textFormat=Qt.TextFormat.RichText,
        )
        where = QLabel(f"in {approval.cwd or '?'}", self, textFormat=Qt.TextFormat.PlainText)
        where.setStyleSheet("color: gray")
        self.position = QLabel(self)  # "1 of 3" when more calls wait than this one
        self.previous_button = QPushButton("Previous", self, autoDefault=False)
        self.next_button = QPushButton("Next", self, autoDefault=False)
        self.previous_button.setShortcut("Alt+Left")
        self.next_button.setShortcut("Alt+Right")
        self.previous_button.setToolTip("The call that came before (Alt+Left)")
        self.next_button.setToolTip("The call that came after (Alt+Right)")
        self.previous_button.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(1))
        text = describe_input(approval)
        self.details = _Details(text, self)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = (
            DiffHighlighter(self.details.document(), dark_palette())
            if looks_like_diff(text)
            else None
        )
        self.once = QRadioButton("Just this once", self)
        self.for_task = QRadioButton(f"Always allow {approval.tool} for this task", self)
        self.for_project = QRadioButton(f"Always allow {approval.tool} in this project", self)
        self.once.setChecked(True)
        scope = QButtonGroup(self)
        for button in (self.once, self.for_task, self.for_project):
            scope.addButton(button)
        self.reason = QLineEdit(self, placeholderText="Optional — the agent reads it")
        self.reason.installEventFilter(self)
        self.expiry = QLabel(self)
        self.allow_button = QPushButton("Allow", self)
        self.deny_button = QPushButton("Deny", self)
        self.allow_button.setEnabled(False)
        self.allow_button.setAutoDefault(False)
        self.deny_button.setAutoDefault(False)

        scope_column = QVBoxLayout()
        scope_column.setSpacing(2)
        for button in (self.once, self.for_task, self.for_project):
            scope_column.addWidget(button)
        choices = QFormLayout()
        choices.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        choices.addRow("If you allow:", scope_column)
        choices.addRow("Reason if you deny:", self.reason)
        buttons = QHBoxLayout()
        buttons.addWidget(self.expiry, 1)
        buttons.addWidget(self.deny_button)
        buttons.addWidget(self.allow_button)
        queue = QHBoxLayout()
        queue.addWidget(where, 1)
        for widget in (self.position, self.previous_button, self.next_button):
            queue.addWidget(widget)
        self.set_position(0, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(queue)
        layout.addWidget(self.details, 1)
        self.caveat = QLabel(caveat(approval), self, wordWrap=True)
        self.caveat.setStyleSheet(warning_style())
        self.caveat.setVisible(bool(self.caveat.text()))
        layout.addWidget(self.caveat)
        layout.addLayout(choices)
        layout.addLayout(buttons)
        self._fit_details(text, layout)
        if layout.hasHeightForWidth():  # the wrapped heading: as tall as at this width
            self.resize(DIALOG_WIDTH, layout.totalHeightForWidth(DIALOG_WIDTH))
        else:
            self.resize(DIALOG_WIDTH, self.sizeHint().height())

        self._arm = QTimer(self, singleShot=True, interval=ARM_DELAY_MS)
        self._arm.timeout.connect(self._armed)
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self._tick)
        self.allow_button.clicked.connect(self.allow)
        self.deny_button.clicked.connect(self.deny)
        self._tick()

    def set_position(self, index: int, total: int) -> None:
        """Where this call stands among those waiting: "2 of 3", with the way to the
        others; a lone call shows none of it."""
        several = total > 1
        self.position.setText(f"<b>{index + 1} of {total}</b> waiting" if several else "")
        for widget in (self.position, self.previous_button, self.next_button):
            widget.setVisible(several)
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < total - 1)
        title = f"Allow {self.approval.tool}? — Agentry"
        self.setWindowTitle(f"({index + 1} of {total}) {title}" if several else title)

    def _fit_details(self, text: str, layout: QVBoxLayout) -> None:
        """As tall as the text (wrapped at the dialog's width), within the line bounds."""
        metrics = self.details.fontMetrics()
        margins = layout.contentsMargins()
        chrome = 2 * self.details.frameWidth() + 2 * int(self.details.document().documentMargin())
        usable = DIALOG_WIDTH - margins.left() - margins.right() - chrome - 20  # a scroll bar
        lines = sum(
            max(1, math.ceil(metrics.horizontalAdvance(line) / max(usable, 1)))
            for line in text.split("\n")
        )
        shown = min(max(lines, DETAILS_MIN_LINES), DETAILS_MAX_LINES)
        height = shown * metrics.lineSpacing() + chrome + 4
        self.details.setMinimumHeight(DETAILS_MIN_LINES * metrics.lineSpacing() + chrome + 4)
        self.details.fit_height = height
        self.details.updateGeometry()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._arm.start()
        self._clock.start()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        palette_events = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        highlighter = getattr(self, "highlighter", None)  # None while being built
        if highlighter is not None and event.type() in palette_events:
            dark = dark_palette()
            if dark != highlighter.dark:  # the theme changed while it was open
                highlighter.set_dark(dark)
                highlighter.rehighlight()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in the reason field never allows: with a reason written it denies."""
        if (
            watched is self.reason
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            if self.reason.text().strip() and self.deny_button.isEnabled():
                self.deny()
            return True
        return super().eventFilter(watched, event)

    def _armed(self) -> None:
        self.allow_button.setEnabled(True)
        self.allow_button.setDefault(True)

    @property
    def armed(self) -> bool:
        return self.allow_button.isEnabled()

    def _tick(self) -> None:
        left = int(self.approval.expires_at - time.time())
        if left <= 0:
            self.expiry.setText("Expired: the agent was told no")
            self.allow_button.setEnabled(False)
            self.deny_button.setEnabled(False)
            return
        self.expiry.setText(f"Denied automatically in {left // 60}:{left % 60:02d}")

    def remember(self) -> RuleScope | None:
        if self.for_task.isChecked():
            return RuleScope.TASK
        if self.for_project.isChecked():
            return RuleScope.PROJECT
        return None

    def allow(self) -> None:
        if not self.armed:
            return
        self.decided.emit(self.approval.id, True, None, self.remember())
        self.accept()

    def deny(self) -> None:
        reason = self.reason.text().strip() or None
        self.decided.emit(self.approval.id, False, reason, None)
        self.accept()

    def resolved_elsewhere(self, approval: Approval) -> None:
        """Someone decided from the CLI or another dialog: show it and close."""
        self.expiry.setText(f"Already {approval.state.value}")
        self.allow_button.setEnabled(False)
        self.deny_button.setEnabled(False)
        QTimer.singleShot(1500, self.reject)


TITLE_CHARS = 32  # a longer task title is cut short in the inbox (the tooltip has it all)


class ApprovalsInbox(QDialog):
    """Pending requests first, then past decisions; double-click a pending one to answer,
    or select it and allow or deny it from the buttons.

    ``task_title`` (task id -> title or None) lets the Task column say more than "#5".
    The Allow and Deny buttons show once something listens to ``decided``, which carries
    the same decision as ``ApprovalDialog.decided``."""

    openRequested = Signal(str)  # approval id
    checkpointRequested = Signal(int)  # checkpoint id
    decided = Signal(str, bool, object, object)  # as ApprovalDialog.decided

    COLUMNS = ("When", "Task", "Tool", "What", "State", "Decided by")
    WHAT = 3

    def __init__(
        self,
        parent: QWidget | None = None,
        task_title: Callable[[int], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.task_title = task_title
        self.setWindowTitle("Approvals — Agentry")
        self.resize(1000, 440)
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for column in range(len(self.COLUMNS)):
            mode = QHeaderView.ResizeMode.ResizeToContents
            if column == self.WHAT:
                mode = QHeaderView.ResizeMode.Stretch
            header.setSectionResizeMode(column, mode)
        self.summary = QLabel(self)
        self.hint = QLabel(
            "Double-click a waiting request to see it in full and answer it, "
            "or select it and use the buttons below.",
            self,
        )
        self.hint.setStyleSheet("color: gray")
        self.answer_button = QPushButton("Answer…", self)
        self.answer_button.setToolTip("See the request in full, then allow or deny it")
        self.deny_button = QPushButton("Deny", self)
        self.deny_button.setToolTip("Deny the selected request (the agent is told no)")
        self.allow_button = QPushButton("Allow once", self)
        self.allow_button.setToolTip(
            "Allow the selected request just this once (Answer… offers always allowing)"
        )
        for button in (self.answer_button, self.deny_button, self.allow_button):
            button.setAutoDefault(False)  # Enter never decides anything here
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.answer_button)
        buttons.addWidget(self.deny_button)
        buttons.addWidget(self.allow_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.table.cellDoubleClicked.connect(self._open)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.answer_button.clicked.connect(self.answer_selected)
        self.allow_button.clicked.connect(lambda _=False: self._decide_selected(True))
        self.deny_button.clicked.connect(lambda _=False: self._decide_selected(False))
        self._ids: list[str] = []
        self._waiting: set[str] = set()  # pending approval ids and "checkpoint:ID" keys
        self._update_buttons()

    def show_approvals(
        self,
        pending: list[Approval],
        recent: list[Approval],
        checkpoints: list[Checkpoint] | None = None,
    ) -> None:
        """Waiting checkpoints first, then waiting tool calls, then past decisions."""
        checkpoints = checkpoints or []
        selected = self.selected_key()
        rows = pending + [a for a in recent if a.state is not ApprovalState.PENDING]
        self._ids = [f"checkpoint:{c.id}" for c in checkpoints] + [a.id for a in rows]
        self._waiting = {f"checkpoint:{c.id}" for c in checkpoints} | {
            a.id for a in rows if a.state is ApprovalState.PENDING
        }
        self.table.setRowCount(len(checkpoints) + len(rows))
        for row, checkpoint in enumerate(checkpoints):
            values = (
                _when(checkpoint.created_at),
                f"workflow #{checkpoint.workflow_id}",
                "Checkpoint",
                f"{checkpoint.workflow_name} · {checkpoint.step_name}",
                APPROVAL_LABELS[ApprovalState.PENDING],
                "",
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                _embolden(item)
                item.setToolTip("A workflow step's result waits for your review")
                self.table.setItem(row, column, item)
        titles: dict[int, str | None] = {}
        for offset, approval in enumerate(rows):
            row = len(checkpoints) + offset
            if approval.task_id not in titles:
                titles[approval.task_id] = self._title(approval.task_id)
            title = titles[approval.task_id]
            task = f"#{approval.task_id}" + (f" {_shorten(title)}" if title else "")
            values = (_when(approval.created_at), task, approval.tool, approval.main_argument,
                      APPROVAL_LABELS[approval.state], approval.decided_by or "")  # fmt: skip
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if approval.state is ApprovalState.PENDING:
                    _embolden(item)
                tip = approval.reason or ""
                if column == 1 and title:
                    tip = f"#{approval.task_id} {title}"
                elif column == self.WHAT and not tip:
                    tip = approval.main_argument
                item.setToolTip(tip)
                self.table.setItem(row, column, item)
        waiting = len(pending) + len(checkpoints)
        self.summary.setText(f"{waiting} waiting for you" if waiting else "Nothing waiting")
        self.hint.setVisible(bool(waiting))
        if selected in self._ids:
            self.table.selectRow(self._ids.index(selected))
        else:
            self.table.clearSelection()
        self._update_buttons()

    def _title(self, task_id: int) -> str | None:
        if self.task_title is None:
            return None
        try:
            return self.task_title(task_id) or None
        except LookupError:
            return None

    def selected_key(self) -> str | None:
        """The selected row's approval id (or "checkpoint:ID"), or None."""
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if len(rows) != 1:
            return None
        (row,) = rows
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def _update_buttons(self) -> None:
        key = self.selected_key() or ""
        waiting = key in self._waiting
        checkpoint = waiting and key.startswith("checkpoint:")
        self.answer_button.setEnabled(waiting)
        self.answer_button.setText("Review…" if checkpoint else "Answer…")
        tool_call = waiting and not checkpoint
        listened = self.isSignalConnected(QMetaMethod.fromSignal(self.decided))
        for button in (self.allow_button, self.deny_button):
            button.setVisible(listened)
            button.setEnabled(tool_call)

    def answer_selected(self) -> None:
        """Open the selected waiting request's own dialog (or the checkpoint's)."""
        key = self.selected_key()
        if key is not None and key in self._waiting:
            self._open(self._ids.index(key), 0)

    def _decide_selected(self, allow: bool) -> None:
        key = self.selected_key()
        if key is None or key not in self._waiting or key.startswith("checkpoint:"):
            return
        self._waiting.discard(key)  # once: the list refreshes when the decision lands
        self._update_buttons()
        self.decided.emit(key, allow, None, None)

    def _open(self, row: int, _column: int) -> None:
        if not 0 <= row < len(self._ids):
            return
        key = self._ids[row]
        if key.startswith("checkpoint:"):
            self.checkpointRequested.emit(int(key.split(":", 1)[1]))
        else:
            self.openRequested.emit(key)


def _when(created_at: float) -> str:
    return time.strftime("%b %d %H:%M:%S", time.localtime(created_at))


def _shorten(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"


def _embolden(item: QTableWidgetItem) -> None:
    font = item.font()
    font.setBold(True)
    item.setFont(font)
