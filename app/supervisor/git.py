"""Every git call Agentry makes, and the typed errors they raise (DESIGN §7a, CONVENTIONS 14).

Nothing else spawns ``git``: one place knows the argv (lists, never a shell), the
environment that makes git's output parseable and non-interactive, the oldest git that
works, and how git's failures read, so the rest of Agentry handles ``GitError``s instead of
exit codes and stderr text. Every call blocks: callers run it off the UI thread and the
event loop (``asyncio.to_thread``).

It does one job, and reads best whole: each method is a git command and its failure
modes; the pure readers of git's output live in :mod:`app.supervisor.git_output`.

The typed errors come from :mod:`app.supervisor.git_process` (how git is run) and are
the ones callers catch: ``from app.supervisor.git import GitError`` is the public name.

Paths given to the worktree methods are a worktree's top folder (as :meth:`Git.toplevel`
returns it); paths in the results are relative to it, as git prints them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Literal

from app.core.log import get_logger
from app.supervisor.git_output import (
    DiffStat,
    FileChange,
    Review,
    WorktreeInfo,
    parse_name_status,
    parse_numstat,
    parse_status,
    parse_worktrees,
    short_branch,
)
from app.supervisor.git_process import (
    CHECKOUT_TIMEOUT_S,
    MIN_VERSION,
    TIMEOUT_S,
    Completed,
    GitError,
    GitMissing,
    NotARepository,
    UnknownRef,
    check_ref,
    install_hint,
    raise_unless_ok,
    read_version,
    says,
    spawn,
    unknown_ref,
)

log = get_logger(__name__)

WORKTREE_LIST_Z = (2, 36)  # `git worktree list -z` is newer than MIN_VERSION

# User settings that would change the output parsed or shown below (plus --no-color etc.).
OUTPUT_CONFIG = ("-c", "core.quotePath=false", "-c", "color.ui=never")
DIFF_OPTIONS = (
    "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames",
    "--src-prefix=a/", "--dst-prefix=b/",
)  # fmt: skip

STATUS = ("status", "--porcelain=v1", "-z", "--find-renames")
NAME_STATUS = ("--name-status", "-z", "--find-renames")
NUMSTAT = ("--numstat", "-z")
UNTRACKED = ("ls-files", "-z", "--others", "--exclude-standard")


MergeHow = Literal["merge", "squash", "rebase"]


class Git:
    """One owner of every git call. Holds the executable and checks its version once."""

    timeout_s = TIMEOUT_S
    checkout_timeout_s = CHECKOUT_TIMEOUT_S

    def __init__(self, executable: str | None = None) -> None:
        self._executable = executable or "git"
        self._path = ""
        self._version: tuple[int, ...] = ()
        self._version_text = ""

    # --- the executable ----------------------------------------------------------------

    def check(self) -> str:
        """The version string ("git version 2.39.5"); raises GitMissing. Cached once it passes."""
        if self._version_text:
            return self._version_text
        path = shutil.which(self._executable)
        if path is None:
            where = "on PATH" if self._executable == "git" else f"at {self._executable}"
            raise GitMissing(
                f"git was not found {where}; {install_hint()}", argv=[self._executable]
            )
        text, version = read_version(path)
        if version[:2] < MIN_VERSION:
            raise GitMissing(
                f"{text} at {path} is too old: Agentry needs git "
                f"{'.'.join(map(str, MIN_VERSION))} or newer for worktrees; {install_hint()}",
                argv=[path, "--version"],
                returncode=0,
            )
        self._path, self._version, self._version_text = path, version, text
        return text

    # --- repositories and refs -----------------------------------------------------------

    def toplevel(self, folder: Path) -> Path:
        """The top folder of the working tree that holds ``folder``; raises NotARepository."""
        out = self._output(folder, "rev-parse", "--show-toplevel", doing="find the repository")
        return Path(out.removesuffix("\n"))

    def current_branch(self, repo: Path) -> str | None:
        """The checked-out branch ("main"), None when HEAD is detached."""
        done = self._run(repo, "symbolic-ref", "--quiet", "HEAD")
        if done.returncode == 1 and not done.stderr.strip():
            return None
        raise_unless_ok(done, "read the current branch", repo)
        return short_branch(done.stdout.strip())

    def resolve(self, repo: Path, ref: str) -> str:
        """The full sha of the commit ``ref`` names; raises UnknownRef."""
        check_ref(repo, ref)
        done = self._run(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if done.returncode == 1:
            raise unknown_ref(repo, ref, done)
        raise_unless_ok(done, f"resolve {ref}", repo)
        return done.stdout.strip()

    def branch_exists(self, repo: Path, branch: str) -> bool:
        done = self._run(repo, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}")
        if done.returncode == 1:
            return False
        raise_unless_ok(done, f"look up the branch {branch}", repo)
        return True

    def merge_base(self, repo: Path, a: str, b: str) -> str:
        """The best common ancestor of two commits; UnknownRef when one is not a commit."""
        check_ref(repo, a)
        check_ref(repo, b)
        done = self._run(repo, "merge-base", a, b)
        if done.returncode == 1 and not done.stderr.strip():
            raise GitError(
                f"{a} and {b} have no commit in common in {repo}", argv=done.args, returncode=1
            )
        if done.returncode != 0:
            self._explain_refs(repo, done, a, b)
        raise_unless_ok(done, f"find where {a} and {b} diverge", repo)
        return done.stdout.strip()

    def delete_branch(self, repo: Path, branch: str, *, force: bool = False) -> None:
        """Delete a local branch; nothing to do when it is absent. Without ``force`` git
        refuses a branch whose commits are not merged (a GitError saying so)."""
        if not self.branch_exists(repo, branch):
            return
        done = self._run(repo, "branch", "-D" if force else "-d", "--", branch, read=False)
        if done.returncode != 0 and not self.branch_exists(repo, branch):
            return  # deleted meanwhile
        raise_unless_ok(done, f"delete the branch {branch}", repo)

    # --- worktrees ------------------------------------------------------------------------

    def worktree_add(self, repo: Path, path: Path, branch: str, base: str) -> None:
        """Check out a new branch ``branch``, made from ``base``, in a new worktree ``path``.

        Safe to call again after a crash: when the branch is already there (git made it
        before the crash), the worktree is added on it, a half-made one at ``path`` is
        removed first, and a finished one is left as it is.
        """
        doing = f"create the worktree {path} for branch {branch}"
        if not self.branch_exists(repo, branch):
            start = self.resolve(repo, base)
            self._checkout(repo, doing, "worktree", "add", "-b", branch, "--", str(path), start)
            return
        made = self._registered(repo, path)
        if made is not None and made.branch == branch:
            if made.locked != "initializing" and path.is_dir():
                return
            self._checkout(repo, doing, "worktree", "remove", "--force", "--force", str(path))
        self.worktree_prune(repo)
        self._checkout(repo, doing, "worktree", "add", "--", str(path), branch)

    def worktree_add_detached(self, repo: Path, path: Path, commit: str) -> None:
        """A throw-away worktree at ``commit`` on no branch (where a merge is tried out)."""
        check_ref(repo, commit)
        doing = f"create a scratch worktree {path}"
        self._checkout(repo, doing, "worktree", "add", "--detach", "--", str(path), commit)

    def worktree_remove(self, repo: Path, path: Path, *, force: bool = False) -> None:
        """Remove a worktree (its folder and git's record of it). ``force`` also discards
        uncommitted and untracked files and overrides a lock. A folder already gone is no
        error: git's record of it is pruned."""
        forced = ["--force", "--force"] if force else []
        gone = not os.path.lexists(path)
        if not gone or (force and self._registered(repo, path) is not None):  # a locked record
            doing = f"remove the worktree {path}"
            self._checkout(repo, doing, "worktree", "remove", *forced, "--", str(path))
        if gone:
            self.worktree_prune(repo)

    def worktree_prune(self, repo: Path) -> None:
        """Drop git's records of worktrees whose folders are gone (unless locked)."""
        self._output(repo, "worktree", "prune", doing="prune worktree records", read=False)

    def worktrees(self, repo: Path) -> list[WorktreeInfo]:
        """Every worktree of the repository, the main one first."""
        self.check()
        z = self._version[:2] >= WORKTREE_LIST_Z
        args = ["worktree", "list", "--porcelain", *(["-z"] if z else [])]
        out = self._output(repo, *args, doing="list worktrees")
        return parse_worktrees(out, "\0" if z else "\n")

    # --- what changed ---------------------------------------------------------------------

    def status(self, worktree: Path) -> list[FileChange]:
        """Uncommitted changes against the worktree's HEAD, untracked files one by one."""
        out = self._output(worktree, *STATUS, "--untracked-files=all", doing="read the status")
        return parse_status(out)

    def dirty(self, worktree: Path) -> bool:
        """Whether anything is uncommitted: a tracked change or an untracked (not ignored) file."""
        out = self._output(worktree, *STATUS, "--untracked-files=normal", doing="read the status")
        return bool(out)

    def changes(self, worktree: Path, base: str) -> list[FileChange]:
        """Changed files of the worktree (commits, uncommitted, untracked) since it left
        ``base``: what :meth:`diff` shows, file by file."""
        since = self.merge_base(worktree, base, "HEAD")
        return self._changes_since(worktree, base, since, self._untracked(worktree))

    def diff(self, worktree: Path, base: str) -> str:
        """A unified diff of the worktree against merge-base(base, HEAD): its commits, its
        uncommitted changes, and each untracked file as added. The index is not touched."""
        since = self.merge_base(worktree, base, "HEAD")
        return self._diff_since(worktree, base, since, self._untracked(worktree))

    def review(self, worktree: Path, base: str) -> Review:
        """:meth:`changes`, :meth:`diff`, :meth:`status` and :meth:`commits` at once, with
        one merge-base and one status (its untracked files stand for ``ls-files``): on a
        big repository every pass over the worktree stats all its files, and a Changes tab
        refreshing every two seconds pays for each (tests/benchmarks/test_bench_worktrees)."""
        since = self.merge_base(worktree, base, "HEAD")
        status = self.status(worktree)
        untracked = sorted(
            c.path for c in status if c.status == "untracked" and not c.path.endswith("/")
        )  # "dir/" is a nested repository, as in _untracked
        return Review(
            changes=tuple(self._changes_since(worktree, base, since, untracked)),
            diff=self._diff_since(worktree, base, since, untracked),
            uncommitted=tuple(status),
            commits=tuple(self.commits(worktree, base)),
        )

    def diff_stat(self, worktree: Path, base: str) -> list[DiffStat]:
        """Lines added and removed per file, on the same terms as :meth:`diff`."""
        since = self.merge_base(worktree, base, "HEAD")
        doing = f"count the changes since {base}"
        out = self._output(worktree, "diff", *NUMSTAT, "--find-renames", since, "--", doing=doing)
        for path in self._untracked(worktree):
            out += self._diff_new_file(worktree, path, NUMSTAT)
        return parse_numstat(out)

    def commits(self, worktree: Path, base: str) -> list[tuple[str, str]]:
        """(sha, subject) of each commit in ``base..HEAD``, oldest first."""
        check_ref(worktree, base)
        done = self._run(
            worktree,
            "log",
            "--reverse",
            "--no-show-signature",
            "--encoding=UTF-8",
            "--format=%H %s",
            f"{base}..HEAD",
            "--",
        )
        if done.returncode != 0:
            self._explain_refs(worktree, done, base, "HEAD")
        raise_unless_ok(done, f"list the commits since {base}", worktree)
        return [_sha_and_subject(line) for line in done.stdout.splitlines() if line]

    # --- merging ----------------------------------------------------------------------------

    def commit_all(self, worktree: Path, message: str) -> bool:
        """Commit every change of the worktree, new files included; False when there was
        nothing to commit. The person's identity and hooks apply, as for their own commits."""
        if not self.dirty(worktree):
            return False
        self._output(worktree, "add", "--all", "--", ".", doing="stage the changes", read=False)
        self._output(worktree, "commit", "--quiet", "--message", message,
                     doing="commit the changes", read=False)  # fmt: skip
        return True

    def is_ancestor(self, repo: Path, ancestor: str, descendant: str) -> bool:
        done = self._run(repo, "merge-base", "--is-ancestor", ancestor, descendant)
        if done.returncode in (0, 1) and not done.stderr.strip():
            return done.returncode == 0
        raise_unless_ok(done, f"compare {ancestor} with {descendant}", repo)
        return False

    def combine(
        self, scratch: Path, branch: str, onto: str, how: MergeHow, message: str
    ) -> list[str]:
        """In ``scratch`` (a detached worktree at ``onto``, the base's commit), merge,
        squash or rebase ``branch`` and commit; returns the conflicting files, [] on
        success, when ``scratch``'s HEAD is the result. A conflict is aborted before
        returning, so nothing of it stays."""
        if how == "rebase":
            self._output(scratch, "checkout", "--quiet", "--detach", branch,
                         doing=f"check out {branch}", read=False)  # fmt: skip
            args, abort = ["rebase", "--quiet", onto], ["rebase", "--abort"]
        elif how == "squash":
            args, abort = ["merge", "--squash", "--quiet", branch], ["reset", "--hard", "--quiet"]
        else:
            args = ["merge", "--no-ff", "--no-edit", "--quiet", "--message", message, branch]
            abort = ["merge", "--abort"]
        done = self._run(scratch, *args, read=False, timeout=self.checkout_timeout_s)
        if done.returncode != 0:
            conflicts = [c.path for c in self.status(scratch) if c.status == "conflicted"]
            if not conflicts:
                raise_unless_ok(done, f"{how} {branch}", scratch)
            self._run(scratch, *abort, read=False)
            return sorted(conflicts)
        if how == "squash":
            self._output(scratch, "commit", "--quiet", "--message", message,
                         doing="commit the squashed changes", read=False)  # fmt: skip
        return []

    def rebase(self, worktree: Path, onto: str) -> list[str]:
        """Rebase the branch checked out in ``worktree`` onto the commit ``onto``; returns
        the conflicting files, [] on success. A conflict is aborted before returning, so
        the branch and its files stay as they were."""
        done = self._run(worktree, "rebase", "--quiet", onto, read=False,
                         timeout=self.checkout_timeout_s)  # fmt: skip
        if done.returncode == 0:
            return []
        conflicts = [c.path for c in self.status(worktree) if c.status == "conflicted"]
        self.rebase_abort(worktree)
        if not conflicts:
            raise_unless_ok(done, f"rebase onto {onto[:10]}", worktree)
        return sorted(conflicts)

    def rebase_in_progress(self, worktree: Path) -> bool:
        for name in ("rebase-merge", "rebase-apply"):
            out = self._output(worktree, "rev-parse", "--git-path", name,
                               doing="look for a rebase in progress")  # fmt: skip
            path = Path(out.removesuffix("\n"))
            if (path if path.is_absolute() else worktree / path).exists():
                return True
        return False

    def rebase_abort(self, worktree: Path) -> None:
        """Undo a rebase left in progress (by a conflict, or a crash in the middle)."""
        if self.rebase_in_progress(worktree):
            self._checkout(worktree, "abort the rebase in progress", "rebase", "--abort")

    def update_branch(self, repo: Path, branch: str, new: str, old: str) -> None:
        """Move ``branch`` from ``old`` to ``new`` in one step, only if it is still at ``old``."""
        self._output(repo, "update-ref", "-m", "agentry: merge", f"refs/heads/{branch}", new, old,
                     doing=f"move {branch} to {new[:10]}", read=False)  # fmt: skip

    def fast_forward(self, checkout: Path, commit: str) -> None:
        """Bring the checked-out branch of ``checkout`` forward to ``commit``, files too."""
        self._checkout(checkout, f"fast-forward to {commit[:10]}", "merge", "--ff-only",
                       "--quiet", commit)  # fmt: skip

    # --- remotes ----------------------------------------------------------------------------

    def remote_for(self, repo: Path, branch: str) -> str | None:
        """The remote ``branch`` tracks, else ``origin``, else the only remote; None without."""
        done = self._run(repo, "config", "--get", f"branch.{branch}.remote")
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
        remotes = self._output(repo, "remote", doing="list remotes").split()
        if "origin" in remotes:
            return "origin"
        return remotes[0] if len(remotes) == 1 else None

    def remote_url(self, repo: Path, remote: str) -> str:
        return self._output(
            repo, "remote", "get-url", "--", remote, doing=f"read {remote}'s URL"
        ).strip()

    def push(self, worktree: Path, remote: str, branch: str) -> None:
        """Push ``branch`` to ``remote`` and track it there (never asks for a password:
        credentials come from the person's helpers, or git says why it cannot)."""
        refspec = f"{branch}:{branch}"
        args = ("push", "--quiet", "--set-upstream", remote, refspec)
        done = self._run(worktree, *args, read=False, timeout=self.checkout_timeout_s)
        raise_unless_ok(done, f"push {branch} to {remote}", worktree)

    # --- helpers --------------------------------------------------------------------------

    def _registered(self, repo: Path, path: Path) -> WorktreeInfo | None:
        wanted = path.resolve()
        return next((w for w in self.worktrees(repo) if w.path.resolve() == wanted), None)

    def _changes_since(
        self, worktree: Path, base: str, since: str, untracked: list[str]
    ) -> list[FileChange]:
        doing = f"list the changes since {base}"
        out = self._output(worktree, "diff", *NAME_STATUS, since, "--", doing=doing)
        return parse_name_status(out) + [FileChange(p, "untracked") for p in untracked]

    def _diff_since(self, worktree: Path, base: str, since: str, untracked: list[str]) -> str:
        doing = f"diff against {base}"
        parts = [self._output(worktree, "diff", *DIFF_OPTIONS, since, "--", doing=doing)]
        for path in untracked:
            parts.append(self._diff_new_file(worktree, path, DIFF_OPTIONS))
        return "".join(parts)

    def _untracked(self, worktree: Path) -> list[str]:
        out = self._output(worktree, *UNTRACKED, doing="list untracked files")
        # "dir/" is a nested repository: git shows it, but cannot diff it as a file.
        return sorted(p for p in out.split("\0") if p and not p.endswith("/"))

    def _diff_new_file(self, worktree: Path, path: str, options: tuple[str, ...]) -> str:
        """``git diff --no-index /dev/null <path>`` (git knows "/dev/null" on Windows too);
        "" when the file went away meanwhile (the agent is still working)."""
        done = self._run(worktree, "diff", "--no-index", *options, "--", "/dev/null", path)
        if done.returncode == 1:  # --no-index exits 1 when the files differ
            return done.stdout
        if not os.path.lexists(worktree / path):
            return ""
        raise_unless_ok(done, f"diff the new file {path}", worktree)
        return done.stdout

    def _explain_refs(self, repo: Path, done: Completed, *refs: str) -> None:
        """Raise UnknownRef for the first of ``refs`` that is not a commit (a failed
        command's most likely reason); return when they all are."""
        if not says(done.stderr, "not a git repository"):
            for ref in refs:
                self.resolve(repo, ref)

    def _checkout(self, repo: Path, doing: str, *args: str) -> None:
        """A command that writes a whole worktree: a long timeout, and it takes locks."""
        done = self._run(repo, *args, read=False, timeout=self.checkout_timeout_s)
        raise_unless_ok(done, doing, repo)

    def _output(self, folder: Path, *args: str, doing: str, read: bool = True) -> str:
        done = self._run(folder, *args, read=read)
        raise_unless_ok(done, doing, folder)
        return done.stdout

    def _run(
        self, folder: Path, *args: str, read: bool = True, timeout: float | None = None
    ) -> Completed:
        """Run git in ``folder``; raises only when it could not run (or ran too long)."""
        self.check()
        argv = [self._path, "-C", str(folder), *OUTPUT_CONFIG]
        argv += ["--no-optional-locks", *args] if read else list(args)
        limit = timeout or self.timeout_s
        started = time.monotonic()
        try:
            done = spawn(argv, read=read, timeout=limit)
        except subprocess.TimeoutExpired:
            raise GitError(
                f"git did not finish `git {' '.join(args)}` in {folder} within {limit:g} s "
                "and was stopped",
                argv=argv,
            ) from None
        except OSError as exc:
            raise GitError(f"git could not be started ({self._path}): {exc}", argv=argv) from None
        log.debug(
            "git %s in %s: exit %d after %.0f ms",
            " ".join(args),
            folder,
            done.returncode,
            (time.monotonic() - started) * 1000,
        )
        return done


def _sha_and_subject(line: str) -> tuple[str, str]:
    sha, _, subject = line.partition(" ")
    return sha, subject


__all__ = [
    "Git",
    "GitError",
    "GitMissing",
    "MergeHow",
    "NotARepository",
    "UnknownRef",
    "install_hint",
]
