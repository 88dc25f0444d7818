"""What the kernel says about a process, read without psutil: its start stamp (Linux) and
whether an agent's process group still has members. The runner reads these while it stays
small; :mod:`app.runner.procs` builds on them for the supervisor.
"""

from __future__ import annotations

import os
import sys

LINUX = sys.platform.startswith("linux")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") and LINUX else 100


def since_boot(pid: int) -> float | None:
    """When ``pid`` started, in seconds since boot (Linux ``/proc``); None where that
    cannot be read (gone, or another system)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        # the command name (field 2) may hold spaces and parentheses: split after the last ')'
        fields = stat[stat.rindex(b")") + 2 :].split()
        return int(fields[19]) / CLOCK_TICKS  # field 22, starttime, in clock ticks
    except (OSError, ValueError, IndexError):
        return None


def group_may_remain(pgid: int) -> bool:
    """Whether the process group an agent led may still have members after the agent was
    reaped (the usual answer, no, costs one syscall). A new process that took the agent's
    pid and leads a group of that id is someone else's: False."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass
    try:
        if os.getpgid(pgid) == pgid:
            return False
    except OSError:
        pass
    return True
