"""`agentry doctor --json` is a contract: these keys, in this shape, whatever state the data
folder is in. A change here is a change for every script that reads it (bump "version")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.locations import Locations
from app.supervisor.doctor import JSON_VERSION, collect, to_json

TOP = {"version", "generated_at", "agentry_version", "data_folder", "status", "checks"}
CHECKS = [
    "data_folder", "disk", "supervisor", "database", "backups", "runners", "heartbeats",
    "approvals", "deliveries", "recovery", "audit", "settings", "agents",
]  # fmt: skip
CHECK = {"title", "status", "summary", "action", "detail", "data"}
DATA = {
    "disk": {"free_bytes", "total_bytes", "read_only", "min_free_mb", "low_disk_bytes"},
    "supervisor": {"running", "pid", "mode"},
    "backups": {"folder", "every_h", "newest", "newest_at"},
    "settings": {"path", "exists", "valid"},
    "agents": {"agents"},
}
DATABASE = {"path", "exists", "readable", "schema", "size_bytes", "wal_bytes", "tasks",
            "integrity", "integrity_checked_at", "lost_run_folders"}  # fmt: skip
IN_USE = {
    "runners": {"expected", "alive", "dead_runs"},
    "heartbeats": {"stale_after_s", "stale_runs"},
    "approvals": {"pending", "oldest_age_s"},
    "deliveries": {"pending", "oldest_pending_age_s", "failed_recently"},
    "recovery": {"at"},
    "audit": {"intact", "rows", "last_id", "first_bad_id", "problem"},
}


def doctor_json(root: Path) -> dict:
    report = collect(Locations.in_one_folder(root), detections={}, run_integrity=True)
    return json.loads(json.dumps(to_json(report)))  # what --json prints: plain JSON


@pytest.mark.parametrize("with_database", [False, True])
def test_the_json_keys_are_stable(tmp_path: Path, with_database: bool) -> None:
    if with_database:
        from app.store.db import open_database

        open_database(tmp_path / "agentry.db").close()
    data = doctor_json(tmp_path)
    assert set(data) == TOP and data["version"] == JSON_VERSION == 1
    assert list(data["checks"]) == CHECKS
    assert data["status"] in {"ok", "warn", "fail"}
    for key, check in data["checks"].items():
        assert set(check) == CHECK, key
        assert check["status"] in {"ok", "warn", "fail"} and isinstance(check["detail"], list)
    for key, keys in DATA.items():
        assert set(data["checks"][key]["data"]) == keys, key
    if with_database:
        assert set(data["checks"]["database"]["data"]) == DATABASE
        for key, keys in IN_USE.items():
            assert keys <= set(data["checks"][key]["data"]), key
        assert data["checks"]["database"]["data"]["integrity"] == "ok"


def test_the_overall_status_is_the_worst_check(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("[]")  # not an object: unusable
    data = doctor_json(tmp_path)
    assert data["checks"]["settings"]["status"] == "fail" and data["status"] == "fail"
