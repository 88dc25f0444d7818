"""The one base of every error meant for a person (DESIGN §1).

An `AgentryError` carries a message that names the thing and says what to do; the CLI
prints it and exits with `exit_code`, the GUI shows it (a start-up error screen, a
message box). Anything else that escapes is a bug and goes to the crash path.
Layers keep their own subclasses next to the code that raises them (a store error in
the store, a refused command in the supervisor); only the base lives here.
"""

from __future__ import annotations


class AgentryError(Exception):
    """Something a person can act on; `str(error)` is the whole message."""

    exit_code: int = 1  # what the `agentry` command exits with when this reaches it
