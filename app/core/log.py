"""Loggers that import the logging package the first time something is logged.

Every `agentry` command is a process of its own, and what it imports is most of what it
costs: the logging package brings threading, traceback and weakref with it, about a tenth
of what `agentry run` may take, and a command that goes well logs nothing. So Agentry's
modules log through `get_logger`: the logging package's logger of that name, made when it is
first used. A command that sets up logging lazily says how with `on_first_use`; processes
that host a supervisor set it up at their start, as before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

_pending: list[Callable[[], object]] = []
"""Set-ups to run just before the first record is logged (see `on_first_use`)."""


def on_first_use(setup: Callable[[], object]) -> None:
    """Run ``setup``, which configures the logging package, just before anything is first
    logged; at once if the package is already loaded (a module may use it directly)."""
    if "logging" in sys.modules:
        setup()
    else:
        _pending.append(setup)


def forget(setup: Callable[[], object]) -> None:
    """Drop a set-up that was never needed (the command that asked for it has ended)."""
    if setup in _pending:
        _pending.remove(setup)


def get_logger(name: str) -> Logger:
    return Logger(name)


class Logger:
    """The logging package's logger ``name``, made when something is first logged."""

    __slots__ = ("_logger", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    @property
    def logger(self) -> logging.Logger:
        if self._logger is None:
            import logging

            while _pending:
                _pending.pop(0)()
            self._logger = logging.getLogger(self.name)
        return self._logger

    # stacklevel=2: the record names the caller's line, not these.
    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.logger.debug(msg, *args, stacklevel=2, **kwargs)

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.logger.info(msg, *args, stacklevel=2, **kwargs)

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.logger.warning(msg, *args, stacklevel=2, **kwargs)

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.logger.error(msg, *args, stacklevel=2, **kwargs)

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.logger.exception(msg, *args, stacklevel=2, **kwargs)

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        self.logger.log(level, msg, *args, stacklevel=2, **kwargs)
