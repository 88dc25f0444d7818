"""Several tool calls waiting: one dialog on screen at a time, saying "1 of 3"."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtCore import QSize

from app.core.approvals import Approval
from app.core.models import TaskSpec
from app.store import approval_repo
from app.ui.approvals_view import ApprovalDialog
from app.ui.attention import Attention
from app.ui.icons import NEEDS_YOU, STATE_COLORS, state_icon
from app.ui.notify import TrayIcon
from app.ui.task_list import meta_line


def _start(driver: AppDriver, home: Home, work_dir: Path) -> tuple[Attention, int]:
    app = driver.start()
    assert app.window is not None and app.attention is not None
    task_id = app.window.submit(
        TaskSpec(argv=(sys.executable, "-c", "import time; time.sleep(60)"), cwd=str(work_dir))
    )
    assert task_id is not None
    driver.wait(lambda: home.run(task_id).state.value == "running")
    return app.attention, task_id


def _ask(attention: Attention, home: Home, task_id: int, command: str) -> Approval:
    conn = attention.supervisor.conn
    approval = approval_repo.create(
        conn, run_id=home.run(task_id).id, task_id=task_id, agent="claude", tool="Bash",
        tool_input={"command": command}, cwd="/w", expires_in=600,
    )  # fmt: skip
    if conn.in_transaction:
        conn.commit()
    return approval


def _visible(attention: Attention) -> list[ApprovalDialog]:
    return [d for d in attention.approval_dialogs.values() if d.isVisible()]


def test_calls_that_wait_together_are_queued_in_one_dialog_that_counts_them(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    attention, task_id = _start(driver, home, work_dir)
    first, second, third = (_ask(attention, home, task_id, f"make step{n}") for n in (1, 2, 3))
    driver.wait(lambda: len(attention.approval_dialogs) == 3)

    shown = _visible(attention)
    assert [d.approval.id for d in shown] == [first.id], "one dialog, the first call's"
    assert shown[0].position.text() == "<b>1 of 3</b> waiting"
    assert shown[0].windowTitle().startswith("(1 of 3) Allow Bash?")
    assert not shown[0].previous_button.isEnabled() and shown[0].next_button.isEnabled()

    shown[0].next_button.click()  # look at the next one without answering
    assert [d.approval.id for d in _visible(attention)] == [second.id]
    assert attention.approval_dialogs[second.id].position.text() == "<b>2 of 3</b> waiting"

    attention.approval_dialogs[second.id].deny_button.click()  # answered: the next comes up
    driver.wait(lambda: [d.approval.id for d in _visible(attention)] == [third.id])
    assert attention.approval_dialogs[third.id].position.text() == "<b>2 of 2</b> waiting"

    # Answered elsewhere (the CLI) while waiting behind the shown one: it leaves the queue.
    attention.supervisor.approvals.decide(first.id, allow=True)
    driver.wait(lambda: first.id not in attention.approval_dialogs)
    dialog = attention.approval_dialogs[third.id]
    assert dialog.isVisible() and not dialog.position.isVisible(), "a lone call: no count"
    assert dialog.windowTitle() == "Allow Bash? — Agentry"


def test_the_tray_counts_what_waits_for_you_and_badges_its_icon(qapp: object) -> None:
    tray = TrayIcon()
    tray.set_counts(2, 1, 0)
    assert tray.toolTip() == "Agentry — 2 running, 1 queued"
    plain = tray.icon().cacheKey()
    tray.set_counts(2, 1, 1, needs_you=3)
    assert tray.toolTip() == "Agentry — 3 waiting for you, 2 running, 1 queued, 1 need attention"
    assert tray.icon().cacheKey() != plain
    image = tray.icon().pixmap(QSize(64, 64)).toImage()
    assert image.pixelColor(52, 8).name() == STATE_COLORS[NEEDS_YOU]
    tray.set_counts(2, 1, 0, needs_you=0)
    assert tray.toolTip() == "Agentry — 2 running, 1 queued"


def test_a_task_whose_call_waits_shows_it_needs_you_in_its_row_and_tab(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    attention, task_id = _start(driver, home, work_dir)
    window = attention.window
    model = window.model
    assert not model.needs_you(task_id)
    approval = _ask(attention, home, task_id, "make deploy")
    driver.wait(lambda: model.needs_you(task_id))
    task = model.task(task_id)
    assert task is not None
    line = meta_line(task, needs_you=True)
    assert line.startswith(f"{task.agent} · needs you")
    tab = window.tabs.indexOf(window.panes[task_id])
    needs_you_icon = state_icon(NEEDS_YOU).pixmap(16, 16).toImage()
    assert window.tabs.tabIcon(tab).pixmap(16, 16).toImage() == needs_you_icon
    assert window.tabs.tabToolTip(tab).startswith("Needs you")

    attention.supervisor.approvals.decide(approval.id, allow=False)
    driver.wait(lambda: not model.needs_you(task_id))
    assert window.tabs.tabIcon(tab).pixmap(16, 16).toImage() != needs_you_icon
