"""The output pane: bounded however long the log, colours rendered, the end followed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QTextCursor

from app.core import ansi
from app.core.models import Run, Task, TaskSpec
from app.core.states import RunState
from app.ui.output_pane import DEFAULT_MAX_BLOCKS, OutputPane

ESCAPES = [
    "\x1b[1;31mERROR\x1b[0m plain",
    "\x1b[38;5;208morange\x1b[39m and \x1b[38;2;10;20;30mtrue colour\x1b[0m",
    "progress 10%\rprogress 100%",
    "\x1b]8;;https://example.com\x07a link\x1b]8;;\x07 after",
    "\x1b[2K\x1b[1Gcleared line",
    "\x1b[?25lhidden cursor\x1b[?25h",
    "bell\x07 and tab\tkept",
]


@pytest.fixture
def pane(qtbot: Any) -> OutputPane:
    widget = OutputPane(1)
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    widget.show()
    return widget


def test_the_pane_holds_no_more_than_its_block_limit_after_200000_lines(pane: OutputPane) -> None:
    for start in range(0, 200_000, 5_000):
        pane.append_lines(f"line {n}" for n in range(start, start + 5_000))
        pane.flush_all()
    assert pane.block_count() <= DEFAULT_MAX_BLOCKS
    assert pane.plain_text().split("\n")[-1] == "line 199999"


def test_a_single_burst_larger_than_the_limit_keeps_only_the_newest_lines(qtbot: Any) -> None:
    pane = OutputPane(1, max_blocks=100)
    qtbot.addWidget(pane)
    pane.show()
    pane.append_lines(str(n) for n in range(10_000))
    pane.flush_all()
    assert pane.plain_text().split("\n") == [str(n) for n in range(9_900, 10_000)]


def test_ansi_sequences_never_appear_as_raw_escape_codes(pane: OutputPane) -> None:
    pane.append_lines(ESCAPES)
    pane.flush_all()
    text = pane.plain_text()
    assert "\x1b" not in text and "\x07" not in text
    for raw in ("[1;31m", "[0m", "[38;5", "]8;;", "[2K", "[?25"):
        assert raw not in text
    assert text.split("\n") == [
        "ERROR plain",
        "orange and true colour",
        "progress 100%",
        "a link after",
        "cleared line",
        "hidden cursor",
        "bell and tab\tkept",
    ]


def test_colours_are_rendered_as_text_formats(pane: OutputPane) -> None:
    pane.append_lines(["\x1b[31mred\x1b[0m normal"])
    pane.flush_all()
    cursor = QTextCursor(pane.view.document())
    cursor.movePosition(QTextCursor.MoveOperation.Right)
    red = cursor.charFormat().foreground().color()
    assert red == QColor("#cc3333")
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    assert cursor.charFormat().foreground().color() != QColor("#cc3333")


def test_a_style_carries_over_to_the_next_line_like_a_terminal(pane: OutputPane) -> None:
    pane.append_lines(["\x1b[32mgreen starts", "still green\x1b[0m", "plain"])
    pane.flush_all()
    block = pane.view.document().findBlockByNumber(1)
    cursor = QTextCursor(block)
    cursor.movePosition(QTextCursor.MoveOperation.Right)
    base = pane.view.palette().base().color().name()
    green = ansi.themed(ansi.Style(fg=ansi.BASIC[2]), base).fg  # the theme's readable green
    assert cursor.charFormat().foreground().color() == QColor(green)


def test_the_pane_follows_the_end_until_the_person_scrolls_up(pane: OutputPane) -> None:
    pane.append_lines(str(n) for n in range(500))
    pane.flush_all()
    bar = pane.view.verticalScrollBar()
    assert pane.is_following() and bar.value() == bar.maximum()
    bar.setValue(0)
    assert not pane.is_following() and pane.jump_button.isVisible()
    pane.append_lines(str(n) for n in range(500, 600))
    pane.flush_all()
    assert bar.value() == 0  # reading stays put while output grows
    pane.jump_button.click()
    assert pane.is_following() and bar.value() == bar.maximum()
    assert not pane.jump_button.isVisible()


def test_find_selects_matches_and_wraps_around(pane: OutputPane) -> None:
    pane.append_lines(["alpha", "needle one", "beta", "needle two"])
    pane.flush_all()
    assert pane.is_following()
    assert pane.find_text("needle")  # following the end: the newest match first
    assert pane.view.textCursor().block().text() == "needle two"
    assert not pane.is_following()
    assert pane.find_text("needle")  # then on, wrapping to the top
    assert pane.view.textCursor().block().text() == "needle one"
    assert pane.find_text("needle")
    assert pane.view.textCursor().block().text() == "needle two"
    assert not pane.find_text("absent")


def test_a_hidden_pane_only_buffers_and_draws_when_shown(qtbot: Any) -> None:
    pane = OutputPane(1, max_blocks=50)
    qtbot.addWidget(pane)
    pane.append_lines(str(n) for n in range(1_000))
    assert pane.plain_text() == ""
    pane.show()
    qtbot.waitUntil(lambda: pane.block_count() == 50)
    assert pane.plain_text().split("\n")[0] == "950"


def test_copy_puts_the_selection_or_everything_on_the_clipboard(
    pane: OutputPane, qapp: Any
) -> None:
    pane.append_lines(["first", "second"])
    pane.flush_all()
    pane.copy()
    assert qapp.clipboard().text() == "first\nsecond"


def test_a_find_with_no_match_keeps_the_place_and_an_empty_pane_says_why(
    pane: OutputPane, tmp_path: Path
) -> None:
    pane.append_lines(f"line {i}" for i in range(400))
    pane.flush_all()
    assert pane.find_text("line 37")
    place = (pane.view.verticalScrollBar().value(), pane.view.textCursor().position())
    assert not pane.find_text("no such words")
    after = (pane.view.verticalScrollBar().value(), pane.view.textCursor().position())
    assert after == place, "a failed Find moves nothing"

    def task(state: RunState) -> Task:
        run = Run(id=2, task_id=2, attempt=1, state=state, dir="d", priority=0, timeout=None,
                  created_at=0.0)  # fmt: skip
        return Task(2, "t", "shell", TaskSpec(argv=("true",), cwd="/tmp"), 0, 0.0, run)

    pane.set_task(task(RunState.QUEUED), tmp_path / "output.log")
    assert pane.view.placeholderText().startswith("Queued")
    pane.set_task(task(RunState.RUNNING), tmp_path / "output.log")
    assert pane.view.placeholderText() == "No output yet."
