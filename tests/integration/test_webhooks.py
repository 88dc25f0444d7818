"""Durable notifications (issue #16) against a real HTTP server on 127.0.0.1: a signed
webhook for a task that succeeded, retries with one idempotency key, a permanent refusal, a
hang, a receiver that is down while `serve` is SIGKILLed, the outbox's atomicity with the
change, and secrets that stay secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.agentry import Home, run_async
from helpers.wait import async_wait_until, wait_until
from helpers.webhook_server import Reply, WebhookServer, free_port

from app.core.models import TaskSpec
from app.core.notifications import Delivery, DeliveryState, TargetKind
from app.core.settings import Settings
from app.store import notify_repo, repo
from app.store.db import transaction
from app.supervisor import deliveries
from app.supervisor.supervisor import Supervisor

SECRET = "whsec-4f1b2c9d-do-not-log"
FAST = [0.1, 0.2, 0.3]  # retry delays: never real minutes


@pytest.fixture
def server() -> Iterator[WebhookServer]:
    srv = WebhookServer().start()
    yield srv
    srv.stop()


def _add_webhook(home: Home, url: str, *, secret: str | None = SECRET, events: str = "all") -> int:
    from app.core.notifications import parse_events

    with home.db() as conn:
        target = deliveries.add_target(conn, home.locations, TargetKind.WEBHOOK, url,
                                       parse_events(events), secret=secret)  # fmt: skip
    return target.id


def _deliveries(home: Home) -> list[Delivery]:
    with home.db() as conn:
        return notify_repo.deliveries(conn)


def _succeed_one(home: Home, work_dir: Path, server: WebhookServer, until: int = 1) -> int:
    """A supervisor runs `true` to success and stays until ``until`` requests arrived."""

    async def scenario() -> int:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            task_id = sup.submit(TaskSpec(argv=("true",), cwd=str(work_dir), title="build it"))
            await async_wait_until(
                lambda: len(server.requests()) >= until,
                timeout=30,
                message=lambda: f"{until} requests, got {server.requests()}",
            )
            await async_wait_until(
                lambda: all(d.state is not DeliveryState.PENDING for d in _deliveries(home)),
                message="every delivery settled",
            )
            return task_id
        finally:
            await sup.stop()

    return int(run_async(scenario()))


def test_a_task_that_succeeds_sends_a_signed_webhook_with_its_story(
    home: Home, work_dir: Path, server: WebhookServer
) -> None:
    _add_webhook(home, server.url)
    task_id = _succeed_one(home, work_dir, server)
    [got] = server.requests()
    expected = hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Agentry-Signature"] == f"sha256={expected}"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Agentry-Event"] == "succeeded"
    assert got.headers["User-Agent"].startswith("Agentry/")
    assert got.key.startswith("agentry-")
    body = got.json
    assert body["event"] == "succeeded"
    assert body["task"] == {"id": task_id, "title": "build it", "agent": "shell"}
    assert body["state"] == "succeeded" and body["exit_code"] == 0
    assert body["run"]["ended_at"] >= body["run"]["started_at"]
    [delivery] = _deliveries(home)
    assert delivery.state is DeliveryState.DELIVERED and delivery.attempts == 1
    assert [a.status for a in delivery.history] == [200]


def test_a_server_error_is_retried_with_the_same_idempotency_key(
    home: Home, work_dir: Path, server: WebhookServer
) -> None:
    home.write_settings(notify_retry_delays_s=FAST)
    server.script = [Reply(500), Reply(503), Reply(200)]
    _add_webhook(home, server.url)
    _succeed_one(home, work_dir, server, until=3)
    got = server.requests()
    assert [r.answered for r in got] == [500, 503, 200]
    assert len({r.key for r in got}) == 1
    assert len({r.body for r in got}) == 1  # the same delivery, byte for byte
    [delivery] = _deliveries(home)
    assert delivery.state is DeliveryState.DELIVERED and delivery.attempts == 3
    assert [a.status for a in delivery.history] == [500, 503, 200]


def test_a_not_found_is_permanent_one_attempt_then_failed(
    home: Home, work_dir: Path, server: WebhookServer
) -> None:
    home.write_settings(notify_retry_delays_s=FAST)
    server.script = [Reply(404)]
    _add_webhook(home, server.url)
    _succeed_one(home, work_dir, server)
    [delivery] = _deliveries(home)
    assert delivery.state is DeliveryState.FAILED
    assert delivery.attempts == 1 and delivery.last_status == 404
    assert len(server.requests()) == 1


def test_too_many_requests_waits_as_retry_after_says_then_delivers(
    home: Home, work_dir: Path, server: WebhookServer
) -> None:
    home.write_settings(notify_retry_delays_s=[600.0])  # only Retry-After can make it soon
    server.script = [Reply(429, retry_after="0")]
    _add_webhook(home, server.url)
    _succeed_one(home, work_dir, server, until=2)
    [delivery] = _deliveries(home)
    assert delivery.state is DeliveryState.DELIVERED
    assert [a.status for a in delivery.history] == [429, 200]


def test_a_server_that_hangs_times_out_and_is_tried_again(
    home: Home, work_dir: Path, server: WebhookServer
) -> None:
    home.write_settings(notify_retry_delays_s=FAST, notify_timeout_s=0.5)
    server.script = [Reply(200, hang_s=3.0)]
    _add_webhook(home, server.url)
    _succeed_one(home, work_dir, server, until=1)
    [delivery] = _deliveries(home)
    assert delivery.state is DeliveryState.DELIVERED
    assert [a.status for a in delivery.history] == [None, 200]
    assert "timed out" in (delivery.history[0].error or "")


def test_enqueue_commits_and_rolls_back_with_the_change(home: Home, work_dir: Path) -> None:
    _add_webhook(home, "http://127.0.0.1:9/hook")
    task_id = home.submit(["true"], work_dir)
    with home.db() as conn:
        with pytest.raises(RuntimeError), transaction(conn):
            repo.add_event(conn, "limit_paused", task_id=task_id, detail={"agent": "shell"})
            assert notify_repo.count_pending(conn) == 1  # written in the change's transaction
            raise RuntimeError("the change fails after its event")
        assert notify_repo.count_pending(conn) == 0
        with transaction(conn):
            repo.add_event(conn, "limit_paused", task_id=task_id, detail={"agent": "shell"})
            repo.add_event(conn, "task_created", task_id=task_id)  # not a notification
        [delivery] = notify_repo.deliveries(conn)
    assert delivery.event == "limit" and delivery.task_id == task_id


def test_only_the_events_a_target_wants_reach_it(home: Home, work_dir: Path) -> None:
    wants_failures = _add_webhook(home, "http://127.0.0.1:9/a", events="failed")
    wants_all = _add_webhook(home, "http://127.0.0.1:9/b")
    task_id = home.submit(["true"], work_dir)
    with home.db() as conn, transaction(conn):
        run_id = repo.get_task(conn, task_id).latest_run.id  # type: ignore[union-attr]
        repo.add_event(conn, "run_state", task_id=task_id, run_id=run_id,
                       old_state="running", new_state="succeeded")  # fmt: skip
        repo.add_event(conn, "run_state", task_id=task_id, run_id=run_id,
                       old_state="running", new_state="cancelled")  # fmt: skip
    targets = [d.target_id for d in _deliveries(home)]
    assert targets == [wants_all]
    assert wants_failures not in targets


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes and SIGKILL")
def test_secrets_are_private_and_never_logged_or_listed(
    home: Home, work_dir: Path, server: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _add_webhook(home, server.url)
    mode = stat.S_IMODE(home.locations.notify_secrets.stat().st_mode)
    assert mode == 0o600
    server.script = [Reply(500)]
    home.write_settings(notify_retry_delays_s=FAST)
    _succeed_one(home, work_dir, server, until=2)
    assert caplog.records, "the supervisor logged nothing: this test would prove nothing"
    assert SECRET not in caplog.text
    listed = home.cli("notify", "list", check=True).stdout
    as_json = home.cli("notify", "list", "--json", check=True).stdout
    assert "secret: set" in listed
    assert json.loads(as_json)[0]["secret"] == "set"
    logged = home.cli("notify", "log", "--json", check=True).stdout
    for text in (listed, as_json, logged):
        assert SECRET not in text
    for path in home.locations.logs.glob("*"):
        assert SECRET not in path.read_text(errors="replace")
    with home.db() as conn:
        dumped = "\n".join(conn.iterdump())
    assert SECRET not in dumped  # not in the database, nor so in its backups


def test_a_corrupt_secrets_file_is_kept_aside_and_said(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    _add_webhook(home, "http://127.0.0.1:9/hook")
    home.locations.notify_secrets.write_text("{not json")
    with home.db() as conn:
        [target] = deliveries.targets(conn, home.locations)
    assert not target.secret_set
    kept = list(home.path.glob("notify-secrets.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
    assert "was kept as" in caplog.text and "secret is set again" in caplog.text


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_pending_deliveries_survive_a_sigkilled_serve_and_each_arrives_with_one_key(
    home: Home, work_dir: Path
) -> None:
    port = free_port()  # the receiver is down
    home.write_settings(notify_retry_delays_s=[0.2] * 10)
    _add_webhook(home, f"http://127.0.0.1:{port}/hook")
    serve = home.serve()
    for n in range(3):
        home.cli("run", "--title", f"task {n}", "--", "true", check=True)
    wait_until(
        lambda: (d := _deliveries(home)) and len(d) == 3 and all(x.attempts >= 1 for x in d),
        timeout=30,
        message=lambda: f"three deliveries tried once: {_deliveries(home)}",
    )
    serve.send_signal(signal.SIGKILL)
    serve.wait(timeout=10)
    assert all(d.state is DeliveryState.PENDING for d in _deliveries(home))
    server = WebhookServer(port=port).start()  # the receiver is back
    try:
        home.serve()
        wait_until(
            lambda: all(d.state is DeliveryState.DELIVERED for d in _deliveries(home)),
            timeout=30,
            message=lambda: f"every delivery delivered: {_deliveries(home)}",
        )
        got = server.requests()
    finally:
        server.stop()
    keys_by_event: dict[int, set[str]] = {}
    for request in got:
        body = request.json
        keys_by_event.setdefault(body["event_id"], set()).add(request.key)
    assert len(keys_by_event) == 3, keys_by_event  # every event delivered
    assert all(len(keys) == 1 for keys in keys_by_event.values())  # never with another key
    titles = sorted(r.json["task"]["title"] for r in got)
    assert titles == ["task 0", "task 1", "task 2"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_post_cut_short_by_a_sigkill_is_sent_again_with_the_same_key(home: Home) -> None:
    """At least once: serve dies while the receiver holds the POST (sent, not committed);
    the next serve sends it again, and the receiver can tell it is the same delivery."""
    server = WebhookServer(script=[Reply(200, hang_s=4.0)]).start()
    try:
        home.write_settings(notify_retry_delays_s=FAST, notify_timeout_s=30.0)
        _add_webhook(home, server.url)
        serve = home.serve()
        home.cli("run", "--", "true", check=True)
        wait_until(lambda: server.arrived, timeout=30, message="the POST to arrive")
        serve.send_signal(signal.SIGKILL)
        serve.wait(timeout=10)
        [cut] = _deliveries(home)
        assert cut.state is DeliveryState.PENDING and cut.attempts == 0  # nothing committed
        home.serve()
        wait_until(
            lambda: _deliveries(home)[0].state is DeliveryState.DELIVERED,
            timeout=30,
            message=lambda: f"the delivery delivered: {_deliveries(home)}",
        )
    finally:
        server.stop()
    assert len(server.arrived) == 2
    assert set(server.arrived) == {cut.idempotency_key}


def test_the_health_check_is_amber_for_a_given_up_or_late_notification(
    home: Home, work_dir: Path
) -> None:
    from app.supervisor.doctor import collect

    def deliveries_check() -> Any:
        return collect(home.locations, detections={}, run_integrity=False).check("deliveries")

    _add_webhook(home, "http://127.0.0.1:9/hook")
    task_id = home.submit(["true"], work_dir)
    assert deliveries_check().status == "ok"
    with home.db() as conn, transaction(conn):
        repo.add_event(conn, "limit_paused", task_id=task_id, detail={"agent": "shell"})
    fresh = deliveries_check()
    assert fresh.status == "ok" and fresh.data["pending"] == 1 and "being sent" in fresh.summary
    with home.db() as conn:
        conn.execute("UPDATE deliveries SET created_at = created_at - 3600")
    late = deliveries_check()
    assert late.status == "warn" and "not delivered yet" in late.summary
    assert late.data["oldest_pending_age_s"] >= 3600
    with home.db() as conn:
        conn.execute("UPDATE deliveries SET state = 'failed'")
    failed = deliveries_check()
    assert failed.status == "warn" and failed.data["failed_recently"] == 1
    assert "agentry notify retry" in failed.action


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_every_event_of_the_vocabulary_arrives_from_the_real_flows(
    home: Home, work_dir: Path, server: WebhookServer
) -> None:
    """succeeded, failed, needs-you, checkpoint, recovery and limit, each from what really
    causes it: tasks through `serve`, an approval, a workflow's checkpoint, a recovery that
    finds a task that ended while `serve` was SIGKILLed, and a usage limit's pause."""
    home.write_settings(notify_retry_delays_s=FAST)
    _add_webhook(home, server.url)
    serve = home.serve()
    home.cli("run", "--", "true", check=True)
    home.cli("run", "--", "sh", "-c", "exit 3", check=True)
    slow = int(home.cli("run", "--", "sleep", "3", check=True).stdout)
    home.wait_state(slow, "running")
    with home.db() as conn:
        from app.store import approval_repo

        approval_repo.create(conn, run_id=home.run(slow).id, task_id=slow, agent="claude",
                             tool="Bash", tool_input={"command": "ls"}, cwd=str(work_dir),
                             expires_in=600)  # fmt: skip
    home.cli("workflow", "run", "shell-demo", "--input", "x", "--cwd", str(work_dir), check=True)
    serve.send_signal(signal.SIGKILL)  # the sleep ends while no one watches
    serve.wait(timeout=10)
    home.wait_state(slow, "running", "succeeded")
    wait_until(lambda: (home.run_dir(slow) / "exit.json").exists(), timeout=20)
    home.serve()  # its recovery finds the sleep ended
    with home.db() as conn, transaction(conn):
        repo.add_event(conn, "limit_paused", task_id=slow, detail={"agent": "claude"})

    want = {"succeeded", "failed", "needs-you", "checkpoint", "recovery", "limit"}

    def events() -> list[str]:
        return [r.json["event"] for r in server.requests()]

    wait_until(lambda: want <= set(events()), timeout=40, message=lambda: f"each of {events()}")
    by_event = {r.json["event"]: r.json for r in server.requests()}
    assert by_event["failed"]["run"]["exit_code"] == 3
    assert by_event["needs-you"]["task"]["id"] == slow
    assert by_event["recovery"]["counts"]["finished"] >= 1
    assert by_event["checkpoint"]["step"] == "plan"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_as_a_get_and_says_where_to_point_the_target(
    home: Home, server: WebhookServer, status: int
) -> None:
    """urllib would turn a redirected POST into a GET without its body, which a receiver
    may answer 200: a notification lost while the log said delivered."""
    server.script = [Reply(status, location=f"https://hooks.example.com/new-{status}")]
    target = _add_webhook(home, server.url)
    with home.db() as conn:
        delivery = deliveries.send_test(conn, home.locations, Settings(), target)
    assert delivery.state is DeliveryState.FAILED and delivery.attempts == 1
    assert [r.answered for r in server.requests()] == [status], "no GET after the POST"
    error = delivery.last_error or ""
    assert "moved to https://hooks.example.com/…" in error and f"new-{status}" not in error
    assert "change the target's URL to its new address" in error


