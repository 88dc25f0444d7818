"""Which host a remote is, and the page that opens a pull/merge request there."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.supervisor.forges import Forge, forge_of, open_request


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:me/project.git", Forge("github", "github.com", "me/project")),
        ("https://github.com/me/project", Forge("github", "github.com", "me/project")),
        ("ssh://git@gitlab.com:2222/grp/sub/app.git", Forge("gitlab", "gitlab.com", "grp/sub/app")),
        (
            "https://gitlab.example.org/team/app.git",
            Forge("gitlab", "gitlab.example.org", "team/app"),
        ),
        ("/srv/git/app.git", None),
        ("https://git.example.org/app.git", None),
    ],
)
def test_the_forge_of_a_remote_url(url: str, expected: Forge | None) -> None:
    assert forge_of(url) == expected


def test_compare_urls_open_the_request_form_for_base_and_branch() -> None:
    github = Forge("github", "github.com", "me/project")
    assert github.compare_url("main", "agentry/3-fix") == (
        "https://github.com/me/project/compare/main...agentry/3-fix?expand=1"
    )
    gitlab = Forge("gitlab", "gitlab.com", "grp/app")
    assert gitlab.compare_url("main", "agentry/3-fix") == (
        "https://gitlab.com/grp/app/-/merge_requests/new?merge_request%5Bsource_branch%5D="
        "agentry/3-fix&merge_request%5Btarget_branch%5D=main"
    )


def test_gh_is_asked_to_open_the_request_with_title_and_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    said = tmp_path / "argv"
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {said}\necho https://github.com/me/p/pull/9\n')
    gh.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    forge = Forge("github", "github.com", "me/p")
    assert open_request(forge, tmp_path, "main", "agentry/3-fix", "Fix", "Body") == (
        True,
        "https://github.com/me/p/pull/9",
    )
    assert said.read_text().split("\n")[:-1] == [
        "pr", "create", "--base", "main", "--head", "agentry/3-fix", "--title", "Fix",
        "--body", "Body",
    ]  # fmt: skip


def test_a_missing_or_failing_tool_is_said_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    forge = Forge("gitlab", "gitlab.com", "g/p")
    assert open_request(forge, tmp_path, "main", "b", "t", "x") == (False, "glab is not installed")
    glab = tmp_path / "glab"
    glab.write_text("#!/bin/sh\necho 'not logged in' >&2\nexit 1\n")
    glab.chmod(0o755)
    assert open_request(forge, tmp_path, "main", "b", "t", "x") == (
        False,
        "glab failed: not logged in",
    )
