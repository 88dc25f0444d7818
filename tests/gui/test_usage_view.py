"""Tools → Usage with the real app: runs whose cost and tokens were recorded in the real
database, read through the supervisor, shown as a bar per day and tables per agent and
project; the empty state; and how it looks in light and dark at two window sizes."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.gitrepo import isolate_git, make_repo
from helpers.gui import AppDriver
from helpers.usage_runs import ended_run
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.usage_chart import day_tip
from app.ui.usage_view import COST, NAME, RUNS, UsageDialog

DAY = 86400.0


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    return make_repo(tmp_path / "shop", {"a.txt": "line\n"})


@pytest.fixture
def palette_kept(qapp: QApplication) -> Iterator[None]:
    """apply_theme changes the application: its palette and scheme go back afterwards."""
    before = QPalette(qapp.palette())
    yield
    qapp.styleHints().unsetColorScheme()
    qapp.setPalette(before)


def open_usage(driver: AppDriver) -> tuple[MainWindow, UsageDialog]:
    window = driver.start().window
    assert window is not None
    window.action_set.usage_action.trigger()
    dialog = window.findChild(UsageDialog)
    assert dialog is not None and dialog.isVisible()
    driver.wait(lambda: dialog.report is not None and not dialog.loading)
    return window, dialog


def rows(table: object) -> list[tuple[str, str, str]]:
    from PySide6.QtWidgets import QTreeWidget

    assert isinstance(table, QTreeWidget)
    items = [table.topLevelItem(n) for n in range(table.topLevelItemCount())]
    return [(i.text(NAME), i.text(COST), i.text(RUNS)) for i in items if i is not None]


def recorded(home: Home, repo: Path, tmp_path: Path) -> None:
    now = time.time()
    ended_run(home, repo, now, cost=1.5, tokens=(12000, 800))
    ended_run(home, repo, now - DAY, cost=0.75, tokens=(6000, 400))
    ended_run(home, repo, now - 3 * DAY, agent="codex", tokens=(40000, 2000))
    other = tmp_path / "notes"
    other.mkdir()
    ended_run(home, other, now - 20 * DAY, cost=4.0, tokens=(1000, 100))


def test_the_usage_view_shows_the_chosen_period_per_day_agent_and_project(
    driver: AppDriver, home: Home, repo: Path, tmp_path: Path
) -> None:
    recorded(home, repo, tmp_path)
    _, dialog = open_usage(driver)
    assert dialog.days == 30 and len(dialog.chart.days) == 30
    assert "$6.25" in dialog.total.text() and "4 runs" in dialog.total.text()
    assert dialog.chart.by_cost
    assert rows(dialog.agents) == [("Claude Code", "$6.25", "3"), ("Codex CLI", "—", "1")]
    assert rows(dialog.projects) == [(str(tmp_path / "notes"), "$4.00", "1"),
                                     (str(repo), "$2.25", "3")]  # fmt: skip

    today = dialog.chart.bar_at(dialog.chart.plot_area().right() - 1)
    assert today == 29
    assert day_tip(*dialog.chart.days[today]).endswith(
        ": $1.50\n12,000 input and 800 output tokens, 1 run"
    )
    assert day_tip(*dialog.chart.days[0]).endswith(": no runs reported usage")

    dialog.period.setCurrentIndex(dialog.period.findData(7))
    driver.wait(lambda: dialog.report is not None and dialog.report.total().runs == 3)
    assert len(dialog.chart.days) == 7
    assert rows(dialog.projects) == [(str(repo), "$2.25", "3")]
    assert "$2.25" in dialog.total.text()


def test_a_period_of_tokens_only_charts_the_tokens(
    driver: AppDriver, home: Home, work_dir: Path
) -> None:
    ended_run(home, work_dir, time.time(), agent="gemini", tokens=(5000, 500))
    _, dialog = open_usage(driver)
    assert not dialog.chart.by_cost
    assert dialog.chart.figure(5500) == "5.5k"
    assert rows(dialog.agents) == [("Gemini CLI", "—", "1")]
    assert "no cost reported" in dialog.total.text()


def test_with_nothing_recorded_it_says_which_agents_report_costs(driver: AppDriver) -> None:
    _, dialog = open_usage(driver)
    if folder := os.environ.get("AGENTRY_SCREENSHOTS"):
        dialog.grab().save(str(Path(folder) / "usage-empty.png"))
    assert dialog.pages.currentWidget() is dialog.empty
    text = dialog.empty.text()
    assert "No costs recorded in the last 30 days" in text
    assert "Claude Code and opencode report what each run cost" in text


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1024, 640), (1920, 1080)])
def test_the_usage_view_is_drawn_in_both_themes_at_both_sizes(
    driver: AppDriver, home: Home, repo: Path, tmp_path: Path, qapp: QApplication,
    palette_kept: None, scheme: str, size: tuple[int, int],
) -> None:  # fmt: skip
    home.write_settings(theme=scheme)  # the app applies it as it starts
    recorded(home, repo, tmp_path)
    _, dialog = open_usage(driver)
    assert theme.is_dark(qapp) == (scheme == "dark")
    dialog.resize(*size)
    driver.wait(lambda: dialog.chart.width() > size[0] // 2)
    image = dialog.grab().toImage()
    if folder := os.environ.get("AGENTRY_SCREENSHOTS"):
        image.save(str(Path(folder) / f"usage-{scheme}-{size[0]}x{size[1]}.png"))
    chart = dialog.chart.grab().toImage()
    bar = dialog.palette().color(QPalette.ColorRole.Highlight).rgb()
    pixels = {chart.pixel(x, y) for x in range(0, chart.width(), 2)
              for y in range(0, chart.height(), 2)}  # fmt: skip
    assert bar in pixels  # the bars are drawn
    assert dialog.agents.header().sectionSize(NAME) > 100  # names are not squeezed out
