"""What leaves in a diagnostics zip: private texts and secrets replaced by a visible mark."""

from __future__ import annotations

from app.core.redact import MARK, Redactor, secrets_out


def test_urls_lose_their_user_password_and_query_but_keep_host_and_path() -> None:
    said = secrets_out("posting to https://bob:pw@hooks.example.com/T1/B2?token=abc&x=1 now")
    assert said == f"posting to https://{MARK}@hooks.example.com/T1/B2?{MARK} now"


def test_secret_looking_assignments_and_bearer_tokens_are_replaced() -> None:
    said = secrets_out('api_key=sk-123 webhook_secret: "s3cr3t" Authorization: Bearer eyJhbGci')
    assert "sk-123" not in said and "s3cr3t" not in said and "eyJhbGci" not in said
    assert said.count(MARK) == 3


def test_private_texts_are_replaced_wherever_they_appear_even_one_line_of_them() -> None:
    redactor = Redactor(["Fix the login bug\nthen run the tests please", "ok"])
    assert redactor.text("started: Fix the login bug\nthen run the tests please") == (
        f"started: {MARK}"
    )
    assert redactor.text("line: then run the tests please") == f"line: {MARK}"
    assert redactor.text("ok fine") == "ok fine"  # too short to be told apart from words


def test_fields_named_as_private_or_secret_are_replaced_whole() -> None:
    redactor = Redactor()
    value = {"prompt": "x", "env": {"A": "1"}, "ntfy": {"auth_token": "t", "url": "u"},
             "cwd": "/proj", "argv": ["sh", "-c", "x"], "count": 3}  # fmt: skip
    assert redactor.value(value) == {
        "prompt": MARK, "env": MARK, "ntfy": {"auth_token": MARK, "url": "u"},
        "cwd": "/proj", "argv": MARK, "count": 3,
    }  # fmt: skip


def test_keeping_private_changes_nothing() -> None:
    redactor = Redactor(["the prompt text"], keep_private=True)
    said = "https://u:p@h/?q=1 the prompt text"
    assert redactor.text(said) == said
    assert redactor.value({"prompt": "p"}) == {"prompt": "p"}
