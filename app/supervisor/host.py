"""What an extension of the supervisor may use of it, and what it must offer (typing only).

The supervisor builds and attaches its extensions itself (approvals, workflows), so no
host can forget one. They depend on :class:`ExtensionHost`, never on the Supervisor
class, and the supervisor calls them through :class:`Extension`, never the other way
into its loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.core.locations import Locations
    from app.core.models import Run
    from app.core.settings import Settings
    from app.store.db import Connection
    from app.supervisor.events import EventBus


class ExtensionHost(Protocol):
    """The supervisor, as its extensions see it."""

    locations: Locations
    settings: Settings
    bus: EventBus

    @property
    def conn(self) -> Connection: ...


class Extension(Protocol):
    """Hooks the supervisor calls; an exception in one is logged and shown, never fatal."""

    def on_started(self) -> None:
        """After recovery, before anything is scheduled."""

    def on_run_ended(self, run: Run) -> None:
        """After a run's terminal state has been committed."""

    def on_tick(self) -> None:
        """Once a tick, after the run folders were looked at."""
