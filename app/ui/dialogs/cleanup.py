"""Tools → Clean up…: what Agentry left that no task needs any more, each with its size,
ticked when removing it loses nothing and unticked, marked, when it holds work.

Listing and removing run in the supervisor's housekeeping, off the UI thread; the dialog
shows that it is busy, then what was removed and what could not be. Removing anything
that holds work is asked once more, naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.supervisor.cleanup import Candidate, Kind, Outcome
from app.supervisor.housekeeping import Housekeeping
from app.ui.dialog_job import DialogJob
from app.ui.recovery_report import TaskLine, standard_icon
from app.ui.theme import WARNING_COLORS, error_style, is_dark

KIND_LABELS: dict[Kind, str] = {
    "merged worktree": "Worktree, merged",
    "unmerged worktree": "Worktree with work",
    "unknown worktree": "Folder in worktrees",
    "unknown run folder": "Run folder",
    "unknown runner": "Runner process",
}
INTRO = (
    "Worktrees of ended tasks, folders no task knows and runners no task knows. What "
    "holds work is not ticked: tick it only if you no longer need that work."
)


def size_text(size: int) -> str:
    """Bytes the way a file manager says them: 0 B, 812 KiB, 12.4 MiB, 1.2 GiB."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    if value < 1024:
        return f"{value:.0f} KiB"
    value /= 1024
    return f"{value:.1f} MiB" if value < 1024 else f"{value / 1024:.1f} GiB"


