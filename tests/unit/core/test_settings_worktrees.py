"""Settings.worktree_by_project: each project's remembered worktree choice, checked."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.settings import Settings

PROBLEM = "worktree_by_project must map repository folders to true or false"


def test_no_project_has_a_remembered_choice_by_default() -> None:
    assert Settings().worktree_by_project == {}


def test_repository_folders_mapped_to_true_or_false_are_fine() -> None:
    settings = Settings(worktree_by_project={"/src/app": False, "C:/src/web": True})
    assert settings.problems() == []


@pytest.mark.parametrize(
    "chosen",
    [{"/src/app": "yes"}, {"/src/app": 1}, {"/src/app": None}, {"": True}, {3: True}],
)
def test_anything_but_a_folder_and_a_yes_or_no_is_a_problem(chosen: dict[Any, Any]) -> None:
    assert Settings(worktree_by_project=chosen).problems() == [PROBLEM]
