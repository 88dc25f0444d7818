"""What every packaging step says about Agentry: names, identifiers and the version.

Imported by ``agentry.spec`` (PyInstaller), ``build.py`` and the bundle tests. It never
imports the ``app`` package: the version is read from ``app/__init__.py`` as text, the one
place it is written (pyproject.toml reads it from there too), so building needs nothing
installed but PyInstaller and the app's own dependencies.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"

NAME = "Agentry"
DESCRIPTION = "Run and supervise local AI coding agents, and never lose them."
PUBLISHER = "Agentry developers"
BUNDLE_ID = "org.agentry.Agentry"  # macOS CFBundleIdentifier; must match the signing team's
EXE = "agentry"  # the app: windowed on Windows and macOS
CLI_EXE = "agentry-cli"  # Windows only: the console twin for the CLI, runners and hooks
BUNDLE_DIR = "agentry"  # PyInstaller's one-folder output, dist/agentry
CONTENTS_DIR = "_internal"  # PyInstaller 6's default contents directory
MACOS_APP = f"{NAME}.app"
# Before this, PySide6 wheels said nothing about macOS; Qt 6 needs at least this much.
FALLBACK_MACOS = "12.0"


def version() -> str:
    """``app.__version__`` as written in app/__init__.py."""
    tree = ast.parse((ROOT / "app" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, str) and value:
                return value
    raise SystemExit("app/__init__.py sets no __version__ string")


def numeric_version(text: str, parts: int = 4) -> tuple[int, ...]:
    """The leading numbers of a version (``1.2.0rc1`` -> 1, 2, 0, 0) for Windows version
    resources (four 16-bit numbers) and macOS bundle versions (three)."""
    match = re.match(r"\d+(?:\.\d+)*", text)
    if match is None:
        raise SystemExit(f"version {text!r} does not start with a number")
    numbers = [int(n) for n in match.group(0).split(".")][:parts]
    return tuple(numbers + [0] * (parts - len(numbers)))


def dotted(numbers: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in numbers)


def minimum_macos() -> str:
    """The oldest macOS the bundled binaries run on: the highest of what the PySide6 wheel
    and this Python were built for (``MACOSX_DEPLOYMENT_TARGET`` overrides)."""
    override = os.environ.get("MACOSX_DEPLOYMENT_TARGET")
    if override:
        return override
    found = [_version_tuple(FALLBACK_MACOS)]
    import sysconfig

    platform_tag = sysconfig.get_platform()  # e.g. macosx-10.9-universal2
    if platform_tag.startswith("macosx-"):
        found.append(_version_tuple(platform_tag.split("-")[1]))
    for dist in ("PySide6_Essentials", "PySide6-Essentials", "shiboken6"):
        found.extend(_wheel_macos_versions(dist))
    best = max(found)
    return f"{best[0]}.{best[1]}"


def _wheel_macos_versions(dist: str) -> list[tuple[int, int]]:
    from importlib import metadata

    try:
        wheel = metadata.distribution(dist).read_text("WHEEL") or ""
    except metadata.PackageNotFoundError:
        return []
    found = []
    for match in re.finditer(r"macosx_(\d+)_(\d+)", wheel):
        found.append((int(match.group(1)), int(match.group(2))))
    return found


def _version_tuple(text: str) -> tuple[int, int]:
    numbers = numeric_version(text, 2)
    return numbers[0], numbers[1]


def is_windows() -> bool:
    return sys.platform == "win32"


def is_macos() -> bool:
    return sys.platform == "darwin"
