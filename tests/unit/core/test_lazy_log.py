"""Loggers that load the logging package only when something is logged (app.core.log):
short commands that log nothing do not pay for it, and one that does logs as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers.agentry import ROOT, Home

SCRIPT = """
import sys
from app.core import log

def setup():
    import logging
    handler = logging.StreamHandler(sys.stdout)
    form = "%(levelname)s %(name)s %(filename)s:%(lineno)d %(message)s"
    handler.setFormatter(logging.Formatter(form))
    logging.getLogger().addHandler(handler)
    print("set up")

def never():
    print("never")

log.on_first_use(never)
log.forget(never)  # its command ended before anything was logged
log.on_first_use(setup)
quiet = log.get_logger("app.quiet")
print("loaded before logging:", "logging" in sys.modules)
quiet.warning("hello %s", "there")
print("loaded after logging:", "logging" in sys.modules)
quiet.error("again")
"""


def test_logging_is_loaded_and_set_up_only_when_something_is_logged() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, text=True, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = SCRIPT.splitlines()
    warned = lines.index('quiet.warning("hello %s", "there")') + 1
    erred = lines.index('quiet.error("again")') + 1
    assert done.stdout.splitlines() == [
        "loaded before logging: False",
        "set up",  # once, just before the first record; the forgotten set-up never runs
        f"WARNING app.quiet <string>:{warned} hello there",  # the caller's line, not the wrapper's
        "loaded after logging: True",
        f"ERROR app.quiet <string>:{erred} again",
    ]


def test_a_set_up_runs_at_once_when_logging_is_already_loaded() -> None:
    from app.core import log

    ran: list[str] = []
    log.on_first_use(lambda: ran.append("now"))  # pytest has loaded logging
    assert ran == ["now"]


def test_a_command_that_logs_without_having_loaded_logging_logs_as_every_command(
    home: Home,
) -> None:
    """`agentry run` loads no logging until the broken settings file is said; the line
    then has the console's format (time, level, logger), not the bare fallback's."""
    settings = Path(home.locations.settings)
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text("{not json", encoding="utf-8")
    done = home.cli("run", "--", "true")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    warning = next(line for line in done.stderr.splitlines() if "default settings" in line)
    assert " WARNING app.store.settings: " in warning, done.stderr
    assert "kept as" in warning