def test_a_receiver_that_wants_https_says_so_without_the_path(
    home: Home, server: WebhookServer
) -> None:
    """http:// typed for a Slack URL: the 301 names the same URL over https, token and
    all; the error (which the log repeats) says what to change, not the token."""
    server.script = [Reply(301, location=server.url.replace("http://", "https://"))]
    target = _add_webhook(home, server.url)
    with home.db() as conn:
        delivery = deliveries.send_test(conn, home.locations, Settings(), target)
    error = delivery.last_error or ""
    assert "the receiver wants https://; change the target's URL to start with it" in error
    assert "/hook" not in error


def test_an_answer_that_cannot_be_recorded_is_recorded_later_never_posted_again(
    home: Home, work_dir: Path, server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the attempt's record for a while (a full disk): the POST is not
    repeated every tick meanwhile — chat presets ignore the Idempotency-Key."""
    import sqlite3

    real = deliveries.record
    refusals = [sqlite3.OperationalError("database or disk is full")] * 6

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if refusals:
            raise refusals.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(deliveries, "record", flaky)
    _add_webhook(home, server.url)
    _succeed_one(home, work_dir, server)
    assert refusals == [], "the record was retried until the database took it"
    assert len(server.requests()) == 1
    [delivery] = _deliveries(home)
    assert delivery.state is DeliveryState.DELIVERED and delivery.attempts == 1


def test_a_retry_after_that_is_not_a_number_does_not_break_the_sending(
    home: Home, server: WebhookServer
) -> None:
    server.script = [Reply(503, retry_after="²")]
    home.write_settings(notify_retry_delays_s=FAST)
    target = _add_webhook(home, server.url)
    with home.db() as conn:
        delivery = deliveries.send_test(conn, home.locations, Settings(), target)
    assert delivery.state is DeliveryState.PENDING and delivery.last_status == 503
