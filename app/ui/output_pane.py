"""A live output pane: ANSI colours rendered, the end followed, the block count bounded.

Lines arrive in bursts (an agent can print megabytes a second); they are buffered and
drawn at most every ``FLUSH_MS``, and only the newest ``max_blocks`` are ever drawn,
because older ones would be dropped at once. A pane that is not visible only buffers.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontDatabase,
    QShowEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core import ansi
from app.core.models import Task
from app.core.render import Renderer, footer_text, run_end, you_turn
from app.core.states import RunState
from app.ui.labels import waiting_label
from app.ui.output_tools import FindBar, PaneHeader
from app.ui.raw_log import END_MARK, RUN_MARK, YOU_MARK, RawLog
from app.ui.wait_bar import WaitBar

DEFAULT_MAX_BLOCKS = 10_000
FLUSH_MS = 40
SLICE_LINES = 60  # at most this many lines per draw, then back to the event loop
SLICE_PAUSE_MS = 10


RAW_HISTORY = 5_000  # raw lines kept to redraw when the look changes (theme, expanded)


class OutputPane(QWidget):
    closeRequested = Signal(int)  # task id
    followUpRequested = Signal(int, str)  # task id, message
    resumeRequested = Signal(int)  # task id
    stopRequested = Signal(int)  # task id: end a wait (a pause for a limit, a restart's backoff)

    def __init__(
        self,
        task_id: int,
        log_path: Path | None = None,
        *,
        max_blocks: int = DEFAULT_MAX_BLOCKS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.task_id = task_id
        self.log_path = log_path
        self.max_blocks = max_blocks
        self._pending: collections.deque[str] = collections.deque(maxlen=self.max_blocks)
        self._style = ansi.PLAIN
        self._formats: dict[ansi.Style, QTextCharFormat] = {}
        self._following = True
        self._scrolling = False  # our own scrolling must not switch following off
        self._make_renderer: Callable[[], Renderer] | None = None
        self._renderer: Renderer | None = None
        # Plain strings, not tuples: strings are invisible to the cyclic garbage collector,
        # so ten busy panes do not make every full collection scan 50,000 containers.
        self._history: collections.deque[str] = collections.deque(maxlen=RAW_HISTORY)
        self._flush_timer = QTimer(self, singleShot=True, interval=FLUSH_MS)
        self.ended_runs: set[int] = set()  # runs whose exit line is shown
        self._build()
        self._connect_signals()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        self.header = PaneHeader(self)
        self.wait_bar = WaitBar(self)
        # The header shows this switch; what it switches is the pane's drawing.
        self.expand_button = self.header.expand_button
        self.footer = QLabel(self)
        self.footer.setStyleSheet("color: gray")
        self.footer.hide()
        self.follow_up = QLineEdit(self, placeholderText="Follow-up: the next message to the agent")
        self.send_button = QPushButton("Send", self)
        self.resume_button = QPushButton("Resume session", self)
        self.resume_button.setToolTip("Continue the agent's own session where it stopped")
        self.follow_up_bar = QWidget(self)
        bar = QHBoxLayout(self.follow_up_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.follow_up, 1)
        bar.addWidget(self.send_button)
        bar.addWidget(self.resume_button)
        self.follow_up_bar.hide()
        self.view = QPlainTextEdit(self, readOnly=True)
        self.view.setMaximumBlockCount(self.max_blocks)
        self.view.setUndoRedoEnabled(False)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.jump_button = QPushButton("↓ Jump to end", self.view)
        self.jump_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_button.hide()
        self.find_bar = FindBar(self.find_text, self)
        self.find_bar.hide()

        self.raw_view = RawLog(self, self.max_blocks, self.view.font(), self._raw_shown)

        # The transcript (the output made readable), the log as the agent wrote it, and
        # whatever else the task has (Details, a worktree's Changes tab).
        output = QWidget(self)
        output_layout = QVBoxLayout(output)
        output_layout.setContentsMargins(0, 0, 0, 0)
        output_layout.addWidget(self.view, 1)
        output_layout.addWidget(self.find_bar)
        output_layout.addWidget(self.footer)
        self.sections = QTabWidget(self, documentMode=True)
        self.sections.addTab(output, "Transcript")
        self.sections.addTab(self.raw_view, "Raw log")
        self.sections.setTabToolTip(1, "The run's log file as the agent wrote it (colours off)")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(self.wait_bar)
        layout.addWidget(self.sections, 1)
        layout.addWidget(self.follow_up_bar)

    def _connect_signals(self) -> None:
        # scrolling: following the end until the person scrolls up
        self.view.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.view.verticalScrollBar().rangeChanged.connect(self._on_range_changed)
        self.jump_button.clicked.connect(self.jump_to_end)
        # tools
        self.header.open_log_button.clicked.connect(self.open_log_file)
        self.header.copy_button.clicked.connect(self.copy)
        self.header.find_button.clicked.connect(self.show_find)
        # Ctrl+F is the window's Find action (a shortcut of the pane's own would make the
        # key ambiguous, and then neither fires).
        self.expand_button.toggled.connect(self._redraw)
        # follow-ups
        self.follow_up.returnPressed.connect(self._send_follow_up)
        self.send_button.clicked.connect(self._send_follow_up)
        self.resume_button.clicked.connect(lambda: self.resumeRequested.emit(self.task_id))
        self.wait_bar.resumeNowRequested.connect(lambda: self.resumeRequested.emit(self.task_id))
        self.wait_bar.stopRequested.connect(lambda: self.stopRequested.emit(self.task_id))
        # drawing
        self._flush_timer.timeout.connect(self.flush)
        self.sections.currentChanged.connect(self._on_section_shown)

    # ------------------------------------------------------------------ content

    def set_task(self, task: Task, log_path: Path | None) -> None:
        self.log_path = log_path
        self.header.show_task(task, log_path)
        self.view.setPlaceholderText(_empty_text(task))

    def add_section(self, widget: QWidget, title: str) -> None:
        """Another tab of the task beside its output (the output stays the first)."""
        self.sections.addTab(widget, title)

    def set_section_title(self, widget: QWidget, title: str) -> None:
        self.sections.setTabText(self.sections.indexOf(widget), title)

    def set_renderer(self, make: Callable[[], Renderer] | None) -> None:
        """Structured agents: show their JSON lines as readable events (Raw log toggles)."""
        self._make_renderer = make
        self._renderer = self._new_renderer()
        self.header.set_structured(make is not None)

    def _new_renderer(self) -> Renderer | None:
        if self._make_renderer is None:
            return None
        renderer = self._make_renderer()
        renderer.expanded = self.expand_button.isChecked()
        return renderer

    def set_follow_up(self, *, available: bool, can_send: bool, can_resume: bool) -> None:
        self.follow_up_bar.setVisible(available)
        self.follow_up.setEnabled(can_send)
        self.send_button.setEnabled(can_send)
        self.resume_button.setVisible(can_resume)

    def append_lines(self, lines: Iterable[str]) -> None:
        """Raw output lines of the current run (decided raw or readable once per batch)."""
        batch = list(lines)
        self._history.extend(batch)
        self.raw_view.add(batch)
        renderer = self._renderer
        if renderer is None:
            self._pending.extend(batch)
        else:
            for line in batch:
                self._pending.extend(renderer.feed(line))
            self._update_footer(renderer)
        self._schedule()

    def add_separator(self, text: str) -> None:
        """A new run begins (its own totals, its own session messages)."""
        self._history.append(RUN_MARK + text)
        if self._make_renderer is not None:
            self._renderer = self._new_renderer()
        self._pending.append(f"\x1b[2m──── {text} ────\x1b[0m")
        self.raw_view.add([RUN_MARK + text])
        self._schedule()

    def add_you_turn(self, text: str) -> None:
        """A message the person sent: the prompt, a follow-up, an edited checkpoint text."""
        if not text.strip():
            return
        self._history.append(YOU_MARK + text)
        self._pending.extend(you_turn(text))
        self._schedule()

    def add_run_end(self, text: str) -> None:
        """How the run ended ("exited 3 after 0:02"), below its output."""
        self._history.append(END_MARK + text)
        self._pending.append(run_end(text))
        self.raw_view.add([END_MARK + text])
        self._schedule()

    def _show(self, line: str) -> None:
        renderer = self._renderer
        if renderer is None:
            self._pending.append(line)
            return
        self._pending.extend(renderer.feed(line))
        self._update_footer(renderer)

    def _update_footer(self, renderer: Renderer) -> None:
        totals = footer_text(renderer.summary)
        if totals and totals != self.footer.text():
            self.footer.setText(totals)
            self.footer.show()

    def _schedule(self) -> None:
        if self.isVisible() and not self._flush_timer.isActive():
            self._flush_timer.start()

    def _redraw(self) -> None:
        """Draw the kept history again, readable or raw."""
        history = list(self._history)
        self._history.clear()
        self._pending.clear()
        self.view.clear()
        self._style = ansi.PLAIN
        self._renderer = self._new_renderer()
        raw = self.raw_view.keep()  # drawn already, or to be filled when shown
        for entry in history:
            if entry.startswith(RUN_MARK):
                self.add_separator(entry[len(RUN_MARK) :])
            elif entry.startswith(YOU_MARK):
                self.add_you_turn(entry[len(YOU_MARK) :])
            elif entry.startswith(END_MARK):
                self.add_run_end(entry[len(END_MARK) :])
            else:
                self._history.append(entry)
                self._show(entry)
        self.raw_view.restore(raw)
        self._schedule()

    def _send_follow_up(self) -> None:
        text = self.follow_up.text().strip()
        if text and self.send_button.isEnabled():
            self.followUpRequested.emit(self.task_id, text)
            self.follow_up.clear()

    def flush(self) -> None:
        """Draw some of what is buffered, and come back for the rest.

        Drawing is sliced so a flood of output never holds the event loop for long (each
        line costs Qt tens of microseconds once the block limit makes it drop old ones); a
        backlog as large as the whole limit replaces the view instead of scrolling through.
        """
        self.raw_view.flush(SLICE_LINES * 4)
        if not self._pending:
            return
        if len(self._pending) >= self.max_blocks:
            self.view.clear()
        lines = [self._pending.popleft() for _ in range(min(SLICE_LINES, len(self._pending)))]
        self._draw(lines)
        if self._pending or self.raw_view.pending:
            self._flush_timer.start(SLICE_PAUSE_MS)

    def _raw_shown(self) -> bool:
        return self.sections.currentWidget() is self.raw_view

    def _on_section_shown(self, _index: int) -> None:
        if self.raw_view.came_to_front(self._history):
            self._schedule()

    def flush_all(self) -> None:
        """Draw everything buffered now (tests, and a pane about to be read)."""
        while self._pending or self.raw_view.pending:
            self.flush()
        self._flush_timer.stop()

    def _draw(self, lines: list[str]) -> None:
        self._scrolling = True  # dropping old blocks moves the scroll bar; that is not the user
        try:
            cursor = QTextCursor(self.view.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.beginEditBlock()
            first = self.view.document().isEmpty()
            for text in self._chunks(lines):
                self._insert(cursor, text, first)
                first = False
            cursor.endEditBlock()
        finally:
            self._scrolling = False
        if self._following:
            self._scroll_to_end()

    def _chunks(self, lines: list[str]) -> Iterable[list[ansi.Segment]]:
        """One list of segments per line; runs of plain lines are merged into one insert."""
        plain: list[str] = []
        for line in lines:
            if self._style.plain and ansi.is_plain(line):
                plain.append(line)
                continue
            if plain:
                yield [("\n".join(plain), ansi.PLAIN)]
                plain = []
            segments, self._style = ansi.parse_line(line, self._style)
            yield segments or [("", ansi.PLAIN)]
        if plain:
            yield [("\n".join(plain), ansi.PLAIN)]

    def _insert(self, cursor: QTextCursor, segments: list[ansi.Segment], first: bool) -> None:
        if not first:
            cursor.insertBlock()
        for text, style in segments:
            cursor.insertText(text, self._format(style))

    def _format(self, style: ansi.Style) -> QTextCharFormat:
        fmt = self._formats.get(style)
        if fmt is None:
            palette = self.view.palette()
            base = palette.base().color()
            shown = ansi.themed(style, base.name())  # readable on this theme's background
            fmt = self._formats[style] = _char_format(shown, palette.text().color(), base)
        return fmt

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._formats:
            self._formats.clear()  # the theme changed: draw the kept lines in its colours
            self._redraw()

    # ------------------------------------------------------------------ following the end

    def is_following(self) -> bool:
        return self._following

    def jump_to_end(self) -> None:
        self._following = True
        self.jump_button.hide()
        self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        bar = self.view.verticalScrollBar()
        self._scrolling = True
        bar.setValue(bar.maximum())
        self._scrolling = False

    def _on_scrolled(self, value: int) -> None:
        if self._scrolling:
            return
        at_end = value >= self.view.verticalScrollBar().maximum() - 1
        self._following = at_end
        self.jump_button.setVisible(not at_end)
        self._place_jump_button()

    def _on_range_changed(self, _low: int, _high: int) -> None:
        if self._following and not self._scrolling:
            self._scroll_to_end()

    def _place_jump_button(self) -> None:
        hint = self.jump_button.sizeHint()
        self.jump_button.resize(hint)
        self.jump_button.move(
            self.view.width() - hint.width() - 24, self.view.height() - hint.height() - 12
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._pending or self.raw_view.pending:
            self._flush_timer.start(0)

    # ------------------------------------------------------------------ tools

    def open_log_file(self) -> None:
        if self.log_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_path)))

    def copy(self) -> None:
        cursor = self.view.textCursor()
        text = (
            cursor.selectedText().replace("\u2029", "\n")
            if cursor.hasSelection()
            else (self.view.toPlainText())
        )
        QApplication.clipboard().setText(text)

    def show_find(self) -> None:
        self.find_bar.open()

    def find_text(self, text: str, *, backward: bool = False) -> bool:
        """Select the next match (wrapping around); False when there is none."""
        if not text:
            return False
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        if self._following:  # the person is looking at the end: the newest match first
            self.view.moveCursor(QTextCursor.MoveOperation.End)
            flags = QTextDocument.FindFlag.FindBackward
        if self.view.find(text, flags):
            self._following = False
            return True
        before = self.view.textCursor()
        scroll = self.view.verticalScrollBar().value()
        cursor = self.view.textCursor()
        cursor.movePosition(
            QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
        )
        self.view.setTextCursor(cursor)
        found = self.view.find(text, flags)
        if found:
            self._following = False
        else:  # no match anywhere: stay where the person was (and keep following)
            self.view.setTextCursor(before)
            self.view.verticalScrollBar().setValue(scroll)
        return found

    def block_count(self) -> int:
        return self.view.document().blockCount()

    def plain_text(self) -> str:
        return self.view.toPlainText()

    def raw_text(self) -> str:
        """What the Raw log tab shows."""
        return self.raw_view.toPlainText()


def _empty_text(task: Task) -> str:
    """What an empty pane says instead of being a blank box."""
    state = task.state
    if task.waits_until is not None:
        return "It starts by itself when its wait above is over."
    if state is RunState.QUEUED and task.waiting_for is not None:
        return f"Queued, {waiting_label(task)}: one task at a time in a folder."
    if state is RunState.QUEUED:
        return (
            "Queued: it starts when one of the agents now running ends (Settings → Agents at once)."
        )
    if state in (RunState.STARTING, RunState.RUNNING):
        return "No output yet."
    return "This run printed nothing."


def _char_format(style: ansi.Style, default_fg: QColor, default_bg: QColor) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fg = QColor(style.fg) if style.fg else None
    bg = QColor(style.bg) if style.bg else None
    if style.inverse:
        fg, bg = (bg or QColor(default_bg)), (fg or default_fg)
    if fg is not None:
        if style.dim:
            fg.setAlpha(160)
        fmt.setForeground(fg)
    elif style.dim:
        dimmed = QColor(default_fg)
        dimmed.setAlpha(140)
        fmt.setForeground(dimmed)
    if bg is not None:
        fmt.setBackground(bg)
    if style.bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(style.italic)
    fmt.setFontUnderline(style.underline)
    return fmt
