"""The bridge: every supervisor event the UI shows arrives as a typed Qt signal."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import pytest

from app.supervisor.events import CheckpointRequested, Event, EventBus, WorkflowChanged
from app.ui.bridge import Bridge


def test_workflow_and_checkpoint_events_arrive_as_their_own_signals(qapp: Any) -> None:
    bus = EventBus()
    bridge = Bridge(bus)
    changed: list[int] = []
    requested: list[tuple[int, int]] = []
    bridge.workflowChanged.connect(changed.append)
    bridge.checkpointRequested.connect(lambda c, w: requested.append((c, w)))
    bus.publish(WorkflowChanged(workflow_id=3))
    bus.publish(CheckpointRequested(checkpoint_id=5, workflow_id=3))
    assert changed == [3]
    assert requested == [(5, 3)]
    bridge.close()


@dataclass(frozen=True)
class NewKindOfEvent:
    """Stands for an Event type added to the supervisor's union before the bridge knows it."""


def test_an_event_no_view_shows_is_logged_at_debug_and_dropped(
    qapp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus()
    bridge = Bridge(bus)
    with caplog.at_level(logging.DEBUG, logger="app.ui.bridge"):
        bus.publish(cast(Event, NewKindOfEvent()))
    assert [r.levelno for r in caplog.records if r.name == "app.ui.bridge"] == [logging.DEBUG]
    bridge.close()
