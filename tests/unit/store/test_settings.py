"""Tests for app.store.settings: loading, saving, and never losing a user's file."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from app.core.settings import Settings, SettingsError
from app.store.settings import load_settings, save_settings


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "settings.json"


def _kept(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


# --- defaults and round trip -----------------------------------------------------------


def test_missing_file_gives_defaults(path: Path) -> None:
    assert load_settings(path) == Settings()
    assert not path.exists()


def test_saved_settings_load_back_equal(path: Path) -> None:
    settings = Settings(
        max_concurrency=2,
        default_timeout_s=0.0,
        gate_max_memory_percent=80.0,
        gate_max_cpu_percent=70.0,
        kill_grace_s=1.5,
        notifications=False,
        theme="dark",
    )
    save_settings(path, settings)
    assert load_settings(path) == settings


def test_save_writes_readable_json_of_every_field(path: Path) -> None:
    save_settings(path, Settings(max_concurrency=3))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == dataclasses.asdict(Settings(max_concurrency=3))


def test_save_leaves_no_temp_file_behind(path: Path) -> None:
    save_settings(path, Settings())
    save_settings(path, Settings(theme="light"))
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


# --- refusing bad values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_concurrency", 0),
        ("max_concurrency", 257),
        ("default_timeout_s", -1.0),
        ("gate_max_memory_percent", 0.5),
        ("gate_max_memory_percent", 101.0),
        ("gate_max_cpu_percent", 150.0),
        ("kill_grace_s", -1.0),
        ("kill_grace_s", 601.0),
        ("theme", "purple"),
    ],
)
def test_save_refuses_an_invalid_value_naming_the_field(
    path: Path, field: str, value: object
) -> None:
    with pytest.raises(SettingsError, match=field):
        save_settings(path, Settings().replace(**{field: value}))


def test_refused_save_leaves_the_existing_file_alone(path: Path) -> None:
    save_settings(path, Settings(theme="dark"))
    before = path.read_bytes()
    with pytest.raises(SettingsError):
        save_settings(path, Settings(max_concurrency=0))
    assert path.read_bytes() == before


# --- unreadable files are kept aside ---------------------------------------------------


def test_corrupt_json_gives_defaults(path: Path) -> None:
    path.write_bytes(b'{"max_concurrency": 2,,,')
    assert load_settings(path) == Settings()


def test_corrupt_json_is_kept_aside_byte_for_byte(path: Path) -> None:
    original = b'{"max_concurrency": 2,,, \xff garbage'
    path.write_bytes(original)
    load_settings(path)
    kept = _kept(path)
    assert len(kept) == 1
    assert kept[0].read_bytes() == original
    assert not path.exists()


def test_keeping_aside_logs_a_warning_naming_the_kept_copy(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path.write_text("not json")
    load_settings(path)
    [kept] = _kept(path)
    assert any(str(kept) in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param('{"max_concurrency": 0}', id="out-of-range"),
        pytest.param('{"max_concurrency": "lots"}', id="not-a-number"),
        pytest.param('{"theme": "purple"}', id="unknown-theme"),
        pytest.param("[1, 2, 3]", id="not-an-object"),
    ],
)
def test_unusable_values_give_defaults_and_the_file_is_kept_aside(path: Path, content: str) -> None:
    path.write_text(content, encoding="utf-8")
    assert load_settings(path) == Settings()
    [kept] = _kept(path)
    assert kept.read_text(encoding="utf-8") == content


def test_unknown_keys_are_ignored_and_known_ones_used(path: Path) -> None:
    path.write_text(json.dumps({"max_concurrency": 7, "from_the_future": True}))
    assert load_settings(path) == Settings(max_concurrency=7)


def test_unknown_keys_do_not_make_the_file_unusable(path: Path) -> None:
    path.write_text(json.dumps({"from_the_future": True}))
    load_settings(path)
    assert path.exists()
    assert _kept(path) == []


def test_partial_file_fills_in_defaults(path: Path) -> None:
    path.write_text(json.dumps({"theme": "light"}))
    assert load_settings(path) == Settings(theme="light")


def test_integer_in_a_float_field_is_accepted(path: Path) -> None:
    path.write_text(json.dumps({"kill_grace_s": 2}))
    settings = load_settings(path)
    assert settings.kill_grace_s == 2.0
    assert isinstance(settings.kill_grace_s, float)


def test_two_corrupt_files_in_the_same_second_are_both_kept(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "strftime", lambda *_: "20250101-120000")
    path.write_bytes(b"first corrupt")
    load_settings(path)
    path.write_bytes(b"second corrupt")
    load_settings(path)
    assert sorted(p.read_bytes() for p in _kept(path)) == [b"first corrupt", b"second corrupt"]


def test_string_false_does_not_turn_notifications_on(path: Path) -> None:
    path.write_text(json.dumps({"notifications": "false"}))
    settings = load_settings(path)
    assert settings.notifications is False or _kept(path)


def test_a_limit_that_is_not_a_number_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    """NaN passed every check and, stored as NULL, removed every task's time limit."""
    path = tmp_path / "settings.json"
    path.write_text('{"default_timeout_s": NaN, "max_concurrency": 3}')
    settings = load_settings(path)
    assert settings.default_timeout_s == Settings().default_timeout_s
    assert not path.exists() and list(tmp_path.glob("settings.json.corrupt-*"))


def test_peeking_at_the_theme_never_moves_a_file_aside(tmp_path: Path) -> None:
    """Read before the data folder is this process's: a bad file stays for its owner."""
    from app.store.settings import peek_theme

    path = tmp_path / "settings.json"
    assert peek_theme(path) == "system"
    path.write_text('{"theme": "dark"}')
    assert peek_theme(path) == "dark"
    path.write_text("{not json")
    assert peek_theme(path) == "system" and path.exists()
    path.write_text('["dark"]')
    assert peek_theme(path) == "system" and path.exists()
