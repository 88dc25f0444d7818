"""The Tasks page of the main window: search, state filter, and the task sidebar.

Tasks are grouped by project under collapsible headers (:mod:`app.ui.sidebar_model`) and
drawn as compact two-line rows by :class:`TaskRowDelegate`: the state icon and the title,
elided only at its end, over a small line with the agent, the elapsed time, the cost once
known and the exit code when it is not 0. The page says so when a filter hides every task;
which task is selected is read here, what selecting or opening it does is the window's.

Keys: ↑/↓ move, ← on a task goes to its project's header, ← / → on a header collapse and
expand it, Enter opens a task (as a double-click does) or toggles a header. Delete and
Shift+Delete reach the view only when the window's Delete… and Archive actions are off
(the task still runs): the view passes them on so that the window can say why.
A right click on a row asks the window for that task's or that project's menu.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.core.costs import format_cost
from app.core.durations import format_elapsed
from app.core.models import Task
from app.core.states import ACTIVE
from app.ui.icons import NEEDS_YOU, state_color, state_icon
from app.ui.labels import state_label, waiting_label
from app.ui.sidebar_model import GroupHeader, SidebarModel
from app.ui.task_model import STATE_FILTERS, TaskTableModel, duration, exit_label

Index = QModelIndex | QPersistentModelIndex

PAD = 4  # pixels around a row's text
ICON = 16


def meta_line(task: Task, *, needs_you: bool = False, queue: str = "") -> str:
    """The small line under a title: agent, elapsed, and the cost and exit where they
    matter; "needs you" first while it waits for an answer; a queued task says what it
    waits for (``queue``: "waiting: queue paused", "waiting for #7 on api")."""
    parts = [task.agent]
    if needs_you:
        parts.append("needs you")
    run = task.latest_run
    if queue:
        parts.append(queue)
    elif task.waiting_for is not None:
        parts.append(waiting_label(task, where="name"))
    elif run is None or run.started_at is None:
        parts.append(state_label(task.state).lower())
    else:
        elapsed = duration(task)
        if elapsed is not None:
            parts.append(format_elapsed(elapsed))
    if task.total_cost_usd is not None:
        parts.append(format_cost(task.total_cost_usd))
    if run is not None and run.exit_code:
        parts.append(f"exit {exit_label(run.exit_code)}")
    elif task.state is not None and task.state.is_terminal and task.state.value != "succeeded":
        parts.append(state_label(task.state).lower())
    return " · ".join(parts)


class TaskRowDelegate(QStyledItemDelegate):
    """Paints a project header or a two-line task row; only what it shows is computed."""

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont, QFont]:
        title = QFont(option.font)
        small = QFont(option.font)
        if option.font.pointSizeF() > 0:
            small.setPointSizeF(max(6.0, option.font.pointSizeF() * 0.86))
        else:  # a font sized in pixels
            small.setPixelSize(max(8, round(option.font.pixelSize() * 0.86)))
        bold = QFont(option.font)
        bold.setBold(True)
        return title, small, bold

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sizes: tuple[QSize, QSize] | None = None  # (header, task) in the view's font

    def forget_sizes(self) -> None:
        """The view's font or style changed: measure the rows again."""
        self._sizes = None

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Asked for every row whenever the view lays them out (10,000 times with 10,000
        tasks): the two sizes are measured once, until the font changes."""
        sizes = self._sizes
        if sizes is None:
            title, small, bold = self._fonts(option)
            header = QSize(100, QFontMetrics(bold).height() + 2 * PAD + 2)
            task = QSize(100, QFontMetrics(title).height() + QFontMetrics(small).height() + 2 * PAD)
            sizes = self._sizes = (header, task)
        model = index.model()
        entry = model.entry(index.row()) if isinstance(model, SidebarModel) else None
        return sizes[0] if isinstance(entry, GroupHeader) else sizes[1]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        model = index.model()
        entry = model.entry(index.row()) if isinstance(model, SidebarModel) else None
        if entry is None:
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:  # the background, selection and focus as the style draws them
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text_color = option.palette.color(role)
        painter.save()
        if isinstance(entry, GroupHeader):
            self._paint_header(painter, option, entry, text_color)
        elif isinstance(model, SidebarModel):
            task = model.tasks.task(entry)
            if task is not None:
                self._paint_task(painter, option, task, text_color, selected, model.tasks)
        painter.restore()

    def _paint_header(self, painter: QPainter, option: QStyleOptionViewItem,
                      group: GroupHeader, color: QColor) -> None:  # fmt: skip
        bold = self._fonts(option)[2]
        rect = option.rect.adjusted(PAD, 0, -PAD - 2, 0)
        painter.setPen(color)
        painter.setFont(bold)
        arrow = "▸" if group.collapsed else "▾"
        count = str(group.count)
        count_width = painter.fontMetrics().horizontalAdvance(count) + PAD
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight),
                         count)  # fmt: skip
        name_rect = rect.adjusted(0, 0, -count_width, 0)
        name = painter.fontMetrics().elidedText(
            f"{arrow} {group.name}", Qt.TextElideMode.ElideRight, name_rect.width()
        )
        painter.drawText(name_rect, int(Qt.AlignmentFlag.AlignVCenter), name)

    def _paint_task(self, painter: QPainter, option: QStyleOptionViewItem, task: Task,
                    color: QColor, selected: bool, model: TaskTableModel) -> None:  # fmt: skip
        title_font, small, _bold = self._fonts(option)
        rect = option.rect.adjusted(PAD + 10, PAD, -PAD - 2, -PAD)
        title_metrics, small_metrics = QFontMetrics(title_font), QFontMetrics(small)
        title_height = title_metrics.height()
        icon_top = rect.top() + (title_height - ICON) // 2
        needs_you = model.needs_you(task.id)
        if needs_you or task.state is not None:
            state = NEEDS_YOU if needs_you else str(task.state and task.state.value)
            state_icon(state).paint(painter, QRect(rect.left(), icon_top, ICON, ICON))
        text_left = rect.left() + ICON + PAD + 2
        title_rect = QRect(text_left, rect.top(), rect.right() - text_left, title_height)
        painter.setFont(title_font)
        painter.setPen(color)
        elide = Qt.TextElideMode.ElideRight
        title = title_metrics.elidedText(task.title, elide, title_rect.width())
        painter.drawText(title_rect, int(Qt.AlignmentFlag.AlignVCenter), title)
        meta_rect = QRect(text_left, rect.top() + title_height, title_rect.width(),
                          small_metrics.height())  # fmt: skip
        painter.setFont(small)
        meta_color = option.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText
        )
        if (
            not selected
            and task.state is not None
            and (
                task.state in ACTIVE or (task.state.is_terminal and task.state.value != "succeeded")
            )
        ):
            meta_color = state_color(task.state.value)
        if needs_you and not selected:
            meta_color = state_color(NEEDS_YOU)
        painter.setPen(meta_color)
        line = meta_line(task, needs_you=needs_you, queue=model.queue_note(task))
        meta = small_metrics.elidedText(line, Qt.TextElideMode.ElideRight, meta_rect.width())
        painter.drawText(meta_rect, int(Qt.AlignmentFlag.AlignVCenter), meta)


class SidebarView(QListView):
    """The list with the keys a grouped list needs (see the module's docstring)."""

    openRequested = Signal(int)  # task id: Enter on a task
    deleteRequested = Signal(int, bool)  # task id, archive (Shift+Delete) rather than delete

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            delegate = self.itemDelegate()
            if isinstance(delegate, TaskRowDelegate):
                delegate.forget_sizes()
        super().changeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        model = self.model()
        index = self.currentIndex()
        if not isinstance(model, SidebarModel) or not index.isValid():
            super().keyPressEvent(event)
            return
        entry = model.entry(index.row())
        key = event.key()
        if isinstance(entry, GroupHeader) and key in (Qt.Key.Key_Left, Qt.Key.Key_Right,
                                                       Qt.Key.Key_Return, Qt.Key.Key_Enter,
                                                       Qt.Key.Key_Space):  # fmt: skip
            collapse = {Qt.Key.Key_Left: True, Qt.Key.Key_Right: False}.get(
                Qt.Key(key), not entry.collapsed
            )
            model.set_collapsed(entry.key, collapse)
            return
        if isinstance(entry, int) and key == Qt.Key.Key_Left:
            group = model.group_of(entry)
            row = model.header_row(group) if group is not None else None
            if row is not None:
                self.setCurrentIndex(model.index(row, 0))
            return
        if isinstance(entry, int) and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.openRequested.emit(entry)
            return
        if isinstance(entry, int) and key == Qt.Key.Key_Delete:
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.deleteRequested.emit(entry, shift)
            return
        super().keyPressEvent(event)


class TaskList(QWidget):
    taskMenuRequested = Signal(int, QPoint)  # task id, where (global): a right click on it
    projectMenuRequested = Signal(str, QPoint)  # a project's key, where: on its header

    def __init__(self, model: TaskTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.sidebar = SidebarModel(model, self)
        self.search = QLineEdit(self, placeholderText="Search tasks", clearButtonEnabled=True)
        self.state_filter = QComboBox(self)
        self.state_filter.addItems(list(STATE_FILTERS))
        self.view = self._build_view()
        self.no_match = QLabel(self.view.viewport(), alignment=Qt.AlignmentFlag.AlignCenter)
        self.no_match.setStyleSheet("color: gray")
        self.no_match.setWordWrap(True)
        self.no_match.hide()
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.state_filter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        self._connect_signals()

    def _build_view(self) -> SidebarView:
        view = SidebarView(self)
        view.setModel(self.sidebar)
        view.setItemDelegate(TaskRowDelegate(view))
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setUniformItemSizes(False)
        view.setMouseTracking(True)
        view.setFrameShape(QListView.Shape.NoFrame)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        return view

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self.sidebar.set_search)
        self.state_filter.currentTextChanged.connect(self.sidebar.set_state_filter)
        self.view.clicked.connect(self._on_clicked)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        for signal in (self.sidebar.rowsInserted, self.sidebar.rowsRemoved,
                       self.sidebar.modelReset, self.sidebar.layoutChanged):  # fmt: skip
            signal.connect(self._show_no_match)

    def set_filter(self, name: str) -> None:
        """Show only the tasks of one of STATE_FILTERS (the status bar's counts link here)."""
        self.state_filter.setCurrentText(name)

    def _on_clicked(self, index: QModelIndex) -> None:
        entry = self.sidebar.entry(index.row())
        if isinstance(entry, GroupHeader):
            self.sidebar.toggle(entry.key)

    def _on_context_menu(self, pos: QPoint) -> None:
        """The menu is for the row under the pointer, which becomes the selected one (the
        Task menu's actions act on the selection)."""
        index = self.view.indexAt(pos)
        entry = self.sidebar.entry(index.row()) if index.isValid() else None
        where = self.view.viewport().mapToGlobal(pos)
        if isinstance(entry, GroupHeader):
            self.projectMenuRequested.emit(entry.key, where)
        elif isinstance(entry, int):
            self.view.setCurrentIndex(index)
            self.taskMenuRequested.emit(entry, where)

    def selected_task(self) -> Task | None:
        rows = self.view.selectionModel().selectedRows()
        return self.task_at(rows[0]) if rows else None

    def task_at(self, index: QModelIndex) -> Task | None:
        """The task of a row as the sidebar shows it (None on a project header)."""
        return self.sidebar.task_at(index.row()) if index.isValid() else None

    def index_of(self, task_id: int) -> QModelIndex:
        row = self.sidebar.row_of(task_id)
        return QModelIndex() if row is None else self.sidebar.index(row, 0)

    def select(self, task_id: int) -> None:
        """Select a task chosen elsewhere (a tab, a notification): its group opens if closed."""
        group = self.sidebar.group_of(task_id)
        if group is not None and group in self.sidebar.collapsed:
            self.sidebar.set_collapsed(group, False)
        index = self.index_of(task_id)
        if index.isValid() and self.view.currentIndex() != index:
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)

    def _show_no_match(self, *_args: object) -> None:
        """A filter that hides every task says so, instead of leaving an empty list."""
        hidden_all = self.sidebar.rowCount() == 0 and self.model.rowCount() > 0
        if hidden_all:
            what = f"“{self.search.text()}”" if self.search.text() else "this filter"
            self.no_match.setText(f"No tasks match {what}.")
            self.no_match.setGeometry(self.view.viewport().rect())
        self.no_match.setVisible(hidden_all)
