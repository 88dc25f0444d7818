"""Sending durable notifications (issue #16): the outbox's deliveries, POSTed to their
targets with retries, and the commands that manage targets from any process.

The supervisor's :class:`Deliverer` looks for due deliveries every tick (one indexed query:
rows written by this process, the CLI or the hook are all found within a tick), POSTs each
in the executor with :mod:`urllib.request`, and commits the attempt on the loop's
connection as soon as its answer is in. Delivery is *at least once*: a crash between a POST
and its commit sends it again after the restart, with the same ``Idempotency-Key``.

Secrets are read from their own file when a request is built and never logged; logs name a
target by its id, kind and host only (a Slack or Discord URL is itself a credential).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from app import __version__
from app.core.log import get_logger
from app.core.notifications import (
    Delivery,
    DeliveryState,
    NotifyError,
    Outcome,
    Request,
    Target,
    TargetKind,
    build_request,
    check_url,
    next_attempt_at,
    parse_retry_after,
)
from app.store import notify_repo, notify_secrets
from app.store.db import Connection, transaction
from app.supervisor.events import DeliveriesChanged, Notice

if TYPE_CHECKING:
    import asyncio

    from app.core.locations import Locations
    from app.core.models import Run
    from app.core.settings import Settings
    from app.supervisor.host import ExtensionHost

log = get_logger(__name__)

AT_ONCE = 4  # deliveries in flight at a time: each may hold an executor thread to its timeout
TEST_HOLD_S = 120.0  # a test the CLI sends itself is left to the supervisor only after this
# (or after three of its timeouts, when longer: urllib's timeout is per socket operation)


def where(target: Target | Delivery) -> str:
    """How logs and messages name a target: never its whole URL (it may hold a token)."""
    from urllib.parse import urlsplit

    if isinstance(target, Delivery):
        ident, kind, url = target.target_id, target.target_kind, target.target_url
    else:
        ident, kind, url = target.id, target.kind, target.url
    return f"target {ident} ({kind.value} at {urlsplit(url).hostname})"


# ---------------------------------------------------------------- commands (any process)


def add_target(
    conn: Connection,
    locations: Locations,
    kind: TargetKind,
    url: str,
    events: tuple[str, ...],
    *,
    secret: str | None = None,
) -> Target:
    """A new target. The secret is written first (to its own 0600 file, under a fresh
    key), then the row: a crash between leaves an unused secret, never a target that
    should sign and cannot."""
    import os

    url = check_url(url, f"the {kind.value} URL")
    if not events:
        raise NotifyError("choose at least one event to notify about (see --events)")
    key = None
    if secret:
        key = os.urandom(8).hex()
        notify_secrets.put(locations.notify_secrets, key, secret)
    with transaction(conn):
        target = notify_repo.add_target(conn, kind, url, events, secret_key=key)
    return replace(target, secret_set=key is not None)


def targets(conn: Connection, locations: Locations) -> list[Target]:
    """Every target, each saying whether its secret is set (never what it is)."""
    found = notify_repo.list_targets(conn)
    if not any(t.secret_key for t in found):
        return found
    secrets = notify_secrets.load(locations.notify_secrets)
    return [replace(t, secret_set=t.secret_key in secrets) for t in found]


def remove_target(conn: Connection, locations: Locations, target_id: int) -> Target:
    with transaction(conn):
        target = notify_repo.remove_target(conn, target_id)
    notify_secrets.drop(locations.notify_secrets, target.secret_key)
    return target


def set_paused(conn: Connection, locations: Locations, target_id: int, paused: bool) -> Target:
    """Pause or resume a target; it says whether its secret is set, as :func:`targets` does."""
    with transaction(conn):
        target = notify_repo.set_paused(conn, target_id, paused)
    return next(t for t in targets(conn, locations) if t.id == target.id)


def retry(conn: Connection, delivery_id: int) -> Delivery:
    """Due again now: a running supervisor sends it within a tick."""
    with transaction(conn):
        return notify_repo.retry_now(conn, delivery_id)


def send_test(
    conn: Connection, locations: Locations, settings: Settings, target_id: int
) -> Delivery:
    """Send a test notification to one target now, in this process, and return how it
    went. It is in the outbox like any other, so the log shows it; a supervisor leaves it
    alone for TEST_HOLD_S, then delivers it if this process died before it could."""
    with transaction(conn):
        hold = max(TEST_HOLD_S, 3 * settings.notify_timeout_s)
        delivery = notify_repo.enqueue_test(conn, target_id, next_at=time.time() + hold)
    target = notify_repo.get_target(conn, target_id)
    outcome = post(request_for(locations, target.secret_key, delivery), settings.notify_timeout_s)
    with transaction(conn):
        after = record(conn, delivery, outcome, settings)
    return delivery if after is None else after


# ---------------------------------------------------------------- one attempt


def request_for(locations: Locations, secret_key: str | None, delivery: Delivery) -> Request:
    secret = notify_secrets.get(locations.notify_secrets, secret_key)
    return build_request(
        delivery.target_kind, delivery.target_url, delivery, secret=secret, version=__version__
    )


def post(request: Request, timeout: float) -> Outcome:
    """POST ``request``; the answer's status, or what kept it from one. Blocking."""
    import http.client
    import urllib.error
    import urllib.request

    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    req = urllib.request.Request(
        request.url, data=request.body, headers=request.headers, method="POST"
    )
    try:
        with _opener().open(req, timeout=timeout) as answer:
            answer.read(64 * 1024)
            return Outcome(answer.status, duration_ms=took())
    except urllib.error.HTTPError as exc:
        with exc:
            retry_after = parse_retry_after(exc.headers.get("Retry-After"))
            text = f"HTTP {exc.code} {exc.reason}"
            if 300 <= exc.code < 400:
                text += f": {_moved(request.url, exc.headers.get('Location'))}"
            return Outcome(exc.code, text, retry_after, took())
    except urllib.error.URLError as exc:
        reason = exc.reason
        text = "timed out" if isinstance(reason, TimeoutError) else f"could not connect: {reason}"
        return Outcome(None, text, duration_ms=took())
    except TimeoutError:
        return Outcome(None, f"timed out after {timeout:g} s", duration_ms=took())
    except (OSError, ValueError, http.client.HTTPException) as exc:  # a reset, a bad answer
        return Outcome(None, f"{type(exc).__name__}: {exc}", duration_ms=took())


