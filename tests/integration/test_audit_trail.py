"""The audit trail's hash chain end to end (issue #16): real tasks, an approval and a cancel
through the CLI and a supervisor; then rows edited and deleted behind Agentry's back with
sqlite3, and `agentry audit verify` names the first row that is not as written."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import mounts
from helpers.agentry import Home, run_async
from helpers.wait import async_wait_until

from app.core import audit
from app.store import approval_repo, audit_repo
from app.store.db import APPLICATION_ID, open_database
from app.store.migrations import MIGRATIONS
from app.supervisor.supervisor import Supervisor


def _work(home: Home, work_dir: Path) -> list[int]:
    """Tasks that succeed, fail and are cancelled, and an approval a person denies."""
    ok = home.submit(["true"], work_dir)
    bad = home.submit(["sh", "-c", "exit 3"], work_dir)
    slow = home.submit(["sleep", "30"], work_dir)

    async def scenario() -> None:
        sup = Supervisor(home.locations)
        await sup.start()
        try:
            await async_wait_until(lambda: home.run(slow).state.value == "running", timeout=20)
            with home.db() as conn:
                asked = approval_repo.create(
                    conn, run_id=home.run(slow).id, task_id=slow, agent="claude",
                    tool="Bash", tool_input={"command": "rm -rf build"}, cwd=str(work_dir),
                    expires_in=600,
                )  # fmt: skip
            home.cli("deny", asked.id, "--reason", "not now", check=True)
            home.cli("cancel", str(slow), check=True)
            await async_wait_until(
                lambda: all(home.run(t).state.is_terminal for t in (ok, bad, slow)), timeout=20
            )
        finally:
            await sup.stop()

    run_async(scenario())
    return [ok, bad, slow]


def _verify(home: Home) -> tuple[int, dict[str, object], str]:
    done = home.cli("audit", "verify", "--json")
    return done.returncode, json.loads(done.stdout), done.stderr


def _sql(home: Home, statement: str, *params: object) -> None:
    conn = sqlite3.connect(home.locations.database)
    with conn:
        conn.execute(statement, params)
    conn.close()


def _ids(home: Home) -> list[int]:
    conn = sqlite3.connect(home.locations.database)
    try:
        return [row[0] for row in conn.execute("SELECT id FROM events ORDER BY id")]
    finally:
        conn.close()


@pytest.fixture
def worked(home: Home, work_dir: Path) -> list[int]:
    return _work(home, work_dir)


def test_a_real_trail_of_runs_an_approval_and_a_cancel_verifies(
    home: Home, worked: list[int]
) -> None:
    code, verdict, _ = _verify(home)
    assert code == 0, verdict
    ids = _ids(home)
    assert verdict == {"intact": True, "rows": len(ids), "last_id": ids[-1],
                       "first_bad_id": None, "problem": None,
                       "message": f"all {len(ids)} rows are as written"}  # fmt: skip
    with home.db() as conn:
        kinds = {row[0] for row in conn.execute("SELECT kind FROM events")}
    assert {"task_created", "run_state", "approval"} <= kinds
    text = home.cli("audit", "verify", check=True).stdout
    assert text.startswith(f"The audit trail is intact: all {len(ids)} rows")


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_an_edited_row_is_named_as_changed(home: Home, worked: list[int], where: str) -> None:
    ids = _ids(home)
    target = {"first": ids[0], "middle": ids[len(ids) // 2], "last": ids[-1]}[where]
    _sql(home, "UPDATE events SET new_state = 'succeeded' WHERE id = ?", target)
    code, verdict, _ = _verify(home)
    assert code == 1
    assert (verdict["problem"], verdict["first_bad_id"]) == ("changed", target)
    assert verdict["rows"] == ids.index(target)  # every row before it checks out

    done = home.cli("audit", "verify")
    assert done.returncode == 1
    assert f"row #{target} was changed after it was written" in done.stderr
    assert "agentry restore" in done.stderr


def test_a_row_edited_with_its_hash_recomputed_is_still_caught(
    home: Home, worked: list[int]
) -> None:
    ids = _ids(home)
    target = ids[3]
    conn = sqlite3.connect(home.locations.database)
    with conn:
        conn.execute("UPDATE events SET detail = '{\"forged\": true}' WHERE id = ?", (target,))
        content = conn.execute(
            f"SELECT {', '.join(audit.ROW_COLUMNS)}, prev_hash FROM events WHERE id = ?",
            (target,),
        ).fetchone()
        forged = audit.row_hash(content[:-1], content[-1])
        conn.execute("UPDATE events SET hash = ? WHERE id = ?", (forged, target))
    conn.close()
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "changed", target)
    assert f"#{ids[4]} no longer points to it" in str(verdict["message"])


def test_a_row_whose_link_was_edited_is_named(home: Home, worked: list[int]) -> None:
    target = _ids(home)[2]
    _sql(home, "UPDATE events SET prev_hash = ? WHERE id = ?", "f" * 64, target)
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "changed", target)


def test_a_deleted_row_is_named_as_removed(home: Home, worked: list[int]) -> None:
    ids = _ids(home)
    target = ids[5]
    _sql(home, "DELETE FROM events WHERE id = ?", target)
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "removed", target)
    assert verdict["message"] == (f"row #{target} was removed: #{target + 1} points to a row "
                                  "that is not there")  # fmt: skip
    assert verdict["rows"] == 5


def test_deleted_rows_in_a_run_are_named_as_a_span(home: Home, worked: list[int]) -> None:
    ids = _ids(home)
    _sql(home, "DELETE FROM events WHERE id BETWEEN ? AND ?", ids[0], ids[2])
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "removed", ids[0])
    assert str(verdict["message"]).startswith(f"rows #{ids[0]} to #{ids[2]} were removed")


def test_deleting_the_newest_rows_is_caught(home: Home, worked: list[int]) -> None:
    ids = _ids(home)
    _sql(home, "DELETE FROM events WHERE id >= ?", ids[-2])
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "removed_last", ids[-2])
    assert verdict["message"] == (f"the newest rows were removed: #{ids[-2]} to #{ids[-1]} "
                                  "were written and are gone")  # fmt: skip


def test_a_row_slipped_in_by_hand_is_caught(home: Home, worked: list[int]) -> None:
    _sql(home, "INSERT INTO events (at, kind) VALUES (1, 'run_state')")
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "unsealed", _ids(home)[-1])


def test_a_rolled_back_change_leaves_the_chain_whole(home: Home, work_dir: Path) -> None:
    home.submit(["true"], work_dir)
    conn = open_database(home.locations.database)
    try:
        conn.execute("BEGIN IMMEDIATE")
        from app.store import repo

        repo.add_event(conn, "archived", task_id=1)
        conn.execute("ROLLBACK")
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            repo.add_event(conn, "dismissed", task_id=1)
        assert audit_repo.verify(conn).intact
    finally:
        conn.close()


def test_processes_writing_at_once_keep_one_chain(home: Home, work_dir: Path) -> None:
    """Eight `agentry run`s at the same time: BEGIN IMMEDIATE orders them, none forks the chain."""
    procs = [subprocess.Popen(home.cli_argv("run", "--cwd", str(work_dir), "--", "echo", str(n)),
                              env=home.env, stdout=subprocess.PIPE, text=True)
             for n in range(8)]  # fmt: skip
    assert all(p.wait(timeout=60) == 0 for p in procs)
    code, verdict, _ = _verify(home)
    assert code == 0 and verdict["rows"] == 16, verdict


def test_upgrading_a_database_seals_the_rows_it_already_had(home: Home, work_dir: Path) -> None:
    """A database from before the chain: its rows are sealed by the upgrade, and new ones
    chain on."""
    path = home.locations.database
    path.parent.mkdir(parents=True, exist_ok=True)
    chained = next(i for i, m in enumerate(MIGRATIONS) if callable(m) and "chain" in m.__name__)
    old = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:chained]:
        assert isinstance(script, str)
        for statement in filter(None, (s.strip() for s in script.split(";"))):
            old.execute(statement)
    for n in range(3):
        old.execute("INSERT INTO events (at, kind, detail) VALUES (?, 'recovery', ?)",
                    (1_700_000_000.5 + n, json.dumps({"n": n})))  # fmt: skip
    old.execute(f"PRAGMA user_version={chained}")
    old.execute(f"PRAGMA application_id={APPLICATION_ID}")
    old.close()

    home.submit(["true"], work_dir)  # opening it upgrades it
    code, verdict, _ = _verify(home)
    assert code == 0 and verdict["rows"] == 5, verdict
    _sql(home, "UPDATE events SET detail = '{\"n\": 9}' WHERE id = 2")
    assert _verify(home)[1]["first_bad_id"] == 2


def _recomputed(rows: list[dict[str, object]]) -> list[str]:
    """Each exported row's hash, by the recipe the export states, with hashlib itself."""
    out = []
    for row in rows:
        names = ("id", "at", "kind", "task_id", "run_id", "old_state", "new_state")
        content = [*(row[name] for name in names), row["detail_text"], row["prev_hash"]]
        text = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
        out.append(hashlib.sha256(text.encode("utf-8")).hexdigest())
    return out


