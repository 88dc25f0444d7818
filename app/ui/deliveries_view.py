"""Tools → Deliveries…: every notification Agentry sent or is sending (issue #16) — when,
to which target, for which event and task, how it stands, and each attempt of the one
selected — with "Retry now" for one that failed or is waiting to retry.

Read through the supervisor off the UI thread, again whenever a delivery changes (an
attempt, a target added) or another process wrote to the database (``agentry notify``).
"""

from __future__ import annotations

import time
from typing import Protocol
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.notifications import EVENT_LABELS, Delivery, DeliveryState
from app.ui.bridge import Bridge
from app.ui.dialog_job import DialogJob
from app.ui.theme import error_style
from app.ui.widgets import record_table, selected_record

COLUMNS = ("When", "Target", "Event", "Task", "State", "Attempts", "Last answer")
ATTEMPT_COLUMNS = ("Attempt at", "Answer", "Took", "Error")


class DeliveryLog(Protocol):
    """What the view asks of the supervisor (all off the UI thread)."""

    async def delivery_log(self, limit: int = 200) -> list[Delivery]: ...

    async def retry_delivery(self, delivery_id: int) -> Delivery: ...


def when_text(at: float | None) -> str:
    return "—" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def state_text(delivery: Delivery, now: float | None = None) -> str:
    if delivery.state is DeliveryState.DELIVERED:
        return "Delivered"
    if delivery.state is DeliveryState.FAILED:
        return "Failed (gave up)"
    if delivery.next_at is None or delivery.attempts == 0:
        return "Sending"
    wait = max(0, round(delivery.next_at - (time.time() if now is None else now)))
    return f"Retrying in {wait} s" if wait else "Retrying"


def last_answer(delivery: Delivery) -> str:
    if delivery.last_error:
        return delivery.last_error
    return "—" if delivery.last_status is None else str(delivery.last_status)


def row_texts(delivery: Delivery) -> tuple[str, ...]:
    task = f"{delivery.task_id}" if delivery.task_id is not None else "—"
    task_info = delivery.payload.get("task") or {}
    if task_info.get("title"):
        task += f": {task_info['title']}"
    host = urlsplit(delivery.target_url).hostname or delivery.target_url
    target = f"{delivery.target_id}: {delivery.target_kind.value} at {host}"
    return (when_text(delivery.created_at), target, delivery.event, task, state_text(delivery),
            str(delivery.attempts), last_answer(delivery))  # fmt: skip


def row_tips(delivery: Delivery) -> tuple[str, ...]:
    """The tooltips: the whole URL and what the event name means."""
    texts = list(row_texts(delivery))
    texts[1] = delivery.target_url
    texts[2] = EVENT_LABELS.get(delivery.event, delivery.event)
    return tuple(texts)


class DeliveriesDialog(QDialog):
    def __init__(self, log: DeliveryLog, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Deliveries")
        self.resize(980, 520)
        self.log = log
        self.deliveries: list[Delivery] = []
        self._job = DialogJob("deliveries", self._failed)
        self.table = record_table(COLUMNS, self)
        header = self.table.horizontalHeader()
        for column in (1, 3, 6):  # target, task, last answer: what may be long
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.attempts = QTreeWidget(self)
        self.attempts.setColumnCount(len(ATTEMPT_COLUMNS))
        self.attempts.setHeaderLabels(ATTEMPT_COLUMNS)
        self.attempts.setRootIsDecorated(False)
        self.attempts.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.attempts.header().setStretchLastSection(True)
        self.attempts.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = QLabel(
            "No notifications sent yet. Add a target in Settings → Notifications.",
            self, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter,
        )  # fmt: skip
        self.detail = QLabel(self, wordWrap=True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        self.retry_button = QPushButton("Retry now", self)
        self.retry_button.setToolTip("Send it again now (a failed one gets one more attempt)")
        refresh = QPushButton("Refresh", self)
        close = QPushButton("Close", self)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        lower = QWidget(split)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.detail)
        lower_layout.addWidget(self.attempts, 1)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.split = split
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(refresh)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.retry_button.clicked.connect(self.retry_selected)
        refresh.clicked.connect(self.reload)
        close.clicked.connect(self.accept)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        bridge.deliveriesChanged.connect(self.reload)
        bridge.storeChanged.connect(self.reload)
        self.finished.connect(lambda _: self._job.close())
        self._selection_changed()
        self.reload()

    @property
    def loading(self) -> bool:
        return self._job.running

    def reload(self) -> None:
        self._job.start(self.log.delivery_log(), self.show_deliveries)

    def show_deliveries(self, deliveries: list[Delivery]) -> None:
        selected = self.selected()
        self.deliveries = deliveries
        self.table.setRowCount(len(deliveries))
        for row, delivery in enumerate(deliveries):
            for column, (text, tip) in enumerate(zip(row_texts(delivery), row_tips(delivery),
                                                     strict=True)):  # fmt: skip
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.table.setItem(row, column, item)
            if selected is not None and delivery.id == selected.id:
                self.table.selectRow(row)
        self.split.setVisible(bool(deliveries))
        self.empty.setVisible(not deliveries)
        self._selection_changed()

    def selected(self) -> Delivery | None:
        return selected_record(self.table, self.deliveries)

    def _selection_changed(self) -> None:
        delivery = self.selected()
        self.retry_button.setEnabled(
            delivery is not None and delivery.state is not DeliveryState.DELIVERED
        )
        self.attempts.clear()
        if delivery is None:
            self.detail.setText("Select a delivery to see each attempt.")
            return
        self.detail.setText(
            f"Delivery {delivery.id} to target {delivery.target_id} ({delivery.target_kind.value})"
            f" · key {delivery.idempotency_key}"
            + (f" · next attempt {when_text(delivery.next_at)}"
               if delivery.state is DeliveryState.PENDING and delivery.next_at else "")
        )  # fmt: skip
        for attempt in delivery.history:
            answer = str(attempt.status) if attempt.status is not None else "no answer"
            took = f"{attempt.duration_ms} ms"
            cells = [when_text(attempt.at), answer, took, attempt.error or ""]
            QTreeWidgetItem(self.attempts, cells)

    def retry_selected(self) -> None:
        delivery = self.selected()
        if delivery is None:
            return
        self.error.hide()
        self._job.start(self.log.retry_delivery(delivery.id), lambda _d: self.reload())

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(f"Deliveries: {exc}")
        self.error.show()
