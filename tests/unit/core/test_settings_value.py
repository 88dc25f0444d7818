"""Tests for app.core.settings: the documented defaults and the value's own checks."""

from __future__ import annotations

from app.core.settings import Settings, SettingsError


def test_defaults_are_the_documented_values() -> None:
    settings = Settings()
    assert settings.max_concurrency == 4
    assert settings.default_timeout_s == 4 * 3600.0
    assert settings.gate_max_memory_percent == 90.0
    assert settings.gate_max_cpu_percent == 95.0
    assert settings.kill_grace_s == 5.0
    assert settings.notifications is True
    assert settings.theme == "system"


def test_defaults_have_no_problems() -> None:
    assert Settings().problems() == []


def test_replace_returns_a_changed_copy() -> None:
    original = Settings()
    changed = original.replace(theme="light")
    assert changed.theme == "light"
    assert original.theme == "system"


def test_settings_error_is_a_value_error() -> None:
    assert issubclass(SettingsError, ValueError)


def test_zero_timeout_means_no_limit_and_is_allowed() -> None:
    assert Settings(default_timeout_s=0.0).problems() == []
