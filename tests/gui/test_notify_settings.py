"""Settings → Notifications and Tools → Deliveries… (issue #16) in the real app, against a
receiver on 127.0.0.1: a target is added, tested and removed from the tab; a delivery that
failed shows its attempt and is sent again with "Retry now"."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from helpers.agentry import Home
from helpers.gui import AppDriver
from helpers.webhook_server import Reply, WebhookServer
from PySide6.QtWidgets import QMessageBox

from app.core.notifications import TargetKind
from app.ui.deliveries_view import DeliveriesDialog
from app.ui.dialogs.settings_notify import AddTargetDialog, NotifySettings
from app.ui.main_window import MainWindow


@pytest.fixture
def server() -> Iterator[WebhookServer]:
    srv = WebhookServer().start()
    yield srv
    srv.stop()


def _window(driver: AppDriver) -> MainWindow:
    window = driver.start().window
    assert window is not None
    return window


def _tab(driver: AppDriver, window: MainWindow) -> NotifySettings:
    dialog = window.show_settings()
    assert dialog.notify is not None
    dialog.pages.setCurrentWidget(dialog.notify)
    driver.wait(lambda: not dialog.notify.busy)  # type: ignore[union-attr]
    return dialog.notify


def test_a_target_is_added_tested_and_removed_from_settings(
    driver: AppDriver, home: Home, server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = _tab(driver, _window(driver))
    assert tab.table.rowCount() == 0 and "No targets yet" in tab.status.text()
    assert not tab.test_button.isEnabled()
    add = tab.open_add()
    add.kind.setCurrentIndex(add.kind.findData(TargetKind.WEBHOOK))
    add.url.setText("not a url")
    add.try_accept()
    assert add.isVisible() and "not an http:// or https:// address" in add.error.text()
    add.url.setText(server.url)
    add.secret.setText("gui-secret")
    assert add.secret.echoMode() is add.secret.EchoMode.Password
    add.events["limit"].setChecked(False)
    add.try_accept()
    driver.wait(lambda: tab.table.rowCount() == 1 and not tab.busy)
    cells = [tab.table.item(0, c).text() for c in range(4)]  # type: ignore[union-attr]
    assert cells[1] == server.url and cells[3] == "set" and "limit" not in cells[2]
    [listed] = json.loads(home.cli("notify", "list", "--json", check=True).stdout)
    assert listed["secret"] == "set" and "limit" not in listed["events"]

    tab.table.selectRow(0)
    tab.test_button.click()
    driver.wait(lambda: "Test delivered" in tab.status.text())
    assert server.requests()[0].headers["X-Agentry-Signature"].startswith("sha256=")

    assert tab.pause_button.text() == "Pause" and tab.table.item(0, 4).text() == "yes"  # type: ignore[union-attr]
    tab.pause_button.click()
    driver.wait(lambda: "Paused" in tab.status.text() and not tab.busy)
    assert tab.table.item(0, 4).text() == "paused"  # type: ignore[union-attr]
    tab.table.selectRow(0)
    assert tab.pause_button.text() == "Resume"
    [listed] = json.loads(home.cli("notify", "list", "--json", check=True).stdout)
    assert listed["paused"] is True
    tab.pause_button.click()
    driver.wait(lambda: "Resumed" in tab.status.text() and not tab.busy)
    assert json.loads(home.cli("notify", "list", "--json", check=True).stdout)[0]["paused"] is False

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    tab.table.selectRow(0)
    tab.remove_button.click()
    driver.wait(lambda: tab.table.rowCount() == 0 and not tab.busy)
    assert json.loads(home.cli("notify", "list", "--json", check=True).stdout) == []


def test_adding_needs_an_event(qtbot: object) -> None:
    dialog = AddTargetDialog()
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.url.setText("https://ntfy.sh/t")
    for box in dialog.events.values():
        box.setChecked(False)
    dialog.try_accept()
    assert "Tick at least one event" in dialog.error.text()
    dialog.kind.setCurrentIndex(dialog.kind.findData(TargetKind.NTFY))
    assert not dialog.secret.isEnabled()  # only a generic webhook is signed


def test_deliveries_show_each_attempt_and_retry_now_sends_again(
    driver: AppDriver, home: Home, server: WebhookServer
) -> None:
    server.script = [Reply(404)]
    home.cli("notify", "add", "--webhook", server.url, check=True)
    assert home.cli("notify", "test", "1").returncode == 1  # refused: failed at once
    window = _window(driver)
    window.action_set.deliveries_action.trigger()
    dialog = window.findChild(DeliveriesDialog)
    assert dialog is not None and dialog.isVisible()
    driver.wait(lambda: dialog.table.rowCount() == 1 and not dialog.loading)
    state = dialog.table.item(0, 4)
    assert state is not None and state.text() == "Failed (gave up)"
    dialog.table.selectRow(0)
    assert dialog.retry_button.isEnabled()
    assert dialog.attempts.topLevelItemCount() == 1
    first = dialog.attempts.topLevelItem(0)
    assert first is not None and first.text(1) == "404"
    dialog.retry_button.click()
    driver.wait(lambda: (item := dialog.table.item(0, 4)) is not None
                and item.text() == "Delivered", timeout_ms=20_000)  # fmt: skip
    dialog.table.selectRow(0)
    assert dialog.attempts.topLevelItemCount() == 2
    assert not dialog.retry_button.isEnabled()
    assert [r.answered for r in server.requests()] == [404, 200]
