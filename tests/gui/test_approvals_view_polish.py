"""The approval dialog and the Approvals inbox read well and decide safely."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtCore import QMetaMethod, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFormLayout, QHeaderView, QLabel

from app.core.approvals import Approval, ApprovalState
from app.core.models import TaskSpec
from app.core.platform import current_user
from app.core.workflow_models import Checkpoint
from app.core.workflow_states import CheckpointState
from app.store import approval_repo
from app.ui import theme
from app.ui.approval_text import DIFF_COLORS, describe_input
from app.ui.approvals_view import (
    ARM_DELAY_MS,
    DETAILS_MAX_LINES,
    ApprovalDialog,
    ApprovalsInbox,
)

NOW = time.time()


def _approval(
    key: str = "a1",
    tool: str = "Bash",
    tool_input: dict[str, Any] | None = None,
    *,
    agent: str = "claude",
    state: ApprovalState = ApprovalState.PENDING,
    task_id: int = 5,
    decided_by: str | None = None,
) -> Approval:
    return Approval(
        id=key, run_id=1, task_id=task_id, agent=agent, tool=tool, cwd="/w", state=state,
        input=tool_input if tool_input is not None else {"command": "make build"},
        created_at=NOW - 60, expires_at=NOW + 900, decided_by=decided_by,
    )  # fmt: skip


EDIT = {
    "file_path": "/tmp/work/src/validators.py",
    "old_string": "if len(pw) < 7:\n    raise ValueError('short')\n",
    "new_string": "if len(pw) < MIN:\n    raise ValueError('too short')\n",
}


@pytest.fixture
def dark(qapp: QApplication) -> Iterator[None]:
    """The app in its dark palette for one test."""
    before = QPalette(qapp.palette())
    qapp.setPalette(theme.palette("dark"))
    yield
    qapp.setPalette(before)


@pytest.fixture
def light(qapp: QApplication) -> Iterator[None]:
    before = QPalette(qapp.palette())
    qapp.setPalette(theme.palette("light"))
    yield
    qapp.setPalette(before)


def _dialog(qtbot: Any, approval: Approval, title: str = "Fix the login") -> ApprovalDialog:
    dialog = ApprovalDialog(approval, title)
    qtbot.addWidget(dialog)
    return dialog


def _line_colors(dialog: ApprovalDialog) -> dict[str, QColor | None]:
    """Each line of the details box and the colour its text is drawn in (None: default)."""
    QApplication.processEvents()  # a highlighter colours the document on the next turn
    colors: dict[str, QColor | None] = {}
    block = dialog.details.document().firstBlock()
    while block.isValid():
        formats = block.layout().formats()
        color = formats[0].format.foreground().color() if formats else None
        if formats and formats[0].format.foreground().style() == Qt.BrushStyle.NoBrush:
            color = None
        colors[block.text()] = color
        block = block.next()
    return colors


# ---------------------------------------------------------------- the dialog


def test_the_agent_is_named_by_its_label_and_an_unknown_one_by_its_name(qtbot: Any) -> None:
    dialog = _dialog(qtbot, _approval(agent="claude"))
    heads = [label.text() for label in dialog.findChildren(QLabel)]
    assert any("<b>Claude Code</b> working on task #5" in text for text in heads)
    other = _dialog(qtbot, _approval(agent="mystery-agent"))
    assert any("<b>mystery-agent</b>" in label.text() for label in other.findChildren(QLabel))


def test_a_one_line_command_gets_a_small_box_and_a_long_diff_a_bounded_one(qtbot: Any) -> None:
    short = _dialog(qtbot, _approval(tool_input={"command": "ls"}))
    short.show()
    qtbot.waitExposed(short)
    line = short.details.fontMetrics().lineSpacing()
    assert short.details.height() <= 4 * line + 20  # three lines and the frame, not 330 px
    assert short.height() < 300

    content = "".join(f"x = {i}\n" for i in range(200))
    big = _dialog(qtbot, _approval(tool="Write", tool_input={"file_path": "x.py",
                                                               "content": content}))  # fmt: skip
    big.show()
    qtbot.waitExposed(big)
    assert big.details.height() <= DETAILS_MAX_LINES * line + 20
    assert big.details.height() > 15 * line
    assert big.details.verticalScrollBar().maximum() > 0  # the rest scrolls


def test_allow_scopes_and_the_deny_reason_are_labelled_and_read_top_to_bottom(
    qtbot: Any,
) -> None:
    dialog = _dialog(qtbot, _approval(tool="mcp__github__create_pull_request_review_comment"))
    dialog.show()
    qtbot.waitExposed(dialog)
    (form,) = dialog.findChildren(QFormLayout)
    labels = [form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text()  # type: ignore[union-attr]
              for row in range(form.rowCount())]  # fmt: skip
    assert labels == ["If you allow:", "Reason if you deny:"]

    def top(widget: Any) -> int:
        return int(widget.mapTo(dialog, widget.rect().topLeft()).y())

    radios = (dialog.once, dialog.for_task, dialog.for_project)
    order = [dialog.details, *radios, dialog.reason, dialog.allow_button]
    assert [top(w) for w in order] == sorted(top(w) for w in order)
    assert len({top(w) for w in order}) == len(order)  # one per line: the radios are stacked
    assert len({r.mapTo(dialog, r.rect().topLeft()).x() for r in radios}) == 1
    for radio in radios:  # a long tool name stays inside the dialog
        assert radio.mapTo(dialog, radio.rect().topRight()).x() < dialog.width()


def test_an_absolute_path_is_shown_in_the_diff_headers_without_a_double_slash() -> None:
    shown = describe_input(_approval(tool="Edit", tool_input=EDIT))
    assert "//" not in shown
    assert shown.startswith("--- /tmp/work/src/validators.py\n+++ /tmp/work/src/validators.py\n")
    windows = describe_input(_approval(tool="Edit", tool_input={**EDIT, "file_path": "C:\\x.py"}))
    assert windows.startswith("--- C:\\x.py\n+++ C:\\x.py\n")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_added_and_removed_lines_are_green_and_red_for_the_theme(
    qtbot: Any, scheme: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(scheme)
    dialog = _dialog(qtbot, _approval(tool="Edit", tool_input=EDIT))
    colors = _line_colors(dialog)
    expected = DIFF_COLORS[scheme == "dark"]
    assert colors["-if len(pw) < 7:"] == QColor(expected["removed"])
    assert colors["+if len(pw) < MIN:"] == QColor(expected["added"])
    assert colors["@@ -1,2 +1,2 @@"] == QColor(expected["hunk"])
    background = QApplication.palette().color(QPalette.ColorRole.Base)
    for kind in ("added", "removed"):  # readable: well apart from the background
        assert abs(QColor(expected[kind]).lightness() - background.lightness()) > 60


def test_a_removed_line_that_starts_with_dashes_is_still_red(qtbot: Any, light: None) -> None:
    sql = {"file_path": "q.sql", "old_string": "-- old note\nSELECT 1;\n",
           "new_string": "SELECT 1;\n"}  # fmt: skip
    colors = _line_colors(_dialog(qtbot, _approval(tool="Edit", tool_input=sql)))
    assert colors["--- old note"] == QColor(DIFF_COLORS[False]["removed"])
    assert colors["--- a/q.sql"] is None or colors["--- a/q.sql"] != QColor(
        DIFF_COLORS[False]["removed"]
    )
    assert colors[" SELECT 1;"] is None


def test_a_command_is_not_coloured_as_a_diff(qtbot: Any, light: None) -> None:
    dialog = _dialog(qtbot, _approval(tool_input={"command": "ls\n-rf\n+x"}))
    assert dialog.highlighter is None
    assert set(_line_colors(dialog).values()) == {None}


def test_the_diff_colours_follow_a_theme_change_while_open(
    qtbot: Any, qapp: QApplication, light: None
) -> None:
    dialog = _dialog(qtbot, _approval(tool="Edit", tool_input=EDIT))
    dialog.show()
    qapp.setPalette(theme.palette("dark"))
    qtbot.waitUntil(lambda: dialog.highlighter is not None and dialog.highlighter.dark)
    assert _line_colors(dialog)["+if len(pw) < MIN:"] == QColor(DIFF_COLORS[True]["added"])


def test_enter_never_allows_before_the_arm_delay_nor_from_the_reason_field(qtbot: Any) -> None:
    dialog = _dialog(qtbot, _approval())
    decisions: list[tuple[Any, ...]] = []
    dialog.decided.connect(lambda *args: decisions.append(args))
    dialog.show()
    qtbot.waitExposed(dialog)
    QTest.keyClick(dialog, Qt.Key.Key_Return)  # a stray key press at once
    assert decisions == [] and not dialog.armed
    qtbot.waitUntil(lambda: dialog.armed, timeout=ARM_DELAY_MS + 2000)

    dialog.reason.setFocus()
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)  # empty reason: nothing at all
    assert decisions == [] and dialog.isVisible()
    QTest.keyClicks(dialog.reason, "use make instead")
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)  # a reason written: that is a no
    assert decisions == [("a1", False, "use make instead", None)]


def test_enter_allows_once_armed_with_the_chosen_scope(qtbot: Any) -> None:
    dialog = _dialog(qtbot, _approval())
    dialog.show()
    qtbot.waitUntil(lambda: dialog.armed, timeout=ARM_DELAY_MS + 2000)
    dialog.for_project.setChecked(True)
    with qtbot.waitSignal(dialog.decided) as signal:
        QTest.keyClick(dialog, Qt.Key.Key_Return)
    assert signal.args == ["a1", True, None, "project"]


# ---------------------------------------------------------------- the inbox


def _inbox(qtbot: Any, titles: dict[int, str] | None = None, listen: bool = True) -> ApprovalsInbox:
    inbox = ApprovalsInbox(task_title=titles.get if titles is not None else None)
    qtbot.addWidget(inbox)
    if listen:
        inbox.decided.connect(lambda *_args: None)
    return inbox


CHECKPOINT = Checkpoint(id=9, workflow_id=2, step_id=3, state=CheckpointState.PENDING,
                        result_text="plan", created_at=NOW, step_name="plan",
                        workflow_name="build")  # fmt: skip


def _fill(inbox: ApprovalsInbox) -> None:
    past = _approval("old", "web_fetch", {"url": "https://example.com"},
                     state=ApprovalState.DENIED, decided_by="user")  # fmt: skip
    other = _approval("a2", "Edit", EDIT, task_id=6)
    inbox.show_approvals([_approval("a1"), other], [past], [CHECKPOINT])


def _cells(inbox: ApprovalsInbox, column: int) -> list[str]:
    table = inbox.table
    return [table.item(row, column).text() for row in range(table.rowCount())]  # type: ignore[union-attr]


def test_rows_stay_on_one_line_without_grid_and_the_short_columns_fit(qtbot: Any) -> None:
    inbox = _inbox(qtbot)
    _fill(inbox)
    inbox.show()
    qtbot.waitExposed(inbox)
    table = inbox.table
    assert not table.wordWrap() and not table.showGrid()
    header = table.horizontalHeader()
    modes = [header.sectionResizeMode(c) for c in range(table.columnCount())]
    fit, stretch = QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch
    assert modes == [fit, fit, fit, stretch, fit, fit]
    for row in range(table.rowCount()):  # each short cell fits its column on one line
        for column in (0, 1, 2, 4, 5):
            item = table.item(row, column)
            assert item is not None
            width = QFontMetrics(item.font()).horizontalAdvance(item.text())
            assert table.columnWidth(column) >= width, (row, column, item.text())
    assert "Double-click a waiting request" in inbox.hint.text() and inbox.hint.isVisible()


def test_states_are_capitalised_and_tasks_carry_their_titles(qtbot: Any) -> None:
    inbox = _inbox(qtbot, titles={5: "Fix the login page", 6: "x" * 80})
    _fill(inbox)
    assert _cells(inbox, 4) == ["Pending", "Pending", "Pending", "Denied"]
    tasks = _cells(inbox, 1)
    assert tasks[0] == "workflow #2" and tasks[1] == "#5 Fix the login page"
    assert tasks[2].startswith("#6 xxx") and tasks[2].endswith("…") and len(tasks[2]) < 40
    assert inbox.table.item(2, 1).toolTip() == "#6 " + "x" * 80  # type: ignore[union-attr]
    assert tasks[3] == "#5 Fix the login page"


def test_without_titles_a_task_is_its_number(qtbot: Any) -> None:
    inbox = _inbox(qtbot)
    _fill(inbox)
    assert _cells(inbox, 1)[1:] == ["#5", "#6", "#5"]


def test_allow_and_deny_act_on_the_selected_waiting_request_once(qtbot: Any) -> None:
    inbox = _inbox(qtbot, listen=False)
    decisions: list[tuple[Any, ...]] = []
    inbox.decided.connect(lambda *args: decisions.append(args))
    _fill(inbox)
    assert not inbox.allow_button.isEnabled() and not inbox.deny_button.isEnabled()

    inbox.table.selectRow(1)
    assert inbox.allow_button.isEnabled() and inbox.deny_button.isEnabled()
    inbox.allow_button.click()
    assert decisions == [("a1", True, None, None)]
    assert not inbox.allow_button.isEnabled()  # no second answer while the list catches up
    inbox.allow_button.click()
    assert len(decisions) == 1

    inbox.table.selectRow(2)
    inbox.deny_button.click()
    assert decisions[-1] == ("a2", False, None, None)


def test_the_selection_survives_a_refresh(qtbot: Any) -> None:
    inbox = _inbox(qtbot)
    _fill(inbox)
    inbox.table.selectRow(2)
    inbox.show_approvals([_approval("a0"), _approval("a1"), _approval("a2")], [], [])
    assert inbox.selected_key() == "a2" and inbox.allow_button.isEnabled()


def test_past_decisions_have_nothing_to_answer_and_checkpoints_are_reviewed(qtbot: Any) -> None:
    inbox = _inbox(qtbot)
    _fill(inbox)
    inbox.table.selectRow(3)  # denied already
    assert not any(b.isEnabled() for b in (inbox.answer_button, inbox.allow_button,
                                           inbox.deny_button))  # fmt: skip
    inbox.table.selectRow(0)  # a checkpoint: only its own dialog can resolve it
    assert inbox.answer_button.isEnabled() and inbox.answer_button.text() == "Review…"
    assert not inbox.allow_button.isEnabled() and not inbox.deny_button.isEnabled()
    with qtbot.waitSignal(inbox.checkpointRequested) as signal:
        inbox.answer_button.click()
    assert signal.args == [9]


def test_answer_opens_the_requests_own_dialog(qtbot: Any) -> None:
    inbox = _inbox(qtbot)
    _fill(inbox)
    inbox.table.selectRow(2)
    assert inbox.answer_button.text() == "Answer…"
    with qtbot.waitSignal(inbox.openRequested) as signal:
        inbox.answer_button.click()
    assert signal.args == ["a2"]


def test_enter_in_the_inbox_decides_nothing(qtbot: Any) -> None:
    inbox = _inbox(qtbot, listen=False)
    decisions: list[tuple[Any, ...]] = []
    inbox.decided.connect(lambda *args: decisions.append(args))
    _fill(inbox)
    inbox.show()
    qtbot.waitExposed(inbox)
    inbox.table.selectRow(1)
    inbox.table.setFocus()
    QTest.keyClick(inbox.table, Qt.Key.Key_Return)
    QTest.keyClick(inbox, Qt.Key.Key_Return)
    assert decisions == []
    assert not any(b.isDefault() or b.autoDefault() for b in (inbox.allow_button,
                                                                inbox.deny_button))  # fmt: skip


def test_allow_and_deny_are_hidden_until_something_records_the_decision(qtbot: Any) -> None:
    inbox = _inbox(qtbot, listen=False)
    _fill(inbox)
    inbox.show()
    inbox.table.selectRow(1)
    assert inbox.answer_button.isVisible()
    assert not inbox.allow_button.isVisible() and not inbox.deny_button.isVisible()
    inbox.decided.connect(lambda *_args: None)
    inbox.show_approvals([_approval("a1")], [], [])
    assert inbox.allow_button.isVisible() and inbox.deny_button.isVisible()


def test_allow_once_from_the_inbox_takes_the_dialogs_decision_path(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    assert app.window is not None
    task_id = app.window.submit(
        TaskSpec(argv=(sys.executable, "-c", "import time; time.sleep(60)"), cwd=str(work_dir))
    )
    assert task_id is not None
    driver.wait(lambda: home.run(task_id).state.value == "running")
    conn = app.supervisor.conn
    approval = approval_repo.create(
        conn, run_id=home.run(task_id).id, task_id=task_id, agent="claude", tool="Bash",
        tool_input={"command": "make build"}, cwd=str(work_dir), expires_in=600,
    )  # fmt: skip
    if conn.in_transaction:
        conn.commit()
    attention = app.attention
    assert attention is not None
    driver.wait(lambda: approval.id in attention.approval_dialogs)
    dialog = attention.approval_dialogs[approval.id]

    inbox = attention.show_inbox()
    # As ApprovalDialog.decided is: the inbox's decisions go to Attention.decide.
    if not inbox.isSignalConnected(QMetaMethod.fromSignal(inbox.decided)):
        inbox.decided.connect(attention.decide)
        inbox.show_approvals(app.supervisor.approvals.waiting(), [], [])
    row = inbox._ids.index(approval.id)
    inbox.table.selectRow(row)
    inbox.allow_button.click()

    with home.db() as db:
        decided = approval_repo.get(db, approval.id)
    assert decided.state is ApprovalState.ALLOWED
    assert decided.decided_by == current_user(), "the login name, as checkpoints record it"
    driver.wait(lambda: "Allowed" in _cells(inbox, 4))
    driver.wait(lambda: "Already allowed" in dialog.expiry.text())  # its dialog hears of it


def test_a_codex_shell_call_says_what_a_yes_also_lets_through(qtbot: Any) -> None:
    from app.ui.approval_text import caveat

    codex = Approval(
        id="c", run_id=1, task_id=1, agent="codex", tool="Bash", cwd="/w",
        state=ApprovalState.PENDING, created_at=0, expires_at=1, input={"command": "python3"},
    )  # fmt: skip
    assert "type more into it" in caveat(codex)
    assert caveat(dataclasses.replace(codex, agent="claude")) == ""