def test_export_of_one_task_as_json_can_be_checked_by_anyone(
    home: Home, worked: list[int], tmp_path: Path
) -> None:
    slow = worked[2]
    target = tmp_path / "trail.json"
    done = home.cli("audit", "export", "--task", str(slow), "--json", "-o", str(target),
                    check=True)  # fmt: skip
    data = json.loads(target.read_text())
    rows = data["rows"]
    assert done.stdout.strip() == f"Wrote {len(rows)} audit row(s) to {target}."
    assert {row["task_id"] for row in rows} == {slow}
    assert [row["kind"] for row in rows if row["kind"] == "approval"] == ["approval"] * 2
    assert data["trail"]["intact"] is True and data["format"] == "agentry-audit"
    assert _recomputed(rows) == [row["hash"] for row in rows]
    states = [(row["old_state"], row["new_state"]) for row in rows if row["kind"] == "run_state"]
    assert states[-1][1] == "cancelled"


def test_export_by_dates_and_as_text(home: Home, worked: list[int]) -> None:
    today = date.today()
    everything = home.cli("audit", "export", "--since", today.isoformat(), check=True).stdout
    assert len(everything.splitlines()) == len(_ids(home))
    assert " → running" in everything and "approval" in everything
    tomorrow = (today + timedelta(days=1)).isoformat()
    none = home.cli("audit", "export", "--since", tomorrow, check=True).stdout
    assert none == "No audit rows match.\n"
    until_today = home.cli("audit", "export", "--until", today.isoformat(), check=True).stdout
    assert until_today == everything  # a bare date includes its whole day

    wrong = home.cli("audit", "export", "--since", "yesterday")
    assert wrong.returncode == 2
    assert "'yesterday' is not a date or time; write it as YYYY-MM-DD" in wrong.stderr


