"""The ``agentry`` command (``agentry = "app.cli:main"``, ``python -m app``).

One module per group of subcommands, each registering its own subparsers:

- `program`: the entry point `main` (role dispatch, parser assembly, logging, error
  mapping);
- `common`: exit statuses, opening the store, JSON output, usage errors;
- `tasks`: run, follow-up, resume, agents, list, logs, cancel, retry;
- `server`: the desktop app, serve, recovery, quit, doctor;
- `approvals`: approvals, approve, deny, rules and the agents' hook;
- `workflows`: workflow …, checkpoint … and checkpoints.

Every subcommand is a small function taking parsed arguments and returning an exit
status. Heavy modules (Qt, the supervisor loop, the workflow engine) are imported inside
the commands that need them, so that short commands such as `agentry list` start fast.
"""

from app.cli.program import main

__all__ = ["main"]
