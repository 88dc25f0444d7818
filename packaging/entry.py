"""The frozen executable's script: the app, the CLI, the runner, the demo agent and the
agents' hook command are all this one program.

``app.cli.main`` (in ``app/cli/program.py``) picks the role from the first argument. The
runner and the demo agent are started here directly, before the ``app.cli`` package (and
with it argparse, sqlite3 and the supervisor) is imported: one runner runs per agent, for
hours, so its start-up time and resident memory count. The dispatch is the same as the one
at the top of ``app.cli.main``, which remains the only one for every other role.
"""

import sys


def _main() -> int:
    role = sys.argv[1:2]
    if role == ["--runner"]:
        from app.runner.main import main as runner_main

        return runner_main(sys.argv[2:])
    if role == ["--demo-agent"]:
        from app.demo_agent import main as demo_main

        return demo_main()
    from app.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(_main())
