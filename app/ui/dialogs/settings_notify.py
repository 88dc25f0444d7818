"""Settings → Notifications: where Agentry sends word when a task ends or needs you — a
webhook, ntfy, Slack or Discord — with Add, Remove and Send test (issue #16).

Targets are rows in the database, not settings: each change is made at once through the
supervisor (off the UI thread), like the approval rules on their tab, and the list is read
again after it. A secret is typed into a password field and only ever shown as "set".
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.notifications import (
    EVENT_LABELS,
    EVENTS,
    Delivery,
    DeliveryState,
    NotifyError,
    Target,
    TargetKind,
    check_url,
)
from app.ui.dialog_job import DialogJob
from app.ui.theme import error_style
from app.ui.widgets import record_table, selected_record

KIND_LABELS = {
    TargetKind.WEBHOOK: "Webhook (signed JSON)",
    TargetKind.NTFY: "ntfy topic",
    TargetKind.SLACK: "Slack incoming webhook",
    TargetKind.DISCORD: "Discord webhook",
}
URL_HINTS = {
    TargetKind.WEBHOOK: "https://example.com/agentry-hook",
    TargetKind.NTFY: "https://ntfy.sh/your-private-topic",
    TargetKind.SLACK: "https://hooks.slack.com/services/…",
    TargetKind.DISCORD: "https://discord.com/api/webhooks/…",
}
COLUMNS = ("Kind", "URL", "Events", "Secret", "Sends")


class Notifier(Protocol):
    """What the tab asks of the supervisor (all off the UI thread)."""

    async def notify_targets(self) -> list[Target]: ...

    async def add_notify_target(
        self, kind: TargetKind, url: str, events: tuple[str, ...], secret: str | None
    ) -> Target: ...

    async def remove_notify_target(self, target_id: int) -> Target: ...

    async def set_notify_target_paused(self, target_id: int, paused: bool) -> Target: ...

    async def test_notify_target(self, target_id: int) -> Delivery: ...


def events_text(events: tuple[str, ...]) -> str:
    return "all" if tuple(events) == EVENTS else ", ".join(events)


class AddTargetDialog(QDialog):
    """Kind, URL, an optional secret and the events to send; checked before it closes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add notification target")
        self.kind = QComboBox(self)
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind)
        self.url = QLineEdit(self)
        self.secret = QLineEdit(self, echoMode=QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("optional: signs each body (X-Agentry-Signature)")
        self.events: dict[str, QCheckBox] = {}
        ticks = QGridLayout()
        for n, event in enumerate(EVENTS):
            box = QCheckBox(EVENT_LABELS[event], self)
            box.setChecked(True)
            box.setToolTip(f"--events {event}")
            self.events[event] = box
            ticks.addWidget(box, n // 2, n % 2)
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add")
        form = QFormLayout()
        form.addRow("Kind", self.kind)
        form.addRow("URL", self.url)
        form.addRow("Secret", self.secret)
        form.addRow("Events", ticks)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        self._kind_changed()
        self.resize(560, self.sizeHint().height())

    def _kind_changed(self) -> None:
        kind = self.chosen_kind()
        self.url.setPlaceholderText(URL_HINTS[kind])
        signs = kind is TargetKind.WEBHOOK
        self.secret.setEnabled(signs)
        self.secret.setToolTip("" if signs else "Only a generic webhook is signed")

    def chosen_kind(self) -> TargetKind:
        return TargetKind(self.kind.currentData())

    def chosen_events(self) -> tuple[str, ...]:
        return tuple(e for e, box in self.events.items() if box.isChecked())

    def values(self) -> tuple[TargetKind, str, tuple[str, ...], str | None]:
        """(kind, url, events, secret), or NotifyError saying what to fix."""
        kind = self.chosen_kind()
        url = check_url(self.url.text(), "The URL")
        events = self.chosen_events()
        if not events:
            raise NotifyError("Tick at least one event to be notified of.")
        secret = self.secret.text() if kind is TargetKind.WEBHOOK else ""
        return kind, url, events, secret or None

    def try_accept(self) -> None:
        try:
            self.values()
        except NotifyError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


class NotifySettings(QWidget):
    """The Notifications tab: the targets, and what can be done with them."""

    def __init__(self, notifier: Notifier, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notifier = notifier
        self.targets: list[Target] = []
        self._job = DialogJob("notification targets", self._failed)
        self.table = record_table(COLUMNS, self)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.add_button = QPushButton("Add…", self)
        self.remove_button = QPushButton("Remove…", self)
        self.test_button = QPushButton("Send test", self)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setToolTip(
            "Stop sending to this target for now: what happens meanwhile is not sent later"
        )
        self.status = QLabel(self, wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note = QLabel(
            "Agentry tells these when a task succeeds or fails, needs you, pauses for a "
            "limit, waits at a checkpoint, or recovery finds something. Deliveries are "
            "retried; Tools → Deliveries… shows each attempt.",
            self, wordWrap=True,
        )  # fmt: skip
        note.setStyleSheet("color: gray")
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.test_button, self.pause_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(note)
        self.add_button.clicked.connect(self.open_add)
        self.remove_button.clicked.connect(self.confirm_remove)
        self.test_button.clicked.connect(self.send_test)
        self.pause_button.clicked.connect(self.toggle_paused)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.destroyed.connect(lambda: self._job.close())
        self._update_buttons()
        self.reload()

    @property
    def busy(self) -> bool:
        return self._job.running

    def reload(self) -> None:
        self._job.start(self.notifier.notify_targets(), self.show_targets)

    def show_targets(self, targets: list[Target]) -> None:
        selected = self.selected()
        self.targets = targets
        self.table.setRowCount(len(targets))
        for row, target in enumerate(targets):
            secret, sends = (
                "set" if target.secret_set else "—",
                "paused" if target.paused else "yes",
            )
            cells = (
                KIND_LABELS[target.kind],
                target.url,
                events_text(target.events),
                secret,
                sends,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
            if selected is not None and target.id == selected.id:
                self.table.selectRow(row)
        if not targets and not self.status.text():
            self.status.setText("No targets yet: “Add…” sends word to your phone or chat.")
        self._update_buttons()

    def selected(self) -> Target | None:
        return selected_record(self.table, self.targets)

    def _update_buttons(self) -> None:
        target = self.selected()
        chosen = target is not None
        self.remove_button.setEnabled(chosen)
        self.test_button.setEnabled(chosen)
        self.pause_button.setEnabled(chosen)
        self.pause_button.setText("Resume" if target is not None and target.paused else "Pause")

    def open_add(self) -> AddTargetDialog:
        dialog = AddTargetDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.add(*dialog.values()))
        dialog.open()
        return dialog

    def add(self, kind: TargetKind, url: str, events: tuple[str, ...], secret: str | None) -> None:
        self._say("Adding…")
        self._job.start(
            self.notifier.add_notify_target(kind, url, events, secret),
            lambda target: self._done(f"Added {KIND_LABELS[target.kind]} {target.url}."),
        )

    def confirm_remove(self) -> None:
        target = self.selected()
        if target is None:
            return
        answer = QMessageBox.question(
            self, "Remove notification target",
            f"Stop notifying {target.url}? Its delivery log goes with it.",
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Yes:
            self.remove(target.id)

    def remove(self, target_id: int) -> None:
        self._job.start(self.notifier.remove_notify_target(target_id),
                        lambda target: self._done(f"Removed {target.url}."))  # fmt: skip

    def toggle_paused(self) -> None:
        target = self.selected()
        if target is None:
            return
        pause = not target.paused
        self._job.start(
            self.notifier.set_notify_target_paused(target.id, pause),
            lambda t: self._done(f"Paused {t.url}: nothing is sent to it until you resume it."
                                 if pause else f"Resumed {t.url}."),
        )  # fmt: skip

    def send_test(self) -> None:
        target = self.selected()
        if target is None:
            return
        self._say(f"Sending a test to {target.url}…")
        self._job.start(self.notifier.test_notify_target(target.id), self._tested)

    def _tested(self, delivery: Delivery) -> None:
        if delivery.state is DeliveryState.DELIVERED:
            self._done(f"Test delivered: the server answered {delivery.last_status}.")
            return
        problem = delivery.last_error or f"HTTP {delivery.last_status}"
        then = ("Agentry tries again by itself." if delivery.state is DeliveryState.PENDING
                else "Check the URL, then test again.")  # fmt: skip
        self._say(f"Test not delivered: {problem}. {then}", error=True)

    def _done(self, text: str) -> None:
        self._say(text)
        self._job.start(self.notifier.notify_targets(), self.show_targets)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(error_style() if error else "")
        self.status.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self._say(str(exc), error=True)
