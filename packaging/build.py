"""Build Agentry's installable packages.

    python packaging/build.py linux|windows|macos [--nsis] [--skip-freeze]

Each target first freezes the app with PyInstaller (``packaging/agentry.spec``) into
``dist/agentry/`` (a one-folder bundle), then makes that platform's package in ``dist/``:

linux    ``agentry-VERSION-linux-ARCH.tar.gz``: the bundle, ``install.sh`` and the
         ``agentry.desktop`` template (``install.sh`` puts both in ~/.local).
windows  ``Agentry-VERSION-setup.exe``: ``makensis`` compiles ``installer.nsi`` with
         ``-DVERSION``, ``-DPAYLOAD`` (dist/agentry) and ``-DOUTFILE``. NSIS 3 must be
         installed (``makensis`` on PATH or in Program Files).
macos    ``Agentry.app`` (built by the spec) and ``Agentry-VERSION.dmg`` with an
         Applications link, made with ``hdiutil``.

``--nsis`` on linux or macos also compiles installer.nsi against this platform's bundle,
to check the script and every path it names (the result cannot run; CI does this).
makensis runs with ``-WX``: any warning fails the build unless installer.nsi disables it
with a ``!pragma warning disable`` and says why.

PyInstaller is not a cross-compiler: each target builds on its own operating system.
The version is ``app.__version__`` (read by packaging/appinfo.py), the one source for the
bundle, the Windows version resources, the installer and Info.plist.

macOS signing and notarisation happen when these are set (both need Xcode's tools):

``AGENTRY_SIGN_IDENTITY``  a "Developer ID Application: NAME (TEAMID)" identity in the
    keychain. PyInstaller signs every binary and the .app with it (hardened runtime,
    secure timestamp, packaging/macos/entitlements.plist); this script verifies the
    signature and signs the dmg.
``AGENTRY_NOTARY_PROFILE`` a notarytool keychain profile, made once with
    ``xcrun notarytool store-credentials PROFILE --apple-id ID --team-id TEAMID
    --password APP_SPECIFIC_PASSWORD``. The dmg is submitted with ``xcrun notarytool
    submit --wait``, the ticket stapled with ``xcrun stapler staple`` and the result
    checked with ``spctl``. Needs AGENTRY_SIGN_IDENTITY.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import appinfo

ROOT = appinfo.ROOT
DIST = ROOT / "dist"
BUILD = ROOT / "build"
SPEC = appinfo.PACKAGING / "agentry.spec"
NSI = ROOT / "installer.nsi"
LINUX_FILES = appinfo.PACKAGING / "linux"
PLATFORMS = {"linux": "linux", "windows": "win32", "macos": "darwin"}


class BuildError(RuntimeError):
    """A step failed; the message says which and how to fix it."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=sorted(PLATFORMS))
    parser.add_argument(
        "--nsis", action="store_true", help="also compile installer.nsi (implied for windows)"
    )
    parser.add_argument(
        "--skip-freeze", action="store_true", help="package the existing dist/agentry"
    )
    args = parser.parse_args(argv)
    try:
        artifacts = build(args.target, nsis=args.nsis, freeze_app=not args.skip_freeze)
    except BuildError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    for label, path in artifacts:
        print(f"{label:<22} {_mib(_size(path)):>8}  {path}")
    return 0


def build(target: str, *, nsis: bool, freeze_app: bool) -> list[tuple[str, Path]]:
    if not sys.platform.startswith(PLATFORMS[target]):
        raise BuildError(
            f"a {target} build must run on {target} (PyInstaller is not a cross-compiler)"
        )
    version = appinfo.version()
    print(f"Agentry {version}: building for {target}", flush=True)
    if freeze_app:
        freeze()
    bundle = DIST / appinfo.BUNDLE_DIR
    check_bundle(bundle, version, target)
    artifacts = [("bundle (uncompressed)", bundle)]
    if target == "linux":
        artifacts.append(("tar.gz", make_tarball(bundle, version)))
    elif target == "macos":
        app = DIST / appinfo.MACOS_APP
        artifacts.append(("app (uncompressed)", app))
        artifacts.append(("dmg", make_dmg(app, version)))
    if target == "windows":
        out = DIST / f"{appinfo.NAME}-{version}-setup.exe"
        artifacts.append(("installer", compile_installer(bundle, version, out, foreign=False)))
    elif nsis:
        out = BUILD / "nsis-check" / f"{appinfo.NAME}-{version}-setup-{target}-payload.exe"
        artifacts.append(
            ("installer (check)", compile_installer(bundle, version, out, foreign=True))
        )
    return artifacts


# ---------------------------------------------------------------------- PyInstaller


def freeze() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise BuildError(
            f"PyInstaller is not installed in {sys.executable}: "
            "pip install -r packaging/requirements.txt"
        ) from None
    run(
        [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
            "--distpath", str(DIST), "--workpath", str(BUILD / "pyinstaller"), str(SPEC),
        ]
    )  # fmt: skip