def _moved(url: str, location: str | None) -> str:
    """What a redirect asks of the target, without the new address's path: a Slack or
    Discord URL's path is its secret, and this text goes to the log."""
    from urllib.parse import urljoin, urlsplit

    old, new = urlsplit(url), urlsplit(urljoin(url, location or ""))
    if location and (new.netloc, new.path) == (old.netloc, old.path) and new.scheme != old.scheme:
        return f"the receiver wants {new.scheme}://; change the target's URL to start with it"
    where = f"{new.scheme}://{new.hostname}/…" if location and new.hostname else "elsewhere"
    return f"the receiver moved to {where}; change the target's URL to its new address"


def _opener() -> Any:
    """urllib's opener, minus following redirects: it would turn the POST into a GET
    without its body, which a receiver may well answer 200 (a notification lost while
    recorded as delivered). A 3xx is then an HTTPError, a final failure that says where
    the receiver went."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirects)


def record(
    conn: Connection, delivery: Delivery, outcome: Outcome, settings: Settings
) -> Delivery | None:
    """Commit one attempt's outcome (inside the caller's transaction); None when the
    delivery is gone (its target was removed meanwhile)."""
    now = time.time()
    attempts = delivery.attempts + 1
    retry_at = next_attempt_at(outcome, attempts, settings.notify_retry_delays_s, now)
    return notify_repo.record_attempt(
        conn, delivery.id, at=now, status=outcome.status, error=outcome.error,
        duration_ms=outcome.duration_ms, next_at=retry_at, delivered=outcome.delivered,
    )  # fmt: skip


# ---------------------------------------------------------------- the supervisor's part


@dataclass(frozen=True)
class _Job:
    delivery: Delivery
    secret_key: str | None


class Deliverer:
    """The supervisor's extension that sends due deliveries; see the module docstring."""

    def __init__(self, host: ExtensionHost, *, clock: Callable[[], float] = time.time) -> None:
        self._host = host
        self.clock = clock
        self._in_flight: set[int] = set()
        self._futures: set[asyncio.Future[Outcome]] = set()
        # answers received but not yet committed (a full disk, a locked database): committed
        # at the next ticks, and never sent again meanwhile — ntfy, Slack and Discord do
        # not read the Idempotency-Key, so a re-send every tick would be a message each
        self._unrecorded: dict[int, tuple[Delivery, Outcome]] = {}
        self._stopped = False

    def on_started(self) -> None:
        self._stopped = False
        self.on_tick()  # what was pending when Agentry stopped (or was killed)

    def on_run_ended(self, run: Run) -> None:
        pass

    def on_tick(self) -> None:
        if self._stopped:
            return
        for delivery, outcome in list(self._unrecorded.values()):
            if not self._record(delivery, outcome):
                return  # the database still takes nothing: nothing new is sent either
        if len(self._in_flight) >= AT_ONCE:
            return
        conn = self._host.conn
        now = self.clock()
        if not notify_repo.any_due(conn, now):
            return
        exclude = frozenset(self._in_flight)
        for delivery in notify_repo.due(conn, now, AT_ONCE - len(self._in_flight), exclude):
            try:
                secret_key = notify_repo.get_target(conn, delivery.target_id).secret_key
            except notify_repo.UnknownTarget:  # removed meanwhile: its deliveries went with it
                continue
            self._send(_Job(delivery, secret_key))

    async def stop(self) -> None:
        """Stop sending; wait for the POSTs in flight and record what they came to (one
        cut short here is sent again at the next start, with the same key)."""
        import asyncio

        self._stopped = True
        if self._futures:
            await asyncio.wait(set(self._futures), timeout=self._host.settings.notify_timeout_s)

    def _send(self, job: _Job) -> None:
        import asyncio

        locations, settings = self._host.locations, self._host.settings
        self._in_flight.add(job.delivery.id)

        def attempt() -> Outcome:
            return post(request_for(locations, job.secret_key, job.delivery),
                        settings.notify_timeout_s)  # fmt: skip

        fut = asyncio.get_running_loop().run_in_executor(None, attempt)
        self._futures.add(fut)
        fut.add_done_callback(lambda f: self._sent(job.delivery, f))

    def _sent(self, delivery: Delivery, fut: asyncio.Future[Outcome]) -> None:
        self._futures.discard(fut)
        self._in_flight.discard(delivery.id)
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:  # a bug in building or sending: said, and tried again later
            log.error("delivery %s to %s failed", delivery.id, where(delivery), exc_info=exc)
            outcome = Outcome(None, f"internal error: {exc}")
        else:
            outcome = fut.result()
        self._record(delivery, outcome)

    def _record(self, delivery: Delivery, outcome: Outcome) -> bool:
        """Commit an attempt's outcome; False (kept for the next tick) when it cannot be."""
        again = self._unrecorded.pop(delivery.id, None) is not None
        try:
            with transaction(self._host.conn):
                after = record(self._host.conn, delivery, outcome, self._host.settings)
        except Exception as err:  # a full disk, a locked database, the supervisor stopped
            if not again:  # said once, not every tick
                log.warning("could not record delivery %s's attempt: %s", delivery.id, err)
            self._unrecorded[delivery.id] = (delivery, outcome)
            self._in_flight.add(delivery.id)  # not picked as due until it is recorded
            return False
        self._in_flight.discard(delivery.id)
        self._announce(delivery, outcome, after)
        return True

    def _announce(self, delivery: Delivery, outcome: Outcome, after: Delivery | None) -> None:
        bus = self._host.bus
        bus.publish(DeliveriesChanged())
        if after is None:  # its target was removed while it was under way
            return
        if outcome.delivered:
            log.info("delivered %s notification %s to %s", delivery.event, delivery.id,
                     where(delivery))  # fmt: skip
            return
        if after.state is DeliveryState.FAILED:
            text = (f"A {delivery.event} notification could not be delivered to "
                    f"{where(delivery)}: {outcome.error or outcome.status}; gave up after "
                    f"{after.attempts} attempt(s). Check the target in Settings → "
                    "Notifications, then Retry now in Tools → Deliveries.")  # fmt: skip
            log.warning("%s", text)
            bus.publish(Notice("warning", text))
        else:
            log.info("notification %s to %s: %s; trying again in %.0f s", delivery.id,
                     where(delivery), outcome.error or outcome.status,
                     (after.next_at or 0) - time.time())  # fmt: skip