def test_an_export_to_a_full_disk_says_where_and_leaves_nothing(
    home: Home, worked: list[int], tmp_path: Path
) -> None:
    with mounts.tmpfs(tmp_path / "small", size="64k") as small:
        mounts.fill(small)
        done = home.cli("audit", "export", "--json", "-o", str(small / "trail.json"))
        left = sorted(p.name for p in small.iterdir())
    assert done.returncode == 1
    assert "could not write the audit trail" in done.stderr and str(small) in done.stderr
    assert left == ["filler.bin"], "no half-written export, no temp file"


def test_doctor_and_the_health_view_say_when_the_trail_was_altered(
    home: Home, worked: list[int]
) -> None:
    done = home.cli("doctor", "--json")
    check = json.loads(done.stdout)["checks"]["audit"]
    assert check["status"] == "ok" and check["data"]["intact"] is True
    assert check["summary"] == f"intact: {len(_ids(home))} rows as they were written"

    target = _ids(home)[4]
    _sql(home, "DELETE FROM events WHERE id = ?", target)
    done = home.cli("doctor", "--json")
    assert done.returncode == 1
    check = json.loads(done.stdout)["checks"]["audit"]
    assert check["status"] == "fail" and check["data"]["first_bad_id"] == target
    assert check["summary"].startswith(f"altered outside Agentry: row #{target} was removed")
    assert "agentry restore" in check["action"]


def test_rows_removed_before_agentry_writes_again_are_still_caught(
    home: Home, worked: list[int]
) -> None:
    """The next change chains on to what was left; the gap in the ids still tells."""
    ids = _ids(home)
    _sql(home, "DELETE FROM events WHERE id >= ?", ids[-3])
    home.cli("archive", str(worked[0]), check=True)  # Agentry writes the next row
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "removed", ids[-3])
    assert str(verdict["message"]).startswith(f"rows #{ids[-3]} to #{ids[-1]} were removed")


def test_every_row_removed_and_the_trail_begun_again_is_caught(
    home: Home, worked: list[int]
) -> None:
    last = _ids(home)[-1]
    _sql(home, "DELETE FROM events")
    home.cli("archive", str(worked[0]), check=True)  # a fresh chain from a genesis row
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "removed", 1)
    assert str(verdict["message"]).startswith(f"rows #1 to #{last} were removed")


def test_a_value_no_row_can_hold_is_a_change_not_a_crash(home: Home, worked: list[int]) -> None:
    target = _ids(home)[2]
    _sql(home, "UPDATE events SET detail = X'7b7d', at = 'soon' WHERE id = ?", target)
    code, verdict, _ = _verify(home)
    assert (code, verdict["problem"], verdict["first_bad_id"]) == (1, "changed", target)
    assert json.loads(home.cli("doctor", "--json").stdout)["checks"]["audit"]["status"] == "fail"
    for fmt in ((), ("--json",)):  # the export still writes what is there
        done = home.cli("audit", "export", *fmt)
        assert done.returncode == 0, done.stderr
