"""The recovery screen, its history and the start-up error screen, offscreen.

Widget tests use reports built here; the end-to-end ones use a real data folder that a
SIGKILLed or still-running supervisor left behind.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home, alive
from helpers.gitrepo import isolate_git, make_repo
from helpers.gui import AppDriver
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView

from app.core.locations import Locations
from app.core.models import RecoveryCause, RecoveryReport, WorktreeRepair
from app.core.states import RunState
from app.core.workspaces import WorkspaceState
from app.store import workspace_repo
from app.store.db import transaction
from app.ui.icons import state_icon
from app.ui.labels import STATE_LABELS
from app.ui.recovery_history import UNCLEAN_FLAG, RecoveryHistoryDialog
from app.ui.recovery_report import RecoveryReportView, TaskLine
from app.ui.recovery_screen import RecoveryScreen
from app.ui.startup_error import StartupErrorScreen

LONG_TITLE = "Migrate the database to the new schema with zero downtime and a rollback plan"
LOST_NOTE = (
    "its runner (pid 31865) is gone and left no exit.json (killed, crashed, or the computer "
    "restarted)"
)
TASKS = {
    1: TaskLine("Long refactor", "running", None),
    2: TaskLine("Test suite", "failed", 1),
    3: TaskLine("Lint and format", "succeeded", 0),
    4: TaskLine(LONG_TITLE, "interrupted", None, can_resume=True),
    5: TaskLine("Write docs", "queued", None),
    7: TaskLine("Nightly build", "running", None),
}
ALREADY_RUNNING = (
    "Another Agentry supervisor is already running for /tmp/x/home-err: pid 32211 (headless, "
    "started 2026-11-29 16:15:04 on vm). Use that one, or stop it first."
)


def describe(task_id: int) -> TaskLine | None:
    return TASKS.get(task_id)


def _troubled() -> RecoveryReport:
    return RecoveryReport(
        started_at=time.time(),
        previous_clean=False,
        duration_ms=2.0,
        reattached=[1],
        finished=[2, 3],
        interrupted=[4],
        queued=[5],
        notes={
            2: "ended while Agentry was away — exit code 1",
            3: "ended while Agentry was away — exit code 0",
            4: LOST_NOTE,
        },
        causes={4: RecoveryCause.RUNNER_DIED},
        exit_codes={2: 1, 3: 0},
    )


def _only_reattached(clean: bool = False) -> RecoveryReport:
    return RecoveryReport(
        started_at=time.time(), previous_clean=clean, duration_ms=1.0, reattached=[1, 7]
    )


def _screen(qtbot: Any, report: RecoveryReport) -> RecoveryScreen:
    screen = RecoveryScreen(report, describe)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


# ------------------------------------------------------------------ the recovery screen


def test_rows_say_what_happened_in_plain_words_and_keep_the_detail_in_the_tooltip(
    qtbot: Any,
) -> None:
    screen = _screen(qtbot, _troubled())
    what = RecoveryReportView.WHAT_COLUMN
    rows = screen.view.rows
    assert rows[4].text(what) == "Stopped unexpectedly (killed or crashed)"
    assert "pid" not in rows[4].text(what) and "exit.json" not in rows[4].text(what)
    assert "pid 31865" in rows[4].toolTip(what) and "exit.json" in rows[4].toolTip(what)
    assert rows[2].text(what) == "Finished with exit code 1"
    assert rows[3].text(what) == "Finished successfully"
    assert rows[1].text(what) == "Still running — reattached"
    assert rows[5].text(what) == "Waiting in the queue"
    # nothing elided: the column is as wide as its longest sentence
    longest = max(screen.view.sizeHintForColumn(what), 0)
    assert screen.view.columnWidth(what) >= longest


def test_states_use_the_task_list_display_names(qtbot: Any) -> None:
    screen = _screen(qtbot, _troubled())
    state = RecoveryReportView.STATE_COLUMN
    rows = screen.view.rows
    assert rows[2].text(state) == STATE_LABELS[RunState.FAILED] == "Failed"
    assert rows[3].text(state) == STATE_LABELS[RunState.SUCCEEDED]
    assert rows[4].text(state) == STATE_LABELS[RunState.INTERRUPTED]
    assert rows[1].text(state) == STATE_LABELS[RunState.RUNNING]
    assert all(row.text(state)[:1].isupper() for row in rows.values())


def test_finished_group_warns_when_a_finished_task_failed(qtbot: Any) -> None:
    success = state_icon("succeeded").cacheKey()
    troubled = _screen(qtbot, _troubled())
    group = troubled.view.group("finished")
    assert group.icon(0).cacheKey() != success
    assert "1 did not succeed" in group.text(0)
    assert troubled.view.failed_finished == [2]

    all_good = RecoveryReport(
        started_at=time.time(),
        finished=[3],
        notes={3: "ended while Agentry was away — exit code 0"},
        exit_codes={3: 0},
    )
    fine = _screen(qtbot, all_good)
    assert fine.view.group("finished").icon(0).cacheKey() == success
    assert "did not succeed" not in fine.view.group("finished").text(0)


def test_the_title_column_stretches_and_the_full_title_is_in_its_tooltip(qtbot: Any) -> None:
    screen = _screen(qtbot, _troubled())
    view = screen.view
    header = view.header()
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Stretch
    assert view.columnWidth(0) > 250  # it used to be cut at a fixed 250 px
    assert view.rows[4].toolTip(0) == f"#4  {LONG_TITLE}"
    screen.resize(1400, 500)
    qtbot.waitUntil(lambda: view.columnWidth(0) > 500)


def test_interrupted_tasks_keep_their_actions_and_retry_works(qtbot: Any) -> None:
    screen = _screen(qtbot, _troubled())
    assert not screen.good_news
    assert not screen.view.isColumnHidden(RecoveryReportView.ACTIONS_COLUMN)
    assert screen.retry_all_button.isVisible() and screen.retry_all_button.isEnabled()
    with qtbot.waitSignal(screen.retryRequested) as blocker:
        screen.retry(4)
    assert blocker.args == [4]
    assert screen.view.rows[4].text(RecoveryReportView.ACTIONS_COLUMN) == "Queued again"
    assert not screen.retry_all_button.isEnabled()


def test_an_unclean_end_where_every_agent_kept_running_reads_as_good_news(
    qtbot: Any,
) -> None:
    screen = _screen(qtbot, _only_reattached())
    assert screen.good_news
    assert "All 2 agents kept running while Agentry was closed" in screen.title.text()
    assert "nothing needs you" in screen.summary.text()
    assert screen.continue_button.isVisible() and screen.continue_button.isDefault()
    assert not screen.retry_all_button.isVisible() and not screen.dismiss_all_button.isVisible()
    assert screen.view.isColumnHidden(RecoveryReportView.ACTIONS_COLUMN)
    for key in ("finished", "interrupted", "queued"):  # empty groups are not listed
        assert screen.view.group(key).isHidden()
    assert not screen.view.group("reattached").isHidden()
    assert screen.view.task_ids("reattached") == [1, 7]
    screen.continue_button.click()
    assert not screen.isVisible() and screen.result() == RecoveryScreen.DialogCode.Accepted


def test_one_agent_or_a_pending_approval_changes_the_heading(qtbot: Any) -> None:
    one = _screen(qtbot, RecoveryReport(started_at=0, previous_clean=False, reattached=[1]))
    assert "Your agent kept running while Agentry was closed" in one.title.text()
    waiting = _only_reattached()
    waiting.approvals = ["abc"]
    screen = _screen(qtbot, waiting)
    assert not screen.good_news
    assert "did not shut down cleanly" in screen.title.text()


# ------------------------------------------------------------------ recovery history


def test_history_hides_the_actions_column_and_explains_the_unclean_flag(qtbot: Any) -> None:
    reports = [_troubled(), _only_reattached(clean=True)]
    dialog = RecoveryHistoryDialog(reports, describe)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    view = dialog.view
    assert not view.live
    assert view.isColumnHidden(RecoveryReportView.ACTIONS_COLUMN)  # even with interrupted
    assert view.columnWidth(RecoveryReportView.WHAT_COLUMN) >= 140  # no more "Wha"
    assert view.rows[4].text(RecoveryReportView.WHAT_COLUMN).startswith("Stopped unexpectedly")
    assert view.rows[1].text(RecoveryReportView.WHAT_COLUMN) == "Kept running — reattached"
    # the list: no horizontal scrolling, the flag explained in a legend and a tooltip
    policy = dialog.list.horizontalScrollBarPolicy()
    assert policy == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    flagged, clean = dialog.list.item(0), dialog.list.item(1)
    assert flagged is not None and clean is not None
    assert UNCLEAN_FLAG in flagged.text() and UNCLEAN_FLAG not in clean.text()
    assert "not shut down cleanly" in flagged.toolTip()
    assert dialog.legend.isVisible() and UNCLEAN_FLAG in dialog.legend.text()
    widest = max(dialog.list.fontMetrics().horizontalAdvance(t) for t in flagged.text().split("\n"))
    assert dialog.list.viewport().width() >= widest
    dialog.list.setCurrentRow(1)
    assert "kept running" in dialog.headline.text()
    assert view.task_ids("reattached") == [1, 7]


def test_history_without_unclean_starts_has_no_legend(qtbot: Any) -> None:
    dialog = RecoveryHistoryDialog([_only_reattached(clean=True)], describe)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.legend.isVisible()


# ------------------------------------------------------------------ start-up error screen


def _error(
    qtbot: Any,
    message: str,
    folder: str = "/tmp/x/home-corrupt",
    *,
    already_running: bool = False,
) -> StartupErrorScreen:
    locations = Locations.in_one_folder(Path(folder))
    screen = StartupErrorScreen(message, locations, already_running=already_running)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def test_the_error_screen_is_wide_with_an_icon_and_an_unbroken_folder_line(qtbot: Any) -> None:
    screen = _error(qtbot, "/tmp/x/home-corrupt/agentry.db is not an Agentry database.")
    assert screen.width() >= 480 and screen.minimumWidth() >= 480
    pixmap = screen.icon.pixmap()
    assert not pixmap.isNull() and pixmap.width() >= 32
    assert screen.folder_label.text() == "Data folder: /tmp/x/home-corrupt"
    assert screen.folder_label.wordWrap() is False
    assert not screen.stop_button.isVisible()  # an ordinary error offers no stop
    assert screen.message.text() == "/tmp/x/home-corrupt/agentry.db is not an Agentry database."


def test_a_long_data_folder_is_elided_in_the_middle_not_wrapped(qtbot: Any) -> None:
    folder = "/home/someone/" + "/".join(["deeply-nested"] * 12) + "/Agentry"
    screen = _error(qtbot, "recovery failed", folder)
    assert screen.width() < 800
    text = screen.folder_label.text()
    assert "…" in text and text.endswith("/Agentry") and screen.folder_label.toolTip() == folder


def test_already_running_offers_to_stop_the_other_and_open_here(qtbot: Any) -> None:
    screen = _error(qtbot, ALREADY_RUNNING, "/tmp/x/home-err", already_running=True)
    assert screen.already_running and screen.stop_button.isVisible()
    running = [True]
    calls: list[str] = []
    screen.other_running = lambda: running[0]

    def noted(call: str) -> Callable[[], bool]:
        def note() -> bool:
            calls.append(call)
            return True

        return note

    screen.stop_other = noted("stop")
    screen.relaunch = noted("relaunch")
    screen.stop_button.click()
    assert calls == ["stop"] and "Asking" in screen.status.text()
    assert not screen.stop_button.isEnabled()
    running[0] = False  # the other one let go of the folder
    qtbot.waitUntil(lambda: calls == ["stop", "relaunch"], timeout=3_000)
    assert not screen.isVisible() and screen.result() == StartupErrorScreen.DialogCode.Accepted


def test_when_the_other_does_not_answer_the_screen_says_what_to_do(qtbot: Any) -> None:
    screen = _error(qtbot, ALREADY_RUNNING, "/tmp/x/home-err", already_running=True)
    screen.other_running = lambda: True
    screen.stop_other = lambda: False
    screen.stop_button.click()
    assert "did not answer" in screen.status.text() and "tray" in screen.status.text()
    assert screen.stop_button.isEnabled() and screen.stop_button.text() == "Try again"
    assert screen.isVisible()


# ------------------------------------------------------------------ end to end


def test_a_real_headless_supervisor_is_stopped_from_the_error_screen_and_agents_survive(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    server = home.serve()
    task_id = int(home.cli("run", "--cwd", str(work_dir), "--", "sleep", "30", check=True).stdout)
    home.wait_state(task_id, "running")
    agent = home.runner_info(task_id).agent_pid

    app = driver.start_expecting_failure()
    screen = app.error_screen
    assert screen is not None and screen.isVisible()
    assert screen.already_running and screen.stop_button.isVisible()
    relaunched: list[bool] = []

    def relaunch() -> bool:  # not a second app in a test
        relaunched.append(True)
        return True

    screen.relaunch = relaunch
    screen.stop_button.click()
    driver.wait(lambda: relaunched, timeout_ms=20_000)
    driver.wait(lambda: server.poll() is not None)
    assert alive(agent)
    driver.wait(app.finished.is_set)

    again = driver.start()  # what the relaunched window does: take the agents over
    assert again.supervisor.report is not None
    assert again.supervisor.report.reattached == [task_id]


def test_the_real_app_greets_an_unclean_end_with_only_live_agents_as_good_news(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    server = home.serve()
    ids = [
        int(home.cli("run", "--cwd", str(work_dir), "--", "sleep", "30", check=True).stdout)
        for _ in range(2)
    ]
    for task_id in ids:
        home.wait_state(task_id, "running")
    server.send_signal(signal.SIGKILL)
    server.wait()

    app = driver.start()
    screen = app.recovery_screen
    assert screen is not None and screen.isVisible()
    assert not screen.report.previous_clean  # still shown: the last session did not end well
    assert screen.good_news
    assert "All 2 agents kept running while Agentry was closed" in screen.title.text()
    assert screen.continue_button.isDefault()
    assert sorted(screen.view.task_ids("reattached")) == sorted(ids)
    assert screen.view.isColumnHidden(RecoveryReportView.ACTIONS_COLUMN)


def test_an_empty_history_is_a_short_message_not_two_empty_panes(qtbot: Any) -> None:
    dialog = RecoveryHistoryDialog([], describe)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.view.isVisible() and not dialog.list.isVisible()
    assert dialog.width() < 600


def test_the_summary_line_names_only_what_happened() -> None:
    from app.core.models import RecoveryReport
    from app.ui.recovery_report import summary

    report = RecoveryReport(started_at=0.0, previous_clean=False, duration_ms=3, reattached=[1, 2])
    assert summary(report) == "2 reattached — recovered in 3 ms"
    assert summary(RecoveryReport(started_at=0.0)) == "nothing to recover — recovered in 0 ms"


def test_a_requeued_task_is_listed_with_the_queue_saying_it_never_started(qtbot: Any) -> None:
    report = RecoveryReport(
        started_at=time.time(),
        queued=[6],
        causes={6: RecoveryCause.REQUEUED},
        notes={6: "Agentry stopped before its runner started; queued again"},
    )
    screen = _screen(qtbot, report)
    row = screen.view.rows[6]
    assert row.parent() is screen.view.group("queued")
    assert row.text(RecoveryReportView.WHAT_COLUMN) == "Queued again (it never started)"
    assert "before its runner started" in row.toolTip(RecoveryReportView.WHAT_COLUMN)


# ------------------------------------------------------------------ repaired worktrees


def _with_worktrees() -> RecoveryReport:
    report = _troubled()
    report.worktrees = {4: WorktreeRepair.CREATED, 6: WorktreeRepair.REMOVED}
    return report


def test_each_repaired_worktree_is_listed_with_what_was_done(qtbot: Any) -> None:
    screen = _screen(qtbot, _with_worktrees())
    view, what = screen.view, RecoveryReportView.WHAT_COLUMN
    assert view.task_ids("worktrees") == [4, 6]
    assert "Worktrees repaired (2)" in view.group("worktrees").text(0)
    created, removed = view.worktree_rows[4], view.worktree_rows[6]
    assert created.text(what) == "Worktree creation finished"
    assert removed.text(what) == "Half-removed worktree removed"
    assert removed.text(RecoveryReportView.TITLE_COLUMN) == "#6  (task no longer exists)"
    assert "branch are now removed" in removed.toolTip(what)
    assert view.rows[4].text(what).startswith("Stopped unexpectedly")  # its own row stays
    assert "2 worktrees repaired" in screen.summary.text()


def test_the_history_lists_repaired_worktrees_too(qtbot: Any) -> None:
    dialog = RecoveryHistoryDialog([_with_worktrees()], describe)
    qtbot.addWidget(dialog)
    item = dialog.list.item(0)
    assert item is not None and "2 worktrees repaired" in item.text()
    assert dialog.view.task_ids("worktrees") == [4, 6]
    assert "2 worktrees repaired" in dialog.summary.text()


def test_the_real_app_shows_a_discard_a_crash_cut_short_as_completed(
    driver: AppDriver, home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(tmp_path, monkeypatch)
    repo = make_repo(tmp_path / "project", {"a.txt": "line\n"})
    ran = home.cli("run", "--worktree", "--wait", "--title", "Try a new parser",
                   "--cwd", str(repo), "--", "true")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    with home.db() as conn, transaction(conn):  # a discard's intent, then a crash
        workspace_repo.transition(conn, 1, WorkspaceState.REMOVING)

    app = driver.start()
    screen = app.recovery_screen
    assert screen is not None and screen.isVisible()
    row = screen.view.worktree_rows[1]
    assert row.text(RecoveryReportView.TITLE_COLUMN) == "#1  Try a new parser"
    assert row.text(RecoveryReportView.WHAT_COLUMN) == "Half-removed worktree removed"


def test_what_already_follows_an_ending_is_in_its_row_and_kept_in_the_history(
    qtbot: Any,
) -> None:
    """A run that failed while Agentry was away was restarted (or paused for its agent's
    limit) by the start's recovery: the row says so, not only its tooltip."""
    report = _troubled()
    report.next_steps = {
        2: "restart 1 of 3 at 14:05:00",
        3: "paused for its agent's limit until 20:02",
    }
    stored = RecoveryReport.from_json(report.to_json())
    assert stored.next_steps == report.next_steps
    screen = _screen(qtbot, stored)
    what = RecoveryReportView.WHAT_COLUMN
    rows = screen.view.rows
    assert rows[2].text(what) == "Finished with exit code 1 → restart 1 of 3 at 14:05:00"
    assert rows[3].text(what) == "Finished successfully → paused for its agent's limit until 20:02"
    assert rows[5].text(what) == "Waiting in the queue"  # nothing follows: nothing added
    assert screen.view.columnWidth(what) >= screen.view.sizeHintForColumn(what)  # not elided
    history = RecoveryReportView(live=False)
    qtbot.addWidget(history)
    history.show_report(stored, describe)
    assert history.rows[2].text(what).endswith("→ restart 1 of 3 at 14:05:00")
    assert RecoveryReport.from_json({"started_at": 1.0}).next_steps == {}  # older reports
