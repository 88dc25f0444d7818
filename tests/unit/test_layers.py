"""The layer rules of DESIGN §1 as a test: no module in app/ imports outward.

Every import counts, also those inside functions and under ``if TYPE_CHECKING:`` (a
type-only import still ties the layers together, and a lazy one only hides the tie).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


@dataclass(frozen=True)
class Layer:
    app: tuple[str, ...]  # app modules or packages it may import (a package covers its modules)
    third_party: tuple[str, ...] = ()
    anything: bool = False


# The package root (only ``__version__``) and the stand-alone demo agent program: they sit
# beside the layers, import only core, and the supervisor, the UI and the CLI may use them.
ROOT_LEAVES = ("app", "app.demo_agent")

# What the supervisor may use of the runner: the run-folder protocol and process checks.
RUNNER_API = ("app.runner.procs", "app.runner.protocol")

LAYERS: dict[str, Layer] = {
    # cronsim: pure date arithmetic (when a cron expression is next due), no I/O
    "core": Layer(app=("app.core",), third_party=("cronsim",)),
    "store": Layer(app=("app.core", "app.store"), third_party=("filelock", "platformdirs")),
    # fsops and diskspace are stdlib-only: the runner writes its state files through them.
    "runner": Layer(
        app=("app.core", "app.runner", "app.store.fsops", "app.store.diskspace"),
        third_party=("psutil",),
    ),
    "supervisor": Layer(
        app=("app.core", "app.store", "app.supervisor", *RUNNER_API, *ROOT_LEAVES),
        # filelock: one supervisor per data folder (DESIGN §9) is the supervisor's own fact;
        # its lock also reads the holder's liveness through runner.procs, which the store
        # may not import. (DESIGN §1's table should list it.) watchdog: run folders' changes
        # wake the tails and the loop (filewatch.py).
        third_party=("psutil", "filelock", "watchdog"),
    ),
    "ui": Layer(
        app=("app.core", "app.supervisor", "app.ui", *ROOT_LEAVES),
        third_party=("PySide6", "qasync", "pygments"),  # pygments: the diffs' syntax colours
    ),
    "cli": Layer(app=(), anything=True),
    "leaf": Layer(app=("app.core", *ROOT_LEAVES)),
}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if module in ROOT_LEAVES:
        return "leaf"
    if parts[1] in ("core", "store", "runner", "supervisor", "ui"):
        return parts[1]
    if parts[1] == "cli" or parts[1].startswith("cli_") or parts[1] == "__main__":
        return "cli"
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """Whether the dotted name is a module or package inside app/."""
    path = APP.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, anywhere in it, as dotted names."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if base.split(".")[0] == "app" and is_module(sub) else base)
    return found


def allowed(layer: Layer, target: str) -> bool:
    top = target.split(".")[0]
    if layer.anything or top == "__future__" or top in sys.stdlib_module_names:
        return True
    if top != "app":
        return top in layer.third_party
    if target in ROOT_LEAVES:
        return target in layer.app
    packages = (entry for entry in layer.app if entry not in ROOT_LEAVES)
    return any(target == entry or target.startswith(entry + ".") for entry in packages)


def app_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def violations() -> set[tuple[str, str]]:
    found = set()
    for module, path in app_modules().items():
        layer = layer_of(module)
        assert layer is not None, f"{module} belongs to no layer of DESIGN §1: add it here"
        for target in imports_of(path, module):
            if not allowed(LAYERS[layer], target):
                found.add((module, target))
    return found


def test_no_module_imports_outward_of_its_layer() -> None:
    found = sorted(violations())
    assert not found, "imports that reach outward (DESIGN §1):\n" + "\n".join(
        f"  {module} imports {target}" for module, target in found
    )


def test_the_checker_sees_imports_in_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from app.store.db import Connection\n"
        "def later():\n"
        "    import PySide6.QtCore\n"
        "    from app.runner import protocol\n"
    )
    found = imports_of(source, "app.core.probe")
    assert {"app.store.db", "PySide6.QtCore", "app.runner.protocol"} <= found
    assert not allowed(LAYERS["core"], "app.store.db")
    assert not allowed(LAYERS["core"], "PySide6.QtCore")
    assert allowed(LAYERS["supervisor"], "app.runner.protocol")
    assert not allowed(LAYERS["supervisor"], "app.runner.main")
    assert not allowed(LAYERS["runner"], "app.store.db")
    assert allowed(LAYERS["runner"], "app.store.fsops")
    assert not allowed(LAYERS["ui"], "app.store")
    assert not allowed(LAYERS["ui"], "app.demo_agentx")
