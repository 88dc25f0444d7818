"""The main window's tool dialogs that only need the supervisor: Settings (with its
approval rules), Usage, Health, Export diagnostics, Restore a backup, About."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app import __version__
from app.core.approvals import NewRule
from app.core.locations import Locations
from app.core.settings import Settings
from app.core.usage import UsageReport
from app.supervisor.restore import list_backups
from app.supervisor.supervisor import Supervisor
from app.supervisor.usage import period, read_usage, who_reports
from app.ui.dialogs.export_diagnostics import ExportDiagnosticsDialog
from app.ui.dialogs.restore import RestoreDialog
from app.ui.dialogs.settings import SettingsDialog
from app.ui.health_view import HealthDialog
from app.ui.theme import is_dark
from app.ui.usage_view import UsageDialog


def settings_dialog(parent: QWidget, supervisor: Supervisor,
                    apply: Callable[[Settings], None]) -> SettingsDialog:  # fmt: skip
    """Settings, with the approval rules changed as soon as they are added or removed."""
    dialog = SettingsDialog(
        supervisor.settings, supervisor.agent_detections(), parent,
        supervisor.approvals.rules(), notifier=supervisor.notifications,
    )  # fmt: skip

    def rules_changed(*, add: NewRule | None = None, remove: int | None = None) -> None:
        if add is not None:
            supervisor.approvals.add_rule(add)
        if remove is not None:
            supervisor.approvals.remove_rule(remove)
        dialog.rules.show_rules(supervisor.approvals.rules())

    dialog.applied.connect(apply)
    dialog.ruleAdded.connect(lambda rule: rules_changed(add=rule))
    dialog.ruleRemoved.connect(lambda rule_id: rules_changed(remove=rule_id))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def usage_dialog(parent: QWidget, supervisor: Supervisor) -> UsageDialog:
    """Cost and tokens of the last days, read off the event loop on each period chosen."""
    database = supervisor.locations.database

    async def load(days: int) -> UsageReport:
        return await read_usage(database, *period(days))

    dialog = UsageDialog(load, who_reports(), parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def health_dialog(parent: QWidget, supervisor: Supervisor) -> HealthDialog:
    """Every health check, run by the supervisor off the UI thread; Refresh runs them again;
    Export diagnostics… opens the export from there too."""
    app = QApplication.instance()
    dark = isinstance(app, QApplication) and is_dark(app)
    dialog = HealthDialog(supervisor.health, dark=dark, parent=parent)
    dialog.exportRequested.connect(lambda: export_dialog(dialog, supervisor))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def export_dialog(parent: QWidget, supervisor: Supervisor) -> ExportDiagnosticsDialog:
    """Where to write the diagnostics zip, and whether private texts go in."""

    async def export(path: Path, include_private: bool) -> Path:
        return await supervisor.export_diagnostics(path, include_private=include_private)

    dialog = ExportDiagnosticsDialog(export, Path.home(), parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def restore_dialog(parent: QWidget, locations: Locations) -> RestoreDialog:
    """Choose a backup; restoring needs the data folder to itself, so the app quits
    first (agents keep running), restores and opens again: what the person asked for
    happens now, not at some later start."""
    backups = list_backups(locations)  # a folder of a few files: quick
    note = (
        "Agentry quits to do it (running agents keep running), then opens again and "
        "takes them over."
        if backups
        else f"There are no backups in {locations.backups} yet."
    )
    dialog = RestoreDialog(backups, locations.database, note, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def about(parent: QWidget, locations: Locations) -> None:
    QMessageBox.about(
        parent,
        "About Agentry",
        f"<h3>Agentry {__version__}</h3><p>Run and supervise local AI coding "
        "agents — and never lose them.</p>"
        f"<p>Data folder: {locations.data}</p>",
    )
