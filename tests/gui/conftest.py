"""GUI fixtures: the real app on a qasync loop inside pytest-qt, offscreen."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("AGENTRY_DEMO_SPEED", "0.02")

from collections.abc import Iterator
from typing import Any

import pytest
from helpers.agentry import Home
from helpers.gui import AppDriver
from PySide6.QtWidgets import QApplication


@pytest.fixture
def driver(qapp: QApplication, qtbot: Any, home: Home) -> Iterator[AppDriver]:
    driver = AppDriver(qapp, qtbot, home)
    yield driver
    driver.close()
