"""Adapters are made by name on first use (app.supervisor.adapters): the table of where
each lives must name each adapter by its own name, in the order they are listed."""

from __future__ import annotations

import pytest

from app.supervisor import adapters


def test_every_built_in_adapter_is_found_under_its_own_name_in_listing_order() -> None:
    listed = [a.name for a in adapters.all_adapters()]
    assert listed[: len(adapters._BUILT_IN)] == list(adapters._BUILT_IN)
    for name in adapters._BUILT_IN:
        assert adapters.get_adapter(name).name == name
        assert adapters.get_adapter(name) is adapters.get_adapter(name)  # made once


def test_an_unknown_agent_is_refused_naming_the_ones_there_are() -> None:
    assert adapters.get_adapter_or_none("nope") is None
    with pytest.raises(adapters.UnknownAgent, match="choose one of: shell, demo, claude"):
        adapters.get_adapter("nope")