class CleanupDialog(QDialog):
    ITEM, KIND, DETAILS, SIZE = range(4)

    def __init__(
        self,
        housekeeping: Housekeeping,
        describe: Callable[[int], TaskLine | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clean up")
        self.housekeeping = housekeeping
        self.describe = describe
        self.candidates: dict[str, Candidate] = {}
        self.confirm_box: QMessageBox | None = None
        self._job = DialogJob("clean-up", self._failed)
        self.intro = QLabel(INTRO, self, wordWrap=True)
        self.pages = QStackedWidget(self)
        self.busy = QWidget(self)
        self.busy_text = QLabel(self.busy, alignment=Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar(self.busy, minimum=0, maximum=0, textVisible=False)
        self.progress.setMaximumWidth(320)
        busy_layout = QVBoxLayout(self.busy)
        busy_layout.addStretch(1)
        busy_layout.addWidget(self.busy_text)
        busy_layout.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        busy_layout.addStretch(1)
        self.table = self._make_table()
        self.empty = QLabel(
            "<h3>Nothing to clean up</h3>Every worktree, run folder and runner belongs to a "
            "task that needs it.", self, alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True,
        )  # fmt: skip
        for page in (self.busy, self.table, self.empty):
            self.pages.addWidget(page)
        self.report = QLabel(self, wordWrap=True)
        self.report.hide()
        self.total = QLabel(self)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setEnabled(False)
        self.close_button = QPushButton("Cancel", self)
        self.close_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.total, 1)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.report)
        layout.addLayout(buttons)
        self.resize(960, 460)
        self.table.itemChanged.connect(lambda _item, _col: self._update_total())
        self.remove_button.clicked.connect(self.ask_to_remove)
        self.close_button.clicked.connect(self.reject)
        self.finished.connect(self._on_finished)
        self.refresh()

    def _make_table(self) -> QTreeWidget:
        table = QTreeWidget(self)
        table.setColumnCount(4)
        table.setHeaderLabels(["Item", "Kind", "Why it can go, or what it holds", "Size"])
        table.setRootIsDecorated(False)
        table.setUniformRowHeights(True)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setStyleSheet("QTreeView::item { padding: 3px 6px 3px 2px; }")
        table.headerItem().setTextAlignment(self.SIZE, Qt.AlignmentFlag.AlignRight)
        header = table.header()
        header.setStretchLastSection(False)
        for column in (self.ITEM, self.KIND, self.SIZE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(self.DETAILS, QHeaderView.ResizeMode.Stretch)
        return table

    # ------------------------------------------------------------------ listing

    def refresh(self) -> None:
        """Look again for what can go (off the UI thread)."""
        self._busy("Looking for what can be cleaned up…")
        self._start(self.housekeeping.find(), self._listed)

    def _listed(self, found: list[Candidate]) -> None:
        self.candidates = {c.id: c for c in found}
        self.table.blockSignals(True)
        self.table.clear()
        for candidate in found:
            self._add_row(candidate)
        self.table.blockSignals(False)
        self._fit_columns()
        self.pages.setCurrentWidget(self.table if found else self.empty)
        if not found:
            self.close_button.setText("Close")
        self._update_total()

    def _fit_columns(self) -> None:
        """Kind and size as wide as their text; the item's name up to a third of the width;
        the reason takes the rest."""
        header = self.table.header()
        for column in (self.KIND, self.SIZE):
            wanted = max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
            self.table.setColumnWidth(column, wanted + 12)
        fit = self.table.sizeHintForColumn(self.ITEM) + 24
        self.table.setColumnWidth(self.ITEM, max(160, min(fit, self.width() // 3)))

    def _add_row(self, candidate: Candidate) -> None:
        name, where = self._item_text(candidate)
        size = "—" if candidate.kind == "unknown runner" else size_text(candidate.size)
        item = QTreeWidgetItem(
            self.table,
            [name, KIND_LABELS[candidate.kind], _sentence(candidate.why), size],
        )
        item.setData(self.ITEM, Qt.ItemDataRole.UserRole, candidate.id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        checked = Qt.CheckState.Checked if candidate.safe else Qt.CheckState.Unchecked
        item.setCheckState(self.ITEM, checked)
        item.setTextAlignment(
            self.SIZE, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        for column in (self.ITEM, self.DETAILS):
            item.setToolTip(column, f"{where}\n{_sentence(candidate.why)}")
        if not candidate.safe:
            warning = QStyle.StandardPixmap.SP_MessageBoxWarning
            item.setIcon(self.DETAILS, standard_icon(self, warning))
            item.setForeground(self.DETAILS, QBrush(QColor(_warning_color())))

    def _item_text(self, candidate: Candidate) -> tuple[str, str]:
        """What the row is called (a task's title for its worktree), and where it is."""
        if candidate.task_id is not None:
            line = self.describe(candidate.task_id)
            title = f"  {line.title}" if line is not None else ""
            return f"#{candidate.task_id}{title}", candidate.what
        if candidate.kind == "unknown runner":
            return candidate.what.split(":", 1)[0], candidate.what
        return candidate.what.replace("\\", "/").rsplit("/", 1)[-1], candidate.what

    def rows(self) -> dict[str, QTreeWidgetItem]:
        """Each listed candidate's row, by its id."""
        found = {}
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item is not None:
                found[str(item.data(self.ITEM, Qt.ItemDataRole.UserRole))] = item
        return found

    def ticked(self) -> list[Candidate]:
        return [
            self.candidates[ident]
            for ident, item in self.rows().items()
            if item.checkState(self.ITEM) == Qt.CheckState.Checked
        ]

    def _update_total(self) -> None:
        chosen = self.ticked()
        risky = [c for c in chosen if not c.safe]
        text = f"{len(chosen)} of {len(self.candidates)} ticked"
        if chosen:
            text += f" — {size_text(sum(c.size for c in chosen))} to free"
        if risky:
            text += f", {len(risky)} of them holding work"
        self.total.setText(text if self.candidates else "")
        self.remove_button.setEnabled(bool(chosen) and not self._job.running)

    # ------------------------------------------------------------------ removing

    def ask_to_remove(self) -> None:
        """Remove what is ticked; anything that holds work is asked about once more."""
        chosen = self.ticked()
        risky = [c for c in chosen if not c.safe]
        if not chosen:
            return
        if not risky:
            self.remove(chosen)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Remove work?", _risky_question(risky),
                          QMessageBox.StandardButton.NoButton, self)  # fmt: skip
        box.setInformativeText(
            "\n".join(f"• {self._item_text(c)[0]}: {_sentence(c.why)}" for c in risky)
        )
        remove = box.addButton("Remove anyway", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.buttonClicked.connect(lambda button: self._confirmed(button is remove, chosen))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: setattr(self, "confirm_box", None))
        self.confirm_box = box
        box.open()

    def _confirmed(self, yes: bool, chosen: Sequence[Candidate]) -> None:
        if yes:
            self.remove(chosen)

    def remove(self, chosen: Sequence[Candidate]) -> None:
        self._busy(f"Removing {_count(len(chosen), 'item')}…")
        self.close_button.setEnabled(False)  # a removal under way is finished, not cut short
        self._start(self.housekeeping.remove(chosen), self._removed)

    def _removed(self, outcome: Outcome) -> None:
        self.close_button.setEnabled(True)
        self.close_button.setText("Close")
        gone = {c.id for c in outcome.removed}
        freed = size_text(sum(c.size for c in outcome.removed))
        lines = [f"Removed {_count(len(gone), 'item')}, {freed} freed."] if gone else []
        lines += [f"Could not remove {c.what}: {why}" for c, why in outcome.failed]
        if outcome.failed:
            lines.append("What could not be removed is still listed; try again later.")
        self._say("\n".join(lines), error=bool(outcome.failed))
        for ident in gone:
            self.candidates.pop(ident, None)
        self._listed(list(self.candidates.values()))
        if not self.candidates:
            self.empty.setText("<h3>Nothing left to clean up</h3>")

    # ------------------------------------------------------------------ jobs

    def _start(self, coro: Coroutine[Any, Any, Any], then: Callable[[Any], None]) -> None:
        self._job.start(coro, then)

    def _failed(self, exc: BaseException) -> None:
        self._say(f"Clean-up failed: {exc}", error=True)
        self.close_button.setEnabled(True)
        self._listed(list(self.candidates.values()))

    def _busy(self, text: str) -> None:
        self.busy_text.setText(text)
        self.pages.setCurrentWidget(self.busy)
        self.remove_button.setEnabled(False)

    def _say(self, text: str, *, error: bool) -> None:
        self.report.setStyleSheet(error_style() if error else "")
        self.report.setText(text)
        self.report.setVisible(bool(text))

    @property
    def working(self) -> bool:
        return self._job.running

    def reject(self) -> None:
        if self.close_button.isEnabled():  # not while removing: it finishes first
            super().reject()

    def _on_finished(self, _result: int) -> None:
        self._job.close()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _risky_question(risky: Sequence[Candidate]) -> str:
    if len(risky) == 1:
        return "One of the ticked items holds work that is lost if it is removed."
    return f"{len(risky)} of the ticked items hold work that is lost if they are removed."


def _warning_color() -> str:
    app = QApplication.instance()
    dark = isinstance(app, QApplication) and is_dark(app)
    return WARNING_COLORS["dark" if dark else "light"]
