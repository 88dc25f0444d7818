"""Worktrees on a big repository (issue 11): creating one, and twenty Changes tabs refreshing.

The repository is generated once per session: 100,000 small files in 100 folders of
1,000, written by one ``git fast-import`` (no working files) and checked out once.

Targets:
* worktree creation as the supervisor does it at launch (``workspaces.plan`` +
  ``create``): Agentry's own part, over a bare ``git worktree add`` of the same
  repository, under 20 % of it (median) -- the checkout is git's; the rest must not add to it;
* twenty active worktree tasks whose Changes tabs all refresh together, on the tabs'
  cadence: event-loop lag p99 under 50 ms (the app's target in the README). How long a
  round of all twenty takes is reported, not held to a target: the app refreshes only
  the tab in view on that cadence (``changes_view.REFRESH_MS``), so twenty at once is a
  stress the UI must survive, not a pace it keeps.

The app runs in-process (offscreen, qasync inside pytest-qt, a 10-thread executor as
qasync gives the app); its agents are shell scripts that change, commit and leave
files uncommitted in their worktrees, then sleep.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt

import concurrent.futures
import shutil
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from benchlib import Bench, Home, kill_run_processes, percentile
from guilib import LagProbe, StallSampler
from helpers.gitrepo import GIT_ENV, isolate_git
from helpers.gui import AppDriver
from PySide6.QtWidgets import QApplication

from app.core.models import TaskSpec
from app.core.settings import Settings
from app.core.states import RunState
from app.core.workspaces import WorkspaceState
from app.store import repo, workspace_repo
from app.store.db import Connection, transaction
from app.supervisor import changes as task_changes
from app.supervisor import commands, workspaces
from app.supervisor.git import Git
from app.ui.changes_view import REFRESH_MS, ChangesView

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

FILES = 100_000
PER_FOLDER = 1_000
CREATIONS = 5
TARGET_CREATE_OVERHEAD = 0.20  # of a bare `git worktree add`
TASKS = 20
ROUNDS = 6
TARGET_LAG_P99_MS = 50.0
TARGET_REFRESH_S = REFRESH_MS / 1000
APP_EXECUTOR_THREADS = 10  # qasync's QThreadExecutor default, the app's run_in_executor pool


# ---------------------------------------------------------------------- the repository


def _git_env(home: Path) -> dict[str, str]:
    return {**os.environ, **GIT_ENV, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".cfg")}


def _fast_import_stream(files: int, per_folder: int) -> bytes:
    """One commit on main holding ``files`` two-line files, ``per_folder`` to a folder."""
    chunks = [
        b"commit refs/heads/main\n"
        b"committer Bench <bench@example.com> 1700000000 +0000\n"
        b"data 14\ngenerated tree\n"
    ]
    for i in range(files):
        body = f"file {i}\nsecond line of file {i}\n".encode()
        name = f"src/d{i // per_folder:03d}/f{i % per_folder:04d}.txt".encode()
        chunks.append(b"M 100644 inline %s\ndata %d\n%s\n" % (name, len(body), body))
    chunks.append(b"done\n")
    return b"".join(chunks)


@pytest.fixture(scope="session")
def trash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where worktrees go when a benchmark is done with them, deleted at the session's end.

    Not at once: where ext4 runs without a journal (as on the benchmark machine), creating
    files within minutes of deleting 100,000 others is ten times slower (every new inode
    is checked against the recently deleted ones), and the next benchmark would measure that.
    Pytest keeps its last temp folders, so nothing of these 400 MB worktrees may stay."""
    folder = tmp_path_factory.mktemp("bench-trash")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _set_aside(folder: Path, trash: Path) -> None:
    """Move ``folder`` into the trash (a rename: the same file system), if it is there."""
    if folder.exists():
        folder.rename(trash / f"{len(list(trash.iterdir()))}-{folder.name}")


@pytest.fixture(scope="session")
def big_repo(trash: Path) -> tuple[Path, float]:
    """(the repository on main with 100,000 files checked out, seconds it took to make)."""
    base = trash / "big-repo"
    path = base / "project"
    (base / ".cfg").mkdir(parents=True)
    env = _git_env(base)
    started = time.perf_counter()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], env=env, check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet", "--done"],
        input=_fast_import_stream(FILES, PER_FOLDER),
        env=env,
        check=True,
    )
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard"], env=env, check=True)
    return path, time.perf_counter() - started