def frozen_cli(bundle: Path, target: str) -> Path:
    """The executable that answers on the console: the windowed agentry.exe cannot."""
    if target == "windows":
        return bundle / f"{appinfo.CLI_EXE}.exe"
    if target == "macos":
        return DIST / appinfo.MACOS_APP / "Contents" / "MacOS" / appinfo.EXE
    return bundle / appinfo.EXE


def check_bundle(bundle: Path, version: str, target: str) -> None:
    exe = frozen_cli(bundle, target)
    if not exe.is_file():
        raise BuildError(f"{exe} is missing: the PyInstaller build did not produce it")
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    said = (result.stdout or result.stderr).strip()
    if result.returncode != 0 or said != f"agentry {version}":
        raise BuildError(f"{exe} --version said {said!r} (exit {result.returncode})")


# ---------------------------------------------------------------------- Linux


def make_tarball(bundle: Path, version: str) -> Path:
    """agentry-VERSION/{agentry/, install.sh, agentry.desktop}, owned by nobody in particular."""
    top = f"agentry-{version}"
    out = DIST / f"{top}-linux-{platform.machine()}.tar.gz"

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=f"{top}/{appinfo.BUNDLE_DIR}", filter=normalise)
        tar.add(LINUX_FILES / "install.sh", arcname=f"{top}/install.sh", filter=normalise)
        tar.add(LINUX_FILES / "agentry.desktop", arcname=f"{top}/agentry.desktop", filter=normalise)
    return out


# ---------------------------------------------------------------------- Windows (NSIS)


def find_makensis() -> str:
    found = shutil.which("makensis")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        if base and (Path(base) / "NSIS" / "makensis.exe").is_file():
            return str(Path(base) / "NSIS" / "makensis.exe")
    raise BuildError(
        "makensis not found: install NSIS 3 (Debian: apt-get install nsis; "
        "Windows: winget install NSIS.NSIS)"
    )


def compile_installer(bundle: Path, version: str, out: Path, *, foreign: bool) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        find_makensis(),
        "-WX",  # a warning is an error unless installer.nsi accepts it by name
        "-V3",
        f"-DVERSION={version}",
        f"-DVIVERSION={appinfo.dotted(appinfo.numeric_version(version))}",
        f"-DPAYLOAD={bundle}",
        f"-DOUTFILE={out}",
    ]
    if foreign:
        command.append("-DFOREIGN_PAYLOAD")
    command.append(str(NSI))
    output = run(command, capture=True)
    warnings = re.findall(r"^\s*warning[: ].*$", output, flags=re.IGNORECASE | re.MULTILINE)
    if warnings:  # -WX already fails on these; belt and braces for other NSIS versions
        raise BuildError("makensis warned:\n" + "\n".join(warnings))
    return out


# ---------------------------------------------------------------------- macOS


def make_dmg(app: Path, version: str) -> Path:
    identity = os.environ.get("AGENTRY_SIGN_IDENTITY")
    profile = os.environ.get("AGENTRY_NOTARY_PROFILE")
    if profile and not identity:
        raise BuildError(
            "AGENTRY_NOTARY_PROFILE needs AGENTRY_SIGN_IDENTITY: Apple notarises signed apps only"
        )
    if not app.is_dir():
        raise BuildError(f"{app} is missing: the spec's BUNDLE step did not run")
    if identity:
        run(["codesign", "--verify", "--deep", "--strict", "--verbose=2", str(app)])
    staging = BUILD / "dmg"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    run(["ditto", str(app), str(staging / app.name)])  # keeps signatures, links and xattrs
    (staging / "Applications").symlink_to("/Applications")
    dmg = DIST / f"{appinfo.NAME}-{version}.dmg"
    run(
        [
            "hdiutil", "create", "-volname", appinfo.NAME, "-srcfolder", str(staging),
            "-ov", "-format", "UDZO", str(dmg),
        ]
    )  # fmt: skip
    if identity:
        run(["codesign", "--sign", identity, "--timestamp", str(dmg)])
    if profile:
        run(["xcrun", "notarytool", "submit", str(dmg), "--keychain-profile", profile, "--wait"])
        run(["xcrun", "stapler", "staple", str(dmg)])
        run(["xcrun", "stapler", "validate", str(dmg)])
        run(
            [
                "spctl", "--assess", "--type", "open", "--context",
                "context:primary-signature", "--verbose", str(dmg),
            ]
        )  # fmt: skip
    elif identity:
        print("Signed but not notarised (AGENTRY_NOTARY_PROFILE is not set).", flush=True)
    else:
        print("Unsigned (AGENTRY_SIGN_IDENTITY is not set): Gatekeeper will warn.", flush=True)
    return dmg


# ---------------------------------------------------------------------- helpers


def run(command: list[str], *, capture: bool = False) -> str:
    print("+ " + " ".join(command), flush=True)
    try:
        result = subprocess.run(
            command,
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None,
        )
    except FileNotFoundError as exc:
        raise BuildError(f"{command[0]} not found: {exc}") from None
    if capture:
        print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        raise BuildError(f"{Path(command[0]).name} failed with exit code {result.returncode}")
    return result.stdout or ""


def _size(path: Path) -> int:
    """Bytes on disk, symlinks counted once (as links)."""
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_symlink() or p.is_file())


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


if __name__ == "__main__":
    sys.exit(main())
