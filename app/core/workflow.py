"""Temporary: workflow states, definitions and templates now live in
:mod:`app.core.workflow_states`, :mod:`app.core.workflow_defs` and
:mod:`app.core.workflow_templates`.
"""

from __future__ import annotations

# re-export for ui/cli until they import from the new home
from app.core.workflow_defs import WorkflowDef
from app.core.workflow_states import CheckpointState, Resolution, StepState, WorkflowState

__all__ = ["CheckpointState", "Resolution", "StepState", "WorkflowDef", "WorkflowState"]