def _discard_worktrees(home: Home, project: Path, trash: Path, *more: Path) -> None:
    """The tasks' worktrees (and ``more`` folders) to the trash; git forgets them."""
    for folder in (home.locations.worktrees, *more):
        _set_aside(folder, trash)
    subprocess.run(["git", "-C", str(project), "worktree", "prune"], check=False)


# ---------------------------------------------------------------------- git, timed


class GitTimes:
    """Every git command the code under test runs, timed, by command name."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)

    def wrap(self, run: Callable[..., Any]) -> Callable[..., Any]:
        def timed(git: Git, folder: Path, *args: str, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return run(git, folder, *args, **kwargs)
            finally:
                self.ms[_command(args)].append((time.perf_counter() - started) * 1000)

        return timed

    def clear(self) -> None:
        self.ms.clear()

    def summary(self) -> dict[str, str]:
        return {
            name: f"n={len(ms)} p50={statistics.median(ms):.0f} ms max={max(ms):.0f} ms "
            f"total={sum(ms) / 1000:.1f} s"
            for name, ms in sorted(self.ms.items(), key=lambda kv: -sum(kv[1]))
        }


def _command(args: tuple[str, ...]) -> str:
    """What a git call is, by its arguments: "status", "worktree add", "diff --no-index"."""
    if args[0] == "worktree":
        return " ".join(args[:2])
    if args[0] == "diff":
        kind = next((a for a in ("--no-index", "--name-status", "--numstat") if a in args), "")
        return f"diff {kind}".strip()
    return args[0]


@pytest.fixture
def git_times(monkeypatch: pytest.MonkeyPatch) -> GitTimes:
    times = GitTimes()
    monkeypatch.setattr(Git, "_run", times.wrap(Git._run))
    return times


# ---------------------------------------------------------------------- 1. creation


@pytest.mark.benchmark
def test_worktree_creation_on_100k_files(
    home: Home,
    big_repo: tuple[Path, float],
    trash: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    git_times: GitTimes,
    bench: Bench,
) -> None:
    isolate_git(tmp_path, monkeypatch)
    project, made_s = big_repo
    git = Git()
    plan_ms: list[float] = []
    create_ms: list[float] = []
    bare_ms: list[float] = []
    bare_root = tmp_path / "bare"

    def agentry_way(conn: Connection, i: int) -> None:
        """plan (git checks, the branch and the place), record the intent, create."""
        spec = TaskSpec(argv=("true",), cwd=str(project), worktree=True, title=f"c {i}")
        task_id, _ = commands.submit(conn, spec, Settings())
        task = repo.get_task(conn, task_id)
        started = time.perf_counter()
        plan = workspaces.plan(git, home.locations, task)
        plan_ms.append((time.perf_counter() - started) * 1000)
        with transaction(conn):
            workspace = workspace_repo.record_intent(conn, task_id, **vars(plan))
        started = time.perf_counter()
        workspaces.create(git, workspace)
        create_ms.append((time.perf_counter() - started) * 1000)
        assert (Path(workspace.path) / "src/d099/f0999.txt").is_file()

    def git_way(i: int) -> None:
        argv = ["git", "-C", str(project), "worktree", "add", "-q", "-b", f"bare/{i}",
                str(bare_root / str(i)), "main"]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(argv, check=True)
        bare_ms.append((time.perf_counter() - started) * 1000)

    try:
        with home.db() as conn:
            for i in range(CREATIONS):  # in turns, each going first half the time
                if i % 2:
                    git_way(i)
                agentry_way(conn, i)
                if not i % 2:
                    git_way(i)
    finally:
        _discard_worktrees(home, project, trash, bare_root)

    agentry = [p + c for p, c in zip(plan_ms, create_ms, strict=True)]
    overhead = statistics.median(agentry) / statistics.median(bare_ms) - 1
    passed = overhead < TARGET_CREATE_OVERHEAD
    bench.report(
        "worktree_create_100k_files",
        measured=(
            f"a repository of {FILES:,} two-line files ({FILES // PER_FOLDER} folders); "
            f"{CREATIONS} times: workspaces.plan + workspaces.create as the supervisor runs "
            "them at launch, in turns with a bare `git worktree add -b` "
            "of main; overhead = median(plan + create) / median(bare add) - 1"
        ),
        target=f"overhead < {TARGET_CREATE_OVERHEAD:.0%} of `git worktree add`",
        passed=passed,
        figures={
            "median_ms": round(statistics.median(agentry)),
            "p95_ms": round(percentile(agentry, 95)),
            "bare_add_median_ms": round(statistics.median(bare_ms)),
            "bare_add_p95_ms": round(percentile(bare_ms, 95)),
            "overhead_pct": round(overhead * 100, 1),
        },
        extra={
            "plan_ms": [round(x) for x in plan_ms],
            "create_ms": [round(x) for x in create_ms],
            "bare_add_ms": [round(x) for x in bare_ms],
            "git_commands": git_times.summary(),
            "repository_generated_s": round(made_s, 1),
        },
    )
    assert passed, f"worktree creation takes {overhead:.0%} longer than `git worktree add`"


# ---------------------------------------------------------------------- 2. twenty Changes tabs


def _agent(i: int) -> tuple[str, ...]:
    """A task's agent: two commits, a staged deletion, two uncommitted edits (one to a file
    that every fifth task edits too: overlaps), one untracked file; then it works on."""
    own = f"src/d{i:03d}"
    shared = f"src/d099/f{i % 5:04d}.txt"
    script = " && ".join([
        f"echo 'task {i} one' >> {own}/f0001.txt",
        f"git commit -q -am 'task {i}: one'",
        f"echo 'task {i} two' >> {own}/f0002.txt && echo 'new {i}' > {own}/added.txt",
        f"git add {own}/added.txt && git commit -q -am 'task {i}: two'",
        f"git rm -q {own}/f0004.txt",
        f"echo 'task {i} later' >> {own}/f0003.txt",
        f"echo 'task {i} shared' >> {shared}",
        f"echo 'draft {i}' > {own}/draft.txt",
        "echo ready",
        "exec sleep 600",
    ])  # fmt: skip
    return ("sh", "-c", script)


EXPECTED_FILES = 7  # f0001, f0002, added, f0004 (deleted), f0003, the shared one, draft


@pytest.fixture
def driver(qapp: QApplication, qtbot: Any, home: Home) -> Iterator[AppDriver]:
    driver = AppDriver(qapp, qtbot, home)
    driver._ensure_loop()  # the app's pool size, not the test driver's four threads
    driver.executor.shutdown()
    driver.executor = concurrent.futures.ThreadPoolExecutor(APP_EXECUTOR_THREADS, "agentry-bench")
    assert driver.loop is not None
    driver.loop.set_default_executor(driver.executor)
    try:
        yield driver
    finally:
        try:
            driver.close()
        finally:
            kill_run_processes(home)


@pytest.mark.benchmark
def test_changes_refresh_of_20_worktrees_on_100k_files(
    driver: AppDriver,
    home: Home,
    big_repo: tuple[Path, float],
    trash: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bench: Bench,
) -> None:
    isolate_git(tmp_path, monkeypatch)
    project, _ = big_repo
    home.write_settings(max_concurrency=TASKS)
    try:
        _changes_refresh(driver, home, project, monkeypatch, bench)
    finally:
        kill_run_processes(home)
        _discard_worktrees(home, project, trash)


def _refreshed_since(views: list[ChangesView], before: list[int]) -> bool:
    return all(v.refreshes > n for v, n in zip(views, before, strict=True))


def _changes_refresh(
    driver: AppDriver,
    home: Home,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    bench: Bench,
) -> None:
    app = driver.start()
    window = app.window
    assert window is not None
    started = time.perf_counter()
    ids = []
    for i in range(TASKS):
        spec = TaskSpec(argv=_agent(i), cwd=str(project), worktree=True, title=f"wt {i}")
        task_id = window.submit(spec)
        assert task_id is not None
        ids.append(task_id)

    def ready() -> bool:
        return all(
            (t := window.model.task(task_id)) is not None
            and t.state is RunState.RUNNING
            and home.output(task_id).endswith("ready\n")
            for task_id in ids
        )

    driver.wait(ready, timeout_ms=600_000)  # the supervisor makes the 20 worktrees one by one
    setup_s = time.perf_counter() - started
    with home.db() as conn:
        states = {workspace_repo.get(conn, t).state for t in ids}  # type: ignore[union-attr]
    assert states == {WorkspaceState.READY}
    for task_id in ids:
        window.open_task(task_id)
    views: list[ChangesView] = [window.task_tabs.changes[t] for t in ids]
    driver.qtbot.wait(500)  # the panes' first reads settle

    times = GitTimes()
    monkeypatch.setattr(Git, "_run", times.wrap(Git._run))
    task_changes.PEERS = task_changes.PeerCache()  # the first round starts cold, as at launch
    monkeypatch.setattr(task_changes, "PEERS", task_changes.PEERS)
    round_s: list[float] = []
    probe = LagProbe()
    probe.start()
    stalls = StallSampler(probe)  # where the GUI thread is while it runs late
    stalls.start()
    for _ in range(ROUNDS):  # every tab asks at once, on the tabs' own cadence
        began = time.perf_counter()
        before = [v.refreshes for v in views]
        for view in views:
            view.refresh()
        driver.wait(partial(_refreshed_since, views, before), timeout_ms=300_000)
        round_s.append(time.perf_counter() - began)
        rest = TARGET_REFRESH_S - round_s[-1]
        if rest > 0:
            driver.qtbot.wait(round(rest * 1000))
    probe.stop()
    stalls.stop()
    profile = times.summary()

    alone_s = []  # one tab refreshing while nothing else does
    for _ in range(5):
        began = time.perf_counter()
        done = views[0].refreshes
        views[0].refresh()
        driver.wait(partial(_refreshed_since, views[:1], [done]), timeout_ms=60_000)
        alone_s.append(time.perf_counter() - began)

    # What the tabs show is right: every file, the commits, the overlaps, no error.
    for view in views:
        assert not view.status.text(), view.status.text()
        shown = view.changes
        assert shown is not None and len(shown.files) == EXPECTED_FILES, shown
        assert len(shown.commits) == 2 and len(shown.uncommitted) == 4
        assert len(shown.overlaps) == 1, shown.overlaps  # the file every fifth task edits

    lags = probe.qt_ms + probe.asyncio_ms
    p99 = percentile(lags, 99)
    warm = round_s[1:]
    warm_median = statistics.median(warm)
    lag_ok = p99 < TARGET_LAG_P99_MS
    bench.report(
        "changes_refresh_20_worktrees_100k_files",
        measured=(
            f"app in-process (offscreen, qasync in pytest-qt, {APP_EXECUTOR_THREADS}-thread "
            f"executor); {TASKS} running worktree tasks of a {FILES:,}-file repository, each "
            f"with {EXPECTED_FILES} changed files (2 commits, a staged deletion, uncommitted "
            "edits, an untracked file, one file shared by every fifth task); a Changes tab "
            f"open for each; {ROUNDS} rounds of all {TASKS} tabs refreshing at once, one round "
            f"every {TARGET_REFRESH_S:g} s (or as soon as the last ended); round = first "
            "refresh() to the last tab redrawn (round 1 cold: no cached peer file lists); "
            "lag = 10 ms QTimer + asyncio.sleep probes, pooled, over all rounds"
        ),
        target=f"p99 lag < {TARGET_LAG_P99_MS:.0f} ms (round times reported)",
        passed=lag_ok,
        figures={
            "round_cold_s": round(round_s[0], 2),
            "round_warm_median_s": round(warm_median, 2),
            "one_tab_alone_median_s": round(statistics.median(alone_s), 3),
            "lag_p50_ms": round(percentile(lags, 50), 2),
            "lag_p99_ms": round(p99, 2),
            "lag_max_ms": round(max(lags), 1),
        },
        extra={
            "rounds_s": [round(x, 2) for x in round_s],
            "one_tab_alone_s": [round(x, 3) for x in alone_s],
            "qt_timer_p99_ms": round(percentile(probe.qt_ms, 99), 2),
            "asyncio_p99_ms": round(percentile(probe.asyncio_ms, 99), 2),
            "git_commands_during_rounds": profile,
            "setup_20_worktrees_s": round(setup_s, 1),
            "stalls": stalls.top(),
        },
    )
    assert lag_ok, f"event-loop lag p99 {p99:.1f} ms while 20 Changes tabs refresh"
