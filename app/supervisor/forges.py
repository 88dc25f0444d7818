"""Where a pushed branch becomes a pull (or merge) request: GitHub and GitLab.

``gh`` or ``glab`` opens the request when installed and logged in; otherwise (or when
they fail) the person gets the host's compare URL, which opens the same form in a
browser. Hosts other than these two get no URL: the push itself is what they need.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

_SCP = re.compile(r"^[\w.-]+@(?P<host>[\w.-]+):(?P<path>.+?)(?:\.git)?/?$")
_URL = re.compile(
    r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[\w.-]+)(?::\d+)?/(?P<path>.+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class Forge:
    kind: str  # "github" | "gitlab"
    host: str
    project: str  # owner/name (GitLab: group/subgroup/name)

    def compare_url(self, base: str, branch: str) -> str:
        web = f"https://{self.host}/{self.project}"
        if self.kind == "github":
            return f"{web}/compare/{quote(base)}...{quote(branch)}?expand=1"
        return (
            f"{web}/-/merge_requests/new?merge_request%5Bsource_branch%5D={quote(branch)}"
            f"&merge_request%5Btarget_branch%5D={quote(base)}"
        )


def forge_of(remote_url: str) -> Forge | None:
    match = _SCP.match(remote_url) or _URL.match(remote_url)
    if match is None:
        return None
    host, project = match["host"].lower(), match["path"].strip("/")
    if "github" in host:
        return Forge("github", host, project)
    if "gitlab" in host:
        return Forge("gitlab", host, project)
    return None


def open_request(
    forge: Forge, worktree: Path, base: str, branch: str, title: str, body: str
) -> tuple[bool, str]:
    """Open the pull/merge request with gh or glab: (True, its URL or what the tool said),
    or (False, why not) when the tool is missing or failed."""
    if forge.kind == "github":
        tool = shutil.which("gh")
        args = ["pr", "create", "--base", base, "--head", branch, "--title", title, "--body", body]
    else:
        tool = shutil.which("glab")
        args = ["mr", "create", "--target-branch", base, "--source-branch", branch,
                "--title", title, "--description", body, "--yes"]  # fmt: skip
    name = "gh" if forge.kind == "github" else "glab"
    if tool is None:
        return False, f"{name} is not installed"
    try:
        done = subprocess.run([tool, *args], cwd=worktree, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"{name} could not run: {exc}"
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()
    if done.returncode != 0:
        return False, f"{name} failed: {said[-1] if said else f'exit code {done.returncode}'}"
    return True, said[-1] if said else "opened"
