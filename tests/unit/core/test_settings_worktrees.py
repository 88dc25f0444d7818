"""Settings.worktree_by_project: each project's remembered worktree choice, checked."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.settings import ProjectSettings, Settings

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


# ---------------------------------------------------------------- per-project settings


def test_a_project_nobody_configured_copies_env_files_and_runs_nothing() -> None:
    project = Settings().project("/src/app")
    assert project == ProjectSettings(copy_files=(".env*",), setup="", check="")


def test_a_projects_settings_round_trip_and_only_differences_are_stored() -> None:
    chosen = ProjectSettings(copy_files=(".env*", "config/local.toml"), setup="npm ci", check="")
    settings = Settings().with_project("/src/app", chosen)
    assert settings.project("/src/app") == chosen
    assert settings.project_setup == {"/src/app": "npm ci"}
    assert settings.project_check == {}  # the default is not written down
    assert settings.project("/src/web") == ProjectSettings()
    back = settings.with_project("/src/app", ProjectSettings())
    assert (back.project_copy_files, back.project_setup, back.project_check) == ({}, {}, {})


def test_no_files_to_copy_is_a_choice_of_its_own() -> None:
    settings = Settings().with_project("/src/app", ProjectSettings(copy_files=()))
    assert settings.project("/src/app").copy_files == ()
    assert settings.problems() == []


@pytest.mark.parametrize(
    ("project", "problem"),
    [
        (ProjectSettings(copy_files=("../secrets",)), "must stay inside the repository"),
        (ProjectSettings(copy_files=("/etc/passwd",)), "must stay inside the repository"),
        (ProjectSettings(copy_files=(" ",)), "non-empty glob patterns"),
        (ProjectSettings(setup="npm ci\nrm -rf /"), "setup command must be a single command line"),
        (ProjectSettings(check="make\rtest"), "check command must be a single command line"),
    ],
)
def test_a_bad_project_setting_names_the_project_and_what_is_wrong(
    project: ProjectSettings, problem: str
) -> None:
    problems = Settings().with_project("/src/app", project).problems()
    assert len(problems) == 1 and problems[0].startswith("/src/app: ") and problem in problems[0]


@pytest.mark.parametrize(
    "values",
    [
        {"project_setup": {"/src/app": 3}},
        {"project_check": {"": "make test"}},
        {"project_copy_files": {"/src/app": ".env"}},
        {"project_copy_files": {"/src/app": [1]}},
    ],
)
def test_project_settings_of_the_wrong_shape_are_a_problem(values: dict[str, Any]) -> None:
    problems = Settings(**values).problems()
    assert len(problems) == 1 and "must map repository folders" in problems[0]


def test_pruning_merged_worktrees_is_off_unless_asked_for() -> None:
    assert Settings().prune_merged_after_days == 0
    assert Settings(prune_merged_after_days=-1).problems() != []
