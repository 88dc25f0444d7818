"""The quit question reads right for one agent and for several."""

from __future__ import annotations

from typing import Any

import pytest

from app.ui.dialogs.quit import QuitDialog


@pytest.mark.parametrize(
    ("running", "text", "keep", "stop"),
    [
        (1, "1 agent is still running.", "Keep it running", "Stop it"),
        (3, "3 agents are still running.", "Keep them running", "Stop them"),
    ],
)
def test_the_quit_question_agrees_with_how_many_agents_run(
    qtbot: Any, running: int, text: str, keep: str, stop: str
) -> None:
    dialog = QuitDialog(running)
    qtbot.addWidget(dialog)
    assert dialog.text() == text
    assert dialog.keep_button.text() == keep and dialog.stop_button.text() == stop
    them = "it" if running == 1 else "them"
    assert dialog.informativeText() == (
        f"Keep {them} running in the background and Agentry reattaches {them} when you open "
        f"Agentry again, or stop {them} now."
    )
