"""Finding a real agent CLI (installed by .ci/run with npm) for tests that drive it offline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NPM_BIN = ROOT / ".cache" / "npm" / "node_modules" / ".bin"


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_cli(name: str, override_var: str) -> Path | None:
    """$override_var, then ``name`` on PATH, then the repo's npm cache; None if absent."""
    override = os.environ.get(override_var)
    if override and _executable(Path(override)):
        return Path(override)
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    return NPM_BIN / name if _executable(NPM_BIN / name) else None


def require_cli(name: str, override_var: str, package: str) -> Path:
    """The CLI's path; skips the test when it is missing, or fails it under CI's strict mode."""
    path = find_cli(name, override_var)
    if path is not None:
        return path
    message = (
        f"{name} not installed; .ci/run installs {package} with npm into "
        f"{NPM_BIN.parent.parent} (or set {override_var})"
    )
    if os.environ.get("AGENTRY_REQUIRE_REAL_CLI") == "1":
        pytest.fail(message)
    pytest.skip(message)
