"""Guards against a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 on Python 3.11 dropped a reference to None on every Qt call returning
nothing; the app aborted with "none_dealloc" after minutes of output. pyproject excludes
it; this test catches such a binding before users do (a few hundred calls are harmless).
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtWidgets import QWidget


def test_qt_calls_that_return_nothing_keep_none_alive(qtbot: Any) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for _ in range(500):
        widget.setWindowTitle("x")
    assert sys.getrefcount(None) - before > -50, "the Qt binding leaks references to None"
