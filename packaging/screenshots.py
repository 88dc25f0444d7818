"""Screenshots of the real app under Xvfb, for the README.

    python packaging/screenshots.py [OUTPUT_FOLDER]     (default: docs/)

Needs Debian's xvfb (and the xcb libraries Qt wants: libxcb-cursor0 libxcb-icccm4
libxcb-keysyms1 libxkbcommon-x11-0). Prepares throwaway data folders, starts real tasks,
then runs `agentry --screenshot` on a virtual display:
  main-window.png       1024x640, light: 14 tasks in two projects, agents running, one
                        pane streaming, queued tasks saying what they wait for
  main-window-dark.png  the same data at 1920x1080, dark
  recovery-screen.png   the screen after a SIGKILLed Agentry: reattached, finished, interrupted
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCREEN = "1440x900x24"


def agentry(home: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENTRY_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        cwd=ROOT,
        text=True,
        capture_output=True,
        check=True,
        **kwargs,
    )  # type: ignore[call-overload]


def serve(home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "AGENTRY_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--headless"],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    while not proc.stdout.readline().startswith("Supervising"):
        pass
    return proc


def state(home: Path, task_id: int) -> str:
    listing = json.loads(agentry(home, "list", "--json").stdout)
    return next(t["state"] for t in listing if t["id"] == task_id)


def wait_for(home: Path, task_id: int, wanted: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while state(home, task_id) != wanted:
        if time.monotonic() > deadline:
            raise SystemExit(f"task {task_id} never became {wanted}")
        time.sleep(0.2)


def screenshot(home: Path, out: Path, delay: float, size: str | None = None) -> None:
    env = {**os.environ, "AGENTRY_HOME": str(home), "QT_QPA_PLATFORM": "xcb"}
    screen = f"{size}x24" if size else SCREEN
    extra = ["--screenshot-size", size] if size else []
    subprocess.run(["xvfb-run", "-a", "-s", f"-screen 0 {screen}", sys.executable, "-m", "app",
                    "--screenshot", str(out), "--screenshot-delay", str(delay), *extra],
                   env=env, cwd=ROOT, check=True, timeout=120)  # fmt: skip
    print(f"wrote {out}")


def set_theme(home: Path, theme: str) -> None:
    settings = home / "settings.json"
    data = json.loads(settings.read_text()) if settings.exists() else {}
    settings.write_text(json.dumps({**data, "theme": theme}))


def git_repo(folder: Path) -> Path:
    folder.mkdir(parents=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com"}  # fmt: skip
    for argv in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "start"]):
        subprocess.run(["git", *argv], cwd=folder, env=env, check=True)
    return folder


PROJECTS = {  # title, what it runs: "ok", "fail" (exit 2), "agent" (the demo agent)
    "api": [
        ("Fix flaky signup tests", "ok"),
        ("Add rate limiting to the public endpoints", "ok"),
        ("Nightly build and integration suite", "fail"),
        ("Refactor the billing module into services", "agent"),
        ("Write API docs for the v2 endpoints", "agent"),
        ("Upgrade dependencies and fix deprecations", "agent"),
        ("Profile the slow report queries", "ok"),
    ],
    "web": [
        ("Migrate the settings page to the new form kit", "ok"),
        ("Dark mode for the dashboard charts", "ok"),
        ("Lint and format the whole front end", "fail"),
        ("Cache the search results in the browser", "agent"),
        ("Accessibility pass over the checkout flow", "agent"),
        ("Replace moment.js with the Intl API", "agent"),
        ("Split the admin bundle for faster loads", "agent"),
    ],
}
COMMANDS = {
    "ok": ["true"],
    "fail": ["sh", "-c", "echo compiling; exit 2"],
    "agent": [sys.executable, "-m", "app.demo_agent"],
}


def main_window(home: Path, work: Path, outs: dict[str, Path]) -> None:
    """Two projects, fourteen tasks: finished, failed, agents running, some queued."""
    server = serve(home)
    task_id = 0
    for name, tasks in PROJECTS.items():
        repo = git_repo(work / name)
        for title, kind in tasks:
            agentry(home, "run", "--title", title, "--cwd", str(repo), "--", *COMMANDS[kind])
            task_id += 1
            if kind != "agent":
                wait_for(home, task_id, "succeeded" if kind == "ok" else "failed")
    wait_for(home, 4, "running")
    server.send_signal(signal.SIGTERM)
    server.wait()
    time.sleep(4)  # let the demo agents print a good part of their story
    screenshot(home, outs["light"], delay=3, size="1024x640")
    set_theme(home, "dark")
    screenshot(home, outs["dark"], delay=3, size="1920x1080")


def recovery_screen(home: Path, work: Path, out: Path) -> None:
    server = serve(home)
    agentry(
        home,
        "run",
        "--title",
        "Long refactor (still running)",
        "--cwd",
        str(work),
        "--",
        "sleep",
        "120",
    )
    agentry(
        home,
        "run",
        "--title",
        "Test suite",
        "--cwd",
        str(work),
        "--",
        "sh",
        "-c",
        "sleep 1; exit 1",
    )
    agentry(
        home, "run", "--title", "Lint and format", "--cwd", str(work), "--", "sh", "-c", "sleep 1"
    )
    agentry(
        home, "run", "--title", "Migrate the database", "--cwd", str(work), "--", "sleep", "120"
    )
    for task_id in (1, 2, 3, 4):
        wait_for(home, task_id, "running")
    server.send_signal(signal.SIGKILL)
    server.wait()
    run_dir = next((home / "runs").glob("000004-*"))
    runner = json.loads((run_dir / "runner.json").read_text())
    for pid in (runner["agent_pid"], runner["runner_pid"]):
        os.kill(pid, signal.SIGKILL)
    time.sleep(2)  # tasks 2 and 3 end while no Agentry runs
    screenshot(home, out, delay=2)


def main() -> int:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if shutil.which("xvfb-run") is None:
        print("xvfb-run not found: apt-get install xvfb", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "project"
        work.mkdir()
        homes = [Path(tmp) / "main", Path(tmp) / "recovery"]
        try:
            shots = {"light": out_dir / "main-window.png", "dark": out_dir / "main-window-dark.png"}
            main_window(homes[0], work, shots)
            recovery_screen(homes[1], work, out_dir / "recovery-screen.png")
        finally:
            for home in homes:
                _stop_everything(home)
    return 0


def _stop_everything(home: Path) -> None:
    for runner_json in home.glob("runs/*/runner.json"):
        info = json.loads(runner_json.read_text())
        for pid in (info["agent_pid"], info["runner_pid"]):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
