"""`agentry doctor --json`, its exit status, and `agentry doctor --export PATH
[--include-private]`: a zip whose prompts, output and secrets are redacted unless asked,
with the logs in it, written whole or not at all."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from helpers.agentry import Home

PROMPT = "PROMPT-SENTINEL please refactor the billing module"
OUTPUT = "OUTPUT-SENTINEL-42"
SECRET = "hunter2-SECRET-value"
ENV_VALUE = "ENV-SENTINEL-value"
TOKEN_URL = "https://hooks.example.com/services/T0?token=URLTOKEN-SENTINEL"


def test_doctor_json_is_machine_readable_and_the_exit_status_follows_the_worst(
    home: Home,
) -> None:
    result = home.cli("doctor", "--json")
    assert result.returncode == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["status"] in {"ok", "warn"}
    assert data["checks"]["database"]["status"] == "ok"
    home.locations.settings.write_text('{"max_concurrency": 0}')
    failing = home.cli("doctor", "--json")
    assert failing.returncode == 1
    assert json.loads(failing.stdout)["checks"]["settings"]["status"] == "fail"
    text = home.cli("doctor")
    assert text.returncode == 1 and "FAIL" in text.stdout and "1 problem(s) found" in text.stdout


def populated(home: Home, work_dir: Path) -> None:
    """A finished task with a prompt, output and env, a secret in the settings file, and a
    log that names a URL with a token."""
    home.write_settings()
    settings = json.loads(home.locations.settings.read_text())
    settings["webhook_secret"] = SECRET  # an unknown key: ignored by Agentry, kept in the file
    home.locations.settings.write_text(json.dumps(settings))
    serve = home.serve()
    task_id = home.submit(["echo", OUTPUT], work_dir, prompt=PROMPT, env={"X": ENV_VALUE},
                          title=PROMPT)  # fmt: skip
    home.wait_state(task_id, "succeeded")
    serve.terminate()
    serve.wait(timeout=30)
    with (home.locations.logs / "agentry.log").open("a") as log:
        log.write(f"2026-12-05 03:00:00,000 1 INFO app.test: {PROMPT} posting {TOKEN_URL}\n")


def zip_text(path: Path) -> tuple[list[str], str]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        text = "\n".join(archive.read(n).decode("utf-8", "replace") for n in names)
    return names, text


def test_the_export_is_redacted_by_default_and_holds_the_logs(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    populated(home, work_dir)
    target = tmp_path / "diag.zip"
    result = home.cli("doctor", "--export", str(target))
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout and "redacted" in result.stdout
    names, text = zip_text(target)
    for member in ("README.txt", "doctor.json", "settings.json", "recovery_reports.json",
                   "tasks.json", "events.json", "logs/agentry.log"):  # fmt: skip
        assert member in names, names
    assert not any(n.startswith("output/") for n in names)
    for private in (PROMPT, OUTPUT, SECRET, ENV_VALUE, "URLTOKEN-SENTINEL"):
        assert private not in text, private
    assert "[redacted]" in text and "https://hooks.example.com/services/T0?[redacted]" in text
    assert "Redacted:" in zip_text(target)[1]  # the README says what was taken out
    with zipfile.ZipFile(target) as archive:
        tasks = json.loads(archive.read("tasks.json"))
        assert tasks[0]["state"] == "succeeded" and tasks[0]["prompt"] == "[redacted]"
        assert json.loads(archive.read("doctor.json"))["version"] == 1


def test_the_tick_keeps_prompts_output_and_secrets(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    populated(home, work_dir)
    target = tmp_path / "private.zip"
    result = home.cli("doctor", "--export", str(target), "--include-private")
    assert result.returncode == 0, result.stderr
    names, text = zip_text(target)
    assert any(n.startswith("output/") for n in names) and "logs/agentry.log" in names
    for private in (PROMPT, OUTPUT, SECRET, ENV_VALUE, TOKEN_URL):
        assert private in text, private
    assert "PRIVATE CONTENT INCLUDED" in text


def test_an_export_that_cannot_be_written_names_the_path_and_leaves_nothing(
    home: Home, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-folder" / "diag.zip"
    result = home.cli("doctor", "--export", str(target))
    assert result.returncode == 1
    assert str(target) in result.stderr and "Traceback" not in result.stderr
    assert not target.parent.exists()
    taken = tmp_path / "taken"
    taken.mkdir()
    target = taken / "diag.zip"
    target.mkdir()  # a folder where the zip should go: the rename fails
    result = home.cli("doctor", "--export", str(target))
    assert result.returncode == 1 and str(target) in result.stderr
    assert list(taken.iterdir()) == [target], "a temporary file was left behind"


def test_texts_that_are_json_words_shell_commands_and_decisions_are_redacted_safely(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    """A title "null" (or "true", "8080") is redacted as a string, never inside the doctor
    report's JSON syntax; a shell command line and a person's deny reason are private."""
    from app.core.approvals import ApprovalState
    from app.store import approval_repo

    shell_token = "https://hooks.slack.com/services/T0/B0/SHELLTOKEN1"
    reason = "REASON-SENTINEL not on the production database"
    home.cli("run", "--title", "null", "--", "true", check=True)
    home.cli("run", "--title", "8080", "--shell", f"curl -X POST {shell_token}", check=True)
    task_id = home.submit(["sleep", "30"], work_dir, title="asks")
    serve = home.serve()
    home.wait_state(task_id, "running")
    with home.db() as conn:
        asked = approval_repo.create(conn, run_id=home.run(task_id).id, task_id=task_id,
                                     agent="claude", tool="Bash", tool_input={"command": "x"},
                                     cwd=str(work_dir), expires_in=600)  # fmt: skip
    home.cli("deny", asked.id, "--reason", reason, check=True)
    with home.db() as conn:
        assert approval_repo.get(conn, asked.id).state is ApprovalState.DENIED
    home.cli("cancel", str(task_id), check=True)
    home.wait_state(task_id, "cancelled")
    serve.terminate()
    serve.wait(timeout=30)

    target = tmp_path / "diag.zip"
    done = home.cli("doctor", "--export", str(target))
    assert done.returncode == 0, done.stderr
    text = zip_text(target)[1]
    with zipfile.ZipFile(target) as archive:
        doctor = json.loads(archive.read("doctor.json"))  # still JSON, keys intact
    assert {"version", "status", "checks"} <= set(doctor)
    assert "SHELLTOKEN1" not in text and reason not in text
    assert "REASON-SENTINEL" not in text
    private = tmp_path / "private.zip"
    home.cli("doctor", "--export", str(private), "--include-private", check=True)
    assert "SHELLTOKEN1" in zip_text(private)[1] and reason in zip_text(private)[1]
