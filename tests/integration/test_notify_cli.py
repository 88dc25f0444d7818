"""`agentry notify …` as a person types it, against a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.agentry import Home
from helpers.webhook_server import Reply, WebhookServer, free_port

from app.cli import program


@pytest.fixture
def server() -> Iterator[WebhookServer]:
    srv = WebhookServer().start()
    yield srv
    srv.stop()


def test_add_list_test_log_and_remove_a_target(home: Home, server: WebhookServer) -> None:
    added = home.cli("notify", "add", "--ntfy", server.url, "--events", "failed,needs-you",
                     check=True)  # fmt: skip
    assert "Target 1: ntfy" in added.stdout and "agentry notify test 1" in added.stdout
    [target] = json.loads(home.cli("notify", "list", "--json", check=True).stdout)
    assert target["kind"] == "ntfy" and target["events"] == ["failed", "needs-you"]
    assert target["secret"] == "none"
    tested = home.cli("notify", "test", "1", check=True)
    assert "Delivered" in tested.stdout and "answered 200" in tested.stdout
    [got] = server.requests()
    assert got.headers["X-Agentry-Event"] == "test" and got.headers["Title"]
    [entry] = json.loads(home.cli("notify", "log", "--json", check=True).stdout)
    assert entry["event"] == "test" and entry["state"] == "delivered"
    assert [a["status"] for a in entry["history"]] == [200]
    assert "#1" in home.cli("notify", "log", "--target", "1", check=True).stdout
    assert "removed" in home.cli("notify", "remove", "1", check=True).stdout
    assert "No notification targets yet" in home.cli("notify", "list", check=True).stdout


def test_a_failed_test_says_why_and_retry_sends_it_again(home: Home, server: WebhookServer) -> None:
    server.script = [Reply(403)]
    home.cli("notify", "add", "--webhook", server.url, "--secret", "k", check=True)
    tested = home.cli("notify", "test", "1")
    assert tested.returncode == 1
    assert "HTTP 403" in tested.stderr and "fix the target" in tested.stderr
    [entry] = json.loads(home.cli("notify", "log", "--json", check=True).stdout)
    assert entry["state"] == "failed" and entry["attempts"] == 1
    again = home.cli("notify", "retry", str(entry["id"]), check=True)
    assert "due now" in again.stdout
    [entry] = json.loads(home.cli("notify", "log", "--json", check=True).stdout)
    assert entry["state"] == "pending"


def test_a_receiver_that_is_down_is_said_and_left_to_retry(home: Home) -> None:
    home.cli("notify", "add", "--discord", f"http://127.0.0.1:{free_port()}/x", check=True)
    tested = home.cli("notify", "test", "1")
    assert tested.returncode == 1
    assert "could not connect" in tested.stderr and "tries again" in tested.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--webhook", "ftp://example.com/x"), "'ftp://example.com/x' is not an http://"),
        (("--slack", "hooks.slack.com/x"), "the slack URL 'hooks.slack.com/x'"),
        (("--ntfy", "https://ntfy.sh/t", "--events", "done"), "unknown event 'done'"),
    ],
)
def test_a_bad_target_is_refused_naming_the_value(
    home: Home, args: tuple[str, ...], says: str
) -> None:
    refused = home.cli("notify", "add", *args)
    assert refused.returncode != 0
    assert says in refused.stderr
    assert "No notification targets yet" in home.cli("notify", "list", check=True).stdout


def test_a_secret_file_signs_and_its_secret_is_never_shown(
    home: Home, server: WebhookServer, tmp_path: Path
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("from-a-file-77\n")
    home.cli("notify", "add", "--webhook", server.url, "--secret-file", str(secret_file),
             check=True)  # fmt: skip
    listed = home.cli("notify", "list", check=True).stdout
    assert "secret: set" in listed and "from-a-file-77" not in listed
    home.cli("notify", "test", "1", check=True)
    assert server.requests()[0].headers["X-Agentry-Signature"].startswith("sha256=")
    assert "from-a-file-77" in home.locations.notify_secrets.read_text()
    missing = home.cli("notify", "add", "--webhook", server.url, "--secret-file", "/nonexistent")
    assert missing.returncode == 2 and "cannot read the secret file" in missing.stderr


def test_unknown_ids_are_said(home: Home) -> None:
    assert "no notification target 9" in home.cli("notify", "remove", "9").stderr
    assert "no delivery 9" in home.cli("notify", "retry", "9").stderr
    assert "not a target id" in home.cli("notify", "test", "x").stderr


def test_notify_is_registered_lazily() -> None:
    assert ("notify.add_commands", ("notify",)) in program.GROUPS


def _limit_hit(home: Home, task_id: int) -> None:
    """What a usage limit commits (its audit row queues the deliveries), by the store."""
    from app.store import repo
    from app.store.db import transaction

    with home.db() as conn, transaction(conn):
        repo.add_event(conn, "limit_paused", task_id=task_id, detail={"agent": "claude"})


def test_a_paused_target_gets_nothing_until_resumed_and_nothing_from_meanwhile(
    home: Home, server: WebhookServer, work_dir: Path
) -> None:
    home.cli("notify", "add", "--slack", server.url, "--events", "limit", check=True)
    home.cli("notify", "add", "--discord", server.url, "--events", "limit", check=True)
    task_id = home.submit(["true"], work_dir)
    paused = home.cli("notify", "pause", "1", check=True)
    assert "Target 1 (slack) paused" in paused.stdout and "notify resume 1" in paused.stdout
    listed = {t["id"]: t["paused"] for t in json.loads(home.cli("notify", "list", "--json",
                                                                check=True).stdout)}  # fmt: skip
    assert listed == {1: True, 2: False}
    assert "paused" in home.cli("notify", "list", check=True).stdout.splitlines()[1]

    _limit_hit(home, task_id)
    log = json.loads(home.cli("notify", "log", "--json", check=True).stdout)
    assert [d["target_id"] for d in log] == [2], "the paused target got no delivery"

    assert "sends again" in home.cli("notify", "resume", "1", check=True).stdout
    _limit_hit(home, task_id)
    log = json.loads(home.cli("notify", "log", "--json", check=True).stdout)
    assert sorted(d["target_id"] for d in log) == [1, 2, 2], "what came while paused is not sent"
    with home.db() as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM events WHERE kind LIKE 'notify%'")]
    assert kinds[-2:] == ["notify_target_paused", "notify_target_resumed"]
    wrong = home.cli("notify", "pause", "x")
    assert wrong.returncode == 2 and "'x' is not a target id" in wrong.stderr
