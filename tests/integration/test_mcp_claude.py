"""The real Claude Code CLI uses `agentry mcp`: configured with ``--mcp-config``, against a
local Messages-API server whose scripted model calls Agentry's start_task tool. The task
appears in `agentry list` as started by MCP (claude-code), and a running supervisor runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers.agentry import ROOT, Home
from helpers.claude_cli import require_claude
from helpers.fake_anthropic import (
    FakeAnthropic,
    Reply,
    last_tool_result,
    text,
    tool,
    tool_result_text,
)

TOOL = "mcp__agentry__start_task"


def test_claude_code_starts_an_agentry_task_through_the_mcp_server(
    home: Home, work_dir: Path, tmp_path: Path
) -> None:
    claude = require_claude()
    home.serve()
    asked = {"folder": str(work_dir), "command": "echo hello from claude", "title": "via claude"}

    def script(body: dict[str, Any]) -> Reply:
        if last_tool_result(body) is None:
            return tool(TOOL, asked)
        return text("Started it.")

    config = {"mcpServers": {"agentry": {
        "command": sys.executable, "args": ["-m", "app", "mcp"],
        "env": {"AGENTRY_HOME": str(home.path), "PYTHONPATH": str(ROOT)},
    }}}  # fmt: skip
    with FakeAnthropic(script) as fake:
        done = subprocess.run(
            [str(claude), "-p", "run the greeting in Agentry", "--output-format", "json",
             "--mcp-config", json.dumps(config), "--strict-mcp-config",
             "--allowedTools", TOOL],
            env=fake.child_env(tmp_path / "claude-home", base=home.env), cwd=work_dir,
            text=True, capture_output=True, timeout=180,
        )  # fmt: skip
        requests = fake.main_requests()
    assert done.returncode == 0, done.stderr + done.stdout
    offered = [t.get("name") for t in requests[0].get("tools", [])]
    assert TOOL in offered  # Claude listed Agentry's tools from the server
    result = last_tool_result(requests[-1])
    assert result is not None and not result.get("is_error"), result
    answer = json.loads(tool_result_text(result))  # what the server answered, passed on
    assert answer["task_id"] == 1 and "note" not in answer  # (a supervisor runs)

    listed = json.loads(home.cli("list", "--json", check=True).stdout)
    assert [(t["title"], t["cwd"]) for t in listed] == [("via claude", str(work_dir))]
    origin = listed[0]["origin"]
    assert origin["via"] == "mcp" and origin["client"] == "claude-code", origin
    assert "(started by MCP: claude-code)" in home.cli("list", check=True).stdout
    run = home.wait_state(listed[0]["id"], "succeeded", "failed", timeout=60)
    assert run.state.value == "succeeded"
    assert home.output(listed[0]["id"]) == "hello from claude\n"
