"""Notification targets and the delivery log, for the app's Settings → Notifications and
Tools → Deliveries (issue #16): each call works on a connection of its own, off the event
loop, and says that the deliveries changed. The sending is the Deliverer's
(app.supervisor.deliveries); the CLI calls that module's functions directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from app.core.locations import Locations
from app.core.notifications import Delivery, Target, TargetKind
from app.core.settings import Settings
from app.store import notify_repo
from app.store.db import Connection
from app.supervisor import deliveries as notify
from app.supervisor.background import on_own_connection
from app.supervisor.events import DeliveriesChanged, EventBus

T = TypeVar("T")


class NotifyService:
    """``Supervisor.notifications``: what the app asks about notifications."""

    def __init__(
        self,
        locations: Locations,
        bus: EventBus,
        settings: Callable[[], Settings],
        *,
        wake: Callable[[], None],
    ) -> None:
        self._locations = locations
        self._bus = bus
        self._settings = settings
        self._wake = wake

    async def notify_targets(self) -> list[Target]:
        """Where notifications go (Settings → Notifications); secrets only as set or not."""
        return await self._off_loop(lambda conn: notify.targets(conn, self._locations))

    async def add_notify_target(
        self, kind: TargetKind, url: str, events: tuple[str, ...], secret: str | None
    ) -> Target:
        """NotifyError for a URL or events that cannot be used, said for the person."""
        try:
            return await self._off_loop(
                lambda conn: notify.add_target(
                    conn, self._locations, kind, url, events, secret=secret
                )
            )
        finally:
            self._bus.publish(DeliveriesChanged())

    async def remove_notify_target(self, target_id: int) -> Target:
        try:
            return await self._off_loop(
                lambda conn: notify.remove_target(conn, self._locations, target_id)
            )
        finally:
            self._bus.publish(DeliveriesChanged())

    async def set_notify_target_paused(self, target_id: int, paused: bool) -> Target:
        """Pause a target (events meanwhile are not sent, nor kept for later) or resume it."""
        try:
            return await self._off_loop(
                lambda conn: notify.set_paused(conn, self._locations, target_id, paused)
            )
        finally:
            self._bus.publish(DeliveriesChanged())

    async def test_notify_target(self, target_id: int) -> Delivery:
        """Send a test notification now; the delivery says how it went."""
        settings = self._settings()
        try:
            return await self._off_loop(
                lambda conn: notify.send_test(conn, self._locations, settings, target_id)
            )
        finally:
            self._bus.publish(DeliveriesChanged())

    async def delivery_log(self, limit: int = 200) -> list[Delivery]:
        """The newest deliveries with their attempts (Tools → Deliveries)."""
        return await self._off_loop(lambda conn: notify_repo.deliveries(conn, limit=limit))

    async def retry_delivery(self, delivery_id: int) -> Delivery:
        """ "Retry now": due at once; the next tick sends it."""
        try:
            return await self._off_loop(lambda conn: notify.retry(conn, delivery_id))
        finally:
            self._bus.publish(DeliveriesChanged())
            self._wake()

    async def _off_loop(self, job: Callable[[Connection], T]) -> T:
        return await on_own_connection(self._locations.database, job)
