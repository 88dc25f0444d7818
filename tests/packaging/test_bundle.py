"""What the installers ship works: the frozen bundle in dist/ runs every role on its own.

These tests need a built bundle (``python packaging/build.py linux``). Without one they
are skipped, unless ``AGENTRY_REQUIRE_BUNDLE=1`` (packaging/ci.sh sets it after building)
makes a missing bundle a failure. The checks of installer.nsi's warning pragmas need no
bundle and always run.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from helpers.agentry import Home, alive, run_async

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "packaging"))

import appinfo  # noqa: E402

DIST = ROOT / "dist"
BUNDLE = DIST / appinfo.BUNDLE_DIR
CONTENTS = BUNDLE / appinfo.CONTENTS_DIR
MACOS_APP = DIST / appinfo.MACOS_APP
NSI = ROOT / "installer.nsi"
IS_WINDOWS = sys.platform == "win32"
IS_MACOS = sys.platform == "darwin"
POSIX_ONLY = pytest.mark.skipif(IS_WINDOWS, reason="drives agents with sh")
LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux package")


def frozen_cli() -> Path:
    """The executable a terminal (and every non-GUI role) uses."""
    if IS_WINDOWS:
        return BUNDLE / f"{appinfo.CLI_EXE}.exe"
    if IS_MACOS:
        return MACOS_APP / "Contents" / "MacOS" / appinfo.EXE
    return BUNDLE / appinfo.EXE


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not frozen_cli().is_file():
        message = f"no built bundle at {BUNDLE}: run python packaging/build.py"
        if os.environ.get("AGENTRY_REQUIRE_BUNDLE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return BUNDLE


class FrozenHome(Home):
    """The test data folder, driven through the frozen executable instead of Python."""

    def cli_argv(self, *args: str) -> list[str]:
        return [str(frozen_cli()), *args]

    def serve(self, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(frozen_cli()), "serve", "--headless"],
            env={**(env or self.env), "AGENTRY_HOME": str(self.path)},
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._procs.append(proc)
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"frozen serve exited: {''.join(lines)}")
            lines.append(line)
            if line.startswith("Supervising"):
                proc.startup_output = "".join(lines)  # type: ignore[attr-defined]
                return proc
        raise AssertionError("frozen serve did not start")


@pytest.fixture
def frozen(bundle: Path, home: Home) -> Iterator[FrozenHome]:
    frozen = FrozenHome(home.path)
    yield frozen
    frozen.cleanup()


# ---------------------------------------------------------------------- the frozen app


@POSIX_ONLY
def test_frozen_run_wait_prints_the_agents_output_and_exits_with_its_code(
    frozen: FrozenHome, work_dir: Path
) -> None:
    result = frozen.cli(
        "run", "--wait", "--cwd", str(work_dir), "--", "sh", "-c", "echo hi; exit 3"
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == "hi\n"
    runner_log = (frozen.run_dir(1) / "runner.log").read_text()
    assert "Traceback" not in runner_log


@POSIX_ONLY
def test_frozen_supervisor_watches_run_folders_without_falling_back_to_polling(
    frozen: FrozenHome, work_dir: Path
) -> None:
    """watchdog chooses its platform observer inside a function: the spec must bundle it."""
    result = frozen.cli("run", "--wait", "--cwd", str(work_dir), "--", "echo", "hi")
    assert result.returncode == 0, result.stderr
    logged = "".join(p.read_text() for p in (frozen.path / "logs").glob("*.log"))
    assert "polling every" not in logged + result.stderr


@POSIX_ONLY
def test_agents_get_the_users_environment_not_the_bundles(
    frozen: FrozenHome, work_dir: Path
) -> None:
    env = {**frozen.env, "LD_LIBRARY_PATH": "/opt/users-own-lib"}
    result = frozen.cli("run", "--wait", "--cwd", str(work_dir), "--", "env", env=env)
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert seen.get("LD_LIBRARY_PATH") == "/opt/users-own-lib"
    assert "LD_LIBRARY_PATH_ORIG" not in seen
    leaked = {k: v for k, v in seen.items() if str(BUNDLE) in v or k.startswith("_PYI")}
    assert leaked == {}, "the bundle's own settings reached the agent"


@POSIX_ONLY
def test_frozen_supervisor_sigkilled_leaves_its_frozen_runner_and_the_next_one_reattaches(
    frozen: FrozenHome, work_dir: Path
) -> None:
    script = "for i in $(seq 1 60); do echo $i; sleep 0.05; done"
    task_id = int(frozen.cli("run", "--cwd", str(work_dir), "--", "sh", "-c", script).stdout)
    first = frozen.serve()
    frozen.wait_state(task_id, "running")
    info = frozen.runner_info(task_id)
    runner = psutil.Process(info.runner_pid)
    assert Path(runner.exe()).resolve() == frozen_cli().resolve(), "the bundle is its own runner"

    first.send_signal(signal.SIGKILL)
    first.wait()
    assert alive(info.runner_pid) and alive(info.agent_pid), "agents outlive a killed app"

    second = frozen.serve()
    assert "1 reattached" in second.startup_output  # type: ignore[attr-defined]
    run = frozen.wait_state(task_id, "succeeded", "failed", "interrupted")
    assert (run.state.value, run.exit_code) == ("succeeded", 0)
    assert frozen.output(task_id).split() == [str(i) for i in range(1, 61)]


def test_frozen_demo_agent_runs_from_the_bundle(frozen: FrozenHome, work_dir: Path) -> None:
    env = {**frozen.env, "AGENTRY_DEMO_SPEED": "0.01"}
    result = frozen.cli("run", "--wait", "--agent", "demo", "--cwd", str(work_dir), env=env)
    assert result.returncode == 0, result.stderr
    assert "Done" in result.stdout


def test_frozen_mcp_server_answers_the_sdks_client_and_starts_a_task(
    frozen: FrozenHome, work_dir: Path
) -> None:
    """`agentry mcp` needs the MCP SDK and pydantic's compiled core in the bundle."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    async def main() -> tuple[set[str], bool]:
        server = StdioServerParameters(command=str(frozen_cli()), args=["mcp"], env=frozen.env)
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            started = await session.call_tool("start_task", {"folder": str(work_dir),
                                                             "command": "true"})  # fmt: skip
            return names, started.is_error

    names, failed = run_async(main())
    assert "start_task" in names and not failed
    origin = frozen.task(1).spec.origin
    assert origin is not None and origin.via == "mcp"


