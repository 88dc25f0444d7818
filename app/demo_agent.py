"""The built-in demo agent: about twenty seconds of realistic coding-agent output.

It lets a new user see Agentry work (live pane, colours, states, a notification) with no
agent installed. ``AGENTRY_DEMO_SPEED`` scales its pauses (tests use a small value).
"""

from __future__ import annotations

import os
import sys
import time

DIM, BOLD, RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"
GREEN, RED, YELLOW, BLUE, CYAN, MAGENTA = (f"\x1b[{n}m" for n in (32, 31, 33, 34, 36, 35))

SCRIPT: list[tuple[float, str]] = [
    (0.4, f"{BOLD}demo-agent{RESET} {DIM}v1.0 · model demo-1 · working folder {{cwd}}{RESET}"),
    (0.6, f"{CYAN}●{RESET} Reading the task: add input validation to the signup form"),
    (0.8, f"{BLUE}● Read{RESET}(src/forms/signup.py)"),
    (0.3, f"  {DIM}└  Read 142 lines{RESET}"),
    (0.7, f'{BLUE}● Grep{RESET}(pattern: "def validate", path: src/)'),
    (0.3, f"  {DIM}└  Found 3 files{RESET}"),
    (1.2, "I'll add an email check and a password-strength rule, then cover both with tests."),
    (0.8, f"{BLUE}● Edit{RESET}(src/forms/signup.py)"),
    (0.2, f"  {DIM}└  Updated src/forms/signup.py with 2 additions and 1 removal{RESET}"),
    (0.1, f"     {DIM}41{RESET}   def validate(self, data):"),
    (0.1, f"     {DIM}42{RESET} {RED}-     return bool(data.get('email')){RESET}"),
    (0.1, f"     {DIM}42{RESET} {GREEN}+     check_email(data.get('email', '')){RESET}"),
    (0.1, f"     {DIM}43{RESET} {GREEN}+     check_password(data.get('password', '')){RESET}"),
    (1.0, f"{BLUE}● Write{RESET}(tests/test_signup_validation.py)"),
    (0.2, f"  {DIM}└  Wrote 38 lines to tests/test_signup_validation.py{RESET}"),
    (0.9, f"{BLUE}● Bash{RESET}(python -m pytest tests/test_signup_validation.py -q)"),
    (1.5, f"  {DIM}└{RESET}  ..{RED}F{RESET}.."),
    (0.2, f"     {RED}FAILED{RESET} test_rejects_short_password - AssertionError: 7 < 8"),
    (1.2, f"{YELLOW}!{RESET} The minimum length is off by one; fixing the comparison."),
    (0.8, f"{BLUE}● Edit{RESET}(src/forms/validators.py)"),
    (0.2, f"     {DIM}17{RESET} {RED}-     if len(pw) < 7:{RESET}"),
    (0.1, f"     {DIM}17{RESET} {GREEN}+     if len(pw) < MIN_PASSWORD_LENGTH:{RESET}"),
    (1.0, f"{BLUE}● Bash{RESET}(python -m pytest -q)"),
    (2.0, f"  {DIM}└{RESET}  {GREEN}........................ 24 passed{RESET} in 1.93s"),
    (1.0, f"{MAGENTA}◆ Summary{RESET}"),
    (0.3, "  • Emails are checked with a strict pattern; passwords need 8+ characters"),
    (0.3, "  • 5 new tests in tests/test_signup_validation.py, all passing"),
    (0.5, f"{DIM}turns 9 · tokens 14.2k in / 2.1k out · cost $0.00 (demo){RESET}"),
    (0.3, f"{GREEN}✔ Done{RESET}"),
]


def main() -> int:
    speed = float(os.environ.get("AGENTRY_DEMO_SPEED", "1") or 1)
    cwd = os.getcwd()
    for pause, line in SCRIPT:
        time.sleep(max(0.0, pause * speed * 1.2))
        print(line.replace("{cwd}", cwd), flush=True)
    return 0


def command() -> list[str]:
    """argv of the demo agent, in a source checkout or inside the frozen app."""
    if getattr(sys, "frozen", False):
        from app.core.platform import frozen_cli_executable

        return [frozen_cli_executable(), "--demo-agent"]
    return [sys.executable, "-m", "app.demo_agent"]


if __name__ == "__main__":
    sys.exit(main())
