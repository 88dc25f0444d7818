"""Which workflows exist: the built-ins shipped in ``app/workflows`` and the person's own
``<data dir>/workflows/*.toml`` (a file of the same name overrides a built-in).

A bad file never stops anything: it is reported as a problem (``FILE:LINE: reason``) and
left out, so one typo cannot take every other workflow down with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from app.core.locations import Locations
from app.core.log import get_logger
from app.core.workflow_defs import WorkflowDef, WorkflowError, parse_workflow
from app.supervisor.adapters import all_adapters
from app.supervisor.commands import CommandRefused

log = get_logger(__name__)

SUFFIX = ".toml"


@dataclass(frozen=True)
class Catalog:
    workflows: dict[str, WorkflowDef] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)  # name -> "FILE:LINE: reason"
    builtin: frozenset[str] = frozenset()

    @property
    def problems(self) -> list[str]:
        """One message per file that was skipped."""
        return list(self.broken.values())

    def get(self, name: str) -> WorkflowDef:
        if name in self.workflows:
            return self.workflows[name]
        if name in self.broken:
            raise CommandRefused(f"workflow {name!r} cannot be used: {self.broken[name]}")
        known = ", ".join(sorted(self.workflows)) or "none"
        raise CommandRefused(f"no workflow {name!r}; there are: {known}")


def user_folder(locations: Locations) -> Path:
    return locations.data / "workflows"


def builtin_files() -> list[Traversable]:
    folder = resources.files("app").joinpath("workflows")
    return sorted((f for f in folder.iterdir() if f.name.endswith(SUFFIX)), key=lambda f: f.name)


def load_catalog(locations: Locations) -> Catalog:
    agents = frozenset(adapter.name for adapter in all_adapters())
    catalog = Catalog()
    builtin = [_load(catalog, item, agents) for item in builtin_files()]
    folder = user_folder(locations)
    mine = (
        [_load(catalog, p, agents) for p in sorted(folder.glob(f"*{SUFFIX}"))]
        if folder.is_dir()
        else []
    )
    return replace(catalog, builtin=frozenset(builtin) - frozenset(mine))


def _load(catalog: Catalog, item: Traversable | Path, agents: frozenset[str]) -> str:
    """Add one file's workflow, or its problem (a later file of the same name wins);
    returns the workflow's name."""
    name = item.name.removesuffix(SUFFIX)
    catalog.workflows.pop(name, None)
    catalog.broken.pop(name, None)
    try:
        text = item.read_bytes().decode("utf-8")
        catalog.workflows[name] = parse_workflow(text, str(item), agents, name=name)
        return name
    except WorkflowError as exc:
        catalog.broken[name] = str(exc)
    except UnicodeDecodeError as exc:
        catalog.broken[name] = f"{item}:1: not UTF-8 text ({exc.reason} at byte {exc.start})"
    except OSError as exc:
        catalog.broken[name] = f"{item}:1: cannot be read ({exc.strerror or exc})"
    log.warning("workflow file skipped: %s", catalog.broken[name])
    return name