def test_frozen_hook_denies_a_call_it_cannot_read(frozen: FrozenHome) -> None:
    """A deny is exit code 2 with the reason on stderr, for every agent."""
    for kind in ("claude-pretool", "codex-pretool", "gemini-pretool"):
        result = frozen.cli("hook", kind, "--run", "999", input="this is not JSON")
        assert result.returncode == 2, (kind, result.stdout, result.stderr)
        assert result.stdout == "" and "could not read this request" in result.stderr


def test_frozen_hook_answers_the_launch_probe(frozen: FrozenHome) -> None:
    result = frozen.cli("hook", "gemini-pretool", "--run", "1", "--timeout", "900", "--probe")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "agentry-hook-ready"


def test_frozen_app_ships_the_built_in_workflows(frozen: FrozenHome) -> None:
    names = sorted(p.stem for p in (ROOT / "app" / "workflows").glob("*.toml"))
    for name in names:
        assert (CONTENTS / "app" / "workflows" / f"{name}.toml").is_file()
    result = frozen.cli("workflow", "list")
    if result.returncode == 2 and "invalid choice" in result.stderr:
        pytest.skip("this build has no workflow command")
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in names)


def test_frozen_app_opens_its_window_offscreen_and_quits_cleanly(frozen: FrozenHome) -> None:
    env = {**frozen.env, "QT_QPA_PLATFORM": "offscreen"}
    started = time.monotonic()
    result = frozen.cli("--smoke-test", "--screenshot-delay", "0.2", env=env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke test: window shown, supervisor running" in result.stdout
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30


# ---------------------------------------------------------------------- what the packages name


def _bundle_file(name: str) -> Path:
    """A path inside the bundle as the Windows installer names it (backslashes, .exe)."""
    parts = name.replace("${CONTENTS}", appinfo.CONTENTS_DIR).split("\\")
    if not IS_WINDOWS and parts[-1].endswith(".exe"):
        parts[-1] = parts[-1].removesuffix(".exe")
    return BUNDLE.joinpath(*parts)


def test_every_payload_path_the_installer_names_exists_in_the_bundle(bundle: Path) -> None:
    text = NSI.read_text(encoding="utf-8")
    sources = re.findall(r"\$\{PAYLOAD\}\\([^\"'\s]*)", text)  # File sources, icons, checks
    installed = re.findall(r"(?:\$\{APPDIR\}|app-\$\{VERSION\})\\([^\"'\s]+)", text)
    assert sources and installed, "installer.nsi no longer names payload files this way"
    windows_only = {f"{appinfo.CLI_EXE}.exe"}
    for name in sources + installed:
        if name in windows_only and not IS_WINDOWS:
            spec = (ROOT / "packaging" / "agentry.spec").read_text(encoding="utf-8")
            assert "name=appinfo.CLI_EXE" in spec, "the spec must build the console twin"
            continue
        path = _bundle_file(name.removesuffix("*").rstrip("\\"))
        assert path.exists(), f"installer.nsi names {name}: {path} is missing"
        if name.endswith("*"):
            assert any(path.iterdir()), f"{path} is empty"


def test_installer_accepts_no_makensis_warning_without_a_reason() -> None:
    lines = NSI.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if re.match(r"\s*!pragma\s+warning\s+disable", line, re.IGNORECASE):
            reason = line.partition(";")[2].strip() or lines[number - 1].strip().lstrip(";")
            assert reason.strip(), f"installer.nsi:{number + 1}: say why this warning is fine"


def test_info_plist_names_files_the_bundle_has(bundle: Path) -> None:
    text = (ROOT / "packaging" / "macos" / "Info.plist").read_text(encoding="utf-8")
    for field, value in {
        "@VERSION@": "1.2.3",
        "@BUNDLE_ID@": appinfo.BUNDLE_ID,
        "@MINIMUM_SYSTEM_VERSION@": "12.0",
        "@EXECUTABLE@": appinfo.EXE,
    }.items():
        assert field in text, f"Info.plist template lost {field}"
        text = text.replace(field, value)
    plist = plistlib.loads(text.encode("utf-8"))
    assert plist["NSHighResolutionCapable"] is True
    assert plist["CFBundleIdentifier"] == appinfo.BUNDLE_ID
    assert {"CFBundleShortVersionString", "CFBundleVersion", "LSMinimumSystemVersion"} <= set(plist)
    if IS_MACOS:
        contents = MACOS_APP / "Contents"
        assert (contents / "MacOS" / plist["CFBundleExecutable"]).is_file()
        assert (contents / "Resources" / plist["CFBundleIconFile"]).is_file()
    else:  # the files BUNDLE would put there come from these
        assert (BUNDLE / plist["CFBundleExecutable"]).is_file()
        assert (CONTENTS / "resources" / "icons" / plist["CFBundleIconFile"]).is_file()


# ---------------------------------------------------------------------- the Linux package


@pytest.fixture
def linux_package(bundle: Path, tmp_path: Path) -> Path:
    """The unpacked tarball if one was built, else the same layout staged from dist/."""
    tarballs = sorted(DIST.glob(f"agentry-{appinfo.version()}-linux-*.tar.gz"))
    unpacked = tmp_path / "unpacked"
    if tarballs:
        with tarfile.open(tarballs[-1]) as tar:
            tar.extractall(unpacked, filter="tar")
        return unpacked / f"agentry-{appinfo.version()}"
    staged = unpacked / "staged"
    staged.mkdir(parents=True)
    (staged / "agentry").symlink_to(bundle)
    for name in ("install.sh", "agentry.desktop"):
        shutil.copy2(ROOT / "packaging" / "linux" / name, staged / name)
    return staged


def _install_sh(package: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    result = subprocess.run(
        ["sh", str(package / "install.sh"), *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _desktop_entry(path: Path) -> dict[str, str]:
    entry: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entry[key.strip()] = value.strip()
    return entry


@LINUX_ONLY
def test_install_sh_installs_a_working_command_menu_entry_and_icons_and_removes_them(
    linux_package: Path, tmp_path: Path
) -> None:
    prefix, user_home = tmp_path / "pre fix", tmp_path / "home"
    user_home.mkdir()
    _install_sh(linux_package, user_home, "--prefix", str(prefix))

    command = prefix / "bin" / "agentry"
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"agentry {appinfo.version()}"
    desktop = prefix / "share" / "applications" / "agentry.desktop"
    entry = _desktop_entry(desktop)
    assert "@" not in desktop.read_text(encoding="utf-8"), "a template field was left"
    assert entry["Exec"] == f'"{command}"' and Path(entry["TryExec"]) == command
    icons = prefix / "share" / "icons" / "hicolor"
    assert (icons / "scalable" / "apps" / f"{entry['Icon']}.svg").is_file()
    for size in (16, 32, 48, 128, 256, 512):
        assert (icons / f"{size}x{size}" / "apps" / f"{entry['Icon']}.png").is_file()
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(desktop)], check=True)

    _install_sh(linux_package, user_home, "--prefix", str(prefix), "--uninstall")
    assert not command.exists() and not command.is_symlink()
    assert not desktop.exists()
    assert not (icons / "scalable" / "apps" / "agentry.svg").exists()
    assert not (prefix / "lib" / "agentry").exists()


@LINUX_ONLY
def test_install_sh_keeps_an_old_version_while_something_runs_from_it(
    linux_package: Path, tmp_path: Path
) -> None:
    prefix, user_home = tmp_path / "prefix", tmp_path / "home"
    user_home.mkdir()
    old = prefix / "lib" / "agentry" / "0.0.1"
    old.mkdir(parents=True)
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", old / "agentry")  # an "old runner"
    runner = subprocess.Popen([str(old / "agentry"), "30"])
    try:
        result = _install_sh(linux_package, user_home, "--prefix", str(prefix))
        assert old.is_dir() and f"Kept {old}" in result.stdout
    finally:
        runner.kill()
        runner.wait()
    _install_sh(linux_package, user_home, "--prefix", str(prefix))
    assert not old.exists()
    assert (prefix / "lib" / "agentry" / appinfo.version() / "agentry").is_file()
