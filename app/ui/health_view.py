"""Help → Health…: ``agentry doctor`` as a window — one row per check with a coloured icon
and a word (never colour alone), what was found and what to do; the detail lines under
each row. The checks run through the supervisor, off the UI thread; Refresh runs them again.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from functools import cache
from html import escape
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.health import WORDS, HealthCheck, HealthReport, Status
from app.ui.dialog_job import DialogJob
from app.ui.theme import error_style

Load = Callable[[], Coroutine[Any, Any, HealthReport]]
"""Every check, asked of the supervisor."""

# Green, amber, red: each 4.5:1 or better as text on its palette (as app.ui.icons' states).
COLORS: dict[Status, tuple[str, str]] = {  # (light, dark)
    "ok": ("#1a7f37", "#3fb950"),
    "warn": ("#9a6700", "#d29922"),
    "fail": ("#d1242f", "#f85149"),
}


def status_color(status: Status, dark: bool) -> QColor:
    return QColor(COLORS[status][1 if dark else 0])


@cache
def status_icon(status: Status, dark: bool) -> QIcon:
    """A filled disc with a tick, an exclamation mark or a cross: the shape says it too."""
    icon = QIcon()
    for size in (16, 32, 64):
        icon.addPixmap(_status_pixmap(status, dark, size))
    return icon


def _status_pixmap(status: Status, dark: bool, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(status_color(status, dark))
    painter.drawEllipse(QRectF(0.5, 0.5, size - 1, size - 1))
    pen = QPen(QColor("#ffffff" if not dark else "#0d1117"), max(1.5, size / 8))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    s = size / 16
    if status == "ok":
        painter.drawPolyline([QPointF(4.5 * s, 8.5 * s), QPointF(7 * s, 11 * s),
                              QPointF(11.5 * s, 5 * s)])  # fmt: skip
    elif status == "warn":
        painter.drawLine(QPointF(8 * s, 4 * s), QPointF(8 * s, 9 * s))
        painter.drawPoint(QPointF(8 * s, 12 * s))
    else:
        painter.drawLine(QPointF(5 * s, 5 * s), QPointF(11 * s, 11 * s))
        painter.drawLine(QPointF(11 * s, 5 * s), QPointF(5 * s, 11 * s))
    painter.end()
    return pixmap


def overall_text(report: HealthReport) -> str:
    fails = len(report.problems)
    warns = sum(check.status == "warn" for check in report.checks)
    if not fails and not warns:
        said = "Everything looks healthy"
    else:
        parts = [f"{fails} problem{'s' * (fails != 1)}" if fails else "",
                 f"{warns} warning{'s' * (warns != 1)}" if warns else ""]  # fmt: skip
        said = " and ".join(p for p in parts if p)
    at = datetime.fromtimestamp(report.generated_at).strftime("%H:%M:%S")
    return f"<b>{said}</b> — checked at {at}"


class HealthRow:
    """One check's widgets in the grid: icon, title, status word, and what was found with
    what to do (wrapped, never cut); the detail lines show under a check that is not ok and
    in every row's tooltip."""

    def __init__(self, check: HealthCheck, dark: bool, parent: QWidget) -> None:
        self.check = check
        self.icon = QLabel(parent)
        self.icon.setPixmap(status_icon(check.status, dark).pixmap(QSize(18, 18)))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.title = QLabel(f"<b>{escape(check.title)}</b>", parent)
        self.status = QLabel(WORDS[check.status], parent)
        self.status.setStyleSheet(f"color: {status_color(check.status, dark).name()}")
        self.text = QLabel(row_html(check, dark), parent, wordWrap=True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setToolTip("\n".join((check.summary, *check.detail)))
        self.widgets = (self.icon, self.title, self.status, self.text)
        for widget in self.widgets[1:3]:
            widget.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)


def row_html(check: HealthCheck, dark: bool) -> str:
    dim = "#9198a1" if dark else "#656d76"
    html = escape(check.summary)
    if check.action:
        html += f"<br>→ <i>{escape(check.action)}</i>"
    if check.status != "ok" and check.detail:
        lines = "<br>".join(escape(line) for line in check.detail)
        html += f"<br><span style='color:{dim}'>{lines}</span>"
    return html


class HealthRows(QScrollArea):
    """The checks, one grid row each, in a scroll area: long texts wrap at any width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.rows: dict[str, HealthRow] = {}
        self._page: QWidget | None = None

    def show_checks(self, checks: tuple[HealthCheck, ...], dark: bool) -> None:
        page = QWidget(self)
        grid = QGridLayout(page)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(3, 1)
        self.rows = {}
        for n, check in enumerate(checks):
            row = HealthRow(check, dark, page)
            self.rows[check.key] = row
            if n:
                line = QFrame(page, frameShape=QFrame.Shape.HLine)
                line.setStyleSheet("color: palette(mid)")
                grid.addWidget(line, 2 * n - 1, 0, 1, 4)
            for column, widget in enumerate(row.widgets):
                grid.addWidget(widget, 2 * n, column)
        grid.setRowStretch(2 * len(checks), 1)
        self.setWidget(page)  # the previous page is deleted with it
        self._page = page


class HealthDialog(QDialog):
    exportRequested = Signal()

    def __init__(self, load: Load, *, dark: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Health")
        self.load = load
        self.dark = dark
        self.report: HealthReport | None = None
        self._job = DialogJob("health check", self._failed)
        self.overall = QLabel("Checking…", self, textFormat=Qt.TextFormat.RichText)
        self.error = QLabel(self, wordWrap=True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        self.table = HealthRows(self)
        self.refresh_button = QPushButton("&Refresh", self)
        self.export_button = QPushButton("Export &diagnostics…", self)
        self._lay_out()
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.exportRequested)
        self.finished.connect(lambda _: self._job.close())
        self.refresh()

    def _lay_out(self) -> None:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.refresh_button)
        bottom.addWidget(self.export_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.overall)
        layout.addWidget(self.error)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.resize(980, 560)

    @property
    def loading(self) -> bool:
        return self._job.running

    def refresh(self) -> None:
        """Run the checks again; the rows shown stay until the answer comes."""
        if self._job.running:
            return
        self.refresh_button.setEnabled(False)
        self.overall.setText("Checking…")
        self._job.start(self.load(), self.show_report)

    def show_report(self, report: HealthReport) -> None:
        self.report = report
        self.refresh_button.setEnabled(True)
        self.error.hide()
        self.overall.setText(overall_text(report))
        self.table.show_checks(report.checks, self.dark)

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.overall.setText("")
        self.error.setText(f"Could not run the health checks: {exc}")
        self.error.show()
