"""``agentry notify add|list|remove|pause|resume|test|log|retry``: durable notifications
(issue #16) to a webhook, ntfy, Slack or Discord. Targets and deliveries are rows in the database; a
running supervisor (the app, ``serve``) sends what is due within a tick. ``test`` sends
from this process and prints how it went."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from app.cli.common import EXIT_ERROR, EXIT_OK, Subparsers, open_store, print_json, usage_error

KINDS = ("webhook", "ntfy", "slack", "discord")


def add_commands(sub: Subparsers) -> None:
    p = sub.add_parser("notify", help="send notifications to a webhook, ntfy, Slack or Discord")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    add = verbs.add_parser(
        "add", help="a new target: --webhook URL, --ntfy TOPIC_URL, --slack URL or --discord URL"
    )
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--webhook", metavar="URL", help="a generic webhook: a signed JSON POST")
    where.add_argument("--ntfy", metavar="TOPIC_URL", help="an ntfy topic, e.g. https://ntfy.sh/x")
    where.add_argument("--slack", metavar="URL", help="a Slack incoming webhook URL")
    where.add_argument("--discord", metavar="URL", help="a Discord webhook URL")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument(
        "--secret", metavar="S", help="sign each body: X-Agentry-Signature: sha256=HMAC"
    )
    secret.add_argument(
        "--secret-file", metavar="F", help="read the secret from a file (its first line)"
    )
    add.add_argument(
        "--events",
        metavar="LIST",
        help="comma-separated: succeeded, failed, needs-you, limit, checkpoint, recovery "
        "(default: all)",
    )
    add.set_defaults(handler=cmd_add)

    listing = verbs.add_parser("list", help="the targets and the events each gets")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_list)

    remove = verbs.add_parser("remove", help="stop notifying a target (its log goes with it)")
    remove.add_argument("id", type=TARGET_ID, help="target id (see `agentry notify list`)")
    remove.set_defaults(handler=cmd_remove)

    for verb, paused, what in (
        (
            "pause",
            True,
            "stop sending to a target for now (what happens meanwhile is not sent later)",
        ),
        ("resume", False, "send to a paused target again"),
    ):
        toggle = verbs.add_parser(verb, help=what)
        toggle.add_argument("id", type=TARGET_ID, help="target id (see `agentry notify list`)")
        toggle.set_defaults(handler=cmd_pause, paused=paused)

    test = verbs.add_parser("test", help="send a test notification now and say how it went")
    test.add_argument("id", type=TARGET_ID, help="target id (see `agentry notify list`)")
    test.set_defaults(handler=cmd_test)

    logs = verbs.add_parser("log", help="each delivery and its attempts, newest first")
    logs.add_argument("--target", metavar="ID", type=TARGET_ID,
                      help="only this target's deliveries")  # fmt: skip
    logs.add_argument("--limit", type=int, default=50, metavar="N", help="at most N (50)")
    logs.add_argument("--json", action="store_true", help="machine-readable output")
    logs.set_defaults(handler=cmd_log)

    again = verbs.add_parser("retry", help="try a pending or failed delivery again now")
    again.add_argument("id", type=DELIVERY_ID, help="delivery id (see `agentry notify log`)")
    again.set_defaults(handler=cmd_retry)


def _id_of(what: str, listed_by: str) -> Callable[[str], int]:
    """An argparse ``type`` for a target's or delivery's id ("3" or "#3"): anything else is
    a usage error that says where the ids are."""

    def parse(text: str) -> int:
        digits = str(text).strip().lstrip("#")
        if not digits.isdigit():
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {what} id; `agentry notify {listed_by}` shows them"
            )
        return int(digits)

    return parse


TARGET_ID = _id_of("target", "list")
DELIVERY_ID = _id_of("delivery", "log")


def cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.core.notifications import TargetKind, parse_events
    from app.supervisor import deliveries

    kind = next(k for k in KINDS if getattr(args, k) is not None)
    secret = args.secret
    if args.secret_file is not None:
        try:
            lines = Path(args.secret_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            return usage_error(f"cannot read the secret file {args.secret_file}: {exc.strerror}")
        secret = lines[0].strip() if lines else ""
        if not secret:
            return usage_error(f"the secret file {args.secret_file} is empty")
    events = parse_events(args.events)
    locations, conn = open_store()
    target = deliveries.add_target(
        conn, locations, TargetKind(kind), getattr(args, kind), events, secret=secret
    )
    signed = ", signed" if target.secret_set else ""
    print(f"Target {target.id}: {kind} {target.url} for {', '.join(events)}{signed}.")
    print(f"Send a test with: agentry notify test {target.id}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from app.store.db import NoDatabase
    from app.supervisor import deliveries

    try:
        locations, conn = open_store(read_only=True)
    except NoDatabase:
        found = []
    else:
        found = deliveries.targets(conn, locations)
    if args.json:
        print_json([t.to_json() for t in found])
        return EXIT_OK
    if not found:
        print("No notification targets yet. Add one with: agentry notify add --ntfy "
              "https://ntfy.sh/YOUR-TOPIC")  # fmt: skip
        return EXIT_OK
    lines = [f"{'ID':>4}  {'KIND':<8} {'SENDS':<6} {'SECRET':<12} {'EVENTS':<40} URL"]
    for t in found:
        secret = "secret: set" if t.secret_set else "no secret"
        events = ",".join(t.events)
        sends = "paused" if t.paused else "yes"
        lines.append(f"{t.id:>4}  {t.kind.value:<8} {sends:<6} {secret:<12} {events:<40} {t.url}")
    print("\n".join(lines))
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    from app.supervisor import deliveries

    locations, conn = open_store()
    target = deliveries.remove_target(conn, locations, args.id)
    print(f"Target {target.id} ({target.kind.value}) removed.")
    return EXIT_OK


def cmd_pause(args: argparse.Namespace) -> int:
    from app.supervisor import deliveries

    locations, conn = open_store()
    target = deliveries.set_paused(conn, locations, args.id, args.paused)
    if target.paused:
        print(f"Target {target.id} ({target.kind.value}) paused: nothing is sent to it, nor "
              f"kept for later, until `agentry notify resume {target.id}`.")  # fmt: skip
    else:
        print(f"Target {target.id} ({target.kind.value}) sends again.")
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    from app.store.settings import load_settings
    from app.supervisor import deliveries

    locations, conn = open_store()
    delivery = deliveries.send_test(conn, locations, load_settings(locations.settings), args.id)
    if delivery.state.value == "delivered":
        print(f"Delivered: {deliveries.where(delivery)} answered {delivery.last_status}.")
        return EXIT_OK
    problem = delivery.last_error or f"HTTP {delivery.last_status}"
    then = (
        "a running Agentry tries again"
        if delivery.state.value == "pending"
        else "fix the target (agentry notify remove, then add) and test again"
    )
    print(f"agentry: the test to {deliveries.where(delivery)} was not delivered: {problem}; "
          f"{then}", file=sys.stderr)  # fmt: skip
    return EXIT_ERROR


def cmd_log(args: argparse.Namespace) -> int:
    from app.store import notify_repo
    from app.store.db import NoDatabase

    target_id = args.target
    try:
        _, conn = open_store(read_only=True)
    except NoDatabase:
        found = []
    else:
        found = notify_repo.deliveries(conn, target_id=target_id, limit=max(1, args.limit))
    if args.json:
        print_json([d.to_json() for d in found])
        return EXIT_OK
    if not found:
        print("No deliveries yet.")
        return EXIT_OK
    lines = []
    for d in found:
        task = f"task {d.task_id}" if d.task_id is not None else "-"
        lines.append(f"#{d.id}  {_time(d.created_at)}  target {d.target_id}  {d.event:<10} "
                     f"{task:<9} {d.state.value:<9} {d.attempts} attempt(s)")  # fmt: skip
        if d.state.value == "pending" and d.next_at is not None:
            lines.append(f"    next attempt {_time(d.next_at)}")
        for a in d.history:
            status = str(a.status) if a.status is not None else "-"
            error = f"  {a.error}" if a.error else ""
            lines.append(f"    {_time(a.at)}  {status:>3}  {a.duration_ms} ms{error}")
    print("\n".join(lines))
    return EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    from app.supervisor import deliveries

    _, conn = open_store()
    deliveries.retry(conn, args.id)
    print(f"Delivery {args.id} is due now; a running Agentry sends it within a second.")
    return EXIT_OK


def _time(at: float | None) -> str:
    import time

    return "-" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
