"""A task waiting for another's hold on its folder says so in the task list (DESIGN §7a)."""

from __future__ import annotations

from pathlib import Path

from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtCore import Qt

from app.core.models import TaskSpec
from app.ui.task_model import TaskTableModel


def test_the_task_list_says_which_task_a_queued_holder_waits_for_until_its_turn(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    gate = work_dir / "go"
    holder = ["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"]
    ids = [
        window.submit(TaskSpec(argv=tuple(argv), cwd=str(work_dir), lock=True))
        for argv in (holder, ["true"], ["true"])
    ]
    first, second, third = (i for i in ids if i is not None)
    driver.wait(lambda: home.run(first).state.value == "running")

    def started_text(task_id: int) -> str:
        row = window.model.row_of(task_id)
        assert row is not None
        return str(window.model.index(row, TaskTableModel.STARTED).data())

    driver.wait(lambda: started_text(second) == f"waiting for #{first}")
    assert started_text(third) == f"waiting for #{first}"  # the holder, not the queue
    row = window.model.row_of(second)
    assert row is not None
    tip = window.model.index(row, TaskTableModel.TITLE).data(Qt.ItemDataRole.ToolTipRole)
    assert f"Waiting for #{first} on {work_dir.resolve()}" in tip

    gate.touch()  # the holder ends: the others run in turn, and stop saying they wait
    driver.wait(lambda: home.run(third).state.value == "succeeded")
    driver.wait(lambda: "waiting" not in started_text(second) + started_text(third))


def test_the_output_pane_header_says_which_task_and_folder_it_waits_for(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    gate = work_dir / "go"
    holder = ("sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done")
    first = window.submit(TaskSpec(argv=holder, cwd=str(work_dir), lock=True))
    driver.wait(lambda: first is not None and home.run(first).state.value == "running")
    second = window.submit(TaskSpec(argv=("true",), cwd=str(work_dir), lock=True))
    assert second is not None
    pane = window.open_task(second)
    assert pane is not None
    driver.wait(
        lambda: f"waiting for #{first} on {work_dir.name}" in pane.header.state_label.text()
    )
    assert f"Waiting for #{first} on {work_dir.resolve()}" in pane.header.state_label.toolTip()
    assert f"in {work_dir}" in pane.header.command_label.full_text()  # the folder, in full
    assert f"Queued, waiting for #{first} on" in pane.view.placeholderText()

    gate.touch()  # its turn comes: the header stops saying it waits
    driver.wait(lambda: home.run(second).state.value == "succeeded")
    driver.wait(lambda: "waiting for" not in pane.header.state_label.text())
