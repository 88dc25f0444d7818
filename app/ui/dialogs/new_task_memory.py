"""What the New task dialog remembers between tasks and launches: the last agent, folder,
and per agent its model and permission mode (names differ from agent to agent).

Kept in the UI state file (:mod:`app.ui.ui_state`) under ``newTask/``; written when a task
is submitted, read when the dialog opens. Without a state (a dialog built on its own, as
tests do) nothing is remembered.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from app.core.models import TaskSpec


class NewTaskMemory:
    def __init__(self, state: QSettings | None) -> None:
        self.state = state

    def _get(self, key: str) -> str:
        value = self.state.value(f"newTask/{key}", "") if self.state is not None else ""
        return value if isinstance(value, str) else ""

    @property
    def agent(self) -> str:
        return self._get("agent")

    @property
    def folder(self) -> str:
        return self._get("folder")

    def model(self, agent: str) -> str:
        return self._get(f"model/{agent}")

    def permission(self, agent: str) -> str:
        return self._get(f"permission/{agent}")

    def keep(self, spec: TaskSpec) -> None:
        """Remember the choices of a task just submitted."""
        if self.state is None:
            return
        self.state.setValue("newTask/agent", spec.agent)
        self.state.setValue("newTask/folder", spec.cwd)
        if spec.agent not in ("shell", "demo"):
            self.state.setValue(f"newTask/model/{spec.agent}", spec.model or "")
            mode = spec.options.get("permission_mode") or ""
            self.state.setValue(f"newTask/permission/{spec.agent}", str(mode))
        self.state.sync()
