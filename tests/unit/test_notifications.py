"""Notifications as values (app.core.notifications, app.core.notify_events): the
signature, what each HTTP answer means for a retry, the presets' shapes, which audit
events notify, and the settings that tune retries."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from app.core.notifications import (
    EVENTS,
    Delivery,
    DeliveryState,
    NotifyError,
    Outcome,
    TargetKind,
    build_request,
    check_url,
    event_name,
    next_attempt_at,
    parse_events,
    parse_retry_after,
    signature,
)
from app.core.settings import Settings, delays_problem
from app.store.settings import load_settings

DELAYS = (30.0, 120.0, 600.0)
NOW = 1_800_000_000.0


def _delivery(event: str = "failed", **payload: object) -> Delivery:
    body = {"task": {"id": 7, "title": "fix the build", "agent": "claude"}, "state": "failed",
            "exit_code": 2, "message": "make: *** [all] Error 2", **payload}  # fmt: skip
    return Delivery(
        id=3, target_id=1, event_id=41, event=event, payload=body,
        idempotency_key="agentry-41-1-abc", state=DeliveryState.PENDING, attempts=0,
        next_at=NOW, last_status=None, last_error=None, created_at=NOW, delivered_at=None,
    )  # fmt: skip


def test_the_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"event": "succeeded"}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature("s3cret", body) == f"sha256={expected}"
    req = build_request(TargetKind.WEBHOOK, "http://h/x", _delivery(), secret="s3cret",
                        version="1.2")  # fmt: skip
    expected = hmac.new(b"s3cret", req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-Agentry-Signature"] == f"sha256={expected}"


def test_an_unsigned_target_sends_no_signature_but_every_other_header() -> None:
    req = build_request(TargetKind.WEBHOOK, "http://h/x", _delivery(), secret=None, version="1.2")
    assert "X-Agentry-Signature" not in req.headers
    assert req.headers["Idempotency-Key"] == "agentry-41-1-abc"
    assert req.headers["X-Agentry-Event"] == "failed"
    assert req.headers["User-Agent"] == "Agentry/1.2"
    assert req.headers["Content-Type"] == "application/json"
    body = json.loads(req.body)
    assert body["event"] == "failed" and body["task"]["id"] == 7 and body["exit_code"] == 2
    assert body["event_id"] == 41 and body["delivery_id"] == 3
    assert "fix the build" in body["title"]


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (200, None, None),  # delivered
        (204, None, None),
        (400, None, None),  # permanent
        (401, None, None),
        (404, None, None),
        (410, None, None),
        (408, None, NOW + 30),  # retried
        (429, None, NOW + 30),
        (500, None, NOW + 30),
        (503, None, NOW + 30),
        (None, "timed out", NOW + 30),
        (None, "could not connect", NOW + 30),
    ],
)
def test_what_each_answer_means_for_a_retry(
    status: int | None, error: str | None, expected: float | None
) -> None:
    assert next_attempt_at(Outcome(status, error), 1, DELAYS, NOW) == expected


def test_retries_follow_the_delays_then_give_up() -> None:
    failing = Outcome(500)
    assert [next_attempt_at(failing, n, DELAYS, NOW) for n in (1, 2, 3, 4)] == [
        NOW + 30, NOW + 120, NOW + 600, None,
    ]  # fmt: skip
    assert next_attempt_at(failing, 1, (), NOW) is None  # no retries at all


def test_retry_after_is_honoured_within_reason() -> None:
    assert next_attempt_at(Outcome(429, retry_after=5.0), 1, DELAYS, NOW) == NOW + 5
    assert next_attempt_at(Outcome(503, retry_after=1e9), 1, DELAYS, NOW) == NOW + 3600
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == 60.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_ntfy_gets_text_with_title_priority_and_tags() -> None:
    req = build_request(TargetKind.NTFY, "https://ntfy.sh/t", _delivery("failed"), secret=None,
                        version="1")  # fmt: skip
    assert req.body.decode() == "make: *** [all] Error 2"
    assert req.headers["Title"] == "Task 7: fix the build failed"
    assert req.headers["Priority"] == "high"
    assert req.headers["Tags"] == "x"
    assert req.headers["Idempotency-Key"] == "agentry-41-1-abc"
    calm = build_request(TargetKind.NTFY, "https://ntfy.sh/t", _delivery("succeeded"),
                         secret=None, version="1")  # fmt: skip
    assert calm.headers["Priority"] == "default"


def test_slack_and_discord_get_their_own_message_shapes() -> None:
    slack = json.loads(build_request(TargetKind.SLACK, "https://hooks.slack.com/x",
                                     _delivery(), secret=None, version="1").body)  # fmt: skip
    discord = json.loads(build_request(TargetKind.DISCORD, "https://discord.com/api/webhooks/x",
                                       _delivery(), secret=None, version="1").body)  # fmt: skip
    assert list(slack) == ["text"] and "fix the build" in slack["text"]
    assert list(discord) == ["content"] and "Error 2" in discord["content"]


@pytest.mark.parametrize(
    ("kind", "old", "new", "detail", "name"),
    [
        ("run_state", "running", "succeeded", None, "succeeded"),
        ("run_state", "running", "failed", None, "failed"),
        ("run_state", "running", "timed_out", None, "failed"),
        ("run_state", "running", "cancelled", None, None),
        ("run_state", "starting", "running", None, None),
        ("run_state", None, "queued", None, None),
        ("approval", None, "pending", {"tool": "Write"}, "needs-you"),
        ("approval", None, "allowed", {"tool": "Read"}, None),  # allowed by a rule: no one waits
        ("approval", "pending", "denied", None, None),
        ("limit_paused", None, None, {"agent": "claude"}, "limit"),
        ("checkpoint", None, "pending", {"step": "plan"}, "checkpoint"),
        ("checkpoint", "pending", "approved", None, None),
        ("recovery", None, None, {"reattached": 0, "finished": 0, "interrupted": 0}, None),
        ("recovery", None, None, {"reattached": 0, "finished": 2, "interrupted": 0}, "recovery"),
        ("task_created", None, None, None, None),
    ],
)
def test_which_audit_events_notify(
    kind: str, old: str | None, new: str | None, detail: dict[str, object] | None, name: str | None
) -> None:
    assert event_name(kind, old, new, detail) == name


def test_events_are_parsed_and_a_wrong_one_is_named() -> None:
    assert parse_events(None) == EVENTS
    assert parse_events("all") == EVENTS
    assert parse_events("needs-you, failed") == ("failed", "needs-you")
    with pytest.raises(NotifyError, match=r"'finished'.*succeeded, failed"):
        parse_events("failed,finished")


@pytest.mark.parametrize("url", ["ftp://h/x", "h/x", "https://", "javascript:alert(1)", ""])
def test_only_http_urls_are_targets(url: str) -> None:
    with pytest.raises(NotifyError, match="not an http:// or https:// address"):
        check_url(url)
    assert check_url(" https://ntfy.sh/t ") == "https://ntfy.sh/t"


def test_retry_settings_are_validated_and_read_from_json(tmp_path: Path) -> None:
    assert Settings().notify_retry_delays_s == [30.0, 120.0, 600.0]
    assert delays_problem((0.1, 0.2)) is None
    assert delays_problem([0, 1]) is not None
    assert delays_problem(["30"]) is not None
    assert delays_problem(tuple(range(1, 13))) is not None
    assert any(
        "notify_retry_delays_s" in p for p in Settings(notify_retry_delays_s=[-1.0]).problems()
    )
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"notify_retry_delays_s": [1, 2.5], "notify_timeout_s": 3}))
    settings = load_settings(path)
    assert settings.notify_retry_delays_s == [1, 2.5]
    assert settings.notify_timeout_s == 3.0
