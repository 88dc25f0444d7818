"""The Usage view's bar chart: one bar per local day, drawn with QPainter (PySide6-Essentials
has no QtCharts, and a dozen lines of painting need no dependency).

Bars show the cost; a period in which no run reported a cost (Codex and Gemini print tokens
only) shows tokens instead, so the chart is never a flat line over real work. Each bar's
tooltip gives the day's cost, tokens and runs.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QHelpEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.core.costs import format_cost
from app.core.usage import Usage, format_tokens
from app.ui.theme import mix

AXIS_WIDTH = 64  # room for the largest figure left of the bars
LABEL_ROWS = 1  # a row of dates under them
MAX_BAR = 40.0  # a week on a wide screen: bars, not blocks


def day_tip(day: date, usage: Usage) -> str:
    """What a bar's tooltip says."""
    if not usage.runs:
        return f"{day:%a %Y-%m-%d}: no runs reported usage"
    cost = format_cost(usage.cost_usd, exact=True) or "no cost reported"
    runs = f"{usage.runs} run{'' if usage.runs == 1 else 's'}"
    return (
        f"{day:%a %Y-%m-%d}: {cost}\n{usage.input_tokens:,} input and "
        f"{usage.output_tokens:,} output tokens, {runs}"
    )


class DayChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.days: list[tuple[date, Usage]] = []
        self.by_cost = True
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(600, 180)

    def show_days(self, days: list[tuple[date, Usage]]) -> None:
        self.days = days
        self.by_cost = any(u.cost_usd for _, u in days)
        self.update()

    def value(self, usage: Usage) -> float:
        return (usage.cost_usd or 0.0) if self.by_cost else float(usage.tokens)

    def figure(self, value: float) -> str:
        return format_cost(value) if self.by_cost else format_tokens(int(value))

    def plot_area(self) -> QRectF:
        line = self.fontMetrics().height()
        top = line * 2  # the caption above
        return QRectF(AXIS_WIDTH, top, self.width() - AXIS_WIDTH - 8,
                      self.height() - top - line * LABEL_ROWS - 8)  # fmt: skip

    def bar_at(self, x: float) -> int | None:
        area = self.plot_area()
        if not self.days or not area.left() <= x < area.right():
            return None
        return min(int((x - area.left()) / (area.width() / len(self.days))), len(self.days) - 1)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.bar_at(event.pos().x())
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), day_tip(*self.days[index]), self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.days:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        area = self.plot_area()
        top = max(self.value(u) for _, u in self.days) or 1.0
        self._axis(painter, pal, area, top)
        slot = area.width() / len(self.days)
        gap = min(slot * 0.25, 6.0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pal.color(QPalette.ColorRole.Highlight))
        for n, (_, usage) in enumerate(self.days):
            height = area.height() * self.value(usage) / top
            if height > 0:
                height = max(height, 2.0)  # a cheap day still shows
                width = min(max(slot - gap, 1.0), MAX_BAR)
                centre = area.left() + (n + 0.5) * slot
                bar = QRectF(centre - width / 2, area.bottom() - height, width, height)
                painter.drawRoundedRect(bar, 2, 2)
        self._dates(painter, pal, area, slot)
        painter.end()

    def _axis(self, painter: QPainter, pal: QPalette, area: QRectF, top: float) -> None:
        text = pal.color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(mix(pal.color(QPalette.ColorRole.Window), text, 0.3))
        for share in (0.0, 0.5, 1.0):
            y = area.bottom() - area.height() * share
            painter.drawLine(int(area.left()), int(y), int(area.right()), int(y))
        painter.setPen(text)
        line = self.fontMetrics().height()
        for share in (0.5, 1.0):
            y = area.bottom() - area.height() * share
            box = QRectF(0, y - line / 2, AXIS_WIDTH - 8, line)
            painter.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             self.figure(top * share))  # fmt: skip
        caption = "cost per day" if self.by_cost else "tokens per day (no costs reported)"
        painter.drawText(QPoint(AXIS_WIDTH, self.fontMetrics().ascent()), caption)

    def _dates(self, painter: QPainter, pal: QPalette, area: QRectF, slot: float) -> None:
        """The first and last day, and a few between where there is room."""
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        metrics = self.fontMetrics()
        width = metrics.horizontalAdvance("00-00") + 16
        step = max(1, int(width // slot) + 1)
        y = area.bottom() + 4
        for n in range(len(self.days) - 1, -1, -step):  # from today back: today always shows
            day = self.days[n][0]
            centre = area.left() + (n + 0.5) * slot
            left = min(max(centre - width / 2, area.left() - 8), area.right() - width + 8)
            box = QRectF(left, y, width, metrics.height())
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, f"{day:%m-%d}")
